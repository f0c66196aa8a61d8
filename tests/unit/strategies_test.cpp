// Unit tests for the bundled routing strategies (latency_first, cost_first,
// reliability_first, balanced).
//
// The real plugins are loaded from APIPROXY_TEST_PLUGIN_DIR through the core's
// PluginRegistry, configured the way the gateway configures them
// (APIPROXY_STRATEGY_{NAME}_{PARAM}), and driven with synthetic candidate metrics. Each
// test pins one ordering property a strategy promises; "share" below is the fraction of
// traffic the host's weighted draw would give a candidate (score / sum of scores).
#include <gtest/gtest.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstddef>
#include <cmath>
#include <limits>
#include <memory>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

#include "core/config/environment.hpp"
#include "core/plugins/plugin_registry.hpp"

#ifndef APIPROXY_TEST_PLUGIN_DIR
#error "APIPROXY_TEST_PLUGIN_DIR must name the directory holding the built plugins"
#endif

namespace {

using apiproxy::Environment;
using apiproxy::PluginRegistry;
using apiproxy::StrategyPlugin;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
const char* const kStrategies[] = {"latency_first", "cost_first", "reliability_first", "balanced"};

// One synthetic upstream. Defaults: a healthy, warm, unremarkable upstream.
struct Up {
  std::string id;
  double weight = 1;
  double dyn = 1;
  double cost_in = 1;   // per 1k input tokens
  double cost_out = 1;  // per 1k output tokens
  double ewma = 500;
  double p95 = 800;
  double p99 = 1200;
  double err = 0;
  uint32_t in_flight = 0;
  uint32_t samples = 100;
  uint32_t status = APX_HEALTH_HEALTHY;
  double max_qps = 0;
  double qps = 0;
  // The recent figures (ABI 1.1). By default the same as the window's: the error rate and
  // sample count mirror err and samples, and no recent latency (the strategies then use
  // the EWMA).
  double recent_ms = 0;
  double recent_err = -1;  // -1: err
  double recent_n = -1;    // -1: samples
  bool abi_1_0 = false;    // pass the candidate as a 1.0 host would (no recent figures)
};

struct Request {
  uint64_t in = 0;  // 0 = unknown
  uint64_t out = 0;
  bool stream = false;
};

std::shared_ptr<const PluginRegistry> load(Environment::Map vars = {}) {
  return PluginRegistry::load(APIPROXY_TEST_PLUGIN_DIR, Environment::from_text("", std::move(vars)));
}

// The registry with every strategy at its defaults, shared by the tests.
const PluginRegistry& defaults() {
  static const auto reg = load();
  return *reg;
}

const StrategyPlugin& strategy(std::string_view name, const PluginRegistry& reg = defaults()) {
  auto s = reg.strategy(name);
  if (!s) throw std::runtime_error("strategy " + std::string(name) + " is not loaded");
  return *s;
}

// Scores `ups` with `s`; fails the test when the plugin reports an error.
std::vector<double> score(const StrategyPlugin& s, const std::vector<Up>& ups, Request req = {}) {
  static const std::string logical = "gpt-4", region = "global", model = "model-x";
  std::vector<apx_candidate> cands(ups.size());
  std::vector<const apx_candidate*> ptrs;
  for (size_t i = 0; i < ups.size(); ++i) {
    const Up& u = ups[i];
    apx_candidate& c = cands[i];
    c.struct_size = sizeof(apx_candidate);
    c.provider_id = {u.id.data(), u.id.size()};
    c.model_id = {model.data(), model.size()};
    c.region = {region.data(), region.size()};
    c.base_weight = u.weight;
    c.dynamic_weight = u.dyn;
    c.cost_input = u.cost_in;
    c.cost_output = u.cost_out;
    c.latency_ewma_ms = u.ewma;
    c.latency_p95_ms = u.p95;
    c.latency_p99_ms = u.p99;
    c.error_rate = u.err;
    c.in_flight = u.in_flight;
    c.samples = u.samples;
    c.status = u.status;
    c.max_qps = u.max_qps;
    c.current_qps = u.qps;
    c.recent_latency_ms = u.recent_ms;
    c.recent_error_rate = u.recent_err < 0 ? u.err : u.recent_err;
    c.recent_samples = u.recent_n < 0 ? u.samples : u.recent_n;
    if (u.abi_1_0) c.struct_size = offsetof(apx_candidate, recent_latency_ms);
    ptrs.push_back(&c);
  }
  apx_route_ctx ctx{};
  ctx.struct_size = sizeof(apx_route_ctx);
  ctx.logical_model = {logical.data(), logical.size()};
  ctx.strategy = {s.name().data(), s.name().size()};
  ctx.estimated_input_tokens = req.in;
  ctx.estimated_output_tokens = req.out;
  ctx.stream = req.stream ? 1 : 0;
  std::vector<double> out(ups.size(), -42.0);  // sentinel: every entry must be written
  auto st = s.score(ctx, ptrs.data(), ptrs.size(), out.data());
  EXPECT_TRUE(st.ok()) << s.name() << ": " << (st.ok() ? "" : st.error());
  return out;
}

size_t top(const std::vector<double>& s) {
  return static_cast<size_t>(std::max_element(s.begin(), s.end()) - s.begin());
}
double share(const std::vector<double>& s, size_t i) {
  double sum = std::accumulate(s.begin(), s.end(), 0.0);
  return sum > 0 ? s[i] / sum : 0;
}
// Candidate indices best-first (the host's failover order).
std::vector<size_t> order(const std::vector<double>& s) {
  std::vector<size_t> idx(s.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return s[a] > s[b]; });
  return idx;
}
void expect_valid(const std::vector<double>& s, std::string_view what) {
  for (size_t i = 0; i < s.size(); ++i) {
    EXPECT_TRUE(std::isfinite(s[i])) << what << " score " << i << " = " << s[i];
    EXPECT_GE(s[i], 0.0) << what << " score " << i;
  }
}

