// Routing decision cost (Google Benchmark).
//
//   BM_Decide/<strategy>/<n>        one full Router::decide over n candidates: metrics
//                                   lookup for each, scoring by the real strategy .so,
//                                   weighted pick, failover order and reasoning string
//   BM_MetricsViews/<n>             only the metrics part of that: n RuntimeMetrics::view()
//   BM_StrategyScore/<strategy>/<n> only the plugin call: score() on n prepared candidates
//   BM_Reasoning/<n>                only the reasoning text (a copy of router.cpp's code)
//   BM_MetricsEnd                   one RuntimeMetrics::end() (records an outcome)
//   BM_MetricsView                  one RuntimeMetrics::view() of a full 60 s window
//
// Decide − views − score − reasoning is roughly what the Router itself adds (candidate copies,
// the weighted pick, sorting the failover order).
//
// Run: routing_bench --benchmark_repetitions=3 --benchmark_min_time=0.2
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/config/environment.hpp"
#include "core/config/providers.hpp"
#include "core/plugins/plugin_registry.hpp"
#include "core/providers/provider_runtime.hpp"
#include "core/routing/dynamic_weights.hpp"
#include "core/routing/router.hpp"
#include "core/routing/runtime_metrics.hpp"

#ifndef APIPROXY_BENCH_PLUGIN_DIR
#error "APIPROXY_BENCH_PLUGIN_DIR must name the directory holding the built plugins"
#endif

namespace {

using namespace apiproxy;
using Clock = RuntimeMetrics::Clock;

std::shared_ptr<const PluginRegistry> registry() {
  static const auto reg = PluginRegistry::load(APIPROXY_BENCH_PLUGIN_DIR, Environment());
  return reg;
}
const PluginRegistry& plugins() { return *registry(); }

std::string pid(int i) {
  std::string id = "p";  // (not "p" + to_string: GCC 12's -Wrestrict false positive at -O3)
  id += std::to_string(i);
  return id;
}

// n providers with weights, regions and prices, and one logical model over all of them.
struct World {
  PluginGeneration generation;
  RuntimeMetrics metrics;
  DynamicWeights weights;
  LogicalModel model;

