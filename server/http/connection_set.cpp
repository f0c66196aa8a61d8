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

void ConnectionSet::watch_waiting_since(std::chrono::steady_clock::time_point cutoff) {
  for (auto* c : members_) c->watch_if_waiting_since(cutoff);
}

void ConnectionSet::drain() {
  draining_ = true;
  // close_if_idle() may end a connection, which removes it from members_: walk a copy.
  std::vector<ClientConnection*> now(members_.begin(), members_.end());
  for (auto* c : now) c->close_if_idle();
}

}  // namespace apiproxy