// Cheap+slow+flaky vs fast+pricey vs reliable+mid, plus a middle-of-the-road
// all-rounder: four criteria, four different winners.
std::vector<Up> dilemma() {
  return {
      {.id = "cheap_slow_flaky", .cost_in = 0.1, .cost_out = 0.2, .ewma = 2000, .p95 = 4000,
       .p99 = 6000, .err = 0.15, .samples = 200},
      {.id = "fast_pricey", .cost_in = 10, .cost_out = 30, .ewma = 300, .p95 = 500, .p99 = 700,
       .err = 0.02, .samples = 200},
      {.id = "reliable_mid", .cost_in = 2, .cost_out = 6, .ewma = 1000, .p95 = 1800,
       .p99 = 2500, .err = 0.0, .samples = 500},
      {.id = "all_rounder", .cost_in = 0.5, .cost_out = 1.5, .ewma = 500, .p95 = 800,
       .p99 = 1100, .err = 0.01, .samples = 300},
  };
}

// ------------------------------------------------------------------- loading ----

TEST(Strategies, AllFourLoadWithNameVersionAndDescription) {
  const auto& reg = defaults();
  for (const char* name : kStrategies) {
    auto s = reg.strategy(name);
    ASSERT_TRUE(s) << name << " not loaded from " << APIPROXY_TEST_PLUGIN_DIR;
    EXPECT_EQ(s->info().version, "2.0.0") << name;
    EXPECT_EQ(s->info().kind, "strategy") << name;
    EXPECT_FALSE(s->info().description.empty()) << name;
    EXPECT_NE(s->info().file.find("strategy_" + std::string(name) + ".so"), std::string::npos)
        << s->info().file;
  }
  for (const auto& r : reg.rejected())
    EXPECT_EQ(r.file.find("strategy_"), std::string::npos) << r.file << ": " << r.reason;
}

// ----------------------------------------------------------------- cost_first ----

TEST(CostFirst, PicksTheCheaperProviderEvenWhenSlower) {
  std::vector<Up> ups = {
      {.id = "fast_pricey", .cost_in = 3, .cost_out = 6, .ewma = 200, .p95 = 300},
      {.id = "slow_cheap", .cost_in = 1, .cost_out = 2, .ewma = 5000, .p95 = 9000},
  };
  auto s = score(strategy("cost_first"), ups);
  EXPECT_EQ(top(s), 1u);
  EXPECT_GT(share(s, 1), 0.95) << "3x cheaper must dominate clearly";
  EXPECT_GT(s[0], 0.0) << "the pricier one stays available for failover";
  // Even 5 % cheaper wins.
  ups[0] = {.id = "fast", .cost_in = 1.05, .cost_out = 2.1, .ewma = 100, .p95 = 150};
  s = score(strategy("cost_first"), ups);
  EXPECT_EQ(top(s), 1u);
}

TEST(CostFirst, UsesTheRequestsTokenEstimate) {
  // cheap_in: cheap prompt, dear completion; cheap_out: the reverse.
  std::vector<Up> ups = {{.id = "cheap_in", .cost_in = 0.1, .cost_out = 10},
                         {.id = "cheap_out", .cost_in = 5, .cost_out = 0.5}};
  auto long_prompt = score(strategy("cost_first"), ups, {.in = 100000, .out = 100});
  auto long_answer = score(strategy("cost_first"), ups, {.in = 100, .out = 4000});
  EXPECT_EQ(top(long_prompt), 0u);
  EXPECT_EQ(top(long_answer), 1u);
  // Unknown estimate: 1000 in / 500 out -> cheap_in 0.1 + 5 = 5.1, cheap_out 5 + 0.25 = 5.25.
  auto unknown = score(strategy("cost_first"), ups);
  EXPECT_EQ(top(unknown), 0u);
}

TEST(CostFirst, UnknownPriceRanksAfterPricedButIsNotExcluded) {
  std::vector<Up> ups = {{.id = "unpriced", .cost_in = 0, .cost_out = 0},
                         {.id = "cheap", .cost_in = 1, .cost_out = 1},
                         {.id = "dear", .cost_in = 20, .cost_out = 20}};
  auto s = score(strategy("cost_first"), ups);
  EXPECT_EQ(order(s), (std::vector<size_t>{1, 2, 0}));
  EXPECT_GT(s[0], 0.0);
  // All unpriced: all usable, equal apart from the reliability tie-break.
  for (auto& u : ups) u.cost_in = u.cost_out = 0;
  s = score(strategy("cost_first"), ups);
  for (double v : s) EXPECT_GT(v, 0.5);
}

