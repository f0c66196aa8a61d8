#include "server/http/connection_set.hpp"

#include <vector>

#include "server/http/client_connection.hpp"

namespace apiproxy {

void ConnectionSet::add(ClientConnection* c) {
  members_.insert(c);
  open_.store(members_.size(), std::memory_order_relaxed);
}

void ConnectionSet::remove(ClientConnection* c) {
  members_.erase(c);
  open_.store(members_.size(), std::memory_order_relaxed);
}

void ConnectionSet::tick(std::chrono::steady_clock::time_point now,
                         std::chrono::steady_clock::time_point watch_cutoff) {
  // Closing a connection does not end it here (its pending operations hold it until they
  // complete), so members_ does not change during the walk.
  for (auto* c : members_) {
    c->close_if_past_deadline(now);
    c->watch_if_waiting_since(watch_cutoff);
  }
}

void ConnectionSet::drain() {
  draining_ = true;
  // close_if_idle() may end a connection, which removes it from members_: walk a copy.
  std::vector<ClientConnection*> now(members_.begin(), members_.end());
  for (auto* c : now) c->close_if_idle();
}

}  // namespace apiproxy
