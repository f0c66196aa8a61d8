// Wraps a route handler so it runs only for clients that present the token.
#pragma once

#include "core/auth/auth.hpp"
#include "server/http/exchange.hpp"

namespace apiproxy {

Handler authenticated(const Authenticator& auth, Handler inner);

}  // namespace apiproxy