TEST(CostFirst, EqualCostTieGoesToTheMoreReliable) {
  std::vector<Up> ups = {{.id = "flaky", .cost_in = 1, .cost_out = 1, .err = 0.2},
                         {.id = "solid", .cost_in = 1.005, .cost_out = 1.005, .err = 0.0},
                         {.id = "cheaper_flaky", .cost_in = 0.9, .cost_out = 0.9, .err = 0.2}};
  auto s = score(strategy("cost_first"), ups);
  // 10 % cheaper is no tie: cost wins over reliability...
  EXPECT_EQ(top(s), 2u);
  // ...within 1 % it is a tie, and the reliable one wins it.
  EXPECT_GT(s[1], s[0]);
  // An unmeasured upstream at the same price is explored like a typical one: a fair share.
  ups = {{.id = "new", .ewma = 0, .p95 = 0, .p99 = 0, .err = 0, .samples = 0, .status = APX_HEALTH_UNKNOWN},
         {.id = "proven", .err = 0, .samples = 500}};
  s = score(strategy("cost_first"), ups);
  EXPECT_NEAR(share(s, 0), 0.5, 0.01);
}

TEST(CostFirst, DownExcludedDegradedPenalised) {
  std::vector<Up> ups = {{.id = "down_cheapest", .cost_in = 0.1, .cost_out = 0.1, .status = APX_HEALTH_DOWN},
                         {.id = "degraded_cheap", .cost_in = 1, .cost_out = 1, .status = APX_HEALTH_DEGRADED},
                         {.id = "healthy_a_bit_dearer", .cost_in = 1.5, .cost_out = 1.5}};
  auto s = score(strategy("cost_first"), ups);
  EXPECT_EQ(s[0], 0.0);
  EXPECT_EQ(top(s), 2u) << "degraded x2 penalty makes 1.0 cost more than 1.5";
  EXPECT_GT(s[1], 0.0);
}

// -------------------------------------------------------------- latency_first ----

TEST(LatencyFirst, PrefersTheFasterAndShiftsAwayAsItsLatencyRises) {
  std::vector<Up> ups = {{.id = "a", .ewma = 200}, {.id = "b", .ewma = 400}};
  auto s = score(strategy("latency_first"), ups);
  EXPECT_EQ(top(s), 0u);
  EXPECT_GT(share(s, 0), 0.85);
  double previous = share(s, 0);
  for (double latency : {300.0, 400.0, 600.0, 1200.0}) {
    ups[0].ewma = latency;
    s = score(strategy("latency_first"), ups);
    EXPECT_LT(share(s, 0), previous) << "a at " << latency << " ms";
    previous = share(s, 0);
  }
  EXPECT_EQ(top(s), 1u);
  EXPECT_LT(share(s, 0), 0.05) << "3x slower gets a trickle";
}

TEST(LatencyFirst, PenalisesInFlightRequests) {
  // Equal latency: outstanding requests decide, mildly (LLM upstreams serve in parallel:
  // 2 % per request in flight by default).
  std::vector<Up> ups = {{.id = "busy", .ewma = 300, .in_flight = 25}, {.id = "idle", .ewma = 300}};
  auto s = score(strategy("latency_first"), ups);
  EXPECT_EQ(top(s), 1u);
  EXPECT_NEAR(share(s, 1), 1 / (1 + std::pow(1 / 1.5, 4)), 0.01);
  // A fast upstream that piles up requests hands traffic over to a slower idle one.
  ups = {{.id = "fast", .ewma = 200, .in_flight = 0}, {.id = "slower", .ewma = 300}};
  EXPECT_EQ(top(score(strategy("latency_first"), ups)), 0u);
  ups[0].in_flight = 30;  // 200 x 1.6 = 320 > 300
  EXPECT_EQ(top(score(strategy("latency_first"), ups)), 1u);
  // Configurable.
  auto reg = load({{"APIPROXY_STRATEGY_LATENCY_FIRST_IN_FLIGHT_WEIGHT", "1"}});
  ups[0].in_flight = 1;  // 200 x 2 = 400 > 300
  EXPECT_EQ(top(score(strategy("latency_first", *reg), ups)), 1u);
}

TEST(LatencyFirst, ExploresAColdUpstream) {
  std::vector<Up> ups = {{.id = "fast", .ewma = 200, .samples = 100},
                         {.id = "slow", .ewma = 300, .samples = 100},
                         {.id = "cold", .ewma = 0, .p95 = 0, .p99 = 0, .samples = 0,
                          .status = APX_HEALTH_UNKNOWN}};
  auto s = score(strategy("latency_first"), ups);
  EXPECT_GT(share(s, 2), 0.15) << "treated like a typical (median) upstream";
  EXPECT_GT(s[2], s[1]);
  EXPECT_LT(s[2], s[0]);
  // Below COLD_SAMPLES its (noisy) EWMA is not trusted: a terrible first sample does
  // not starve it.
  ups[2] = {.id = "cold", .ewma = 20000, .samples = 2};
  s = score(strategy("latency_first"), ups);
  EXPECT_GT(share(s, 2), 0.15);
  // Configurable: with COLD_SAMPLES=1 that sample counts and the upstream is avoided.
  auto reg = load({{"APIPROXY_STRATEGY_LATENCY_FIRST_COLD_SAMPLES", "1"}});
  s = score(strategy("latency_first", *reg), ups);
  EXPECT_LT(share(s, 2), 0.02);
}

TEST(LatencyFirst, FailingFastDoesNotLookFast) {
  std::vector<Up> ups = {{.id = "fails_fast", .ewma = 100, .err = 0.9},
                         {.id = "works", .ewma = 300, .err = 0.0}};
  EXPECT_EQ(top(score(strategy("latency_first"), ups)), 1u);
}