  explicit World(int n) {
    std::string ids, text;
    for (int i = 0; i < n; ++i) {
      const std::string id = pid(i), pre = "LLM_PROVIDER_" + id + "_";
      ids += (i ? "," : "") + id;
      text += pre + "NAME=Provider " + id + "\n";
      text += pre + "BASE_URL=https://" + id + ".example.com\n";
      text += pre + "API_KEY=sk-bench\n";
      text += pre + "ADAPTER=openai\n";
      text += pre + "WEIGHT=" + std::to_string(1 + i % 3) + "\n";
      text += pre + "REGION=" + (i % 2 ? "us-east" : "eu-west") + "\n";
      text += pre + "COST_INPUT=" + std::to_string(0.001 * (1 + i % 5)) + "\n";
      text += pre + "COST_OUTPUT=" + std::to_string(0.002 * (1 + i % 5)) + "\n";
      text += pre + "MAX_QPS=1000\n";
    }
    generation.plugins = registry();
    generation.providers = make_provider_runtimes(
        load_providers(Environment::from_text("LLM_PROVIDERS=" + ids + "\n" + text)), plugins());
    if (static_cast<int>(generation.providers.usable.size()) != n) throw std::runtime_error("providers were skipped");

    model.logical_id = "gpt-bench";
    model.enabled = true;
    for (int i = 0; i < n; ++i) {
      PhysicalModel up;
      up.provider_id = pid(i);
      up.model_id = "model-" + pid(i);
      up.base_weight = 1.0 + 0.25 * (i % 4);
      model.upstreams.push_back(up);
    }
    // A full window of traffic: 60 seconds × 5 requests for every upstream, latencies and
    // error rates that differ (1–4 %, all healthy) so every strategy has work to do.
    auto now = Clock::now();
    std::mt19937_64 rng(1);
    for (int i = 0; i < n; ++i) {
      std::lognormal_distribution<double> latency(std::log(200.0 + 50 * (i % 7)), 0.4);
      std::bernoulli_distribution fail(0.01 * (1 + i % 4));
      for (int s = 0; s < 60; ++s)
        for (int k = 0; k < 5; ++k)
          metrics.record_at(model.logical_id, pid(i), {latency(rng), !fail(rng)}, now - std::chrono::seconds(s));
      if (i % 3 == 0) metrics.begin(model.logical_id, pid(i));
      weights.set(model.logical_id, pid(i), 0.8 + 0.1 * (i % 5));
    }
  }
};

// `data_plane`: as a proxied request routes — no reasoning text, QPS left to the limiter.
void decide_loop(benchmark::State& state, const char* strategy, bool data_plane) {
  const int n = static_cast<int>(state.range(0));
  World w(n);
  Router router(w.metrics, w.weights, "balanced");
  RouteRequest req;
  req.strategy = strategy;
  req.explain = !data_plane;
  req.exact_qps_limits = data_plane;
  req.estimated_input_tokens = 800;
  req.estimated_output_tokens = 300;
  std::mt19937_64 rng(42);
  size_t reasoning_bytes = 0;
  for (auto _ : state) {
    RouteOutcome out = router.decide(w.generation, w.model, req, rng);
    if (!out.decision) {
      state.SkipWithError(out.error.c_str());
      break;
    }
    reasoning_bytes = out.decision->reasoning.size();
    benchmark::DoNotOptimize(out);
  }
  state.counters["reasoning_bytes"] = static_cast<double>(reasoning_bytes);
}

void BM_Decide(benchmark::State& state, const char* strategy) { decide_loop(state, strategy, false); }
void BM_DecideDataPlane(benchmark::State& state, const char* strategy) { decide_loop(state, strategy, true); }

void BM_MetricsViews(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  World w(n);
  std::vector<std::string> ids;
  for (int i = 0; i < n; ++i) ids.push_back(pid(i));
  for (auto _ : state)
    for (const auto& id : ids) {
      MetricsView v = w.metrics.view(w.model.logical_id, id);
      benchmark::DoNotOptimize(v);
    }
}

void BM_StrategyScore(benchmark::State& state, const char* strategy) {
  const int n = static_cast<int>(state.range(0));
  World w(n);
  auto plugin = plugins().strategy(strategy);
  std::vector<std::string> ids, regions;
  for (int i = 0; i < n; ++i) {
    ids.push_back(pid(i));
    regions.push_back(i % 2 ? "us-east" : "eu-west");
  }
  static const std::string model_id = "model-x";
  std::vector<apx_candidate> abi(n);
  std::vector<const apx_candidate*> ptrs;
  for (int i = 0; i < n; ++i) {
    MetricsView m = w.metrics.view(w.model.logical_id, ids[i]);
    apx_candidate& a = abi[i];
    a.struct_size = sizeof(a);
    a.provider_id = {ids[i].data(), ids[i].size()};
    a.model_id = {model_id.data(), model_id.size()};
    a.region = {regions[i].data(), regions[i].size()};
    a.base_weight = 1 + i % 3;
    a.dynamic_weight = 1;
    a.cost_input = 0.001 * (1 + i % 5);
    a.cost_output = 0.002 * (1 + i % 5);
    a.latency_ewma_ms = m.latency_ewma_ms;
    a.latency_p95_ms = m.latency_p95_ms;
    a.latency_p99_ms = m.latency_p99_ms;
    a.error_rate = m.error_rate;
    a.in_flight = m.in_flight;
    a.samples = static_cast<uint32_t>(m.total_requests);
    a.status = static_cast<uint32_t>(m.status);
    a.max_qps = 1000;
    a.current_qps = m.current_qps;
    ptrs.push_back(&a);
  }
  apx_route_ctx ctx{};
  ctx.struct_size = sizeof(ctx);
  ctx.logical_model = {w.model.logical_id.data(), w.model.logical_id.size()};
  ctx.strategy = {plugin->name().data(), plugin->name().size()};
  ctx.estimated_input_tokens = 800;
  ctx.estimated_output_tokens = 300;
  std::vector<double> scores(n);
  for (auto _ : state) {
    Status st = plugin->score(ctx, ptrs.data(), ptrs.size(), scores.data());
    benchmark::DoNotOptimize(st);
    benchmark::DoNotOptimize(scores.data());
  }
}

// The reasoning text alone. Router::decide always builds it and core/routing offers no
// switch, so this rebuilds it from a real decision with a line-for-line copy of
// router.cpp's describe()/fmt()/join() (keep in step with it): decide − this ≈ a decision
// without the text.
namespace reasoning_copy {

std::string fmt(double v, const char* spec = "%.3g") {
  char buf[64];
  std::snprintf(buf, sizeof buf, spec, v);
  return buf;
}
std::string join(const std::vector<std::string>& items, const char* sep = "; ") {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : sep) + i;
  return out;
}
std::string label(const Candidate& c) { return c.upstream->provider_id + "/" + c.upstream->model_id; }
std::string describe(const Candidate& c) {
  const auto& m = c.metrics;
  std::string s = label(c) + " (score " + fmt(c.score) + ", " + health_name(m.status);
  if (m.total_requests) {
    s += ", ewma " + fmt(m.latency_ewma_ms, "%.0f") + " ms, p95 " + fmt(m.latency_p95_ms, "%.0f") +
         " ms, errors " + fmt(m.error_rate * 100, "%.1f") + "% of " + std::to_string(m.total_requests);
  } else {
    s += ", no traffic yet";
  }
  return s + ")";
}
std::string reasoning(const RouteDecision& d, const std::string& strategy) {
  std::vector<std::string> why;
  double total = 0;
  for (const auto& c : d.all) total += c.score;
  why.push_back("strategy " + strategy + " scored " + std::to_string(d.all.size()) +
                " candidate(s); drew " + label(d.order.front()) + " with probability " +
                fmt(100 * d.order.front().score / total, "%.0f") + "%");
  why.push_back("chosen: " + describe(d.order.front()));
  if (d.order.size() > 1) {
    std::vector<std::string> alts;
    for (size_t i = 1; i < d.order.size(); ++i) alts.push_back(describe(d.order[i]));
    why.push_back("failover order: " + join(alts, ", "));
  }
  return join(why);
}

}  // namespace reasoning_copy

