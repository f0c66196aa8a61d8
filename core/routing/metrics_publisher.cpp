#include "core/routing/metrics_publisher.hpp"

#include <map>
#include <memory>
#include <set>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/spdlog.h>

#include "core/common/json_parse.hpp"
#include "core/discovery/health_probe.hpp"
#include "core/store/keys.hpp"

namespace apiproxy {

namespace {

constexpr int64_t kShareStaleSeconds = 90;  // an instance silent this long no longer counts
constexpr std::chrono::seconds kMetricsTtl{300};
// Weights outlive metrics (they are what an instance starts from), but not forever: a
// logical model that got no traffic for a day starts again from its base weights.
constexpr std::chrono::seconds kWeightsTtl{86400};

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

double num(const rapidjson::Value& o, const char* k) {
  auto it = o.FindMember(k);
  return it != o.MemberEnd() && it->value.IsNumber() ? it->value.GetDouble() : 0.0;
}

RemoteShare share_from(const rapidjson::Value& o) {
  RemoteShare s;
  s.requests = static_cast<uint64_t>(num(o, "requests"));
  s.errors = static_cast<uint64_t>(num(o, "errors"));
  s.latency_p95_ms = num(o, "latency_p95_ms");
  s.latency_p99_ms = num(o, "latency_p99_ms");
  s.latency_ewma_ms = num(o, "latency_ewma_ms");
  s.recent_qps = num(o, "recent_qps");
  s.in_flight = static_cast<uint32_t>(num(o, "in_flight"));
  return s;
}

void write_share(Writer& w, const RemoteShare& s, int64_t updated_at) {
  w.StartObject();
  w.Key("requests"); w.Uint64(s.requests);
  w.Key("errors"); w.Uint64(s.errors);
  w.Key("latency_p95_ms"); w.Double(s.latency_p95_ms);
  w.Key("latency_p99_ms"); w.Double(s.latency_p99_ms);
  w.Key("latency_ewma_ms"); w.Double(s.latency_ewma_ms);
  w.Key("recent_qps"); w.Double(s.recent_qps);
  w.Key("in_flight"); w.Uint(s.in_flight);
  w.Key("updated_at"); w.Int64(updated_at);
  w.EndObject();
}

// Adds `b` into `a`, latencies weighted by request counts.
void accumulate(RemoteShare& a, const RemoteShare& b) {
  auto blend = [&](double x, double y) {
    uint64_t n = a.requests + b.requests;
    return n ? (x * static_cast<double>(a.requests) + y * static_cast<double>(b.requests)) / static_cast<double>(n) : 0;
  };
  a.latency_p95_ms = blend(a.latency_p95_ms, b.latency_p95_ms);
  a.latency_p99_ms = blend(a.latency_p99_ms, b.latency_p99_ms);
  a.latency_ewma_ms = blend(a.latency_ewma_ms, b.latency_ewma_ms);
  a.requests += b.requests;
  a.errors += b.errors;
  a.recent_qps += b.recent_qps;
  a.in_flight += b.in_flight;
}

}  // namespace

MetricsPublisher::MetricsPublisher(RuntimeMetrics& metrics, DynamicWeights& weights,
                                   std::string instance_id)
    : metrics_(metrics), weights_(weights), instance_id_(std::move(instance_id)) {}

std::string MetricsPublisher::merge_document(const std::string& existing, const std::string& logical,
                                             const std::string& provider, const std::string& instance_id,
                                             const RemoteShare& own, int64_t now,
                                             const RuntimeMetrics& rules, RemoteShare* others_out) {
  std::map<std::string, std::pair<RemoteShare, int64_t>> shares;
  rapidjson::Document d;
  if (!existing.empty() && !parse_json(d, existing) && d.IsObject()) {
    // Through a const reference: RapidJSON 1.1's non-const member iterators have an
    // operator!= that C++20 finds ambiguous (clang warns).
    const rapidjson::Value& root = d;
    auto inst = root.FindMember("instances");
    if (inst != root.MemberEnd() && inst->value.IsObject()) {
      for (const auto& m : inst->value.GetObject()) {
        if (!m.value.IsObject()) continue;
        int64_t updated = static_cast<int64_t>(num(m.value, "updated_at"));
        std::string id(m.name.GetString(), m.name.GetStringLength());
        if (id != instance_id && now - updated <= kShareStaleSeconds)
          shares[id] = {share_from(m.value), updated};
      }
    }
  }
  RemoteShare others;
  for (const auto& [id, s] : shares) accumulate(others, s.first);
  if (others_out) *others_out = others;
  shares[instance_id] = {own, now};
  RemoteShare all = others;
  accumulate(all, own);

  double error_rate = all.requests ? static_cast<double>(all.errors) / static_cast<double>(all.requests) : 0;
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("logical_model"); w.String(logical.c_str());
  w.Key("provider_id"); w.String(provider.c_str());
  w.Key("latency_p95_ms"); w.Double(all.latency_p95_ms);
  w.Key("latency_p99_ms"); w.Double(all.latency_p99_ms);
  w.Key("error_rate"); w.Double(error_rate);
  w.Key("success_qps_1m"); w.Double(static_cast<double>(all.requests - all.errors) / RuntimeMetrics::kWindowSeconds);
  w.Key("total_requests_1m"); w.Uint64(all.requests);
  w.Key("last_updated"); w.Int64(now);
  w.Key("status"); w.String(health_name(rules.classify(error_rate, all.latency_p95_ms, all.requests)));
  w.Key("latency_ewma_ms"); w.Double(all.latency_ewma_ms);
  w.Key("in_flight"); w.Uint(all.in_flight);
  w.Key("current_qps"); w.Double(all.recent_qps);
  w.Key("instances");
  w.StartObject();
  for (const auto& [id, s] : shares) {
    w.Key(id.c_str());
    write_share(w, s.first, s.second);
  }
  w.EndObject();
  w.EndObject();
  return buf.GetString();
}

void MetricsPublisher::report(const std::string& error) {
  if (!in_outage_ && !failed_this_flush_)
    spdlog::warn("publishing routing metrics failed: {} (will retry every flush)", error);
  failed_this_flush_ = true;
}

void MetricsPublisher::publish_metrics(Store& store, const RoutedPair& pair, const RemoteShare& own,
                                       std::function<void()> done) {
  std::string key = keys::metrics(pair.logical, pair.provider);
  store.get(key, [this, &store, key, pair, own, done = std::move(done)](Result<Store::Value> got) mutable {
    if (!got) {
      report(got.error());
      return done();
    }
    RemoteShare others;
    std::string doc = merge_document(got->value_or(""), pair.logical, pair.provider, instance_id_, own,
                                     epoch_seconds(), metrics_, &others);
    metrics_.set_remote(pair.logical, pair.provider, others);
    if (own.requests == 0 && own.in_flight == 0 && !*got) return done();  // nothing to say yet
    store.set(key, std::move(doc), kMetricsTtl, [this, done = std::move(done)](Result<Unit> set) {
      if (!set) report(set.error());
      done();
    });
  });
}

void MetricsPublisher::publish_weights(Store& store, const std::vector<RoutedPair>& pairs,
                                       std::function<void()> done) {
  std::map<std::pair<std::string, std::string>, double> base;
  std::set<std::string> logicals;
  for (const auto& p : pairs) {
    base.emplace(std::make_pair(p.logical, p.provider), p.base_weight);
    logicals.insert(p.logical);
  }
  auto pending = weights_.take_pending();
  auto remaining = std::make_shared<size_t>(pending.size() + logicals.size() + 1);
  auto finish = [remaining, done = std::move(done)]() {
    if (--*remaining == 0) done();
  };
  for (const auto& n : pending) {
    auto it = base.find({n.logical, n.provider});
    double b = it == base.end() ? 1.0 : it->second;
    store.zset_scale(keys::provider_weights(n.logical), n.provider, n.factor, b,
                     DynamicWeights::kMin * b, DynamicWeights::kMax * b, kWeightsTtl,
                     [this, finish](Result<double> r) {
                       if (!r) report(r.error());
                       finish();
                     });
  }
  for (const auto& logical : logicals) {
    store.zset_members(keys::provider_weights(logical),
                       [this, logical, base, finish](Result<std::vector<std::pair<std::string, double>>> r) {
                         if (!r) report(r.error());
                         else
                           for (const auto& [provider, weight] : *r) {
                             auto it = base.find({logical, provider});
                             double b = it == base.end() ? 1.0 : it->second;
                             if (b > 0) weights_.set(logical, provider, weight / b);
                           }
                         finish();
                       });
  }
  finish();
}

void MetricsPublisher::flush(Store& store, const std::vector<RoutedPair>& pairs,
                             std::function<void()> done) {
  std::map<std::pair<std::string, std::string>, std::pair<RoutedPair, RemoteShare>> work;
  for (const auto& p : pairs) work[{p.logical, p.provider}] = {p, RemoteShare{}};
  for (auto& s : metrics_.local_shares()) {
    auto& slot = work[{s.logical, s.provider}];
    if (slot.first.logical.empty()) slot.first = RoutedPair{s.logical, s.provider, 1.0};
    slot.second = s.share;
  }
  failed_this_flush_ = false;
  auto remaining = std::make_shared<size_t>(work.size() + 1);
  auto finish = [this, remaining, done = std::move(done)]() {
    if (--*remaining > 0) return;
    if (in_outage_ && !failed_this_flush_) spdlog::info("publishing routing metrics works again");
    in_outage_ = failed_this_flush_;
    done();
  };
  for (const auto& [key, item] : work) publish_metrics(store, item.first, item.second, finish);
  publish_weights(store, pairs, finish);
}

}  // namespace apiproxy
