// Routing as an API: POST /routing/decide and the sticky sessions under
// /routing/sessions/{conversation_id}.
#pragma once

#include "server/app/worker.hpp"

namespace apiproxy {

void add_routing_routes(Worker& worker);

}  // namespace apiproxy
