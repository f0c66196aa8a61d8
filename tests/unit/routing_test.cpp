// The routing core (DESIGN.md §3 "routing" and "metrics"): Router::decide (candidates,
// strategy scoring through the real plugins, sticky sessions, regions, weighted choice,
// failover order, fallbacks), RuntimeMetrics (rolling 60 s window, percentiles, EWMA,
// health thresholds, other instances' shares), LatencyHistogram, DynamicWeights,
// MetricsPublisher (the shared llm:metrics document) and the session binding helpers.
//
// What each strategy prefers is strategies_test.cpp's business; here the strategies are
// only a source of scores, and the tests compare the Router's behaviour with the scores
// it reports in RouteDecision::all.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <rapidjson/document.h>
#include <spdlog/spdlog.h>

#include "core/config/environment.hpp"
#include "core/config/providers.hpp"
#include "core/discovery/health_probe.hpp"
#include "core/model/json_codec.hpp"
#include "core/model/types.hpp"
#include "core/plugins/plugin_registry.hpp"
#include "core/providers/provider_runtime.hpp"
#include "core/routing/dynamic_weights.hpp"
#include "core/routing/latency_histogram.hpp"
#include "core/routing/metrics_publisher.hpp"
#include "core/routing/router.hpp"
#include "core/routing/runtime_metrics.hpp"
#include "core/routing/sessions.hpp"
#include "core/store/keys.hpp"
#include "core/store/memory_store.hpp"

#ifndef APIPROXY_TEST_PLUGIN_DIR
#error "APIPROXY_TEST_PLUGIN_DIR must name the directory holding the built plugins"
#endif
#ifndef APIPROXY_TEST_BROKEN_PLUGIN_DIR
#error "APIPROXY_TEST_BROKEN_PLUGIN_DIR must name the directory holding the fixture plugins"
#endif
#ifndef APIPROXY_TEST_ROUTING_PLUGIN_DIR
#error "APIPROXY_TEST_ROUTING_PLUGIN_DIR must name the routing fixtures' directory (tests/fixtures)"
#endif

namespace apiproxy {
namespace {

using namespace std::chrono_literals;
using Clock = RuntimeMetrics::Clock;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
const char* const kStrategies[] = {"latency_first", "cost_first", "reliability_first", "balanced"};

// ------------------------------------------------------------------ helpers ----

// The bundled plugins (strategies and provider adapters), loaded once.
std::shared_ptr<const PluginRegistry> bundled_registry() {
  static const auto reg = PluginRegistry::load(APIPROXY_TEST_PLUGIN_DIR, Environment());
  return reg;
}
const PluginRegistry& bundled() { return *bundled_registry(); }

// The fixture plugins (fixture_score_throws, fixture_score_garbage, ...), loaded once.
std::shared_ptr<const PluginRegistry> fixtures() {
  static const auto reg = PluginRegistry::load(APIPROXY_TEST_BROKEN_PLUGIN_DIR, Environment());
  return reg;
}

// Strategies built for this test only (fixture_score_huge), loaded once.
std::shared_ptr<const PluginRegistry> routing_fixtures() {
  static const auto reg = PluginRegistry::load(APIPROXY_TEST_ROUTING_PLUGIN_DIR, Environment());
  return reg;
}

// One configured provider.
struct Prov {
  Prov(std::string id_, std::string weight_ = "", std::string region_ = "", std::string max_qps_ = "")
      : id(std::move(id_)), weight(std::move(weight_)), region(std::move(region_)), max_qps(std::move(max_qps_)) {}
  std::string id;
  std::string weight;   // WEIGHT, empty = unset
  std::string region;   // REGION, empty = unset
  std::string max_qps;  // MAX_QPS, empty = unset
};

std::string provider_env(const std::vector<Prov>& ps) {
  std::string ids, text;
  for (const auto& p : ps) {
    ids += (ids.empty() ? "" : ",") + p.id;
    const std::string pre = "LLM_PROVIDER_" + p.id + "_";
    text += pre + "NAME=" + p.id + "\n";
    text += pre + "BASE_URL=https://" + p.id + ".example.com\n";
    text += pre + "API_KEY=sk-test-" + p.id + "\n";
    text += pre + "ADAPTER=openai\n";
    if (!p.weight.empty()) text += pre + "WEIGHT=" + p.weight + "\n";
    if (!p.region.empty()) text += pre + "REGION=" + p.region + "\n";
    if (!p.max_qps.empty()) text += pre + "MAX_QPS=" + p.max_qps + "\n";
  }
  return "LLM_PROVIDERS=" + ids + "\n" + text;
}

ProviderRuntimes make_providers(const std::vector<Prov>& ps) {
  ProviderRuntimes rt = make_provider_runtimes(load_providers(Environment::from_text(provider_env(ps))), bundled());
  for (const auto& s : rt.skipped) ADD_FAILURE() << "provider " << s.id << " skipped: " << s.reason;
  EXPECT_EQ(rt.usable.size(), ps.size());
  return rt;
}

PhysicalModel up(std::string provider, double base_weight = 1.0,
                 std::optional<std::string> region = std::nullopt,
                 std::optional<double> max_qps = std::nullopt) {
  PhysicalModel m;
  m.model_id = "m-" + provider;
  m.provider_id = std::move(provider);
  m.base_weight = base_weight;
  m.region = std::move(region);
  m.max_qps = max_qps;
  return m;
}

LogicalModel logical(std::vector<PhysicalModel> ups, std::string id = "gpt-x") {
  LogicalModel m;
  m.logical_id = std::move(id);
  m.display_name = m.logical_id;
  m.capabilities = {"chat"};
  m.upstreams = std::move(ups);
  return m;
}

Session session_on(const std::string& provider, const std::string& logical_id = "gpt-x") {
  Session s;
  s.conversation_id = "conv-1";
  s.logical_model = logical_id;
  s.provider_id = provider;
  s.model_id = "m-" + provider;
  s.created_at = 1000;
  s.last_accessed = 1000;
  s.message_count = 3;
  return s;
}

// Providers, metrics, weights and a Router over them.
struct Rig {
  PluginGeneration plugins;  // strategies from the given registry, adapters from the bundled one
  RuntimeMetrics metrics;
  DynamicWeights weights;
  Router router;

  explicit Rig(const std::vector<Prov>& ps,
               std::shared_ptr<const PluginRegistry> strategies = bundled_registry(),
               std::string default_strategy = "balanced", Router::CapacityCheck cap = {})
      : plugins{1, std::move(strategies), make_providers(ps)},
        router(metrics, weights, std::move(default_strategy), std::move(cap)) {}

  // Decides on a copy the rig keeps: a decision's candidates point into its model, and
  // tests pass temporaries.
  RouteOutcome decide(const LogicalModel& m, const RouteRequest& r = {}, uint64_t seed = 1) {
    std::mt19937_64 rng(seed);
    decided.push_back(std::make_unique<LogicalModel>(m));
    return router.decide(plugins, *decided.back(), r, rng);
  }
  std::vector<std::unique_ptr<LogicalModel>> decided;