TEST(LatencyFirst, DownScoresZero) {
  std::vector<Up> ups = {{.id = "down_fast", .ewma = 50, .status = APX_HEALTH_DOWN},
                         {.id = "up", .ewma = 800}};
  auto s = score(strategy("latency_first"), ups);
  EXPECT_EQ(s[0], 0.0);
  EXPECT_GT(s[1], 0.0);
}

// ---------------------------------------------------------- reliability_first ----

TEST(ReliabilityFirst, AvoidsA30PercentErrorProvider) {
  std::vector<Up> ups = {{.id = "flaky_fast", .ewma = 100, .p95 = 150, .err = 0.30, .samples = 100},
                         {.id = "solid_slow", .ewma = 2000, .p95 = 4000, .err = 0.01, .samples = 100}};
  auto s = score(strategy("reliability_first"), ups);
  EXPECT_EQ(top(s), 1u);
  EXPECT_LT(share(s, 0), 0.02);
  EXPECT_GT(s[0], 0.0) << "still a failover target";
}

TEST(ReliabilityFirst, OnlyAMeasurableDifferenceCounts) {
  // 0 failures in 3 attempts is not worse than 0 in 300: the evidence cannot tell them
  // apart, so the upstream that happens to have more traffic does not take it all.
  std::vector<Up> ups = {{.id = "zero_of_3", .err = 0, .samples = 3},
                         {.id = "zero_of_300", .err = 0, .samples = 300}};
  auto s = score(strategy("reliability_first"), ups);
  EXPECT_DOUBLE_EQ(s[0], s[1]);
  ups[1].err = 1.0 / 300;
  s = score(strategy("reliability_first"), ups);
  EXPECT_DOUBLE_EQ(s[0], s[1]);
  // 5 % of 300 against none of 300 is measurable.
  ups = {{.id = "five_percent", .err = 0.05, .samples = 300}, {.id = "clean", .err = 0, .samples = 300}};
  s = score(strategy("reliability_first"), ups);
  EXPECT_LT(share(s, 0), 0.01);
}

TEST(ReliabilityFirst, LatencyBreaksTies) {
  std::vector<Up> ups = {{.id = "slow", .ewma = 900, .err = 0.01, .samples = 400},
                         {.id = "fast", .ewma = 300, .err = 0.01, .samples = 400}};
  auto s = score(strategy("reliability_first"), ups);
  EXPECT_EQ(top(s), 1u);
  // ...but only ties: twice the errors is not made up for by 10x the speed.
  ups[1].ewma = 90;
  ups[1].err = 0.03;
  EXPECT_EQ(top(score(strategy("reliability_first"), ups)), 0u);
}

TEST(ReliabilityFirst, DownScoresZeroDegradedPenalised) {
  std::vector<Up> ups = {{.id = "down", .err = 0, .samples = 500, .status = APX_HEALTH_DOWN},
                         {.id = "degraded", .err = 0.02, .samples = 500, .status = APX_HEALTH_DEGRADED},
                         {.id = "healthy", .err = 0.015, .samples = 500}};
  auto s = score(strategy("reliability_first"), ups);
  EXPECT_EQ(s[0], 0.0);
  EXPECT_EQ(top(s), 2u);
}

// ------------------------------------------------------------------- balanced ----

TEST(Balanced, HonoursBaseWeights) {
  std::vector<Up> ups = {{.id = "three", .weight = 3}, {.id = "two", .weight = 2}, {.id = "one", .weight = 1}};
  auto s = score(strategy("balanced"), ups);
  ASSERT_GT(s[2], 0.0);
  EXPECT_NEAR(s[0] / s[2], 3.0, 1e-9);
  EXPECT_NEAR(s[1] / s[2], 2.0, 1e-9);
  // The dynamic weight multiplies in the same way.
  ups[2].dyn = 2;
  s = score(strategy("balanced"), ups);
  EXPECT_NEAR(s[1] / s[2], 1.0, 1e-9);
}

TEST(Balanced, FollowsTheDocumentedFormula) {
  // raw = weights x (L*/L)^(10a) x exp(-100b (E - E*)) x (C*/C)^(10g) x exp(-10d Q),
  // score = raw / max raw. E is the error rate shrunk by 2 pseudo-attempts: n/(n+2).
  std::vector<Up> ups = {
      {.id = "a", .weight = 2, .dyn = 1.5, .cost_in = 1, .cost_out = 2, .ewma = 1000, .err = 0.1,
       .samples = 98, .max_qps = 10, .qps = 5},
      {.id = "b", .weight = 1, .cost_in = 2, .cost_out = 4, .ewma = 2000, .err = 0.0}};
  auto s = score(strategy("balanced"), ups);
  double a = 2 * 1.5 * std::exp(-100 * 0.3 * 0.1 * 98 / 100) * std::exp(-10 * 0.2 * 0.5);
  double b = std::pow(0.5, 4) * std::pow(0.5, 2);
  EXPECT_NEAR(s[0], 1.0, 1e-9);
  EXPECT_NEAR(s[1], b / a, 1e-9);
}

