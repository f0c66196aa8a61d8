// What the data plane pays per request for GET /metrics: the records ProxyCall makes
// (one requests_total count, two histogram observations, one attempt count), from one
// thread and from two threads hitting the same series (the gateway's 2 workers).
//
//   cmake -B build/bench -DCMAKE_BUILD_TYPE=Release -DAPIPROXY_BUILD_BENCHMARKS=ON
//   build/bench/bin/telemetry_bench
#include <benchmark/benchmark.h>

#include "core/telemetry/telemetry.hpp"

namespace {

using apiproxy::telemetry::GaugeGuard;
using apiproxy::telemetry::RequestRecord;
using apiproxy::telemetry::Telemetry;

Telemetry& shared() {
  static Telemetry t;
  return t;
}

// Everything one proxied request records, as ProxyCall does it.
void one_request(Telemetry& t) {
  GaugeGuard in_flight(t.in_flight_requests);
  t.record_attempt("chat-pool", "alpha", "success");
  RequestRecord r{"/v1/chat/completions", "chat-pool", "alpha", 200, 0.0123, 0.0045};
  t.record_request(r);
}

void BM_RequestRecords(benchmark::State& state) {
  Telemetry& t = shared();
  for (auto _ : state) one_request(t);
}
BENCHMARK(BM_RequestRecords)->Threads(1)->Threads(2)->UseRealTime();

void BM_CounterLookupAndInc(benchmark::State& state) {
  Telemetry& t = shared();
  for (auto _ : state) t.upstream_attempts.with({"chat-pool", "alpha", "success"}).inc();
}
BENCHMARK(BM_CounterLookupAndInc)->Threads(1)->Threads(2)->UseRealTime();

void BM_Scrape(benchmark::State& state) {
  Telemetry t;
  for (int m = 0; m < 20; ++m)
    for (const char* p : {"alpha", "beta", "gamma"}) {
      std::string model = "model-" + std::to_string(m);
      t.record_request({"/v1/chat/completions", model, p, 200, 0.1, 0.05});
      t.record_attempt(model, p, "success");
    }
  for (auto _ : state) {
    apiproxy::telemetry::TextWriter w;
    t.write(w);
    benchmark::DoNotOptimize(w.text().data());
  }
}
BENCHMARK(BM_Scrape);

}  // namespace

BENCHMARK_MAIN();
