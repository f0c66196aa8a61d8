// The Store in process memory: for a single instance with nothing to share. Data is
// lost on exit. Every thread's MemoryStore shares one MemoryData.
#pragma once

#include <map>
#include <mutex>
#include <type_traits>

#include "core/store/gcra.hpp"
#include "core/store/store.hpp"

namespace apiproxy {

class MemoryData {
 public:
  using Clock = std::chrono::steady_clock;
  // Keys (sessions, metrics, cached lists) may be named by traffic: expired ones are swept as
  // the map grows, and past this many live ones a new key is refused.
  static constexpr size_t kMaxEntries = 100000;

  Store::Value get(const std::string& key);
  // False when the store is full (kMaxEntries live keys) and `key` is new.
  bool set(const std::string& key, std::string value, std::chrono::seconds ttl);
  bool del(const std::string& key);
  std::vector<std::string> keys_with_prefix(const std::string& prefix);
  double zset_scale(const std::string& key, const std::string& member, double factor,
                    double initial, double min, double max);
  std::vector<std::pair<std::string, double>> zset_members(const std::string& key);
  RateDecision rate_admit(const std::vector<std::vector<RateLimit>>& candidates);

 private:
  struct Entry {
    std::string value;
    Clock::time_point expires_at;  // max(): never
  };
  // Drops `it` if expired; true when it is still live. Caller holds the lock.
  bool live(std::map<std::string, Entry>::iterator it);
  void sweep(Clock::time_point now);  // drops every expired entry; caller holds the lock

  std::mutex mutex_;
  std::map<std::string, Entry> entries_;
  std::map<std::string, std::map<std::string, double>> zsets_;  // a separate keyspace, as in Redis types
  gcra::Table rates_;  // rate-limit states, on the steady clock
  size_t next_sweep_ = 1024;  // sweep when entries_ reaches this size (doubles with live keys)
};

class MemoryStore final : public Store {
 public:
  MemoryStore(boost::asio::io_context& io, std::shared_ptr<MemoryData> data)
      : io_(io), data_(std::move(data)) {}

  std::string_view kind() const override { return "memory"; }
  void get(std::string key, Callback<Value> done) override;
  void get_many(std::vector<std::string> keys, Callback<std::vector<Value>> done) override;
  void set(std::string key, std::string value, std::chrono::seconds ttl,
           Callback<Unit> done) override;
  void del(std::string key, Callback<bool> done) override;
  void keys_with_prefix(std::string prefix, Callback<std::vector<std::string>> done) override;
  void ping(Callback<Unit> done) override;
  void zset_scale(std::string key, std::string member, double factor, double initial, double min,
                  double max, std::chrono::seconds ttl, Callback<double> done) override;
  void zset_members(std::string key,
                    Callback<std::vector<std::pair<std::string, double>>> done) override;
  void rate_admit(std::vector<std::vector<RateLimit>> candidates,
                  Callback<RateDecision> done) override;

 private:
  // Completes `done` with `value` later on this store's io_context, as the contract says.
  template <class T>
  void complete(Callback<T> done, std::type_identity_t<Result<T>> value);

  boost::asio::io_context& io_;
  std::shared_ptr<MemoryData> data_;
};

}  // namespace apiproxy