TEST(Balanced, MinimumScoreKeepsEveryHealthyCandidate) {
  std::vector<Up> ups = {{.id = "good", .cost_in = 1, .cost_out = 1, .ewma = 100, .err = 0},
                         {.id = "awful", .weight = 2, .cost_in = 50, .cost_out = 50, .ewma = 9000,
                          .err = 1.0, .max_qps = 1, .qps = 5}};
  auto s = score(strategy("balanced"), ups);
  EXPECT_NEAR(s[1], 0.002, 1e-12) << "MIN_SCORE is relative to the best candidate";
  auto reg = load({{"APIPROXY_STRATEGY_BALANCED_MIN_SCORE", "0.25"}});
  s = score(strategy("balanced", *reg), ups);
  EXPECT_NEAR(s[1], 0.25, 1e-12);
}

TEST(Balanced, EachTermInProportionToHowMuchWorse) {
  // The worked examples of the strategy's documentation.
  auto share_of_a = [](std::vector<Up> ups) { return share(score(strategy("balanced"), ups), 0); };
  EXPECT_NEAR(share_of_a({{.id = "a", .ewma = 500}, {.id = "b", .ewma = 500}}), 0.5, 1e-9);
  double ten_x = share_of_a({{.id = "a", .ewma = 5000}, {.id = "b", .ewma = 500}});
  EXPECT_LT(ten_x, 0.003) << "a brownout (10x slower) keeps only the MIN_SCORE trickle";
  double sixty_x = share_of_a({{.id = "a", .ewma = 30000}, {.id = "b", .ewma = 500}});
  EXPECT_LE(sixty_x, ten_x);
  EXPECT_NEAR(share_of_a({{.id = "a", .ewma = 600}, {.id = "b", .ewma = 500}}), 0.482 / 1.482, 0.01);
  EXPECT_LT(share_of_a({{.id = "a", .err = 0.3}, {.id = "b"}}), 0.003) << "30 % errors";
  EXPECT_NEAR(share_of_a({{.id = "a", .cost_in = 2, .cost_out = 2}, {.id = "b"}}), 0.2, 0.01);
  EXPECT_NEAR(share_of_a({{.id = "a", .cost_in = 2, .cost_out = 2, .ewma = 250}, {.id = "b"}}), 0.8, 0.01);
}

TEST(Balanced, CoefficientOverridesChangeTheResult) {
  // "quick": half the latency, 20 % errors; "steady": slow, no errors; both unpriced.
  std::vector<Up> ups = {{.id = "quick", .cost_in = 0, .cost_out = 0, .ewma = 1000, .err = 0.2, .samples = 98},
                         {.id = "steady", .cost_in = 0, .cost_out = 0, .ewma = 2000, .err = 0.0}};
  auto log_ratio = [&](const PluginRegistry& reg) {  // log(score quick / score steady)
    auto s = score(strategy("balanced", reg), ups);
    return std::log(s[0] / s[1]);
  };
  // Defaults: quick gains 4 ln 2 = 2.77 for its speed and loses 30 x 0.196 = 5.88 for its
  // errors.
  EXPECT_NEAR(log_ratio(defaults()), 4 * std::log(2) - 30 * 0.196, 1e-9);
  // Errors matter less: BETA 0.05 -> quick loses 5 x 0.196 = 0.98 and wins.
  auto low_beta = load({{"APIPROXY_STRATEGY_BALANCED_BETA", "0.05"}});
  EXPECT_NEAR(log_ratio(*low_beta), 4 * std::log(2) - 5 * 0.196, 1e-9);
  EXPECT_EQ(top(score(strategy("balanced", *low_beta), ups)), 0u);
  // Latency matters more: ALPHA 1 -> 10 ln 2 = 6.93 against 5.88.
  auto high_alpha = load({{"APIPROXY_STRATEGY_BALANCED_ALPHA", "1"}});
  EXPECT_NEAR(log_ratio(*high_alpha), 10 * std::log(2) - 30 * 0.196, 1e-9);
  EXPECT_EQ(top(score(strategy("balanced", *high_alpha), ups)), 0u);
  // ALPHA 0: latency is ignored, and quick falls to the MIN_SCORE floor.
  auto no_alpha = load({{"APIPROXY_STRATEGY_BALANCED_ALPHA", "0"}});
  EXPECT_NEAR(score(strategy("balanced", *no_alpha), ups)[0], std::max(std::exp(-30 * 0.196), 0.002), 1e-12);
}

TEST(Balanced, QuotaPressureAndDown) {
  std::vector<Up> ups = {{.id = "near_limit", .max_qps = 10, .qps = 9.5},
                         {.id = "unlimited"},
                         {.id = "down", .status = APX_HEALTH_DOWN}};
  auto s = score(strategy("balanced"), ups);
  EXPECT_EQ(top(s), 1u);
  EXPECT_EQ(s[2], 0.0);
}

// --------------------------------------------------- fault scenarios (issue 11) ----
// The shapes of tests/bench/scenario_bench.sh as pure functions of the metrics the host
// passes: two upstreams at equal prices, B healthy (5 ms, ~1,600 recent attempts), A in
// trouble. The benchmark measures the same properties end to end.

Up healthy(std::string id, double recent_ms = 5) {
  return {.id = std::move(id), .ewma = recent_ms, .p95 = recent_ms * 1.5, .p99 = recent_ms * 2,
          .samples = 20000, .recent_ms = recent_ms, .recent_n = 1600};
}

