// Sticky sessions: a conversation id bound to the upstream it was routed to, kept in
// llm:session:{conversation_id} with a TTL that each use renews.
#pragma once

#include <chrono>
#include <functional>
#include <optional>

#include "core/model/types.hpp"
#include "core/routing/router.hpp"
#include "core/store/store.hpp"

namespace apiproxy {

// The binding, or nullopt when there is none (or what is stored is unreadable).
void load_session(Store& store, const std::string& conversation_id,
                  std::function<void(Result<std::optional<Session>>)> done);

// Records that `conversation_id` used `chosen`: renews a binding it kept, or starts a new
// one when it is new or moved to another upstream.
void bind_session(Store& store, const std::string& conversation_id, const std::string& logical_model,
                  const std::optional<Session>& previous, const Candidate& chosen,
                  std::chrono::seconds ttl, std::function<void(Result<Session>)> done);

}  // namespace apiproxy