  // `n` outcomes of which `errors` failed, at `latency_ms`, recorded now.
  void traffic(const std::string& logical_id, const std::string& provider, int n, int errors,
               double latency_ms) {
    for (int i = 0; i < n; ++i) metrics.record(logical_id, provider, {latency_ms, i >= errors});
  }
};

std::vector<std::string> ids(const std::vector<Candidate>& cs) {
  std::vector<std::string> out;
  for (const auto& c : cs) out.push_back(c.upstream->provider_id);
  return out;
}

const Candidate* find(const std::vector<Candidate>& cs, const std::string& provider) {
  for (const auto& c : cs)
    if (c.upstream->provider_id == provider) return &c;
  return nullptr;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

#define EXPECT_CONTAINS(haystack, needle) \
  EXPECT_TRUE(contains((haystack), (needle))) << "expected '" << (needle) << "' in: " << (haystack)

// A fixed point in time for the window tests, far from the clock's epoch.
const Clock::time_point T0 = Clock::time_point(std::chrono::seconds(1'000'000));

// -------------------------------------------------------------- registries ----

TEST(RoutingSetup, PluginsAreLoaded) {
  for (const char* s : kStrategies) EXPECT_TRUE(bundled().strategy(s)) << s;
  EXPECT_TRUE(fixtures()->strategy("fixture_score_throws"));
  EXPECT_TRUE(fixtures()->strategy("fixture_score_garbage"));
  EXPECT_TRUE(routing_fixtures()->strategy("fixture_score_huge"));
}

// ------------------------------------------------------ errors and refusals ----

TEST(Router, DisabledModelIsRefused) {
  Rig rig({{"a"}});
  auto m = logical({up("a")});
  m.enabled = false;
  auto out = rig.decide(m);
  EXPECT_FALSE(out.decision);
  EXPECT_EQ(out.error_kind, RouteError::ModelDisabled);
  EXPECT_CONTAINS(out.error, "'gpt-x' is disabled");
}

TEST(Router, AnUnknownRequestedStrategyIs400ListingTheAvailableOnes) {
  Rig rig({{"a"}});
  RouteRequest r;
  r.strategy = "fastest_please";
  auto out = rig.decide(logical({up("a")}), r);
  EXPECT_FALSE(out.decision);
  EXPECT_EQ(out.error_kind, RouteError::UnknownStrategy);
  EXPECT_EQ(route_error_code(out.error_kind), "invalid_strategy");
  EXPECT_CONTAINS(out.error, "unknown strategy 'fastest_please'");
  for (const char* s : kStrategies) EXPECT_CONTAINS(out.error, s);
}

TEST(Router, AModelWhoseStrategyIsNotLoadedIs503NotTheClientsFault) {
  Rig rig({{"a"}});
  auto m = logical({up("a")});
  m.strategy = "no_such_strategy";
  auto out = rig.decide(m);
  EXPECT_FALSE(out.decision);
  EXPECT_EQ(out.error_kind, RouteError::StrategyUnavailable);
  EXPECT_EQ(route_error_code(out.error_kind), "strategy_unavailable");
  EXPECT_CONTAINS(out.error, "'no_such_strategy', which is not loaded");
  for (const char* s : kStrategies) EXPECT_CONTAINS(out.error, s);
}

TEST(Router, StrategyPrecedenceRequestThenModelThenDefault) {
  Rig rig({{"a"}}, bundled_registry(), "latency_first");
  auto m = logical({up("a")});
  EXPECT_EQ(rig.decide(m).decision->strategy_used, "latency_first");
  m.strategy = "";  // empty counts as unset
  EXPECT_EQ(rig.decide(m).decision->strategy_used, "latency_first");
  m.strategy = "cost_first";
  EXPECT_EQ(rig.decide(m).decision->strategy_used, "cost_first");
  RouteRequest r;
  r.strategy = "reliability_first";
  EXPECT_EQ(rig.decide(m, r).decision->strategy_used, "reliability_first");
}

TEST(Router, NoUpstreamsIsNoUpstream) {
  Rig rig({{"a"}});
  auto out = rig.decide(logical({}));
  EXPECT_FALSE(out.decision);
  EXPECT_EQ(out.error_kind, RouteError::NoUpstream);
  EXPECT_CONTAINS(out.error, "no upstream of 'gpt-x' is available");
  EXPECT_CONTAINS(out.error, "it has no upstreams");
}

TEST(Router, AllExcludedIsNoUpstreamNamingWhy) {
  Rig rig({{"a"}, {"b"}});
  RouteRequest r;
  r.exclude_providers = {"a", "b"};
  auto out = rig.decide(logical({up("a"), up("b")}), r);
  EXPECT_FALSE(out.decision);
  EXPECT_EQ(out.error_kind, RouteError::NoUpstream);
  EXPECT_CONTAINS(out.error, "a: excluded by the request");
  EXPECT_CONTAINS(out.error, "b: excluded by the request");
}

TEST(Router, ProviderNotConfiguredIsNoUpstreamNamingWhy) {
  Rig rig({{"a"}});
  auto out = rig.decide(logical({up("ghost")}));
  EXPECT_FALSE(out.decision);
  EXPECT_EQ(out.error_kind, RouteError::NoUpstream);
  EXPECT_CONTAINS(out.error, "ghost: provider not configured");

  // Alongside a configured one, it is just not considered (and the reasoning says so).
  out = rig.decide(logical({up("ghost"), up("a")}));
  ASSERT_TRUE(out.decision) << out.error;
  EXPECT_EQ(ids(out.decision->all), std::vector<std::string>{"a"});
  EXPECT_EQ(out.decision->dropped, std::vector<std::string>{"ghost: provider not configured"});
  EXPECT_CONTAINS(out.decision->reasoning, "not considered: ghost: provider not configured");
}

TEST(Router, AllZeroScoresIsNoUpstream) {
  // fixture_score_garbage writes NaN, -1, +inf, ...: all sanitised to 0.
  Rig rig({{"a"}, {"b"}, {"c"}}, fixtures(), "fixture_score_garbage");
  auto out = rig.decide(logical({up("a"), up("b"), up("c")}));
  EXPECT_FALSE(out.decision);
  EXPECT_EQ(out.error_kind, RouteError::NoUpstream);
  EXPECT_CONTAINS(out.error, "strategy 'fixture_score_garbage' scored every upstream of 'gpt-x' 0");
}

TEST(Router, AllUpstreamsAtCapacityIsNoUpstream) {
  Rig rig({{"a"}, {"b"}}, bundled_registry(), "balanced",
          [](const Candidate& c, const RouteRequest&) { return Router::at_qps_limit(c); });
  auto out = rig.decide(logical({up("a", 1, std::nullopt, 5.0), up("b")}));
  EXPECT_EQ(out.error_kind, RouteError::NoUpstream);
  EXPECT_CONTAINS(out.error, "a: at its QPS limit (5/s)");
  EXPECT_CONTAINS(out.error, "b: at its QPS limit");
}

// ----------------------------------------------------------------- sanitise ----

TEST(Router, SanitiseTurnsUnusableScoresIntoZero) {
  EXPECT_EQ(Router::sanitise(kNaN), 0.0);
  EXPECT_EQ(Router::sanitise(-1.0), 0.0);
  EXPECT_EQ(Router::sanitise(kInf), 0.0);
  EXPECT_EQ(Router::sanitise(-kInf), 0.0);
  EXPECT_EQ(Router::sanitise(-0.0), 0.0);
  EXPECT_EQ(Router::sanitise(0.0), 0.0);
  EXPECT_EQ(Router::sanitise(2.5), 2.5);
  EXPECT_EQ(Router::sanitise(1e-300), 1e-300);
  // Huge scores are capped, so that adding them up cannot overflow.
  EXPECT_EQ(Router::sanitise(std::numeric_limits<double>::max()), Router::kMaxScore);
  EXPECT_EQ(Router::sanitise(Router::kMaxScore / 2), Router::kMaxScore / 2);
}

TEST(Router, GarbageScoresAreSanitisedInTheDecision) {
  // A sticky session is the only way to get a decision out of a strategy that scores
  // everything 0; it lets us look at the scores the Router kept.
  Rig rig({{"a"}, {"b"}, {"c"}, {"d"}}, fixtures(), "fixture_score_garbage");
  RouteRequest r;
  r.session = session_on("c");
  auto out = rig.decide(logical({up("a"), up("b"), up("c"), up("d")}), r);
  ASSERT_TRUE(out.decision) << out.error;
  const auto& d = *out.decision;
  ASSERT_EQ(d.all.size(), 4u);
  for (const auto& c : d.all) EXPECT_EQ(c.score, 0.0) << c.upstream->provider_id;
  EXPECT_TRUE(d.sticky);
  // Zero-score candidates are no failover targets.
  EXPECT_EQ(ids(d.order), std::vector<std::string>{"c"});
}

// DESIGN.md §2: "The core sanitises scores (NaN, negative, out of range)". Each DBL_MAX
// score is finite, but their sum is +inf: uniform_real_distribution(0, inf) then yields
// inf (or NaN), no candidate's interval contains it, and weighted_pick falls through to
// its "rounding" branch, so the last positive candidate wins every draw.
TEST(Router, HugeScoresStillDrawFairly) {
  Rig rig({{"a"}, {"b"}}, routing_fixtures(), "fixture_score_huge");
  auto m = logical({up("a"), up("b")});
  std::mt19937_64 rng(9);
  int a = 0;
  const int n = 2000;
  for (int i = 0; i < n; ++i) {
    auto out = rig.router.decide(rig.plugins, m, {}, rng);
    ASSERT_TRUE(out.decision) << out.error;
    a += out.decision->order.front().upstream->provider_id == "a";
  }
  EXPECT_NEAR(static_cast<double>(a) / n, 0.5, 0.05) << "a chosen " << a << " of " << n;
  auto out = rig.decide(m);
  EXPECT_CONTAINS(out.decision->reasoning, "with probability 50%");
}

// --------------------------------------------------------- failing strategy ----

TEST(Router, ThrowingStrategyFallsBackToWeights) {
  Rig rig({{"a", "2"}, {"b"}, {"c"}}, fixtures(), "fixture_score_throws");
  rig.weights.set("gpt-x", "b", 1.5);
  // c is DOWN: 5 of 5 failed.
  rig.traffic("gpt-x", "c", 5, 5, 100);
  auto m = logical({up("a", 1.5), up("b"), up("c", 4)});
  auto out = rig.decide(m);
  ASSERT_TRUE(out.decision) << route_error_code(out.error_kind) << " " << out.error;
  const auto& d = *out.decision;
  EXPECT_EQ(d.strategy_used, "fixture_score_throws");
  ASSERT_EQ(d.all.size(), 3u);
  EXPECT_DOUBLE_EQ(find(d.all, "a")->score, 3.0);  // 1.5 × WEIGHT 2 × 1
  EXPECT_DOUBLE_EQ(find(d.all, "b")->score, 1.5);  // 1 × 1 × 1.5
  EXPECT_EQ(find(d.all, "c")->score, 0.0);         // DOWN
  EXPECT_CONTAINS(d.reasoning, "fixture_score_throws returned APX_ERR_INTERNAL");
  EXPECT_CONTAINS(d.reasoning, "fell back to base × dynamic weights");
  EXPECT_EQ(d.order.size(), 2u);
  EXPECT_NE(d.order.front().upstream->provider_id, "c");

  // Every request still routes, by the fallback weights. (Each failed score() logs an
  // error through the plugin host; quiet for the loop.)
  const auto level = spdlog::get_level();
  spdlog::set_level(spdlog::level::off);
  std::mt19937_64 rng(7);
  int a = 0, routed = 0;
  const int n = 4000;
  for (int i = 0; i < n; ++i) {
    auto o = rig.router.decide(rig.plugins, m, {}, rng);
    if (!o.decision) continue;
    ++routed;
    a += o.decision->order.front().upstream->provider_id == "a";
  }
  spdlog::set_level(level);
  EXPECT_EQ(routed, n);
  EXPECT_NEAR(static_cast<double>(a) / n, 3.0 / 4.5, 0.03);
}

// The fallback note in the reasoning should name the strategy once: the plugin host's
// error already reads "strategy <name> returned ...", and decide() prefixes "strategy "
// again (router.cpp:218), giving "strategy strategy fixture_score_throws returned ...".
TEST(Router, FallbackReasoningNamesTheStrategyOnce) {
  Rig rig({{"a"}, {"b"}}, fixtures(), "fixture_score_throws");
  auto out = rig.decide(logical({up("a"), up("b")}));
  ASSERT_TRUE(out.decision) << out.error;
  EXPECT_FALSE(contains(out.decision->reasoning, "strategy strategy")) << out.decision->reasoning;
}

// ----------------------------------------------------- exclusion and regions ----

TEST(Router, ExcludedProvidersAreNeverChosen) {
  Rig rig({{"a"}, {"b"}, {"c"}});
  auto m = logical({up("a"), up("b", 50), up("c")});
  RouteRequest r;
  r.exclude_providers = {"b"};
  std::mt19937_64 rng(3);
  for (int i = 0; i < 500; ++i) {
    auto out = rig.router.decide(rig.plugins, m, r, rng);
    ASSERT_TRUE(out.decision);
    EXPECT_EQ(ids(out.decision->all), (std::vector<std::string>{"a", "c"}));
    for (const auto& c : out.decision->order) ASSERT_NE(c.upstream->provider_id, "b");
  }
  auto out = rig.decide(m, r);
  EXPECT_EQ(out.decision->dropped, std::vector<std::string>{"b: excluded by the request"});
  EXPECT_CONTAINS(out.decision->reasoning, "not considered: b: excluded by the request");
}

TEST(Router, PreferredRegionNarrowsCaseInsensitively) {
  Rig rig({{"a", "", "us-east"}, {"b", "", "EU-West"}, {"c", "", "eu-west"}});
  auto m = logical({up("a", 100), up("b"), up("c")});
  RouteRequest r;
  r.preferred_region = "eu-WEST";
  std::mt19937_64 rng(5);
  for (int i = 0; i < 300; ++i) {
    auto out = rig.router.decide(rig.plugins, m, r, rng);
    ASSERT_TRUE(out.decision);
    EXPECT_EQ(ids(out.decision->all), (std::vector<std::string>{"b", "c"}));
    EXPECT_NE(out.decision->order.front().upstream->provider_id, "a");
  }
  auto out = rig.decide(m, r);
  EXPECT_CONTAINS(out.decision->reasoning, "preferred region 'eu-WEST' matched 2 of 3 upstreams");
  EXPECT_EQ(out.decision->dropped, std::vector<std::string>{"a: outside preferred region 'eu-WEST'"});
}

TEST(Router, PreferredRegionWithNoMatchKeepsEveryCandidate) {
  Rig rig({{"a", "", "us-east"}, {"b", "", "eu-west"}});
  RouteRequest r;
  r.preferred_region = "ap-south";
  auto out = rig.decide(logical({up("a"), up("b")}), r);
  ASSERT_TRUE(out.decision) << out.error;
  EXPECT_EQ(ids(out.decision->all), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(out.decision->dropped.empty());
  EXPECT_CONTAINS(out.decision->reasoning,
                  "no upstream in region 'ap-south', so all regions were considered");
}

TEST(Router, UpstreamRegionOverridesProviderRegion) {
  // a's provider says us-east but this upstream is in eu-west; b the other way round.
  Rig rig({{"a", "", "us-east"}, {"b", "", "eu-west"}, {"c", "", "eu-west"}});
  auto m = logical({up("a", 1, "eu-west"), up("b", 1, "us-east"), up("c")});
  RouteRequest r;
  r.preferred_region = "EU-WEST";
  auto out = rig.decide(m, r);
  ASSERT_TRUE(out.decision) << out.error;
  EXPECT_EQ(ids(out.decision->all), (std::vector<std::string>{"a", "c"}));
  EXPECT_EQ(out.decision->dropped, std::vector<std::string>{"b: outside preferred region 'EU-WEST'"});
}

// ----------------------------------------------------------------- stickiness ----

TEST(Router, StickySessionWinsWhileItsUpstreamIsACandidate) {
  Rig rig({{"a"}, {"b"}, {"c"}});
  auto m = logical({up("a", 100), up("b", 0.01), up("c", 100)});  // b would almost never be drawn
  RouteRequest r;
  r.session = session_on("b");
  std::mt19937_64 rng(11);
  for (int i = 0; i < 300; ++i) {
    auto out = rig.router.decide(rig.plugins, m, r, rng);
    ASSERT_TRUE(out.decision);
    EXPECT_TRUE(out.decision->sticky);
    ASSERT_EQ(out.decision->order.front().upstream->provider_id, "b");
    EXPECT_EQ(out.decision->order.size(), 3u);  // the others remain the failover order
  }
  auto out = rig.decide(m, r);
  EXPECT_CONTAINS(out.decision->reasoning, "conversation 'conv-1' is bound to b/m-b");

  // DEGRADED (10 % < errors <= 50 %) does not break stickiness.
  rig.traffic("gpt-x", "b", 10, 4, 100);
  out = rig.decide(m, r);
  ASSERT_TRUE(out.decision);
  EXPECT_EQ(out.decision->order.front().metrics.status, Health::Degraded);
  EXPECT_TRUE(out.decision->sticky);
  EXPECT_EQ(out.decision->order.front().upstream->provider_id, "b");
}

TEST(Router, StickySessionIsReChosenWhenExcluded) {
  Rig rig({{"a"}, {"b"}, {"c"}});
  auto m = logical({up("a"), up("b"), up("c")});
  RouteRequest r;
  r.session = session_on("b");
  r.exclude_providers = {"b"};
  for (uint64_t seed = 1; seed <= 50; ++seed) {
    auto out = rig.decide(m, r, seed);
    ASSERT_TRUE(out.decision);
    EXPECT_FALSE(out.decision->sticky);
    EXPECT_NE(out.decision->order.front().upstream->provider_id, "b");
    EXPECT_CONTAINS(out.decision->reasoning,
                    "conversation 'conv-1' was bound to b/m-b, which is no longer available: re-chosen");
  }
}

TEST(Router, StickySessionIsReChosenWhenItsUpstreamIsDown) {
  Rig rig({{"a"}, {"b"}, {"c"}});
  auto m = logical({up("a"), up("b"), up("c")});
  rig.traffic("gpt-x", "b", 10, 6, 100);  // 60 % errors: DOWN
  RouteRequest r;
  r.session = session_on("b");
  for (uint64_t seed = 1; seed <= 50; ++seed) {
    auto out = rig.decide(m, r, seed);
    ASSERT_TRUE(out.decision);
    EXPECT_EQ(find(out.decision->all, "b")->metrics.status, Health::Down);
    EXPECT_FALSE(out.decision->sticky);
    EXPECT_NE(out.decision->order.front().upstream->provider_id, "b");
    EXPECT_CONTAINS(out.decision->reasoning, "no longer available: re-chosen");
  }
}

TEST(Router, AnEjectedUpstreamGetsOneHalfOpenProbeFromARequestThatWillSendIt) {
  Rig rig({{"a"}, {"b"}});
  auto m = logical({up("a"), up("b")});
  auto ejected_long_ago = Clock::now() - 5s;  // its ejection time (1 s) is over
  for (int i = 0; i < 5; ++i) rig.metrics.record_at("gpt-x", "a", {5, false}, ejected_long_ago);
  RouteRequest dry_run;  // /routing/decide: never claims the probe
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    auto out = rig.decide(m, dry_run, seed);
    ASSERT_TRUE(out.decision);
    EXPECT_EQ(out.decision->order.front().upstream->provider_id, "b");
    EXPECT_EQ(out.decision->order.size(), 1u) << "a down upstream is no failover target";
  }
  RouteRequest sending;
  sending.probe = true;
  auto probe = rig.decide(m, sending, 1);
  ASSERT_TRUE(probe.decision);
  EXPECT_EQ(ids(probe.decision->order), (std::vector<std::string>{"a", "b"}));
  EXPECT_CONTAINS(probe.decision->reasoning, "this request probes it");
  for (uint64_t seed = 2; seed <= 20; ++seed)  // one probe at a time
    EXPECT_EQ(rig.decide(m, sending, seed).decision->order.front().upstream->provider_id, "b");
  rig.metrics.record("gpt-x", "a", {5, true});  // the probe succeeded: readmitted
  EXPECT_EQ(rig.metrics.view("gpt-x", "a").status, Health::Healthy);
}

TEST(Router, StickySessionForAnotherModelOrUpstreamModelIsIgnored) {
  Rig rig({{"a"}, {"b"}});
  auto m = logical({up("a", 1000), up("b", 0.001)});
  RouteRequest r;
  r.session = session_on("b", "another-logical-model");
  auto out = rig.decide(m, r);
  ASSERT_TRUE(out.decision);
  EXPECT_FALSE(out.decision->sticky);
  EXPECT_FALSE(contains(out.decision->reasoning, "conversation"));

  // Same provider, but the binding names a different model there.
  r.session = session_on("b");
  r.session->model_id = "m-other";
  out = rig.decide(m, r);
  EXPECT_FALSE(out.decision->sticky);
  EXPECT_CONTAINS(out.decision->reasoning, "was bound to b/m-other");
}

// ------------------------------------------------------------- failover order ----

TEST(Router, FailoverOrderIsTheRestBestFirstWithoutZeroScores) {
  Rig rig({{"a"}, {"b"}, {"c"}, {"d"}, {"e"}});
  rig.traffic("gpt-x", "c", 10, 8, 100);  // DOWN: balanced scores it 0
  auto m = logical({up("a", 1), up("b", 4), up("c", 10), up("d", 2), up("e", 3)});
  std::set<std::string> chosen;
  for (uint64_t seed = 1; seed <= 200; ++seed) {
    auto out = rig.decide(m, {}, seed);
    ASSERT_TRUE(out.decision);
    const auto& d = *out.decision;
    // `all`: every candidate, in upstream order, zero scores included.
    ASSERT_EQ(ids(d.all), (std::vector<std::string>{"a", "b", "c", "d", "e"}));
    EXPECT_EQ(find(d.all, "c")->score, 0.0);
    // `order`: the choice, then every other positive-score candidate, best first.
    ASSERT_EQ(d.order.size(), 4u);
    EXPECT_GT(d.order.front().score, 0.0);
    chosen.insert(d.order.front().upstream->provider_id);
    std::set<std::string> seen;
    for (size_t i = 0; i < d.order.size(); ++i) {
      EXPECT_NE(d.order[i].upstream->provider_id, "c");
      EXPECT_TRUE(seen.insert(d.order[i].upstream->provider_id).second) << "duplicate in order";
      if (i >= 2) {
        EXPECT_GE(d.order[i - 1].score, d.order[i].score) << "not best first at " << i;
      }
    }
    if (d.order.size() > 1) {
      EXPECT_CONTAINS(d.reasoning, "failover order: ");
    }
  }
  EXPECT_EQ(chosen, (std::set<std::string>{"a", "b", "d", "e"}));

  // With the choice known, the failover order is exact: e.g. drew d → b, e, a.
  for (uint64_t seed = 1; seed <= 200; ++seed) {
    auto out = rig.decide(m, {}, seed);
    if (out.decision->order.front().upstream->provider_id != "d") continue;
    EXPECT_EQ(ids(out.decision->order), (std::vector<std::string>{"d", "b", "e", "a"}));
    break;
  }
}

TEST(Router, SingleCandidateHasNoFailover) {
  Rig rig({{"a"}});
  auto out = rig.decide(logical({up("a")}));
  ASSERT_TRUE(out.decision);
  EXPECT_EQ(out.decision->order.size(), 1u);
  EXPECT_FALSE(contains(out.decision->reasoning, "failover order"));
  EXPECT_CONTAINS(out.decision->reasoning, "drew a/m-a with probability 100%");
  EXPECT_CONTAINS(out.decision->reasoning, "chosen: a/m-a (score ");
  EXPECT_CONTAINS(out.decision->reasoning, "no traffic yet");
}

TEST(Router, ReasoningDescribesMetricsWhenThereIsTraffic) {
  Rig rig({{"a"}});
  rig.traffic("gpt-x", "a", 20, 1, 300);
  auto out = rig.decide(logical({up("a")}));
  ASSERT_TRUE(out.decision);
  EXPECT_CONTAINS(out.decision->reasoning, "healthy, ewma 300 ms");
  EXPECT_CONTAINS(out.decision->reasoning, "errors 5.0% of 20");
}

// ------------------------------------------------------- weights and limits ----

TEST(Router, BaseWeightIsUpstreamTimesProviderWeight) {
  Rig rig({{"a", "2.5"}, {"b"}, {"c", "0.5"}});
  rig.weights.set("gpt-x", "b", 2.0);
  auto out = rig.decide(logical({up("a", 3), up("b", 1.5), up("c")}));
  ASSERT_TRUE(out.decision);
  const auto& all = out.decision->all;
  EXPECT_DOUBLE_EQ(find(all, "a")->base_weight, 7.5);
  EXPECT_DOUBLE_EQ(find(all, "b")->base_weight, 1.5);
  EXPECT_DOUBLE_EQ(find(all, "c")->base_weight, 0.5);
  EXPECT_DOUBLE_EQ(find(all, "a")->dynamic_weight, 1.0);
  EXPECT_DOUBLE_EQ(find(all, "b")->dynamic_weight, 2.0);
  // balanced with no traffic and no prices: scores in the ratio of base × dynamic (7.5 :
  // 3 : 0.5), the best scoring 1.
  EXPECT_NEAR(find(all, "a")->score, 1, 1e-9);
  EXPECT_NEAR(find(all, "b")->score, 3.0 / 7.5, 1e-9);
  EXPECT_NEAR(find(all, "c")->score, 0.5 / 7.5, 1e-9);
}

TEST(Router, MaxQpsIsTheTighterOfProviderAndUpstream) {
  Rig rig({{"a", "", "", "50"}, {"b", "", "", "10"}, {"c"}, {"d", "", "", "5"}, {"e"}});
  auto m = logical({up("a", 1, std::nullopt, 20.0), up("b", 1, std::nullopt, 30.0),
                    up("c", 1, std::nullopt, 7.0), up("d"), up("e")});
  auto out = rig.decide(m);
  ASSERT_TRUE(out.decision);
  const auto& all = out.decision->all;
  EXPECT_EQ(find(all, "a")->max_qps, 20.0);
  EXPECT_EQ(find(all, "b")->max_qps, 10.0);
  EXPECT_EQ(find(all, "c")->max_qps, 7.0);
  EXPECT_EQ(find(all, "d")->max_qps, 5.0);
  EXPECT_EQ(find(all, "e")->max_qps, 0.0);  // none
}

TEST(Router, DefaultCapacityCheckDropsUpstreamsAtTheirRecentRate) {
  Rig rig({{"a", "", "", "1"}, {"b"}});
  // 10 requests in the last 5 s: 2/s, above a's limit of 1/s.
  rig.traffic("gpt-x", "a", 10, 0, 50);
  rig.traffic("gpt-x", "b", 10, 0, 50);
  auto out = rig.decide(logical({up("a"), up("b")}));
  ASSERT_TRUE(out.decision) << out.error;
  EXPECT_EQ(ids(out.decision->all), std::vector<std::string>{"b"});
  EXPECT_EQ(out.decision->dropped, std::vector<std::string>{"a: at its QPS limit (1/s)"});
}

TEST(Router, CapacityCheckSeesTheCandidate) {
  std::vector<std::string> asked;
  Rig rig({{"a", "", "", "9"}, {"b"}}, bundled_registry(), "balanced", [&](const Candidate& c, const RouteRequest&) {
    asked.push_back(c.upstream->provider_id);
    return c.max_qps == 9 ? std::string("at its limit") : std::string();
  });
  auto out = rig.decide(logical({up("a"), up("b")}));
  ASSERT_TRUE(out.decision);
  EXPECT_EQ(asked, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(ids(out.decision->all), std::vector<std::string>{"b"});
}

// ------------------------------------------------------ the weighted choice ----

// Draws `n` decisions and compares how often each candidate was chosen with its share of
// the scores the Router reported for that very draw (so the check holds even if the
// metrics moved under it). Per-candidate tolerance ±2 percentage points, plus a
// chi-square goodness-of-fit bound. Deterministic: seeded.
void expect_draws_follow_scores(Rig& rig, const LogicalModel& m, const std::string& strategy,
                                int n, uint64_t seed) {
  RouteRequest r;
  r.strategy = strategy;
  std::mt19937_64 rng(seed);
  std::map<std::string, double> observed, expected;
  for (const auto& u : m.upstreams) observed[u.provider_id] = expected[u.provider_id] = 0;
  for (int i = 0; i < n; ++i) {
    auto out = rig.router.decide(rig.plugins, m, r, rng);
    ASSERT_TRUE(out.decision) << out.error;
    double total = 0;
    for (const auto& c : out.decision->all) total += c.score;
    ASSERT_GT(total, 0);
    for (const auto& c : out.decision->all) expected[c.upstream->provider_id] += c.score / total;
    observed[out.decision->order.front().upstream->provider_id] += 1;
  }
  // Chi-square over the cells expected to hold at least 5 draws; the rarer ones are
  // pooled into one cell (and left out if even the pool is that rare).
  double chi2 = 0, pooled_o = 0, pooled_e = 0;
  int cells = 0;
  std::string table;
  for (const auto& [id, e] : expected) {
    double o = observed[id];
    table += id + ": observed " + std::to_string(o / n) + " expected " + std::to_string(e / n) + "\n";
    EXPECT_NEAR(o / n, e / n, 0.02) << strategy << " " << id;
    if (e == 0) {
      EXPECT_EQ(o, 0) << strategy << ": " << id << " has score 0 but was drawn";
    } else if (e < 5) {
      pooled_o += o;
      pooled_e += e;
    } else {
      chi2 += (o - e) * (o - e) / e;
      ++cells;
    }
  }
  if (pooled_e >= 5) {
    chi2 += (pooled_o - pooled_e) * (pooled_o - pooled_e) / pooled_e;
    ++cells;
  }
  // 99.9th percentiles of chi-square for 1..5 degrees of freedom.
  const double critical[] = {0, 10.83, 13.82, 16.27, 18.47, 20.52};
  const int dof = cells - 1;
  ASSERT_GE(dof, 1) << table;
  ASSERT_LE(dof, 5) << table;
  EXPECT_LT(chi2, critical[dof]) << strategy << " (" << dof << " dof)\n" << table;
  ::testing::Test::RecordProperty("chi2_" + strategy, std::to_string(chi2) + " (" + std::to_string(dof) + " dof)");
}

TEST(RouterStatistics, WeightedChoiceMatchesScores) {
  Rig rig({{"a"}, {"b"}, {"c"}, {"d"}, {"e"}});
  // Some differences for every strategy to react to: latency, errors, in-flight.
  rig.traffic("gpt-x", "a", 50, 0, 200);
  rig.traffic("gpt-x", "b", 50, 3, 400);
  rig.traffic("gpt-x", "c", 50, 1, 900);
  rig.traffic("gpt-x", "d", 50, 40, 100);  // DOWN: must never be drawn
  rig.metrics.begin("gpt-x", "e");
  auto m = logical({up("a", 5), up("b", 3), up("c", 1.5), up("d", 5), up("e", 0.5)});
  for (const char* s : kStrategies) {
    SCOPED_TRACE(s);
    expect_draws_follow_scores(rig, m, s, 20000, 0xC0FFEE);
  }
}

TEST(RouterStatistics, BalancedWithoutTrafficSplitsByWeight) {
  Rig rig({{"a"}, {"b"}, {"c"}});
  auto m = logical({up("a", 3), up("b", 2), up("c", 1)});
  std::mt19937_64 rng(42);
  std::map<std::string, int> n;
  const int draws = 20000;
  for (int i = 0; i < draws; ++i) ++n[rig.router.decide(rig.plugins, m, {}, rng).decision->order.front().upstream->provider_id];
  EXPECT_NEAR(n["a"] / double(draws), 3 / 6.0, 0.02);
  EXPECT_NEAR(n["b"] / double(draws), 2 / 6.0, 0.02);
  EXPECT_NEAR(n["c"] / double(draws), 1 / 6.0, 0.02);
}

TEST(RouterStatistics, SameSeedSameDecision) {
  Rig rig({{"a"}, {"b"}, {"c"}});
  auto m = logical({up("a"), up("b"), up("c")});
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    auto x = rig.decide(m, {}, seed), y = rig.decide(m, {}, seed);
    EXPECT_EQ(ids(x.decision->order), ids(y.decision->order));
    EXPECT_EQ(x.decision->reasoning, y.decision->reasoning);
  }
}

// ---------------------------------------------------------- LatencyHistogram ----

TEST(LatencyHistogram, BucketsAreGeometric) {
  EXPECT_DOUBLE_EQ(LatencyHistogram::upper_bound(0), 0.5);
  for (int b = 1; b < LatencyHistogram::kBuckets; ++b)
    EXPECT_NEAR(LatencyHistogram::upper_bound(b) / LatencyHistogram::upper_bound(b - 1), 1.2, 1e-12);
  EXPECT_GT(LatencyHistogram::upper_bound(LatencyHistogram::kBuckets - 1), 45000.0);
}

TEST(LatencyHistogram, QuantileIsTheUpperBoundOfItsBucket) {
  LatencyHistogram h;
  EXPECT_EQ(h.quantile(0.95), 0.0);
  for (int ms = 1; ms <= 1000; ++ms) h.add(ms);
  EXPECT_EQ(h.total(), 1000u);
  for (double q : {0.5, 0.9, 0.95, 0.99, 1.0}) {
    double exact = q * 1000;
    EXPECT_GE(h.quantile(q), exact) << q;
    EXPECT_LE(h.quantile(q), exact * 1.2 + 1e-9) << q;
  }
  // Odd inputs land in the first bucket; huge ones in the last.
  LatencyHistogram odd;
  odd.add(kNaN);
  odd.add(-5);
  odd.add(0);
  EXPECT_EQ(odd.quantile(1.0), 0.5);
  odd.add(1e12);
  EXPECT_EQ(odd.quantile(1.0), LatencyHistogram::upper_bound(LatencyHistogram::kBuckets - 1));
}

TEST(LatencyHistogram, MergeAddsCounts) {
  LatencyHistogram a, b;
  for (int i = 0; i < 90; ++i) a.add(10);
  for (int i = 0; i < 10; ++i) b.add(1000);
  a.merge(b);
  EXPECT_EQ(a.total(), 100u);
  EXPECT_LT(a.quantile(0.9), 13.0);
  EXPECT_GE(a.quantile(0.95), 1000.0);
  a.clear();
  EXPECT_EQ(a.total(), 0u);
  EXPECT_EQ(a.quantile(0.5), 0.0);
}

// ------------------------------------------------------------- RuntimeMetrics ----

TEST(RuntimeMetrics, EmptyPairIsUnknown) {
  RuntimeMetrics rm;
  auto v = rm.view("gpt-x", "a");
  EXPECT_EQ(v.status, Health::Unknown);
  EXPECT_EQ(v.total_requests, 0u);
  EXPECT_EQ(v.error_rate, 0.0);
  EXPECT_EQ(v.latency_p95_ms, 0.0);
  EXPECT_EQ(v.latency_ewma_ms, 0.0);
  EXPECT_EQ(v.in_flight, 0u);
}

TEST(RuntimeMetrics, RequestsOlderThanTheWindowDropOut) {
  RuntimeMetrics rm;
  for (int i = 0; i < 10; ++i) rm.record_at("m", "p", {100, true}, T0);
  for (int i = 0; i < 4; ++i) rm.record_at("m", "p", {100, false}, T0 + 30s);  // 5 would eject
  EXPECT_EQ(rm.view_at("m", "p", T0).total_requests, 10u);
  EXPECT_EQ(rm.view_at("m", "p", T0 + 30s).total_requests, 14u);
  EXPECT_EQ(rm.view_at("m", "p", T0 + 59s).total_requests, 14u);
  EXPECT_EQ(rm.view_at("m", "p", T0 + 59s + 999ms).total_requests, 14u);
  auto v = rm.view_at("m", "p", T0 + 60s);  // the T0 second has left the window
  EXPECT_EQ(v.total_requests, 4u);
  EXPECT_DOUBLE_EQ(v.error_rate, 1.0);
  EXPECT_EQ(rm.view_at("m", "p", T0 + 89s).total_requests, 4u);
  v = rm.view_at("m", "p", T0 + 90s);
  EXPECT_EQ(v.total_requests, 0u);
  EXPECT_EQ(v.latency_p95_ms, 0.0);
  // Seconds after `now` do not count either.
  EXPECT_EQ(rm.view_at("m", "p", T0 - 1s).total_requests, 0u);
}

TEST(RuntimeMetrics, RingSlotIsReusedAfterAMinute) {
  RuntimeMetrics rm;
  for (int i = 0; i < 7; ++i) rm.record_at("m", "p", {10, false}, T0);
  rm.record_at("m", "p", {10, true}, T0 + 60s);  // same slot, a minute later
  auto v = rm.view_at("m", "p", T0 + 60s);
  EXPECT_EQ(v.total_requests, 1u);
  EXPECT_EQ(v.error_rate, 0.0);
}

TEST(RuntimeMetrics, PercentilesWithinBucketResolution) {
  RuntimeMetrics rm;
  // 1..200 ms spread over 40 seconds of the window.
  for (int i = 1; i <= 200; ++i) rm.record_at("m", "p", {static_cast<double>(i), true}, T0 + std::chrono::seconds(i % 40));
  auto v = rm.view_at("m", "p", T0 + 40s);
  EXPECT_EQ(v.total_requests, 200u);
  EXPECT_GE(v.latency_p95_ms, 190.0);
  EXPECT_LE(v.latency_p95_ms, 190.0 * 1.2);
  EXPECT_GE(v.latency_p99_ms, 198.0);
  EXPECT_LE(v.latency_p99_ms, 198.0 * 1.2);
  EXPECT_GE(v.latency_p99_ms, v.latency_p95_ms);
}

TEST(RuntimeMetrics, ErrorRateAndSuccessQps) {
  RuntimeMetrics rm;
  for (int i = 0; i < 60; ++i) rm.record_at("m", "p", {50, i % 10 != 0}, T0 + std::chrono::seconds(i % 20));
  auto v = rm.view_at("m", "p", T0 + 20s);
  EXPECT_EQ(v.total_requests, 60u);
  EXPECT_DOUBLE_EQ(v.error_rate, 0.1);
  EXPECT_DOUBLE_EQ(v.success_qps, 54.0 / 60.0);
}

TEST(RuntimeMetrics, CurrentQpsLooksAtTheLastFiveSeconds) {
  RuntimeMetrics rm;
  for (int i = 0; i < 30; ++i) rm.record_at("m", "p", {50, true}, T0);
  for (int i = 0; i < 10; ++i) rm.record_at("m", "p", {50, true}, T0 + 20s);
  EXPECT_DOUBLE_EQ(rm.view_at("m", "p", T0 + 20s).current_qps, 2.0);
  EXPECT_DOUBLE_EQ(rm.view_at("m", "p", T0 + 24s).current_qps, 2.0);
  EXPECT_DOUBLE_EQ(rm.view_at("m", "p", T0 + 25s).current_qps, 0.0);
}

// `n` outcomes at T0 with `errors` failures spread out (never 5 in a row, which would
// eject), at `latency_ms`.
Health status_of(int n, int errors, double latency_ms) {
  RuntimeMetrics rm;
  for (int i = 0; i < n; ++i) rm.record_at("m", "p", {latency_ms, (i * errors) % n >= errors}, T0);
  return rm.view_at("m", "p", T0).status;
}

TEST(RuntimeMetrics, StatusFollowsTheRecentErrorsAndLatency) {
  EXPECT_EQ(status_of(10, 0, 100), Health::Healthy);
  EXPECT_EQ(status_of(10, 1, 100), Health::Healthy);   // 10 %: not above 0.1
  EXPECT_EQ(status_of(10, 2, 100), Health::Degraded);  // 20 %
  EXPECT_EQ(status_of(10, 5, 100), Health::Degraded);  // 50 %: not above 0.5, so not ejected
  EXPECT_EQ(status_of(10, 0, 1500), Health::Healthy);
  EXPECT_EQ(status_of(10, 0, 2500), Health::Degraded);  // slower than 2000 ms
  // Too few attempts to judge an error rate; latency needs no minimum.
  EXPECT_EQ(status_of(2, 2, 100), Health::Healthy);
  EXPECT_EQ(status_of(3, 1, 100), Health::Degraded);  // 33 % of 3
  EXPECT_EQ(status_of(1, 0, 5000), Health::Degraded);
}

TEST(RuntimeMetrics, ClassifyAppliesTheThresholdsToTheSharedWindow) {
  // What the metrics publisher writes as llm:metrics:...:status for all instances.
  RuntimeMetrics rm;
  EXPECT_EQ(rm.classify(0, 0, 0), Health::Unknown);
  EXPECT_EQ(rm.classify(0.51, 0, 3), Health::Down);
  EXPECT_EQ(rm.classify(0.5, 0, 3), Health::Degraded);
  EXPECT_EQ(rm.classify(0.11, 0, 3), Health::Degraded);
  EXPECT_EQ(rm.classify(0.1, 0, 3), Health::Healthy);
  EXPECT_EQ(rm.classify(0.1, 2000, 3), Health::Healthy);
  EXPECT_EQ(rm.classify(0.1, 2000.5, 3), Health::Degraded);
  EXPECT_EQ(rm.classify(1.0, 0, 2), Health::Healthy);

  MetricsThresholds strict;
  strict.min_samples = 10;
  strict.degraded_p95_ms = 500;
  RuntimeMetrics custom(strict);
  EXPECT_EQ(custom.classify(1.0, 0, 9), Health::Healthy);
  EXPECT_EQ(custom.classify(1.0, 0, 10), Health::Down);
  EXPECT_EQ(custom.classify(0, 600, 1), Health::Degraded);
}

TEST(RuntimeMetrics, RecentFiguresDecayByTime) {
  MetricsThresholds t;
  t.recent_latency_tau_s = 1;  // 0.5 s by default
  t.recent_error_tau_s = 2;
  RuntimeMetrics rm(t);
  for (int i = 0; i < 10; ++i) rm.record_at("m", "p", {100, true}, T0);
  auto v = rm.view_at("m", "p", T0);
  EXPECT_DOUBLE_EQ(v.recent_latency_ms, 100);
  EXPECT_DOUBLE_EQ(v.recent_samples, 10);
  EXPECT_DOUBLE_EQ(v.recent_error_rate, 0);
  // A quiet second changes the count, not the mean: a brownout is not forgotten by waiting.
  v = rm.view_at("m", "p", T0 + 2s);
  EXPECT_DOUBLE_EQ(v.recent_latency_ms, 100);
  EXPECT_NEAR(v.recent_samples, 10 * std::exp(-1.0), 1e-9);
  // A new sample a second later weighs as much as e^-1 of the old ones each.
  rm.record_at("m", "p", {300, true}, T0 + 1s);
  v = rm.view_at("m", "p", T0 + 1s);
  EXPECT_NEAR(v.recent_latency_ms, (10 * std::exp(-1.0) * 100 + 300) / (10 * std::exp(-1.0) + 1), 1e-9);
  // Errors decay with 2 s.
  rm.record_at("m", "p", {100, false}, T0 + 3s);
  v = rm.view_at("m", "p", T0 + 3s);
  double count = (10 * std::exp(-0.5) + 1) * std::exp(-1.0) + 1;
  EXPECT_NEAR(v.recent_samples, count, 1e-9);
  EXPECT_NEAR(v.recent_error_rate, 1 / count, 1e-9);
  // This instance's own: another instance's share changes the window, not these.
  rm.set_remote("m", "p", RemoteShare{.requests = 1000, .errors = 1000});
  EXPECT_NEAR(rm.view_at("m", "p", T0 + 3s).recent_error_rate, 1 / count, 1e-9);
}

TEST(RuntimeMetrics, RecentLatencyAlsoForgetsByCountSoABrownoutShowsInAFewSamples) {
  MetricsThresholds t;
  t.recent_latency_max_samples = 20;
  RuntimeMetrics rm(t);
  // A busy upstream: a thousand 5 ms answers within the time constant...
  for (int i = 0; i < 1000; ++i) rm.record_at("m", "p", {5, true}, T0);
  EXPECT_DOUBLE_EQ(rm.view_at("m", "p", T0).recent_latency_ms, 5);
  // ...then eight 50 ms ones. By time alone the mean would be ~5.4 ms; the count bound
  // makes it the mean of about the last 20: 5 + 45 × (1 − (20/21)^8).
  for (int i = 0; i < 8; ++i) rm.record_at("m", "p", {50, true}, T0);
  EXPECT_NEAR(rm.view_at("m", "p", T0).recent_latency_ms, 5 + 45 * (1 - std::pow(20.0 / 21, 8)), 1e-9);
  // The error count is not bounded by it.
  EXPECT_DOUBLE_EQ(rm.view_at("m", "p", T0).recent_samples, 1008);
}

TEST(RuntimeMetrics, AFastFailureDoesNotMakeAnUpstreamLookFastASlowOneMakesItSlow) {
  RuntimeMetrics rm;
  for (int i = 0; i < 4; ++i) rm.record_at("m", "p", {100, true}, T0);
  rm.record_at("m", "p", {1, false}, T0);  // a 503 in 1 ms
  EXPECT_DOUBLE_EQ(rm.view_at("m", "p", T0).recent_latency_ms, 100);
  rm.record_at("m", "p", {600, false}, T0);  // a timeout
  EXPECT_DOUBLE_EQ(rm.view_at("m", "p", T0).recent_latency_ms, 200);
}

// Ejects p of model m at `at` with five failures in a row.
void eject(RuntimeMetrics& rm, Clock::time_point at) {
  for (int i = 0; i < 5; ++i) rm.record_at("m", "p", {5, false}, at);
}

TEST(RuntimeMetrics, FiveFailuresInARowEject) {
  RuntimeMetrics rm;
  for (int i = 0; i < 4; ++i) rm.record_at("m", "p", {5, false}, T0);
  EXPECT_NE(rm.view_at("m", "p", T0).status, Health::Down);
  rm.record_at("m", "p", {5, true}, T0);  // a success resets the run
  for (int i = 0; i < 4; ++i) rm.record_at("m", "p", {5, false}, T0);
  EXPECT_NE(rm.view_at("m", "p", T0).status, Health::Down);
  rm.record_at("m", "p", {5, false}, T0);
  auto v = rm.view_at("m", "p", T0);
  EXPECT_EQ(v.status, Health::Down);
  EXPECT_TRUE(v.ejected);
  EXPECT_FALSE(v.probe_due);
}

TEST(RuntimeMetrics, AMostlyFailingUpstreamIsEjectedWithoutFiveInARow) {
  RuntimeMetrics rm;
  // S F F F F, repeated: 80 % errors, never five in a row.
  for (int i = 0; i < 15; ++i) rm.record_at("m", "p", {5, i % 5 == 0}, T0);
  EXPECT_EQ(rm.view_at("m", "p", T0).status, Health::Down);
}

TEST(RuntimeMetrics, AnEjectedUpstreamIsProbedOnceAndReadmittedFresh) {
  RuntimeMetrics rm;
  for (int i = 0; i < 100; ++i) rm.record_at("m", "p", {5, true}, T0 - 10s);
  eject(rm, T0);
  // An answer to a request sent before the ejection does not readmit it.
  rm.record_at("m", "p", {5, true}, T0 + 500ms);
  EXPECT_EQ(rm.view_at("m", "p", T0 + 500ms).status, Health::Down);
  EXPECT_FALSE(rm.claim_probe("m", "p", T0 + 999ms));
  EXPECT_TRUE(rm.view_at("m", "p", T0 + 1s).probe_due);
  EXPECT_TRUE(rm.claim_probe("m", "p", T0 + 1s));
  EXPECT_FALSE(rm.claim_probe("m", "p", T0 + 1s)) << "one probe at a time";
  EXPECT_FALSE(rm.view_at("m", "p", T0 + 1s).probe_due);
  rm.record_at("m", "p", {5, true}, T0 + 1100ms);
  auto v = rm.view_at("m", "p", T0 + 1100ms);
  EXPECT_EQ(v.status, Health::Healthy);
  EXPECT_FALSE(v.ejected);
  EXPECT_DOUBLE_EQ(v.recent_error_rate, 0) << "the outage's failures are forgotten";
  EXPECT_DOUBLE_EQ(v.recent_samples, 1);
  EXPECT_GT(v.error_rate, 0) << "the window still has them";
  EXPECT_FALSE(rm.claim_probe("m", "p", T0 + 2s));
}

TEST(RuntimeMetrics, AFailedProbeWaitsAnotherEjectionTimeAndAnAbandonedOneFreesTheSlot) {
  RuntimeMetrics rm;
  eject(rm, T0);
  ASSERT_TRUE(rm.claim_probe("m", "p", T0 + 1s));
  rm.record_at("m", "p", {5, false}, T0 + 1200ms);
  EXPECT_FALSE(rm.claim_probe("m", "p", T0 + 2100ms));
  ASSERT_TRUE(rm.claim_probe("m", "p", T0 + 2200ms));
  rm.abandon("m", "p");  // the probing client went away
  EXPECT_TRUE(rm.claim_probe("m", "p", Clock::now()));
  // A probe that never reports frees the slot after probe_grace.
  RuntimeMetrics other;
  for (int i = 0; i < 5; ++i) other.record_at("m", "p", {5, false}, T0);
  ASSERT_TRUE(other.claim_probe("m", "p", T0 + 1s));
  EXPECT_FALSE(other.claim_probe("m", "p", T0 + 10s));
  EXPECT_TRUE(other.claim_probe("m", "p", T0 + 11s));
}

TEST(RuntimeMetrics, ReEjectionSoonAfterReadmissionDoublesTheEjectionTimeUpTo8s) {
  RuntimeMetrics rm;
  auto at = T0;
  for (auto expected : {1s, 2s, 4s, 8s, 8s}) {
    eject(rm, at);
    EXPECT_FALSE(rm.claim_probe("m", "p", at + expected - 1ms)) << expected.count();
    ASSERT_TRUE(rm.claim_probe("m", "p", at + expected)) << expected.count();
    at += expected;
    rm.record_at("m", "p", {5, true}, at);  // readmitted, and soon failing again
    at += 1s;
  }
  // Healthy for longer than eject_memory: the next ejection is short again.
  at += 31s;
  eject(rm, at);
  EXPECT_TRUE(rm.claim_probe("m", "p", at + 1s));
}

TEST(RuntimeMetrics, Ewma) {
  RuntimeMetrics rm;  // alpha 0.2
  rm.record_at("m", "p", {100, true}, T0);
  EXPECT_DOUBLE_EQ(rm.view_at("m", "p", T0).latency_ewma_ms, 100.0);  // the first sample sets it
  rm.record_at("m", "p", {200, true}, T0);
  EXPECT_DOUBLE_EQ(rm.view_at("m", "p", T0).latency_ewma_ms, 120.0);
  rm.record_at("m", "p", {200, false}, T0 + 1s);  // failures count too
  EXPECT_DOUBLE_EQ(rm.view_at("m", "p", T0 + 1s).latency_ewma_ms, 136.0);
  rm.record_at("m", "p", {kNaN, true}, T0 + 1s);  // unusable latency reads as 0
  EXPECT_DOUBLE_EQ(rm.view_at("m", "p", T0 + 1s).latency_ewma_ms, 0.8 * 136.0);
  // The EWMA is not windowed: it outlives the window.
  EXPECT_DOUBLE_EQ(rm.view_at("m", "p", T0 + 300s).latency_ewma_ms, 0.8 * 136.0);

  MetricsThresholds t;
  t.ewma_alpha = 0.5;
  RuntimeMetrics half(t);
  half.record_at("m", "p", {100, true}, T0);
  half.record_at("m", "p", {300, true}, T0);
  EXPECT_DOUBLE_EQ(half.view_at("m", "p", T0).latency_ewma_ms, 200.0);
}

TEST(RuntimeMetrics, InFlightViaBeginAndEnd) {
  RuntimeMetrics rm;
  rm.begin("m", "p");
  rm.begin("m", "p");
  rm.begin("m", "q");
  auto v = rm.view("m", "p");
  EXPECT_EQ(v.in_flight, 2u);
  EXPECT_EQ(v.total_requests, 0u);  // begun, not finished
  rm.end("m", "p", {80, true});
  v = rm.view("m", "p");
  EXPECT_EQ(v.in_flight, 1u);
  EXPECT_EQ(v.total_requests, 1u);  // end records the outcome
  rm.end("m", "p", {80, false});
  rm.end("m", "p", {80, true});  // one more end than begins: no underflow
  v = rm.view("m", "p");
  EXPECT_EQ(v.in_flight, 0u);
  EXPECT_EQ(v.total_requests, 3u);
  EXPECT_EQ(rm.view("m", "q").in_flight, 1u);
  // record() does not touch in-flight.
  rm.record("m", "q", {10, true});
  EXPECT_EQ(rm.view("m", "q").in_flight, 1u);
}

TEST(RuntimeMetrics, PairsAreSeparate) {
  RuntimeMetrics rm;
  rm.record_at("m1", "p", {10, false}, T0);
  rm.record_at("m2", "p", {10, true}, T0);
  rm.record_at("m1", "q", {10, true}, T0);
  EXPECT_EQ(rm.view_at("m1", "p", T0).error_rate, 1.0);
  EXPECT_EQ(rm.view_at("m2", "p", T0).error_rate, 0.0);
  EXPECT_EQ(rm.view_at("m1", "q", T0).error_rate, 0.0);
  EXPECT_EQ(rm.view_at("m2", "q", T0).total_requests, 0u);
}

TEST(RuntimeMetrics, SetRemoteMergesAnotherInstancesShare) {
  RuntimeMetrics rm;
  auto now = Clock::now();
  for (int i = 0; i < 10; ++i) rm.record_at("m", "p", {100, true}, now);
  rm.begin("m", "p");
  auto local = rm.view_at("m", "p", now);
  EXPECT_EQ(local.status, Health::Healthy);

  RemoteShare r;
  r.requests = 30;
  r.errors = 20;
  r.latency_p95_ms = 1000;
  r.latency_p99_ms = 2000;
  r.latency_ewma_ms = 500;
  r.recent_qps = 3;
  r.in_flight = 4;
  rm.set_remote("m", "p", r);
  auto v = rm.view_at("m", "p", now);
  EXPECT_EQ(v.total_requests, 40u);
  EXPECT_DOUBLE_EQ(v.error_rate, 0.5);
  // The status follows this instance's own recent attempts (all fine) once it has some.
  EXPECT_EQ(v.status, Health::Healthy);
  EXPECT_DOUBLE_EQ(v.latency_p95_ms, (local.latency_p95_ms * 10 + 1000 * 30) / 40);
  EXPECT_DOUBLE_EQ(v.latency_p99_ms, (local.latency_p99_ms * 10 + 2000 * 30) / 40);
  EXPECT_DOUBLE_EQ(v.latency_ewma_ms, (100.0 * 10 + 500 * 30) / 40);
  EXPECT_DOUBLE_EQ(v.current_qps, local.current_qps + 3);
  EXPECT_EQ(v.in_flight, 5u);
  EXPECT_DOUBLE_EQ(v.success_qps, 20.0 / 60);

  // A later read replaces the share; it does not add to it.
  r.requests = 2;
  r.errors = 2;
  r.in_flight = 0;
  r.recent_qps = 0;
  rm.set_remote("m", "p", r);
  v = rm.view_at("m", "p", now);
  EXPECT_EQ(v.total_requests, 12u);
  EXPECT_EQ(v.in_flight, 1u);
  rm.set_remote("m", "p", {});
  v = rm.view_at("m", "p", now);
  EXPECT_EQ(v.total_requests, 10u);
  EXPECT_DOUBLE_EQ(v.latency_p95_ms, local.latency_p95_ms);

  // Only other instances' traffic: the view, status included, is theirs.
  RemoteShare only;
  only.requests = 10;
  only.errors = 9;
  only.latency_ewma_ms = 700;
  rm.set_remote("m", "quiet", only);
  v = rm.view("m", "quiet");
  EXPECT_EQ(v.status, Health::Down);
  EXPECT_DOUBLE_EQ(v.latency_ewma_ms, 700.0);
}

TEST(RuntimeMetrics, LocalSharesAreOwnTrafficOnly) {
  RuntimeMetrics rm;
  for (int i = 0; i < 4; ++i) rm.record("m", "p", {100, i != 0});
  rm.begin("m", "p");
  RemoteShare r;
  r.requests = 100;
  rm.set_remote("m", "p", r);
  auto shares = rm.local_shares();
  ASSERT_EQ(shares.size(), 1u);
  EXPECT_EQ(shares[0].logical, "m");
  EXPECT_EQ(shares[0].provider, "p");
  EXPECT_EQ(shares[0].share.requests, 4u);
  EXPECT_EQ(shares[0].share.errors, 1u);
  EXPECT_EQ(shares[0].share.in_flight, 1u);
  EXPECT_DOUBLE_EQ(shares[0].share.latency_ewma_ms, 100.0);
  EXPECT_GE(shares[0].share.latency_p95_ms, 100.0);
  EXPECT_LE(shares[0].share.latency_p95_ms, 120.0);
}

bool same_view(const MetricsView& a, const MetricsView& b) {
  return a.latency_ewma_ms == b.latency_ewma_ms && a.latency_p95_ms == b.latency_p95_ms &&
         a.latency_p99_ms == b.latency_p99_ms && a.error_rate == b.error_rate &&
         a.success_qps == b.success_qps && a.current_qps == b.current_qps &&
         a.total_requests == b.total_requests && a.in_flight == b.in_flight && a.status == b.status;
}

TEST(RuntimeMetrics, ACachedViewShowsEveryNewSampleAndSecondAtOnce) {
  // Views reuse the window's totals while nothing changed; a sample landing, or the clock
  // reaching another second, must show in the very next view.
  RuntimeMetrics rm;
  for (int i = 0; i < 20; ++i) rm.record_at("m", "p", {100, true}, T0);
  auto before = rm.view_at("m", "p", T0);
  EXPECT_TRUE(same_view(rm.view_at("m", "p", T0 + 500ms), before));  // cached, same second

  rm.record_at("m", "p", {5000, false}, T0 + 500ms);  // within the same second
  auto after = rm.view_at("m", "p", T0 + 500ms);
  EXPECT_EQ(after.total_requests, 21u);
  EXPECT_DOUBLE_EQ(after.error_rate, 1.0 / 21);
  EXPECT_GT(after.latency_p99_ms, before.latency_p99_ms);

  EXPECT_DOUBLE_EQ(rm.view_at("m", "p", T0 + 4s).current_qps, 21.0 / 5);
  EXPECT_EQ(rm.view_at("m", "p", T0 + 5s).current_qps, 0.0);     // the next second
  EXPECT_EQ(rm.view_at("m", "p", T0 + 60s).total_requests, 0u);  // expired
  EXPECT_EQ(rm.view_at("m", "p", T0 - 1s).total_requests, 0u);   // the past is not cached
}

TEST(RuntimeMetrics, CachedViewsEqualFreshOnes) {
  // The same history, viewed after many cached views and in a new instance, reads the same.
  auto fill = [](RuntimeMetrics& rm) {
    for (int i = 0; i < 300; ++i)
      rm.record_at("m", "p", {static_cast<double>(10 + i % 97), i % 13 != 0}, T0 + std::chrono::seconds(i % 50));
    rm.begin("m", "p");
  };
  RuntimeMetrics cached, fresh;
  fill(cached);
  for (int i = 0; i < 10; ++i) (void)cached.view_at("m", "p", T0 + 50s);
  fill(fresh);
  EXPECT_TRUE(same_view(cached.view_at("m", "p", T0 + 50s), fresh.view_at("m", "p", T0 + 50s)));
  cached.set_remote("m", "p", {.requests = 10, .errors = 5, .latency_p95_ms = 900, .in_flight = 2});
  auto v = cached.view_at("m", "p", T0 + 50s);  // another instance's share is never cached
  EXPECT_EQ(v.total_requests, 310u);
  EXPECT_EQ(v.in_flight, 3u);
}

TEST(RuntimeMetrics, ViewsOfAModelsUpstreamsAreTheirViews) {
  RuntimeMetrics rm;
  for (int i = 0; i < 5; ++i) rm.record_at("m", "a", {100, true}, T0);
  for (int i = 0; i < 7; ++i) rm.record_at("m", "c", {300, i > 2}, T0);
  rm.record_at("other", "b", {50, true}, T0);
  std::vector<PhysicalModel> ups(3);
  ups[0].provider_id = "a";
  ups[1].provider_id = "b";  // no traffic for this model
  ups[2].provider_id = "c";
  MetricsView views[3];
  rm.views_at("m", ups, T0, views);
  for (size_t i = 0; i < ups.size(); ++i) EXPECT_TRUE(same_view(views[i], rm.view_at("m", ups[i].provider_id, T0))) << i;
  EXPECT_EQ(views[1].total_requests, 0u);
  rm.views_at("unknown", ups, T0, views);
  for (const auto& v : views) EXPECT_EQ(v.status, Health::Unknown);
}

TEST(RuntimeMetrics, ConcurrentRecordAndView) {
  RuntimeMetrics rm;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&rm, t] {
      for (int i = 0; i < 5000; ++i) {
        rm.begin("m", t % 2 ? "p" : "q");
        rm.end("m", t % 2 ? "p" : "q", {static_cast<double>(i % 300), i % 7 != 0});
        if (i % 100 == 0) (void)rm.view("m", "p");
      }
    });
  for (auto& th : threads) th.join();
  auto p = rm.view("m", "p"), q = rm.view("m", "q");
  EXPECT_EQ(p.total_requests + q.total_requests, 20000u);
  EXPECT_EQ(p.in_flight + q.in_flight, 0u);
}

// -------------------------------------------------------------- DynamicWeights ----

TEST(DynamicWeights, NudgesMultiply) {
  DynamicWeights w;
  EXPECT_EQ(w.multiplier("m", "p"), 1.0);
  w.nudge("m", "p", Nudge::Success);
  EXPECT_DOUBLE_EQ(w.multiplier("m", "p"), 1.02);
  w.nudge("m", "p", Nudge::RetryableFailure);
  EXPECT_DOUBLE_EQ(w.multiplier("m", "p"), 1.02 * 0.85);
  w.nudge("m", "p", Nudge::FatalFailure);
  EXPECT_DOUBLE_EQ(w.multiplier("m", "p"), 1.02 * 0.85 * 0.7);
  EXPECT_EQ(w.multiplier("m", "other"), 1.0);
  EXPECT_EQ(w.multiplier("other", "p"), 1.0);
  EXPECT_LT(DynamicWeights::factor(Nudge::FatalFailure), DynamicWeights::factor(Nudge::RetryableFailure));
  EXPECT_GT(DynamicWeights::factor(Nudge::Success), 1.0);
}

TEST(DynamicWeights, ClampedToPoint2And3) {
  DynamicWeights w;
  for (int i = 0; i < 500; ++i) w.nudge("m", "up", Nudge::Success);
  EXPECT_DOUBLE_EQ(w.multiplier("m", "up"), 3.0);
  for (int i = 0; i < 500; ++i) w.nudge("m", "down", Nudge::FatalFailure);
  EXPECT_DOUBLE_EQ(w.multiplier("m", "down"), 0.2);
  // From the clamp, one step back moves at once (no hidden debt beyond the bound).
  w.nudge("m", "down", Nudge::Success);
  EXPECT_DOUBLE_EQ(w.multiplier("m", "down"), 0.2 * 1.02);

  w.set("m", "s", 10);
  EXPECT_DOUBLE_EQ(w.multiplier("m", "s"), 3.0);
  w.set("m", "s", 0.01);
  EXPECT_DOUBLE_EQ(w.multiplier("m", "s"), 0.2);
  w.set("m", "s", 1.7);
  EXPECT_DOUBLE_EQ(w.multiplier("m", "s"), 1.7);
  w.set("m", "s", kNaN);  // ignored
  w.set("m", "s", kInf);
  EXPECT_DOUBLE_EQ(w.multiplier("m", "s"), 1.7);
}

TEST(DynamicWeights, MultipliersOfAModelsUpstreamsAreTheirMultipliers) {
  DynamicWeights w;
  w.set("m", "a", 2.5);
  w.nudge("m", "c", Nudge::FatalFailure);
  w.set("other", "b", 0.5);
  std::vector<PhysicalModel> ups(3);
  ups[0].provider_id = "a";
  ups[1].provider_id = "b";
  ups[2].provider_id = "c";
  double out[3];
  w.multipliers("m", ups, out);
  EXPECT_EQ(out[0], 2.5);
  EXPECT_EQ(out[1], 1.0);
  EXPECT_EQ(out[2], 0.7);
  w.multipliers("unknown", ups, out);
  for (double m : out) EXPECT_EQ(m, 1.0);
}

TEST(DynamicWeights, TakePendingResets) {
  DynamicWeights w;
  EXPECT_TRUE(w.take_pending().empty());
  w.nudge("m", "p", Nudge::Success);
  w.nudge("m", "p", Nudge::Success);
  w.nudge("m", "q", Nudge::RetryableFailure);
  w.set("m", "r", 2.0);  // a value read back is not a pending nudge
  auto pending = w.take_pending();
  ASSERT_EQ(pending.size(), 2u);
  std::map<std::string, double> by_provider;
  for (const auto& p : pending) {
    EXPECT_EQ(p.logical, "m");
    by_provider[p.provider] = p.factor;
  }
  EXPECT_DOUBLE_EQ(by_provider["p"], 1.02 * 1.02);
  EXPECT_DOUBLE_EQ(by_provider["q"], 0.85);
  EXPECT_TRUE(w.take_pending().empty());
  // The multiplier stays; only the pending product resets.
  EXPECT_DOUBLE_EQ(w.multiplier("m", "p"), 1.02 * 1.02);
  w.nudge("m", "p", Nudge::FatalFailure);
  pending = w.take_pending();
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_DOUBLE_EQ(pending[0].factor, 0.7);

  // The pending product is bounded to the widest move the clamp allows (3 / 0.2 = 15).
  for (int i = 0; i < 1000; ++i) w.nudge("m", "p", Nudge::Success);
  pending = w.take_pending();
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_DOUBLE_EQ(pending[0].factor, 15.0);
}

// ----------------------------------------------------- MetricsPublisher merge ----

rapidjson::Document parse(const std::string& text) {
  rapidjson::Document d;
  d.Parse(text.c_str());
  EXPECT_FALSE(d.HasParseError()) << text;
  EXPECT_TRUE(d.IsObject()) << text;
  return d;
}

RemoteShare share(uint64_t requests, uint64_t errors, double p95, double p99 = 0, double ewma = 0,
                  double qps = 0, uint32_t in_flight = 0) {
  RemoteShare s;
  s.requests = requests;
  s.errors = errors;
  s.latency_p95_ms = p95;
  s.latency_p99_ms = p99;
  s.latency_ewma_ms = ewma;
  s.recent_qps = qps;
  s.in_flight = in_flight;
  return s;
}

TEST(MetricsPublisher, FirstDocumentHasEveryRoutingMetricsField) {
  RuntimeMetrics rules;
  RemoteShare others = share(99, 99, 99);
  auto doc = MetricsPublisher::merge_document("", "gpt-x", "a", "inst-1",
                                              share(60, 6, 300, 500, 250, 2, 1), 1700000000, rules, &others);
  auto d = parse(doc);
  EXPECT_STREQ(d["logical_model"].GetString(), "gpt-x");
  EXPECT_STREQ(d["provider_id"].GetString(), "a");
  EXPECT_DOUBLE_EQ(d["latency_p95_ms"].GetDouble(), 300);
  EXPECT_DOUBLE_EQ(d["latency_p99_ms"].GetDouble(), 500);
  EXPECT_DOUBLE_EQ(d["error_rate"].GetDouble(), 0.1);
  EXPECT_DOUBLE_EQ(d["success_qps_1m"].GetDouble(), 54.0 / 60);
  ASSERT_TRUE(d["total_requests_1m"].IsUint64());
  EXPECT_EQ(d["total_requests_1m"].GetUint64(), 60u);
  ASSERT_TRUE(d["last_updated"].IsInt64());
  EXPECT_EQ(d["last_updated"].GetInt64(), 1700000000);
  EXPECT_STREQ(d["status"].GetString(), "healthy");
  EXPECT_DOUBLE_EQ(d["latency_ewma_ms"].GetDouble(), 250);
  EXPECT_EQ(d["in_flight"].GetUint(), 1u);
  EXPECT_DOUBLE_EQ(d["current_qps"].GetDouble(), 2);
  ASSERT_TRUE(d["instances"].IsObject());
  ASSERT_TRUE(d["instances"].HasMember("inst-1"));
  EXPECT_EQ(d["instances"]["inst-1"]["requests"].GetUint64(), 60u);
  EXPECT_EQ(d["instances"]["inst-1"]["updated_at"].GetInt64(), 1700000000);
  // No one else yet.
  EXPECT_EQ(others.requests, 0u);
  EXPECT_EQ(others.errors, 0u);
  EXPECT_EQ(others.in_flight, 0u);
}

TEST(MetricsPublisher, AggregatesOwnAndOtherInstancesAndDropsStaleOnes) {
  RuntimeMetrics rules;
  const int64_t now = 1700000000;
  // Build the existing document the way instances would: b (10 s ago), c (91 s ago:
  // stale), d (exactly 90 s ago: still live), and an old copy of our own share.
  std::string doc;
  doc = MetricsPublisher::merge_document(doc, "gpt-x", "a", "c", share(1000, 1000, 9000, 9000, 9000, 50, 9), now - 91, rules, nullptr);
  doc = MetricsPublisher::merge_document(doc, "gpt-x", "a", "d", share(10, 0, 200, 400, 150, 1, 0), now - 90, rules, nullptr);
  doc = MetricsPublisher::merge_document(doc, "gpt-x", "a", "self", share(500, 500, 1, 1, 1, 1, 1), now - 60, rules, nullptr);
  doc = MetricsPublisher::merge_document(doc, "gpt-x", "a", "b", share(30, 6, 600, 800, 500, 2, 2), now - 10, rules, nullptr);
  {
    auto d = parse(doc);
    EXPECT_TRUE(d["instances"].HasMember("c"));  // not yet stale when b wrote
  }

  RemoteShare others;
  doc = MetricsPublisher::merge_document(doc, "gpt-x", "a", "self", share(60, 12, 100, 300, 80, 3, 1), now, rules, &others);
  auto d = parse(doc);
  // c is gone; b, d and self remain (self's old copy replaced, not added).
  std::set<std::string> instances;
  for (auto& m : d["instances"].GetObject()) instances.insert(m.name.GetString());
  EXPECT_EQ(instances, (std::set<std::string>{"b", "d", "self"}));
  EXPECT_EQ(d["instances"]["self"]["requests"].GetUint64(), 60u);
  EXPECT_EQ(d["instances"]["self"]["updated_at"].GetInt64(), now);
  EXPECT_EQ(d["instances"]["b"]["updated_at"].GetInt64(), now - 10);

  // others = b + d.
  EXPECT_EQ(others.requests, 40u);
  EXPECT_EQ(others.errors, 6u);
  EXPECT_DOUBLE_EQ(others.latency_p95_ms, (600.0 * 30 + 200 * 10) / 40);
  EXPECT_DOUBLE_EQ(others.latency_p99_ms, (800.0 * 30 + 400 * 10) / 40);
  EXPECT_DOUBLE_EQ(others.latency_ewma_ms, (500.0 * 30 + 150 * 10) / 40);
  EXPECT_DOUBLE_EQ(others.recent_qps, 3.0);
  EXPECT_EQ(others.in_flight, 2u);

  // The top level: b + d + self.
  EXPECT_EQ(d["total_requests_1m"].GetUint64(), 100u);
  EXPECT_DOUBLE_EQ(d["error_rate"].GetDouble(), 18.0 / 100);
  EXPECT_DOUBLE_EQ(d["success_qps_1m"].GetDouble(), 82.0 / 60);
  EXPECT_NEAR(d["latency_p95_ms"].GetDouble(), (600.0 * 30 + 200 * 10 + 100 * 60) / 100, 1e-9);
  EXPECT_NEAR(d["latency_p99_ms"].GetDouble(), (800.0 * 30 + 400 * 10 + 300 * 60) / 100, 1e-9);
  EXPECT_NEAR(d["latency_ewma_ms"].GetDouble(), (500.0 * 30 + 150 * 10 + 80 * 60) / 100, 1e-9);
  EXPECT_DOUBLE_EQ(d["current_qps"].GetDouble(), 6.0);
  EXPECT_EQ(d["in_flight"].GetUint(), 3u);
  EXPECT_STREQ(d["status"].GetString(), "degraded");  // 18 % errors
  EXPECT_EQ(d["last_updated"].GetInt64(), now);
}

TEST(MetricsPublisher, StatusFollowsTheThresholds) {
  RuntimeMetrics rules;
  auto status = [&](RemoteShare s) {
    auto d = parse(MetricsPublisher::merge_document("", "m", "p", "i", s, 100, rules, nullptr));
    return std::string(d["status"].GetString());
  };
  EXPECT_EQ(status(share(0, 0, 0)), "unknown");
  EXPECT_EQ(status(share(10, 6, 100)), "down");
  EXPECT_EQ(status(share(2, 2, 100)), "healthy");  // below min samples
  EXPECT_EQ(status(share(10, 0, 2500)), "degraded");
}

TEST(MetricsPublisher, UnreadableExistingDocumentIsReplaced) {
  RuntimeMetrics rules;
  for (std::string bad : {"not json", "[]", "{\"instances\": 5}", "{\"instances\": {\"x\": 7}}", "{"}) {
    RemoteShare others = share(1, 1, 1);
    auto d = parse(MetricsPublisher::merge_document(bad, "m", "p", "me", share(5, 0, 10), 100, rules, &others));
    EXPECT_EQ(d["total_requests_1m"].GetUint64(), 5u) << bad;
    EXPECT_EQ(d["instances"].MemberCount(), 1u) << bad;
    EXPECT_EQ(others.requests, 0u) << bad;
  }
}

// Runs `io` until nothing is left to do.
void drain(boost::asio::io_context& io) {
  io.restart();
  io.run();
}

TEST(MetricsPublisher, FlushSharesMetricsAndWeightsBetweenInstances) {
  boost::asio::io_context io;
  auto data = std::make_shared<MemoryData>();
  MemoryStore store(io, data);

  RuntimeMetrics ma, mb;
  DynamicWeights wa, wb;
  MetricsPublisher pa(ma, wa, "inst-a"), pb(mb, wb, "inst-b");
  for (int i = 0; i < 20; ++i) ma.record("gpt-x", "p", {100, i >= 4});
  for (int i = 0; i < 30; ++i) mb.record("gpt-x", "p", {300, true});
  wa.nudge("gpt-x", "p", Nudge::FatalFailure);
  const std::vector<RoutedPair> pairs{{"gpt-x", "p", 2.0}};

  int done = 0;
  pa.flush(store, pairs, [&] { ++done; });
  drain(io);
  pb.flush(store, pairs, [&] { ++done; });
  drain(io);
  pa.flush(store, pairs, [&] { ++done; });
  drain(io);
  ASSERT_EQ(done, 3);

  // Both instances now see all 50 requests.
  auto va = ma.view("gpt-x", "p"), vb = mb.view("gpt-x", "p");
  EXPECT_EQ(va.total_requests, 50u);
  EXPECT_EQ(vb.total_requests, 50u);
  EXPECT_DOUBLE_EQ(va.error_rate, 4.0 / 50);
  EXPECT_DOUBLE_EQ(vb.error_rate, 4.0 / 50);

  // The stored document aggregates both.
  auto stored = data->get(keys::metrics("gpt-x", "p"));
  ASSERT_TRUE(stored);
  auto d = parse(*stored);
  EXPECT_EQ(d["total_requests_1m"].GetUint64(), 50u);
  EXPECT_EQ(d["instances"].MemberCount(), 2u);

  // a's nudge went to the ZSET as an absolute weight (base 2 × 0.7) and b read it back.
  auto z = data->zset_members(keys::provider_weights("gpt-x"));
  ASSERT_EQ(z.size(), 1u);
  EXPECT_EQ(z[0].first, "p");
  EXPECT_DOUBLE_EQ(z[0].second, 1.4);
  EXPECT_DOUBLE_EQ(wb.multiplier("gpt-x", "p"), 0.7);
  EXPECT_DOUBLE_EQ(wa.multiplier("gpt-x", "p"), 0.7);
  EXPECT_TRUE(wa.take_pending().empty());
}

// ------------------------------------------------------------------- sessions ----

template <class T>
Result<T> await(boost::asio::io_context& io, const std::function<void(std::function<void(Result<T>)>)>& start) {
  std::optional<Result<T>> got;
  start([&](Result<T> r) { got.emplace(std::move(r)); });
  drain(io);
  if (!got) return Error{"TEST: no callback"};
  return std::move(*got);
}

struct SessionRig {
  boost::asio::io_context io;
  std::shared_ptr<MemoryData> data = std::make_shared<MemoryData>();
  MemoryStore store{io, data};

