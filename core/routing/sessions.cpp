#include "core/routing/sessions.hpp"

#include <spdlog/spdlog.h>

#include "core/discovery/health_probe.hpp"
#include "core/model/json_codec.hpp"
#include "core/store/keys.hpp"

namespace apiproxy {

void load_session(Store& store, const std::string& conversation_id,
                  std::function<void(Result<std::optional<Session>>)> done) {
  store.get(keys::session(conversation_id),
            [conversation_id, done = std::move(done)](Result<Store::Value> v) {
              if (!v) return done(Error{v.error()});
              if (!*v) return done(std::optional<Session>());
              auto s = session_from_json(**v);
              if (!s) {
                spdlog::warn("session '{}' in the store is unreadable ({}); routing afresh",
                             conversation_id, s.error());
                return done(std::optional<Session>());
              }
              return done(std::optional<Session>(std::move(s.value())));
            });
}

void bind_session(Store& store, const std::string& conversation_id, const std::string& logical_model,
                  const std::optional<Session>& previous, const Candidate& chosen,
                  std::chrono::seconds ttl, std::function<void(Result<Session>)> done) {
  int64_t now = epoch_seconds();
  Session s;
  bool kept = previous && previous->logical_model == logical_model &&
              previous->provider_id == chosen.upstream->provider_id &&
              previous->model_id == chosen.upstream->model_id;
  if (kept) {
    s = *previous;
  } else {
    s.conversation_id = conversation_id;
    s.logical_model = logical_model;
    s.provider_id = chosen.upstream->provider_id;
    s.model_id = chosen.upstream->model_id;
    s.created_at = now;
  }
  s.last_accessed = now;
  ++s.message_count;
  store.set(keys::session(conversation_id), to_json(s), ttl,
            [s, done = std::move(done)](Result<Unit> written) {
              if (!written) return done(Error{written.error()});
              done(s);
            });
}

}  // namespace apiproxy