TEST(Scenarios, ABrownoutMovesTrafficAwayInEveryStrategy) {
  for (double slower : {10.0, 60.0}) {
    Up a = healthy("a", 5 * slower);
    a.recent_n = 40;  // it already gets little traffic
    for (const char* name : kStrategies) {
      auto s = score(strategy(name), {a, healthy("b")});
      // Under 1 %: few enough slow answers that the p99 does not show them.
      EXPECT_LT(share(s, 0), 0.01) << name << " at " << slower << "x";
      EXPECT_GT(s[0], 0.0) << name << ": still probed, and a failover target";
    }
  }
}

TEST(Scenarios, AGrayFailureCountsAsSlow) {
  Up a = healthy("a");
  a.recent_err = 0.3;
  a.recent_n = 20;
  for (const char* name : {"latency_first", "reliability_first", "balanced"}) {
    auto s = score(strategy(name), {a, healthy("b")});
    EXPECT_LT(share(s, 0), 0.02) << name;
  }
}

TEST(Scenarios, EqualUpstreamsShareEvenlyWhateverTheirTraffic) {
  // No rich-get-richer: the one with more history does not win on its sample count, and
  // a little latency noise moves the split a little.
  for (const char* name : kStrategies) {
    Up a = healthy("a"), b = healthy("b");
    a.samples = 30;
    a.recent_n = 3;
    EXPECT_NEAR(share(score(strategy(name), {a, b}), 0), 0.5, 0.01) << name;
    a = healthy("a", 5.2);
    double split = share(score(strategy(name), {a, b}), 0);
    EXPECT_GT(split, 0.4) << name;
    EXPECT_LT(split, 0.5) << name;
  }
}

TEST(Scenarios, ARecoveredUpstreamIsNotHeldBackByItsHistory) {
  // Readmitted after an outage: the window still remembers a minute of failures, the
  // recent figures one fresh success.
  Up a = healthy("a");
  a.err = 0.6;
  a.recent_err = 0;
  a.recent_n = 1;
  for (const char* name : kStrategies) {
    auto s = score(strategy(name), {a, healthy("b")});
    EXPECT_GT(share(s, 0), 0.25) << name;
  }
}

TEST(Scenarios, CostFirstTakesTheCheapestWithinTheLatencyObjective) {
  auto reg = load({{"APIPROXY_STRATEGY_COST_FIRST_MAX_LATENCY_MS", "100"}});
  Up cheap = healthy("cheap"), pricey = healthy("pricey");
  pricey.cost_in = pricey.cost_out = 2;
  EXPECT_GT(share(score(strategy("cost_first", *reg), {cheap, pricey}), 0), 0.97);
  cheap.recent_ms = 50;  // slower, still within the objective: still the cheapest
  EXPECT_GT(share(score(strategy("cost_first", *reg), {cheap, pricey}), 0), 0.97);
  cheap.recent_ms = 300;  // over it
  auto s = score(strategy("cost_first", *reg), {cheap, pricey});
  EXPECT_LT(share(s, 0), 0.01);
  EXPECT_GT(s[0], 0.0) << "probed, to notice its recovery";
  // When nobody meets the objective, the price decides again.
  pricey.recent_ms = 400;
  EXPECT_GT(share(score(strategy("cost_first", *reg), {cheap, pricey}), 0), 0.97);
}

TEST(Scenarios, AnOlderHostsCandidatesAreReadFromTheWindow) {
  // A 1.0 host passes no recent figures: the window's error rate and EWMA are used.
  Up a = healthy("a"), b = healthy("b");
  a.abi_1_0 = b.abi_1_0 = true;
  a.err = 0.3;
  a.recent_err = 0;  // not passed
  for (const char* name : {"latency_first", "reliability_first", "balanced"})
    EXPECT_LT(share(score(strategy(name), {a, b}), 0), 0.02) << name;
  a.err = 0;
  a.ewma = 50;
  for (const char* name : kStrategies) EXPECT_LT(share(score(strategy(name), {a, b}), 0), 0.01) << name;
}

// ------------------------------------------------------------ all strategies ----

TEST(Strategies, DilemmaGetsFourDifferentTopChoices) {
  auto ups = dilemma();
  auto pick = [&](const char* name) { return ups[top(score(strategy(name), ups))].id; };
  EXPECT_EQ(pick("cost_first"), "cheap_slow_flaky");
  EXPECT_EQ(pick("latency_first"), "fast_pricey");
  EXPECT_EQ(pick("reliability_first"), "reliable_mid");
  EXPECT_EQ(pick("balanced"), "all_rounder");
  // Without the all-rounder the three specialists still split three ways.
  ups.pop_back();
  EXPECT_EQ(pick("cost_first"), "cheap_slow_flaky");
  EXPECT_EQ(pick("latency_first"), "fast_pricey");
  EXPECT_EQ(pick("reliability_first"), "reliable_mid");
}

TEST(Strategies, AllDownStillProducesAnOrder) {
  auto ups = dilemma();
  for (auto& u : ups) u.status = APX_HEALTH_DOWN;
  for (const char* name : kStrategies) {
    auto s = score(strategy(name), ups);
    for (size_t i = 0; i < s.size(); ++i) EXPECT_GT(s[i], 0.0) << name << " " << ups[i].id;
  }
  // ...and by each strategy's usual rule.
  EXPECT_EQ(ups[top(score(strategy("cost_first"), ups))].id, "cheap_slow_flaky");
  EXPECT_EQ(ups[top(score(strategy("latency_first"), ups))].id, "fast_pricey");
  EXPECT_EQ(ups[top(score(strategy("reliability_first"), ups))].id, "reliable_mid");
  EXPECT_EQ(ups[top(score(strategy("balanced"), ups))].id, "all_rounder");
}

