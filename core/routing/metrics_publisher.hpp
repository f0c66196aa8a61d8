// The background half of shared routing state. Each flush:
//  * publishes this instance's window for every (logical model, provider) to
//    llm:metrics:{logical}:{provider} — the RoutingMetrics fields aggregated over all
//    live instances, plus an "instances" map with each one's share — and reads the other
//    instances' shares back into RuntimeMetrics;
//  * applies this instance's pending weight nudges to routing:{logical}:provider_weights
//    (atomic scale-and-clamp on the server) and reads every weight back.
// Read-modify-write of the metrics document can lose one instance's update when two
// flush the same key at the same moment; the next flush (a second later) restores it.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/routing/dynamic_weights.hpp"
#include "core/routing/runtime_metrics.hpp"
#include "core/store/store.hpp"

namespace apiproxy {

struct RoutedPair {
  std::string logical;
  std::string provider;
  double base_weight = 1;  // for the absolute weights kept in the ZSET
};

class MetricsPublisher {
 public:
  MetricsPublisher(RuntimeMetrics& metrics, DynamicWeights& weights, std::string instance_id);

  // `pairs`: what the catalog routes to; pairs with local data are added. `done` runs
  // when every store operation has answered (errors are logged once per outage).
  void flush(Store& store, const std::vector<RoutedPair>& pairs, std::function<void()> done);

  // The stored document for one pair after merging `own` into `existing` (exposed for tests).
  static std::string merge_document(const std::string& existing, const std::string& logical,
                                    const std::string& provider, const std::string& instance_id,
                                    const RemoteShare& own, int64_t now, const RuntimeMetrics& rules,
                                    RemoteShare* others_out);

 private:
  void publish_metrics(Store& store, const RoutedPair& pair, const RemoteShare& own,
                       std::function<void()> done);
  void publish_weights(Store& store, const std::vector<RoutedPair>& pairs, std::function<void()> done);
  void report(const std::string& error);

  RuntimeMetrics& metrics_;
  DynamicWeights& weights_;
  std::string instance_id_;
  bool in_outage_ = false;         // the last flush failed: log recovery, not each failure
  bool failed_this_flush_ = false;
};

}  // namespace apiproxy
