// round_robin — an example routing strategy: each decision prefers the next candidate in
// turn.
//
// A strategy does not pick; it scores. The host draws one candidate at random, weighted by
// the scores, and fails over to the others best first. So the candidate whose turn it is
// gets a score that wins practically every draw, and the others get tiny, decreasing
// scores: they stay in the failover order (a score of 0 would mean "never use"), in the
// order their turns come.
//
// Setting (APIPROXY_STRATEGY_ROUND_ROBIN_SKIP_DOWN): 1 (default) leaves out candidates
// whose health is DOWN, unless all of them are; 0 rotates over every candidate.
#include <apiproxy/strategy.hpp>

#include <atomic>
#include <cstdint>
#include <vector>

namespace {

class RoundRobin final : public apx::Strategy {
 public:
  // The host passes the APIPROXY_STRATEGY_ROUND_ROBIN_* variables without the prefix. A
  // malformed value throws apx::InvalidInput: the host logs it and does not load the
  // strategy, which is better than routing with a setting the operator did not mean.
  RoundRobin(const apx::Host& host, const apx::Settings& settings)
      : skip_down_(settings.get_double("SKIP_DOWN", 1) != 0) {
    host.info(skip_down_ ? "rotating over healthy candidates" : "rotating over all candidates");
  }

  // May run on several threads at once: the only shared state is an atomic counter.
  void score(const apx::RouteContext&, apx::Candidates candidates, double* out) override {
    const size_t n = candidates.size();
    std::vector<size_t> turn_order;  // indexes of the candidates that take turns
    for (size_t i = 0; i < n; ++i) {
      out[i] = 0;  // every score must be written; 0 = not used
      if (!skip_down_ || candidates[i].status != APX_HEALTH_DOWN) turn_order.push_back(i);
    }
    // All DOWN: the health view may be stale, and trying one beats refusing the request.
    if (turn_order.empty())
      for (size_t i = 0; i < n; ++i) turn_order.push_back(i);
    if (turn_order.empty()) return;

    // One counter for every logical model keeps the example short; a production strategy
    // would keep one per ctx.logical_model() so that models do not share turns.
    const uint64_t turn = next_.fetch_add(1, std::memory_order_relaxed);
    const size_t m = turn_order.size();
    for (size_t k = 0; k < m; ++k) {
      size_t i = turn_order[(turn + k) % m];
      // k = 0: whose turn it is. k > 0: a standby, 1e-9 × (m − k) / m: never drawn in
      // practice, but ranked by when its turn comes.
      out[i] = k == 0 ? 1.0 : 1e-9 * static_cast<double>(m - k) / static_cast<double>(m);
    }
  }

 private:
  const bool skip_down_;
  std::atomic<uint64_t> next_{0};
};

}  // namespace

// Defines apiproxy_plugin_entry(): the host finds the strategy under this name.
APIPROXY_EXPORT_STRATEGY(RoundRobin, "round_robin", "1.0.0",
                         "example: prefers each candidate in turn, the rest as failover in "
                         "rotation order")
