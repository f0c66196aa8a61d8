#include "core/store/memory_store.hpp"

#include <algorithm>

#include <boost/asio/post.hpp>

namespace apiproxy {

bool MemoryData::live(std::map<std::string, Entry>::iterator it) {
  if (it->second.expires_at > Clock::now()) return true;
  entries_.erase(it);
  return false;
}

Store::Value MemoryData::get(const std::string& key) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(key);
  if (it == entries_.end() || !live(it)) return std::nullopt;
  return it->second.value;
}

bool MemoryData::set(const std::string& key, std::string value, std::chrono::seconds ttl) {
  std::lock_guard lock(mutex_);
  auto now = Clock::now();
  if (entries_.size() >= next_sweep_ || entries_.size() >= kMaxEntries) {
    sweep(now);
    next_sweep_ = std::max<size_t>(1024, entries_.size() * 2);  // amortised: O(1) per set
  }
  auto expires = ttl.count() > 0 ? now + ttl : Clock::time_point::max();
  auto it = entries_.find(key);
  if (it != entries_.end()) {
    it->second = Entry{std::move(value), expires};
    return true;
  }
  if (entries_.size() >= kMaxEntries) return false;
  entries_.emplace(key, Entry{std::move(value), expires});
  return true;
}

void MemoryData::sweep(Clock::time_point now) {
  std::erase_if(entries_, [now](const auto& e) { return e.second.expires_at <= now; });
}

bool MemoryData::del(const std::string& key) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return false;
  bool was_live = live(it);
  if (was_live) entries_.erase(it);
  return was_live;
}

std::vector<std::string> MemoryData::keys_with_prefix(const std::string& prefix) {
  std::lock_guard lock(mutex_);
  std::vector<std::string> out;
  for (auto it = entries_.lower_bound(prefix);
       it != entries_.end() && it->first.compare(0, prefix.size(), prefix) == 0;) {
    auto next = std::next(it);
    if (live(it)) out.push_back(it->first);
    it = next;
  }
  return out;
}

double MemoryData::zset_scale(const std::string& key, const std::string& member, double factor,
                              double initial, double min, double max) {
  std::lock_guard lock(mutex_);
  auto& set = zsets_[key];
  auto it = set.find(member);
  double v = (it == set.end() ? initial : it->second) * factor;
  v = std::clamp(v, min, max);
  set[member] = v;
  return v;
}

std::vector<std::pair<std::string, double>> MemoryData::zset_members(const std::string& key) {
  std::lock_guard lock(mutex_);
  auto it = zsets_.find(key);
  if (it == zsets_.end()) return {};
  return {it->second.begin(), it->second.end()};
}

RateDecision MemoryData::rate_admit(const std::vector<std::vector<RateLimit>>& candidates) {
  if (candidates.empty()) return {};
  std::lock_guard lock(mutex_);
  return rates_.admit_first(candidates, gcra::steady_now());
}

template <class T>
void MemoryStore::complete(Callback<T> done, std::type_identity_t<Result<T>> value) {
  boost::asio::post(io_, [done = std::move(done), value = std::move(value)]() mutable {
    done(std::move(value));
  });
}

void MemoryStore::get(std::string key, Callback<Value> done) {
  complete(std::move(done), data_->get(key));
}

void MemoryStore::get_many(std::vector<std::string> keys, Callback<std::vector<Value>> done) {
  std::vector<Value> out;
  for (const auto& k : keys) out.push_back(data_->get(k));
  complete(std::move(done), std::move(out));
}

void MemoryStore::set(std::string key, std::string value, std::chrono::seconds ttl,
                      Callback<Unit> done) {
  if (!data_->set(key, std::move(value), ttl))
    return complete(std::move(done), Error{"the in-process store is full (" +
                                             std::to_string(MemoryData::kMaxEntries) + " keys)"});
  complete(std::move(done), Unit{});
}

void MemoryStore::del(std::string key, Callback<bool> done) {
  complete(std::move(done), data_->del(key));
}

void MemoryStore::keys_with_prefix(std::string prefix, Callback<std::vector<std::string>> done) {
  complete(std::move(done), data_->keys_with_prefix(prefix));
}

void MemoryStore::ping(Callback<Unit> done) { complete(std::move(done), Unit{}); }

void MemoryStore::zset_scale(std::string key, std::string member, double factor, double initial,
                             double min, double max, std::chrono::seconds, Callback<double> done) {
  complete(std::move(done), data_->zset_scale(key, member, factor, initial, min, max));
}

void MemoryStore::zset_members(std::string key,
                               Callback<std::vector<std::pair<std::string, double>>> done) {
  complete(std::move(done), data_->zset_members(key));
}

void MemoryStore::rate_admit(std::vector<std::vector<RateLimit>> candidates,
                             Callback<RateDecision> done) {
  complete(std::move(done), data_->rate_admit(candidates));
}

}  // namespace apiproxy
