// Wraps a route handler so it runs only for clients that present the right token.
#pragma once

#include "core/auth/auth.hpp"
#include "server/http/exchange.hpp"

namespace apiproxy {

// The data plane, the routing API and control-plane reads: APIPROXY_AUTH_TOKEN (or the
// admin token). 401 without them.
Handler authenticated(const Authenticator& auth, Handler inner);

// Control-plane writes: APIPROXY_ADMIN_TOKEN when it is set (403 for the client token, 401
// for none), otherwise the same as authenticated().
Handler admin_only(const Authenticator& auth, Handler inner);

}  // namespace apiproxy