TEST(Strategies, EveryStrategyRanksAPlainSetSensibly) {
  // One candidate: positive score. Identical candidates: equal scores.
  for (const char* name : kStrategies) {
    auto one = score(strategy(name), {{.id = "only"}});
    EXPECT_GT(one[0], 0.0) << name;
    auto same = score(strategy(name), {{.id = "x"}, {.id = "y"}, {.id = "z"}});
    EXPECT_DOUBLE_EQ(same[0], same[1]) << name;
    EXPECT_DOUBLE_EQ(same[1], same[2]) << name;
    EXPECT_GT(same[0], 0.0) << name;
  }
}

TEST(Strategies, ManyCandidatesScoreAsTheirDistinctSetDoes) {
  // The strategies keep per-candidate numbers inline up to 16 candidates and on the heap
  // beyond: 40 candidates, the dilemma set repeated, score exactly as the set itself
  // (repeating a set changes no maximum, median, best or tie group).
  std::vector<Up> few = dilemma();
  few.push_back({.id = "down", .status = APX_HEALTH_DOWN});
  std::vector<Up> many;
  for (int copy = 0; copy < 8; ++copy) many.insert(many.end(), few.begin(), few.end());
  ASSERT_EQ(many.size(), 40u);
  for (const char* name : kStrategies) {
    auto expected = score(strategy(name), few, {.in = 800, .out = 300});
    auto got = score(strategy(name), many, {.in = 800, .out = 300});
    for (size_t i = 0; i < many.size(); ++i) EXPECT_EQ(got[i], expected[i % few.size()]) << name << " " << i;
  }
}

TEST(Strategies, GarbageInputsGiveFiniteNonNegativeScores) {
  std::vector<std::vector<Up>> sets = {
      {{.id = "nan", .weight = kNaN, .dyn = kNaN, .cost_in = kNaN, .cost_out = kNaN, .ewma = kNaN,
        .p95 = kNaN, .p99 = kNaN, .err = kNaN, .max_qps = kNaN, .qps = kNaN},
       {.id = "ok"}},
      {{.id = "inf", .weight = kInf, .dyn = kInf, .cost_in = kInf, .cost_out = kInf, .ewma = kInf,
        .p95 = kInf, .p99 = kInf, .err = kInf, .in_flight = UINT32_MAX, .samples = UINT32_MAX,
        .max_qps = kInf, .qps = kInf},
       {.id = "neg_inf", .weight = -kInf, .dyn = -kInf, .cost_in = -kInf, .cost_out = -kInf,
        .ewma = -kInf, .p95 = -kInf, .p99 = -kInf, .err = -kInf, .max_qps = -kInf, .qps = -kInf}},
      {{.id = "negative", .weight = -1, .dyn = -5, .cost_in = -1, .cost_out = -1, .ewma = -10,
        .p95 = -1, .p99 = -1, .err = -0.5, .status = 99, .max_qps = -3, .qps = -1},
       {.id = "zeroes", .weight = 0, .dyn = 0, .cost_in = 0, .cost_out = 0, .ewma = 0, .p95 = 0,
        .p99 = 0, .err = 0, .samples = 0, .status = 0}},
      {{.id = "huge", .weight = 1e300, .dyn = 1e300, .cost_in = 1e300, .cost_out = 1e300,
        .ewma = 1e300, .p95 = 1e300, .p99 = 1e300, .err = 1e300, .in_flight = UINT32_MAX,
        .samples = UINT32_MAX, .max_qps = 1e300, .qps = 1e300},
       {.id = "tiny", .weight = 1e-300, .dyn = 1e-300, .cost_in = 1e-300, .cost_out = 1e-300,
        .ewma = 1e-300, .p95 = 1e-300, .p99 = 1e-300, .err = 1e-300, .max_qps = 1e-300,
        .qps = 1e-300},
       {.id = "denormal", .cost_in = 4.9e-324, .cost_out = 0, .ewma = 4.9e-324}},
      {{.id = "all_down_nan", .ewma = kNaN, .err = kNaN, .status = APX_HEALTH_DOWN},
       {.id = "all_down_huge", .ewma = 1e308, .in_flight = UINT32_MAX, .status = APX_HEALTH_DOWN}},
  };
  std::vector<Request> requests = {{}, {.in = UINT64_MAX, .out = UINT64_MAX}, {.in = 1, .out = 0}};
  for (const char* name : kStrategies)
    for (const auto& set : sets)
      for (const auto& req : requests) {
        auto s = score(strategy(name), set, req);
        expect_valid(s, std::string(name) + " / " + set[0].id);
        EXPECT_GT(*std::max_element(s.begin(), s.end()), 0.0)
            << name << " / " << set[0].id << ": someone must remain usable";
      }
}

TEST(Strategies, ZeroCandidatesIsFine) {
  apx_route_ctx ctx{};
  ctx.struct_size = sizeof(apx_route_ctx);
  for (const char* name : kStrategies) {
    auto st = strategy(name).score(ctx, nullptr, 0, nullptr);
    EXPECT_TRUE(st.ok()) << name;
  }
}