  Result<std::optional<Session>> load(const std::string& id) {
    return await<std::optional<Session>>(io, [&](auto done) { load_session(store, id, done); });
  }
  Result<Session> bind(const std::string& id, const std::string& logical_id,
                       const std::optional<Session>& previous, const std::string& provider) {
    PhysicalModel upstream = up(provider);
    Candidate c;
    c.upstream = &upstream;
    return await<Session>(io, [&](auto done) {
      bind_session(store, id, logical_id, previous, c, std::chrono::seconds(7200), done);
    });
  }
};

TEST(Sessions, LoadOfAnUnknownConversationIsNothing) {
  SessionRig rig;
  auto s = rig.load("nobody");
  ASSERT_TRUE(s) << s.error();
  EXPECT_FALSE(s->has_value());
}

TEST(Sessions, BindStartsAndRenewsABinding) {
  SessionRig rig;
  const int64_t before = epoch_seconds();
  auto first = rig.bind("conv", "gpt-x", std::nullopt, "a");
  ASSERT_TRUE(first) << first.error();
  EXPECT_EQ(first->conversation_id, "conv");
  EXPECT_EQ(first->logical_model, "gpt-x");
  EXPECT_EQ(first->provider_id, "a");
  EXPECT_EQ(first->model_id, "m-a");
  EXPECT_EQ(first->message_count, 1);
  EXPECT_GE(first->created_at, before);
  EXPECT_EQ(first->last_accessed, first->created_at);

  auto loaded = rig.load("conv");
  ASSERT_TRUE(loaded && loaded->has_value());
  EXPECT_EQ(to_json(**loaded), to_json(*first));

  // Renewed on the same upstream: created_at kept, count up, last_accessed now.
  Session previous = **loaded;
  previous.created_at -= 1000;  // as if it started a while ago
  previous.last_accessed -= 500;
  auto renewed = rig.bind("conv", "gpt-x", previous, "a");
  ASSERT_TRUE(renewed) << renewed.error();
  EXPECT_EQ(renewed->created_at, previous.created_at);
  EXPECT_EQ(renewed->message_count, 2);
  EXPECT_GE(renewed->last_accessed, before);
  loaded = rig.load("conv");
  ASSERT_TRUE(loaded && loaded->has_value());
  EXPECT_EQ((*loaded)->message_count, 2);
  EXPECT_EQ((*loaded)->created_at, previous.created_at);
}

TEST(Sessions, MovingUpstreamStartsANewBinding) {
  SessionRig rig;
  Session previous = session_on("a");
  previous.conversation_id = "conv";
  previous.message_count = 7;
  auto moved = rig.bind("conv", "gpt-x", previous, "b");
  ASSERT_TRUE(moved) << moved.error();
  EXPECT_EQ(moved->provider_id, "b");
  EXPECT_EQ(moved->model_id, "m-b");
  EXPECT_EQ(moved->message_count, 1);
  EXPECT_NE(moved->created_at, previous.created_at);

  // A binding for another logical model does not carry over either.
  auto other = rig.bind("conv", "other-model", *moved, "b");
  ASSERT_TRUE(other);
  EXPECT_EQ(other->logical_model, "other-model");
  EXPECT_EQ(other->message_count, 1);

  auto loaded = rig.load("conv");
  ASSERT_TRUE(loaded && loaded->has_value());
  EXPECT_EQ((*loaded)->logical_model, "other-model");
}

TEST(Sessions, UnreadableStoredSessionRoutesAfresh) {
  SessionRig rig;
  rig.data->set(keys::session("conv"), "{not json", std::chrono::seconds(0));
  auto s = rig.load("conv");
  ASSERT_TRUE(s) << s.error();
  EXPECT_FALSE(s->has_value());
}

}  // namespace
}  // namespace apiproxy
