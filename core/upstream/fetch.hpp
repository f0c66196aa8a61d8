// A whole request and its whole response over the pooled upstream client — for calls whose
// answer is small and wanted at once (model lists, health probes). The data plane uses
// UpstreamExchange directly to relay answers piece by piece; both share one connection
// pool, one connect/TLS path and one response parser.
#pragma once

#include <chrono>
#include <functional>

#include "core/common/result.hpp"
#include "core/upstream/connection_pool.hpp"
#include "core/upstream/http_types.hpp"

namespace apiproxy {

inline constexpr size_t kMaxFetchedResponse = 64 * 1024 * 1024;

// Sends `request`; `done` runs with the response, or with an error saying which step failed.
// `timeout` bounds the whole call after connecting (the pool bounds connecting).
void fetch(ConnectionPool& pool, UpstreamRequest request, std::chrono::milliseconds timeout,
           std::function<void(Result<UpstreamResponse>)> done, size_t max_response_bytes = kMaxFetchedResponse);

}  // namespace apiproxy