TEST(Strategies, ScoringIsThreadSafeAndDeterministic) {
  auto ups = dilemma();
  ups.push_back({.id = "cold", .ewma = 0, .p95 = 0, .samples = 0, .status = APX_HEALTH_UNKNOWN});
  for (const char* name : kStrategies) {
    const auto& s = strategy(name);
    auto expected = score(s, ups);
    std::vector<std::thread> threads;
    std::vector<int> mismatches(4, 0);
    for (int t = 0; t < 4; ++t)
      threads.emplace_back([&, t] {
        for (int k = 0; k < 500; ++k)
          if (score(s, ups) != expected) ++mismatches[t];
      });
    for (auto& th : threads) th.join();
    for (int m : mismatches) EXPECT_EQ(m, 0) << name;
  }
}

// ---------------------------------------------------------------- configuration ----

struct LogCapture {
  LogCapture() : sink(std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(256)) {
    spdlog::default_logger()->sinks().push_back(sink);
  }
  ~LogCapture() {
    auto& sinks = spdlog::default_logger()->sinks();
    sinks.erase(std::remove(sinks.begin(), sinks.end(), sink), sinks.end());
  }
  bool contains(std::string_view text) const {
    for (const auto& line : sink->last_formatted())
      if (line.find(text) != std::string::npos) return true;
    return false;
  }
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> sink;
};

bool rejected(const PluginRegistry& reg, std::string_view file) {
  for (const auto& r : reg.rejected())
    if (r.file.find(file) != std::string::npos) return true;
  return false;
}

TEST(StrategyConfig, InvalidValuesRefuseTheStrategy) {
  struct Case {
    const char* var;
    const char* value;
    const char* strategy;
  };
  const Case cases[] = {
      {"APIPROXY_STRATEGY_BALANCED_ALPHA", "abc", "balanced"},
      {"APIPROXY_STRATEGY_BALANCED_ALPHA", "-1", "balanced"},
      {"APIPROXY_STRATEGY_BALANCED_BETA", "nan", "balanced"},
      {"APIPROXY_STRATEGY_BALANCED_GAMMA", "inf", "balanced"},
      {"APIPROXY_STRATEGY_BALANCED_DELTA", "0.2x", "balanced"},
      {"APIPROXY_STRATEGY_BALANCED_MIN_SCORE", "1.5", "balanced"},
      {"APIPROXY_STRATEGY_LATENCY_FIRST_COLD_SAMPLES", "-3", "latency_first"},
      {"APIPROXY_STRATEGY_LATENCY_FIRST_COLD_SAMPLES", "2.5", "latency_first"},
      {"APIPROXY_STRATEGY_LATENCY_FIRST_SHARPNESS", "0", "latency_first"},
      {"APIPROXY_STRATEGY_COST_FIRST_TIE", "fast", "cost_first"},
      {"APIPROXY_STRATEGY_COST_FIRST_DEGRADED_PENALTY", "0.5", "cost_first"},
      {"APIPROXY_STRATEGY_RELIABILITY_FIRST_PRIOR_ERROR", "1", "reliability_first"},
      {"APIPROXY_STRATEGY_RELIABILITY_FIRST_Z", "-1", "reliability_first"},
  };
  for (const auto& c : cases) {
    LogCapture log;
    auto reg = load({{c.var, c.value}});
    std::string what = std::string(c.var) + "=" + c.value;
    EXPECT_EQ(reg->strategy(c.strategy), nullptr) << what;
    EXPECT_TRUE(rejected(*reg, std::string("strategy_") + c.strategy + ".so")) << what;
    EXPECT_TRUE(log.contains(c.var)) << what << ": the refusal must name the variable";
    // The other strategies are unaffected.
    for (const char* other : kStrategies)
      if (std::string_view(other) != c.strategy) {
        EXPECT_NE(reg->strategy(other), nullptr) << what;
      }
  }
}

TEST(StrategyConfig, ValidOverridesAndEmptyValuesLoad) {
  LogCapture log;
  auto reg = load({{"APIPROXY_STRATEGY_BALANCED_ALPHA", "0.5"},
                   {"APIPROXY_STRATEGY_BALANCED_BETA", ""},  // empty = unset
                   {"APIPROXY_STRATEGY_BALANCED_ALPAH", "0.1"},  // typo: warned about
                   {"APIPROXY_STRATEGY_COST_FIRST_SHARPNESS", "2"},
                   {"APIPROXY_STRATEGY_RELIABILITY_FIRST_Z", "0"},
                   {"APIPROXY_STRATEGY_LATENCY_FIRST_EXPLORE", "0"}});
  for (const char* name : kStrategies) EXPECT_NE(reg->strategy(name), nullptr) << name;
  EXPECT_TRUE(log.contains("APIPROXY_STRATEGY_BALANCED_ALPAH"));
  // BETA empty -> default 0.3; ALPHA 0.5: quick gains 5 ln 2 for its speed and loses
  // 30 x 0.196 for its errors (E = 0.2 x 98 / 100).
  std::vector<Up> ups = {{.id = "quick", .cost_in = 0, .cost_out = 0, .ewma = 1000, .err = 0.2, .samples = 98},
                         {.id = "steady", .cost_in = 0, .cost_out = 0, .ewma = 2000, .err = 0.0}};
  EXPECT_NEAR(score(strategy("balanced", *reg), ups)[0], std::exp(5 * std::log(2) - 30 * 0.196), 1e-9);
}

}  // namespace
