// The OpenAI-compatible data plane: /v1/chat/completions (JSON and SSE),
// /v1/completions, /v1/embeddings and /v1/models.
#pragma once

#include "server/app/worker.hpp"

namespace apiproxy {

void add_openai_routes(Worker& worker);

}  // namespace apiproxy
