// The management API: providers, their models, health and metrics, logical models,
// plugins. Every route but /health, /health/live and /health/ready requires the client token.
#pragma once

#include "server/app/worker.hpp"

namespace apiproxy {

// Adds the control-plane routes to `worker.router`; they use that worker's store and
// upstream client.
void add_control_plane_routes(Worker& worker);

}  // namespace apiproxy
