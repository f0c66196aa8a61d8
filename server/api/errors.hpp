// Error bodies (control-plane shape and OpenAI's envelope) live in the HTTP layer,
// which answers errors itself, in server/http/error_body.hpp. This header forwards there
// so that server/api code keeps including "server/api/errors.hpp".
#pragma once

#include "core/routing/router.hpp"
#include "server/http/error_body.hpp"

namespace apiproxy {

// The status for a routing refusal: 400 for a strategy the client named that is not
// loaded (its mistake), 503 for the rest (nothing can serve the model now).
boost::beast::http::status route_error_status(RouteError e);

}  // namespace apiproxy
