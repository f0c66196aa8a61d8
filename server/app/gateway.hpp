// The running gateway: worker threads serving HTTP, one background thread, and signal
// handling. run() returns when the process is asked to stop.
#pragma once

#include <memory>

#include "server/app/gateway_state.hpp"
#include "server/http/client_connection.hpp"

namespace apiproxy {

// The client-facing limits the settings ask for.
ServerLimits server_limits(const Settings& settings);

// Serves until SIGINT or SIGTERM. Returns the process exit code.
int run_gateway(std::unique_ptr<GatewayState> state, std::string host, uint16_t port);

}  // namespace apiproxy
