// The client connections one worker thread has open, so that a graceful shutdown can
// close the idle ones at once and let the busy ones finish the request they are serving.
// Used only on the worker's own thread, except open(), which any thread may read.
#pragma once

#include <atomic>
#include <cstddef>
#include <unordered_set>

namespace apiproxy {

class ClientConnection;

class ConnectionSet {
 public:
  void add(ClientConnection* c);
  void remove(ClientConnection* c);
  size_t open() const { return open_.load(std::memory_order_relaxed); }

  // From now on every connection closes after its current answer; idle ones close now.
  void drain();
  bool draining() const { return draining_; }

 private:
  std::unordered_set<ClientConnection*> members_;
  std::atomic<size_t> open_{0};
  bool draining_ = false;
};

}  // namespace apiproxy
