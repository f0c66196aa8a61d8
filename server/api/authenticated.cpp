#include "server/api/authenticated.hpp"

#include "server/api/errors.hpp"

namespace apiproxy {

namespace http = boost::beast::http;

Handler authenticated(const Authenticator& auth, Handler inner) {
  return [&auth, inner = std::move(inner)](const std::shared_ptr<Exchange>& ex) {
    if (auth.allows(ex->header(http::field::authorization), ex->request()["X-API-Key"]))
      return inner(ex);
    Exchange::Response res{http::status::unauthorized, ex->request().version()};
    res.set(http::field::www_authenticate, "Bearer");
    res.set(http::field::content_type, "application/json");
    res.body() = error_body_for(ex->path(), http::status::unauthorized,
                                "missing or invalid credentials: send 'Authorization: Bearer "
                                "<base64(APIPROXY_AUTH_TOKEN)>' or 'X-API-Key: <base64(token)>'");
    ex->respond(std::move(res));
  };
}

}  // namespace apiproxy