void BM_Reasoning(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  World w(n);
  Router router(w.metrics, w.weights, "balanced");
  std::mt19937_64 rng(42);
  RouteOutcome out = router.decide(w.generation, w.model, {}, rng);
  if (!out.decision) {
    state.SkipWithError(out.error.c_str());
    return;
  }
  std::string text = reasoning_copy::reasoning(*out.decision, "balanced");
  if (text != out.decision->reasoning) {
    state.SkipWithError("the copy no longer matches router.cpp's reasoning text");
    return;
  }
  for (auto _ : state) {
    std::string r = reasoning_copy::reasoning(*out.decision, "balanced");
    benchmark::DoNotOptimize(r);
  }
}

void BM_MetricsEnd(benchmark::State& state) {
  RuntimeMetrics metrics;
  const std::string logical = "gpt-bench", provider = "p0";
  metrics.begin(logical, provider);
  double latency = 120;
  for (auto _ : state) {
    metrics.end(logical, provider, {latency, true});
    latency = latency < 5000 ? latency * 1.07 : 120;
  }
}

void BM_MetricsView(benchmark::State& state) {
  World w(1);
  for (auto _ : state) {
    MetricsView v = w.metrics.view(w.model.logical_id, "p0");
    benchmark::DoNotOptimize(v);
  }
}

#define DECIDE_AND_SCORE(name)                                                      \
  BENCHMARK_CAPTURE(BM_Decide, name, #name)->Arg(2)->Arg(8)->Arg(32);               \
  BENCHMARK_CAPTURE(BM_DecideDataPlane, name, #name)->Arg(2)->Arg(8)->Arg(32);      \
  BENCHMARK_CAPTURE(BM_StrategyScore, name, #name)->Arg(2)->Arg(8)->Arg(32);

DECIDE_AND_SCORE(latency_first)
DECIDE_AND_SCORE(cost_first)
DECIDE_AND_SCORE(reliability_first)
DECIDE_AND_SCORE(balanced)
BENCHMARK(BM_MetricsViews)->Arg(2)->Arg(8)->Arg(32);
BENCHMARK(BM_Reasoning)->Arg(2)->Arg(8)->Arg(32);
BENCHMARK(BM_MetricsEnd);
BENCHMARK(BM_MetricsView);

}  // namespace

BENCHMARK_MAIN();
