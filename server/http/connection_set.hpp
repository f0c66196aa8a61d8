// The client connections one worker thread has open, so that a graceful shutdown can
// close the idle ones at once and let the busy ones finish the request they are serving.
// Used only on the worker's own thread, except open(), which any thread may read.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <unordered_set>

namespace apiproxy {

class ClientConnection;

// How many client connections the whole process may hold (APIPROXY_MAX_CONNECTIONS),
// shared by every worker's acceptor. A connection keeps its slot until it is destroyed.
class ConnectionLimit : public std::enable_shared_from_this<ConnectionLimit> {
 public:
  explicit ConnectionLimit(size_t max) : max_(max) {}
  class Slot {
   public:
    Slot() = default;
    explicit Slot(std::shared_ptr<ConnectionLimit> owner) : owner_(std::move(owner)) {}
    Slot(Slot&&) = default;
    Slot& operator=(Slot&&) = default;
    ~Slot() {
      if (owner_) owner_->open_.fetch_sub(1, std::memory_order_relaxed);
    }

   private:
    std::shared_ptr<ConnectionLimit> owner_;
  };
  // A slot, or nothing when the limit is reached.
  std::optional<Slot> try_take() {
    if (open_.fetch_add(1, std::memory_order_relaxed) >= max_) {
      open_.fetch_sub(1, std::memory_order_relaxed);
      return std::nullopt;
    }
    return Slot(shared_from_this());
  }
  size_t open() const { return open_.load(std::memory_order_relaxed); }

 private:
  size_t max_;
  std::atomic<size_t> open_{0};
};

class ConnectionSet {
 public:
  void add(ClientConnection* c);
  void remove(ClientConnection* c);
  size_t open() const { return open_.load(std::memory_order_relaxed); }

  // From now on every connection closes after its current answer; idle ones close now.
  void drain();
  // The worker's periodic tick: connections past their deadline close, and requests that
  // have waited for their answer since `watch_cutoff` start noticing hang-ups.
  void tick(std::chrono::steady_clock::time_point now, std::chrono::steady_clock::time_point watch_cutoff);
  bool draining() const { return draining_; }

 private:
  std::unordered_set<ClientConnection*> members_;
  std::atomic<size_t> open_{0};
  bool draining_ = false;
};

}  // namespace apiproxy
