// core/telemetry: the Prometheus text exposition (exact output, escaping, numbers),
// counter/gauge/histogram families (cumulative buckets, _sum/_count, label checks, the
// series cap), concurrency, the JSON log formatter, Redis error counting, and the whole
// GET /metrics rendering checked by `promtool check metrics` when promtool is installed.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <rapidjson/document.h>
#include <spdlog/details/log_msg.h>

#include "core/store/redis_connection.hpp"
#include "core/store/redis_url.hpp"
#include "core/telemetry/counter.hpp"
#include "core/telemetry/exposition.hpp"
#include "core/telemetry/gauge.hpp"
#include "core/telemetry/histogram.hpp"
#include "core/telemetry/logging.hpp"
#include "core/telemetry/telemetry.hpp"
#include "server/api/metrics_api.hpp"
#include "server/app/gateway_state.hpp"
#include "tests/unit/support/redis_server.hpp"

namespace apiproxy::telemetry {
namespace {

std::string number(double v) {
  std::string s;
  append_number(s, v);
  return s;
}

std::string label_value(std::string_view v) {
  std::string s;
  append_label_value(s, v);
  return s;
}

// ============================================================== exposition text ====

TEST(Exposition, NumbersAreShortestExactOrSpecial) {
  EXPECT_EQ(number(0.005), "0.005");
  EXPECT_EQ(number(60), "60");
  EXPECT_EQ(number(2.5), "2.5");
  EXPECT_EQ(number(-1.25), "-1.25");
  EXPECT_EQ(number(0.1 + 0.2), "0.30000000000000004");  // round-trips, not rounded for looks
  EXPECT_EQ(number(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(number(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(number(std::numeric_limits<double>::quiet_NaN()), "NaN");
  std::string big;
  append_number(big, std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(big, "18446744073709551615");  // counters print exactly, never as 1.8e19
  std::string neg;
  append_number(neg, int64_t{-7});
  EXPECT_EQ(neg, "-7");
}

TEST(Exposition, LabelValuesAreEscaped) {
  EXPECT_EQ(label_value("plain-model/v1.2"), "plain-model/v1.2");
  EXPECT_EQ(label_value(R"(a\b)"), R"(a\\b)");
  EXPECT_EQ(label_value(R"(say "hi")"), R"(say \"hi\")");
  EXPECT_EQ(label_value("two\nlines"), R"(two\nlines)");
  EXPECT_EQ(label_value("tab\tstays"), "tab\tstays");  // the format escapes only \ " and \n
  EXPECT_EQ(label_value("模型-é"), "模型-é");            // valid UTF-8 passes unchanged
  EXPECT_EQ(label_value("bad\xff" "byte"), "bad\xEF\xBF\xBD" "byte");
  EXPECT_EQ(label_value("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong '/' is not UTF-8
  EXPECT_EQ(label_value("cut\xE6\xA8"), "cut\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST(Exposition, HelpIsEscapedButQuotesAreNot) {
  TextWriter w;
  w.family("m_total", "a \\ b\nc \"q\"", "counter");
  EXPECT_EQ(w.text(), "# HELP m_total a \\\\ b\\nc \"q\"\n# TYPE m_total counter\n");
}

TEST(Exposition, SampleLines) {
  TextWriter w;
  w.sample("up", {}, 1);
  w.sample("x", {{"a", "1"}, {"b", "q\""}}, 2.5);
  std::vector<std::string> names{"k"}, values{"v"};
  w.sample("h_bucket", names, values, uint64_t{3}, Label{"le", "+Inf"});
  EXPECT_EQ(w.text(), "up 1\nx{a=\"1\",b=\"q\\\"\"} 2.5\nh_bucket{k=\"v\",le=\"+Inf\"} 3\n");
}

TEST(Exposition, NameChecks) {
  EXPECT_TRUE(valid_metric_name("apiproxy_requests_total"));
  EXPECT_TRUE(valid_metric_name("ns:sub_metric"));
  EXPECT_FALSE(valid_metric_name(""));
  EXPECT_FALSE(valid_metric_name("1abc"));
  EXPECT_FALSE(valid_metric_name("a-b"));
  EXPECT_TRUE(valid_label_name("logical_model"));
  EXPECT_FALSE(valid_label_name("__name__"));
  EXPECT_FALSE(valid_label_name("a:b"));
  EXPECT_FALSE(valid_label_name("9"));
}

// ===================================================================== families ====

TEST(Family, CounterExpositionIsExactAndSortedByLabels) {
  CounterFamily f("t_requests_total", "Requests.", {"model", "status"});
  f.with({"zeta", "200"}).inc();
  f.with({"alpha", "500"}).inc(2);
  f.with({"alpha", "200"}).inc();
  f.with({"alpha", "200"}).inc();
  TextWriter w;
  write(w, f);
  EXPECT_EQ(w.text(),
            "# HELP t_requests_total Requests.\n"
            "# TYPE t_requests_total counter\n"
            "t_requests_total{model=\"alpha\",status=\"200\"} 2\n"
            "t_requests_total{model=\"alpha\",status=\"500\"} 2\n"
            "t_requests_total{model=\"zeta\",status=\"200\"} 1\n");
}

TEST(Family, SameLabelSetIsTheSameCellAndValuesCannotCollide) {
  CounterFamily f("t_total", "x", {"a", "b"});
  EXPECT_EQ(&f.with({"x", "y"}), &f.with({"x", "y"}));
  // Joined naively both would read "ab": the key is length-prefixed.
  EXPECT_NE(&f.with({"a", "b"}), &f.with({"ab", ""}));
  EXPECT_NE(&f.with({"", "ab"}), &f.with({"ab", ""}));
  EXPECT_EQ(f.series(), 4u);
}

// with() remembers the cell this thread found last; a family made where another was
// destroyed (often the same address) must not be handed the dead family's cell.
TEST(Family, ALaterFamilyAtTheSameAddressGetsItsOwnCells) {
  std::optional<CounterFamily> f;
  f.emplace("first_total", "x", std::vector<std::string>{"a"});
  f->with({"same"}).inc(5);
  const void* first_address = &*f;
  f.reset();
  f.emplace("second_total", "x", std::vector<std::string>{"a"});
  ASSERT_EQ(&*f, first_address);  // optional storage: the address is reused
  EXPECT_EQ(f->with({"same"}).value(), 0u);
  f->with({"same"}).inc();
  f->with({"other"}).inc();
  EXPECT_EQ(f->with({"same"}).value(), 1u);
  EXPECT_EQ(f->series(), 2u);
}

TEST(Family, BadNamesAndWrongLabelCountsThrow) {
  EXPECT_THROW(CounterFamily("bad-name", "x", {}), std::invalid_argument);
  EXPECT_THROW(CounterFamily("ok_total", "x", {"bad-label"}), std::invalid_argument);
  EXPECT_THROW(CounterFamily("ok_total", "x", {"a", "a"}), std::invalid_argument);
  EXPECT_THROW(CounterFamily("ok_total", "x", {"le"}), std::invalid_argument);
  EXPECT_THROW(HistogramFamily("h_seconds", "x", {}, {1, 0.5}), std::invalid_argument);
  CounterFamily f("ok_total", "x", {"a"});
  EXPECT_THROW(f.with({"1", "2"}), std::invalid_argument);
  EXPECT_THROW(f.with({}), std::invalid_argument);
}

TEST(Family, SeriesBeyondTheCapShareTheOverflowSeries) {
  CounterFamily f("capped_total", "x", {"model"}, [] { return std::make_unique<Counter>(); }, 3);
  for (int i = 0; i < 10; ++i) f.with({"m" + std::to_string(i)}).inc();
  f.with({"m0"}).inc();  // an existing series keeps counting on its own
  EXPECT_EQ(f.series(), 4u);
  TextWriter w;
  write(w, f);
  EXPECT_NE(w.text().find("capped_total{model=\"m0\"} 2\n"), std::string::npos) << w.text();
  EXPECT_NE(w.text().find("capped_total{model=\"_overflow_\"} 7\n"), std::string::npos) << w.text();
  EXPECT_EQ(w.text().find("m9"), std::string::npos) << w.text();
}

TEST(Family, GaugeGuardHoldsOneUnitUntilReleasedOrDestroyed) {
  Gauge g;
  {
    GaugeGuard a(g);
    GaugeGuard b(g);
    EXPECT_EQ(g.value(), 2);
    GaugeGuard moved = std::move(a);
    EXPECT_EQ(g.value(), 2);
    b.release();
    b.release();
    EXPECT_EQ(g.value(), 1);
    moved = GaugeGuard(g);  // the old unit is given back, a new one taken
    EXPECT_EQ(g.value(), 1);
  }
  EXPECT_EQ(g.value(), 0);
}

// =================================================================== histograms ====

TEST(Histogram, BucketsAreCumulativeWithSumAndCount) {
  HistogramFamily f("t_latency_seconds", "Latency.", {"p"}, {0.1, 1, 10});
  auto& h = f.with({"a"});
  for (double v : {0.05, 0.1, 0.5, 1.0, 3.0, 100.0}) h.observe(v);  // a bound itself is "le"
  h.observe(std::numeric_limits<double>::quiet_NaN());                 // ignored
  TextWriter w;
  write(w, f);
  EXPECT_EQ(w.text(),
            "# HELP t_latency_seconds Latency.\n"
            "# TYPE t_latency_seconds histogram\n"
            "t_latency_seconds_bucket{p=\"a\",le=\"0.1\"} 2\n"
            "t_latency_seconds_bucket{p=\"a\",le=\"1\"} 4\n"
            "t_latency_seconds_bucket{p=\"a\",le=\"10\"} 5\n"
            "t_latency_seconds_bucket{p=\"a\",le=\"+Inf\"} 6\n"
            "t_latency_seconds_sum{p=\"a\"} 104.65\n"
            "t_latency_seconds_count{p=\"a\"} 6\n");
}

TEST(Histogram, EmptyHistogramHasZeroBucketsAndTheDefaultBoundsAreSane) {
  HistogramFamily f("e_seconds", "E.", {}, latency_buckets());
  f.with({});
  TextWriter w;
  write(w, f);
  EXPECT_NE(w.text().find("e_seconds_bucket{le=\"0.005\"} 0\n"), std::string::npos) << w.text();
  EXPECT_NE(w.text().find("e_seconds_bucket{le=\"60\"} 0\n"), std::string::npos);
  EXPECT_NE(w.text().find("e_seconds_count 0\n"), std::string::npos);
  EXPECT_NE(w.text().find("e_seconds_sum 0\n"), std::string::npos);
}

// ================================================================== concurrency ====

TEST(Concurrency, CountsFromManyThreadsAddUpExactlyWhileScraping) {
  Telemetry t;
  constexpr int kThreads = 4, kPerThread = 20000;
  std::atomic<bool> done{false};
  std::thread scraper([&] {
    while (!done.load()) {
      TextWriter w;
      t.write(w);
      ASSERT_FALSE(w.text().empty());
    }
  });
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&t, i] {
      std::string own = "model-" + std::to_string(i);
      for (int n = 0; n < kPerThread; ++n) {
        GaugeGuard in_flight(t.in_flight_requests);
        RequestRecord r{"/v1/chat/completions", n % 2 ? std::string_view(own) : "shared", "p", 200, 0.01, 0.002};
        t.record_request(r);
        t.record_attempt("shared", "p", outcome::kSuccess);
      }
    });
  }
  for (auto& th : threads) th.join();
  done = true;
  scraper.join();
  EXPECT_EQ(t.requests.with({"/v1/chat/completions", "shared", "p", "200"}).value(),
            static_cast<uint64_t>(kThreads * kPerThread / 2));
  for (int i = 0; i < kThreads; ++i)
    EXPECT_EQ(t.requests.with({"/v1/chat/completions", "model-" + std::to_string(i), "p", "200"}).value(),
              static_cast<uint64_t>(kPerThread / 2));
  EXPECT_EQ(t.upstream_attempts.with({"shared", "p", "success"}).value(), static_cast<uint64_t>(kThreads * kPerThread));
  EXPECT_EQ(t.request_duration.with({"shared", "p"}).snapshot().count(), static_cast<uint64_t>(kThreads * kPerThread / 2));
  EXPECT_EQ(t.in_flight_requests.value(), 0);
}

// ===================================================================== promtool ====

// Runs `promtool check metrics` on `text`; returns its exit code and output (stdout+stderr).
std::pair<int, std::string> promtool_check(const std::string& text) {
  auto dir = std::filesystem::temp_directory_path();
  auto in = dir / ("apiproxy-telemetry-" + std::to_string(::getpid()) + ".prom");
  auto out = dir / ("apiproxy-telemetry-" + std::to_string(::getpid()) + ".out");
  std::ofstream(in) << text;
  std::string cmd = "promtool check metrics < '" + in.string() + "' > '" + out.string() + "' 2>&1";
  int rc = std::system(cmd.c_str());
  std::ifstream f(out);
  std::string output((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  std::filesystem::remove(in);
  std::filesystem::remove(out);
  return {WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, output};
}

TEST(Promtool, TheGatewayExpositionPassesTheLinter) {
  if (test::find_program("promtool").empty()) GTEST_SKIP() << "promtool is not installed (package prometheus)";
  GatewayState state;
  auto& t = state.telemetry;
  t.record_request({"/v1/chat/completions", "chat \"pool\"\n", "alpha", 200, 0.12, 0.05});
  t.record_request({"/v1/embeddings", kNone, kNone, 404, 0.001, 0.001});
  t.record_attempt("chat \"pool\"\n", "alpha", outcome::kRetryableStatus);
  t.record_failover("chat \"pool\"\n");
  t.record_rate_limited("chat-pool");
  state.plugin_faults->record("latency_first", "exception");
  state.metrics.end("chat-pool", "alpha", {12, true});
  std::string text = render_metrics(state, true, "memory");
  auto [rc, output] = promtool_check(text);
  EXPECT_EQ(rc, 0) << output << "\n---\n" << text;
  EXPECT_EQ(output, "") << "promtool lint problems:\n" << output << "\n---\n" << text;
  // Every family the gateway documents is present.
  for (const char* family :
       {"apiproxy_build_info", "apiproxy_process_start_time_seconds", "apiproxy_requests_total",
        "apiproxy_request_duration_seconds", "apiproxy_first_byte_seconds", "apiproxy_upstream_attempts_total",
        "apiproxy_failovers_total", "apiproxy_rate_limited_requests_total", "apiproxy_in_flight_requests",
        "apiproxy_in_flight_streams", "apiproxy_plugin_faults_total", "apiproxy_redis_errors_total",
        "apiproxy_store_reachable", "apiproxy_upstream_healthy", "apiproxy_upstream_in_flight"})
    EXPECT_NE(text.find(std::string("# TYPE ") + family + " "), std::string::npos) << family;
  EXPECT_NE(text.find("apiproxy_plugin_faults_total{plugin=\"latency_first\",kind=\"exception\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("apiproxy_upstream_healthy{logical_model=\"chat-pool\",provider=\"alpha\"} 1\n"),
            std::string::npos)
      << text;
}

TEST(Promtool, ItWouldCatchABrokenExposition) {
  // The check above means something only if promtool rejects what is wrong.
  if (test::find_program("promtool").empty()) GTEST_SKIP() << "promtool is not installed (package prometheus)";
  auto [rc, output] = promtool_check("# TYPE x counter\nx{a=\"unterminated} 1\n");
  EXPECT_NE(rc, 0) << output;
  auto [rc2, lint] = promtool_check("# HELP requests Requests.\n# TYPE requests counter\nrequests 1\n");
  EXPECT_NE(lint, "") << "a counter without _total should draw a lint message";
  (void)rc2;
}

// ================================================================== JSON logging ====

rapidjson::Document format_json(const JsonLogFormatter& proto, spdlog::level::level_enum level, std::string_view text,
                                std::string* raw = nullptr) {
  auto f = proto.clone();
  spdlog::details::log_msg msg(spdlog::source_loc{}, "apiproxy", level, spdlog::string_view_t(text.data(), text.size()));
  spdlog::memory_buf_t buf;
  f->format(msg, buf);
  std::string line(buf.data(), buf.size());
  if (raw) *raw = line;
  EXPECT_FALSE(line.empty());
  EXPECT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1) << "one record, one line: " << line;
  rapidjson::Document d;
  d.Parse(line.c_str(), line.size() - 1);
  EXPECT_FALSE(d.HasParseError()) << line;
  return d;
}

TEST(JsonLog, EveryRecordIsOneJsonObjectWithTimeLevelLoggerMsg) {
  JsonLogFormatter f;
  std::string raw;
  auto d = format_json(f, spdlog::level::warn, "quote \" backslash \\ newline \n tab \t ctl \x01 end", &raw);
  ASSERT_TRUE(d.IsObject()) << raw;
  EXPECT_STREQ(d["level"].GetString(), "warning");
  EXPECT_STREQ(d["logger"].GetString(), "apiproxy");
  EXPECT_STREQ(d["msg"].GetString(), "quote \" backslash \\ newline \n tab \t ctl \x01 end");
  std::string time = d["time"].GetString();
  // 2024-05-01T12:00:00.123Z
  ASSERT_EQ(time.size(), 24u) << time;
  EXPECT_EQ(time[10], 'T');
  EXPECT_EQ(time[19], '.');
  EXPECT_EQ(time.back(), 'Z');
}

TEST(JsonLog, InvalidUtf8BecomesReplacementCharacters) {
  JsonLogFormatter f;
  std::string raw;
  auto d = format_json(f, spdlog::level::info, "upstream said \xff\xfe then \xE6\xA8\xA1 ok", &raw);
  ASSERT_TRUE(d.IsObject()) << raw;
  EXPECT_STREQ(d["msg"].GetString(), "upstream said \xEF\xBF\xBD\xEF\xBF\xBD then \xE6\xA8\xA1 ok");
}

TEST(JsonLog, AccessRecordsCarryTheirFieldsAsAnObject) {
  JsonLogFormatter f("access");
  std::string raw;
  auto d = format_json(f, spdlog::level::info, "access\n{\"status\":200,\"path\":\"/v1/x\"}", &raw);
  ASSERT_TRUE(d.IsObject()) << raw;
  EXPECT_STREQ(d["msg"].GetString(), "access");
  ASSERT_TRUE(d.HasMember("access") && d["access"].IsObject()) << raw;
  EXPECT_EQ(d["access"]["status"].GetInt(), 200);
  EXPECT_STREQ(d["access"]["path"].GetString(), "/v1/x");
}

TEST(JsonLog, JsonStringEscapingRoundTrips) {
  std::string all;
  for (int c = 1; c < 128; ++c) all += static_cast<char>(c);
  std::string lit;
  append_json_string(lit, all);
  rapidjson::Document d;
  d.Parse(lit.c_str());
  ASSERT_FALSE(d.HasParseError()) << lit;
  ASSERT_TRUE(d.IsString());
  EXPECT_EQ(std::string(d.GetString(), d.GetStringLength()), all);
}

// ================================================================ Redis errors ====

// Runs `args` on `conn` and returns whether it failed.
bool run(boost::asio::io_context& io, const std::shared_ptr<RedisConnection>& conn, std::vector<std::string> args) {
  bool failed = false, finished = false;
  conn->execute(std::move(args), [&](Result<RedisReply> r) {
    failed = !r;
    finished = true;
  });
  io.restart();
  while (!finished && io.run_one()) {
  }
  EXPECT_TRUE(finished);
  return failed;
}

TEST(RedisErrors, RefusedConnectionsAndErrorRepliesAreCountedNoScriptIsNot) {
  boost::asio::io_context io;
  RedisUrl closed;
  closed.port = std::to_string(test::free_port());
  auto down = std::make_shared<RedisConnection>(io, closed, std::chrono::milliseconds(2000));
  auto before = RedisConnection::error_counts();
  EXPECT_TRUE(run(io, down, {"PING"}));
  EXPECT_TRUE(run(io, down, {"PING"}));  // refused at once during the reconnect back-off
  auto after = RedisConnection::error_counts();
  EXPECT_EQ(after.unavailable - before.unavailable, 2u);

  if (!test::RedisServer::available()) GTEST_SKIP() << "redis-server is not installed";
  test::RedisServer server;
  ASSERT_TRUE(server.start());
  RedisUrl url;
  url.port = std::to_string(server.port());
  auto up = std::make_shared<RedisConnection>(io, url, std::chrono::milliseconds(2000));
  before = RedisConnection::error_counts();
  EXPECT_FALSE(run(io, up, {"PING"}));
  EXPECT_TRUE(run(io, up, {"NO_SUCH_COMMAND"}));
  EXPECT_TRUE(run(io, up, {"EVALSHA", std::string(40, 'a'), "0"}));  // NOSCRIPT: the store reloads the script
  after = RedisConnection::error_counts();
  EXPECT_EQ(after.reply - before.reply, 1u);
  EXPECT_EQ(after.unavailable - before.unavailable, 0u);
  EXPECT_EQ(after.timeout - before.timeout, 0u);
}

}  // namespace
}  // namespace apiproxy::telemetry
