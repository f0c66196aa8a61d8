#include "server/api/errors.hpp"

namespace apiproxy {

boost::beast::http::status route_error_status(RouteError e) {
  return e == RouteError::UnknownStrategy ? boost::beast::http::status::bad_request
                                          : boost::beast::http::status::service_unavailable;
}

}  // namespace apiproxy
