#include "server/api/authenticated.hpp"

#include "server/api/errors.hpp"

namespace apiproxy {

namespace http = boost::beast::http;

namespace {

Access access_of(const Authenticator& auth, const std::shared_ptr<Exchange>& ex) {
  return auth.access(ex->header(http::field::authorization), ex->request()["X-API-Key"]);
}

void refuse(const std::shared_ptr<Exchange>& ex, http::status status, std::string_view message) {
  Exchange::Response res{status, ex->request().version()};
  if (status == http::status::unauthorized) res.set(http::field::www_authenticate, "Bearer");
  res.set(http::field::content_type, "application/json");
  res.body() = error_body_for(ex->path(), status, message);
  ex->respond(std::move(res));
}

constexpr std::string_view kHowToAuthenticate =
    "missing or invalid credentials: send 'Authorization: Bearer "
    "<base64(APIPROXY_AUTH_TOKEN)>' or 'X-API-Key: <base64(token)>'";

}  // namespace

Handler authenticated(const Authenticator& auth, Handler inner) {
  return [&auth, inner = std::move(inner)](const std::shared_ptr<Exchange>& ex) {
    if (access_of(auth, ex) != Access::None) return inner(ex);
    refuse(ex, http::status::unauthorized, kHowToAuthenticate);
  };
}

Handler admin_only(const Authenticator& auth, Handler inner) {
  return [&auth, inner = std::move(inner)](const std::shared_ptr<Exchange>& ex) {
    Access access = access_of(auth, ex);
    if (auth.allows_admin(access)) return inner(ex);
    if (access == Access::None) return refuse(ex, http::status::unauthorized, kHowToAuthenticate);
    refuse(ex, http::status::forbidden,
           "this control-plane operation needs the admin token: send 'Authorization: Bearer "
           "<base64(APIPROXY_ADMIN_TOKEN)>'");
  };
}

}  // namespace apiproxy
