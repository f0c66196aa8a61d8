// The Store in process memory: for a single instance with nothing to share. Data is
// lost on exit. Every thread's MemoryStore shares one MemoryData.
#pragma once

#include <map>
#include <mutex>

#include "core/ratelimit/gcra.hpp"
#include "core/store/store.hpp"

namespace apiproxy {

class MemoryData {
 public:
  using Clock = std::chrono::steady_clock;
  Store::Value get(const std::string& key);
  void set(const std::string& key, std::string value, std::chrono::seconds ttl);
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

  std::mutex mutex_;
  std::map<std::string, Entry> entries_;
  std::map<std::string, std::map<std::string, double>> zsets_;  // a separate keyspace, as in Redis types
  gcra::Table rates_;  // rate-limit states, on the steady clock
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
                  double max, Callback<double> done) override;
  void zset_members(std::string key,
                    Callback<std::vector<std::pair<std::string, double>>> done) override;
  void rate_admit(std::vector<std::vector<RateLimit>> candidates,
                  Callback<RateDecision> done) override;

 private:
  // Completes `done` with `value` later on this store's io_context, as the contract says.
  template <class T>
  void complete(Callback<T> done, T value);

  boost::asio::io_context& io_;
  std::shared_ptr<MemoryData> data_;
};

}  // namespace apiproxy
