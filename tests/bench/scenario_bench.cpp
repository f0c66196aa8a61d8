// apiproxy-scenario-bench: the load driver and scenario runner of tests/bench/scenario_bench.sh.
//
// For one scenario it creates one logical model per routing strategy on a running gateway
// (two upstreams: provider A, which the scenario makes misbehave, and provider B, which stays
// healthy), drives every model at once with closed-loop keep-alive clients for the whole
// timeline (warm-up, before, fault, after), applies the faults to mock A on schedule through
// its control API (or stops and restarts its process), and prints one RESULT line per
// strategy with each bound marked met / NOT MET. Exit status: 0 every bound met (or
// --report-only), 1 a bound not met, 2 a usage or setup error.
//
// Measures (requests counted by the time they started; warm-up excluded throughout):
//   first attempt   with two upstreams, the served provider when X-APIProxy-Attempts is 1,
//                   the other one when it is 2 or more; unknown without the provider header
//   share of A      requests whose first attempt went to A / requests whose first attempt
//                   is known, over some time range
//   errors          non-2xx answers plus transport errors (10 s limit per request)
//   split_before    share of A in [warm-up end, fault start)
//   shift_s         the least t - fault_start, t = fault_start + k * 0.1 s, such that the
//                   share of A in [t, t + 1 s) is below 10 % (windows inside the fault)
//   back_s          the least t - fault_end, t = fault_end + k * 0.1 s, such that the share
//                   of A in [t, t + 1 s) is at least half of A's fair share (windows up to
//                   the end of the run); fair share 50 %, or split_before for prices_slo
//   p50/p99_ms      latency of the requests started during the fault; healthy_p99_ms before
//   split_min/max   fairness: the lowest and highest share of A over [t, t + 10 s), t every
//                   1 s from the warm-up end
//   failed_attempts sum of (attempts - 1), information
// A last line checks the attribution against mock A's own count of chat requests.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <fcntl.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr auto kRequestTimeout = 10s;  // one request, connect to last byte
constexpr auto kControlTimeout = 5s;   // admin and mock control calls
constexpr int kBaseLatencyMs = 5;      // both mocks, outside faults

// Also from the fault schedule while the clients run: no destructors, no joins.
[[noreturn]] void die(const std::string& msg) {
    std::fflush(stdout);
    std::fprintf(stderr, "apiproxy-scenario-bench: %s\n", msg.c_str());
    std::_Exit(2);
}

double seconds_between(Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double>(b - a).count();
}

// ---------------------------------------------------------------------------------------
// HTTP: one kept-alive connection, every operation under one deadline per exchange. The
// operations are asynchronous on an io_context private to the connection (run to
// completion per step), because Beast's timeouts only apply to asynchronous operations.

struct Endpoint {
    std::string host;
    std::uint16_t port = 0;
};

Endpoint parse_http_url(const std::string& url) {
    constexpr std::string_view scheme = "http://";
    std::string_view rest(url);
    if (!rest.starts_with(scheme)) die("not an http:// URL: " + url);
    rest.remove_prefix(scheme.size());
    while (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
    auto colon = rest.rfind(':');
    if (colon == std::string_view::npos) die("URL without a port: " + url);
    Endpoint e;
    e.host = std::string(rest.substr(0, colon));
    auto port = rest.substr(colon + 1);
    unsigned p = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
    if (ec != std::errc() || end != port.data() + port.size() || p == 0 || p > 65535) die("bad port in " + url);
    e.port = static_cast<std::uint16_t>(p);
    return e;
}

struct Reply {
    int status = 0;  // 0: no answer (transport error, see `error`)
    std::string provider;
    int attempts = 0;
    std::string body;
    std::string error;
};

class Connection {
public:
    explicit Connection(const Endpoint& to)
        : host_(to.host + ":" + std::to_string(to.port)),
          endpoint_(asio::ip::make_address(to.host), to.port) {}

    Reply exchange(http::verb method, std::string_view target, std::string_view body,
                   std::string_view bearer = {}, Clock::duration timeout = kRequestTimeout) {
        Reply reply;
        const auto deadline = Clock::now() + timeout;
        beast::error_code ec;
        if (!connected_) {
            beast::error_code open_ec;
            stream_.socket().open(tcp::v4(), open_ec);
            if (open_ec) return fail(reply, "socket", open_ec);
            // Not inherited by the processes --start-a starts (std::system forks this one).
            ::fcntl(stream_.socket().native_handle(), F_SETFD, FD_CLOEXEC);
            stream_.expires_at(deadline);
            stream_.async_connect(endpoint_, [&](beast::error_code e) { ec = e; });
            run();
            if (ec) return fail(reply, "connect", ec);
            connected_ = true;
        }
        http::request<http::string_body> req{method, target, 11};
        req.set(http::field::host, host_);
        if (!bearer.empty()) req.set(http::field::authorization, "Bearer " + std::string(bearer));
        if (method != http::verb::get) {
            req.set(http::field::content_type, "application/json");
            req.body() = body;
            req.prepare_payload();
        }
        stream_.expires_at(deadline);
        http::async_write(stream_, req, [&](beast::error_code e, std::size_t) { ec = e; });
        run();
        if (ec) return fail(reply, "write", ec);

        http::response_parser<http::string_body> parser;
        parser.body_limit(1 << 20);
        stream_.expires_at(deadline);
        http::async_read(stream_, buffer_, parser, [&](beast::error_code e, std::size_t) { ec = e; });
        run();
        if (ec) return fail(reply, "read", ec);
        auto& res = parser.get();
        reply.status = static_cast<int>(res.result_int());
        if (auto it = res.find("X-APIProxy-Provider"); it != res.end()) reply.provider = std::string(it->value());
        if (auto it = res.find("X-APIProxy-Attempts"); it != res.end()) {
            auto v = it->value();
            std::from_chars(v.data(), v.data() + v.size(), reply.attempts);
        }
        reply.body = std::move(res.body());
        if (!res.keep_alive()) close();
        return reply;
    }

    void close() {
        beast::error_code ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
        stream_.socket().close(ignored);
        buffer_.clear();
        connected_ = false;
    }

private:
    void run() {
        ioc_.run();
        ioc_.restart();
    }
    Reply& fail(Reply& r, const char* what, beast::error_code ec) {
        r.error = std::string(what) + ": " + ec.message();
        close();
        return r;
    }

    std::string host_;
    tcp::endpoint endpoint_;
    asio::io_context ioc_;
    beast::tcp_stream stream_{ioc_};
    beast::flat_buffer buffer_;
    bool connected_ = false;
};

// One exchange on a fresh connection (control calls).
Reply call(const Endpoint& to, http::verb method, std::string_view target, std::string_view body = {},
           std::string_view bearer = {}) {
    Connection c(to);
    return c.exchange(method, target, body, bearer, kControlTimeout);
}

std::string describe(const Reply& r) {
    if (r.status == 0) return r.error;
    return "HTTP " + std::to_string(r.status) + ": " + r.body.substr(0, 300);
}

// ---------------------------------------------------------------------------------------
// Scenarios

struct Options {
    Endpoint gateway, mock_a, mock_b;
    std::string token;
    std::string scenario;
    std::vector<std::string> strategies{"latency_first", "cost_first", "reliability_first", "balanced"};
    bool short_form = false;
    bool report_only = false;
    int clients = 8;
    std::string stop_a, start_a;  // shell commands (outage_refused)
};

enum class Kind { brownout, outage, gray, recovery, fairness, prices, flapping };

struct Scenario {
    std::string name;
    Kind kind;
    std::string what;  // one line for the output
    std::string fault_config;  // JSON posted to mock A at the fault start ("" = none / stop)
    bool stop_process = false;
    bool control = false;  // add the single-upstream control model
};

const std::vector<Scenario>& scenarios() {
    static const std::vector<Scenario> all = {
        {"brownout_x10", Kind::brownout, "A's latency 5 -> 50 ms during the fault", R"({"latency_ms":50})"},
        {"brownout_x60", Kind::brownout, "A's latency 5 -> 300 ms during the fault", R"({"latency_ms":300})"},
        {"outage_503", Kind::outage, "A answers 503 to everything during the fault", R"({"status":503})", false, true},
        {"outage_refused", Kind::outage, "A's process is down (connection refused) during the fault", "", true, true},
        {"gray_30", Kind::gray, "A fails 30 % of its requests (503, independent draws) during the fault",
         R"({"error_rate":0.3})"},
        {"recovery", Kind::recovery, "A answers 503 to everything for a long fault, then is healthy",
         R"({"status":503})"},
        {"fairness", Kind::fairness, "no fault: two equal upstreams", ""},
        {"prices_slo", Kind::prices,
         "providers cheap (A) and pricey (B, twice the price); A's latency 5 -> 300 ms during the fault; "
         "gateway has APIPROXY_STRATEGY_COST_FIRST_MAX_LATENCY_MS=100",
         R"({"latency_ms":300})"},
        {"flapping", Kind::flapping, "A alternates 2 s 503 / 2 s healthy during the fault", R"({"status":503})"},
    };
    return all;
}

struct Timeline {
    double warmup, before, fault, after;
    double fault_start() const { return warmup + before; }
    double fault_end() const { return warmup + before + fault; }
    double end() const { return warmup + before + fault + after; }
};

Timeline timeline_of(const Scenario& s, bool short_form) {
    if (s.kind == Kind::fairness) return short_form ? Timeline{2, 14, 0, 0} : Timeline{3, 30, 0, 0};
    Timeline t = short_form ? Timeline{2, 4, 6, 12} : Timeline{3, 7, 12, 14};
    if (s.kind == Kind::recovery) t.fault = short_form ? 8 : 20;
    return t;
}

// ---------------------------------------------------------------------------------------
// Load

struct Sample {
    double start_s;     // since the run's start
    double latency_ms;
    int status;         // 0: transport error
    int first;          // first attempt: 0 = A, 1 = B, -1 unknown
    int attempts;
};

struct Target {
    std::string label;     // strategy name, or "control"
    std::string model;     // logical model id
    std::string strategy;  // "" = the gateway's default (the control model)
    std::vector<std::string> providers;  // A first
    int clients = 0;
    std::chrono::milliseconds pause{0};  // between two requests of one client
    std::vector<std::vector<Sample>> samples;  // per client
};

std::string json_string(std::string_view s) {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
    return buf.GetString();
}

std::string model_document(const Target& t) {
    std::string doc = "{\"logical_id\":" + json_string(t.model);
    if (!t.strategy.empty()) doc += ",\"strategy\":" + json_string(t.strategy);
    doc += ",\"upstreams\":[";
    for (std::size_t i = 0; i < t.providers.size(); ++i) {
        if (i) doc += ",";
        doc += "{\"provider_id\":" + json_string(t.providers[i]) +
               ",\"model_id\":\"gpt-4o-mini\",\"endpoint\":\"/v1/chat/completions\",\"base_weight\":1}";
    }
    return doc + "]}";
}

std::string chat_body(const std::string& model) {
    return "{\"model\":" + json_string(model) + ",\"messages\":[{\"role\":\"user\",\"content\":\"benchmark me\"}]}";
}

// Index in `providers` of the upstream that got the request's first attempt; -1 unknown (no
// provider header: a transport error or the gateway's own error answer).
int first_attempt(const Reply& r, const std::vector<std::string>& providers) {
    int served = -1;
    for (std::size_t i = 0; i < providers.size(); ++i)
        if (r.provider == providers[i]) served = static_cast<int>(i);
    if (served < 0 || providers.size() != 2 || r.attempts < 2) return served;
    return 1 - served;  // two upstreams, a failover: the first attempt failed on the other one
}

void client_loop(const Options& o, Target& t, std::size_t index, Clock::time_point t0, Clock::time_point stop) {
    auto& out = t.samples[index];
    out.reserve(16384);
    Connection conn(o.gateway);
    const std::string body = chat_body(t.model);
    while (Clock::now() < stop) {
        auto s = Clock::now();
        Reply r = conn.exchange(http::verb::post, "/v1/chat/completions", body, o.token);
        auto e = Clock::now();
        out.push_back({seconds_between(t0, s), std::chrono::duration<double, std::milli>(e - s).count(), r.status,
                       first_attempt(r, t.providers), r.attempts});
        if (t.pause.count() > 0) std::this_thread::sleep_for(t.pause);
    }
}

// ---------------------------------------------------------------------------------------
// Faults on mock A

class MockA {
public:
    MockA(const Options& o) : o_(o) {}

    void post_config(const std::string& json) {
        auto r = call(o_.mock_a, http::verb::post, "/__mock/config", json);
        if (r.status != 200) die("mock A refused config " + json + ": " + describe(r));
    }
    // Before the clock starts: the start-up behaviour, base latency, counters zeroed.
    void reset() {
        auto r = call(o_.mock_a, http::verb::post, "/__mock/reset", "");
        if (r.status != 200) die("mock A reset failed: " + describe(r));
        post_config(healthy());
    }
    // The end of a fault: every field a fault sets back to healthy in one POST (atomic, and
    // the counters the final check reads are kept, which POST /__mock/reset would zero).
    void restore() { post_config(healthy()); }
    static std::string healthy() {
        return "{\"latency_ms\":" + std::to_string(kBaseLatencyMs) + ",\"status\":0,\"error_rate\":0,\"fail_first\":0}";
    }
    void stop() {
        if (o_.stop_a.empty()) die("this scenario stops mock A: --stop-a CMD is needed");
        if (std::system(o_.stop_a.c_str()) != 0) die("--stop-a command failed: " + o_.stop_a);
        // Until nothing listens any more.
        for (auto until = Clock::now() + 5s; Clock::now() < until; std::this_thread::sleep_for(20ms)) {
            Connection c(o_.mock_a);
            auto r = c.exchange(http::verb::get, "/__mock/health", "", {}, 1s);
            if (r.status == 0 && r.error.starts_with("connect")) return;
        }
        die("mock A still answers 5 s after --stop-a");
    }
    void start() {
        if (o_.start_a.empty()) die("this scenario restarts mock A: --start-a CMD is needed");
        if (std::system(o_.start_a.c_str()) != 0) die("--start-a command failed: " + o_.start_a);
        if (!wait_healthy(10s)) die("mock A does not answer 10 s after --start-a");
        post_config(healthy());
    }
    // Chat completions mock A received since its last reset (GET /__mock/stats).
    long chat_requests() {
        auto r = call(o_.mock_a, http::verb::get, "/__mock/stats");
        if (r.status != 200) die("mock A stats: " + describe(r));
        rapidjson::Document d;
        d.Parse(r.body.c_str(), r.body.size());
        if (d.HasParseError() || !d.IsObject() || !d.HasMember("by_path") || !d["by_path"].IsObject())
            die("mock A stats: unexpected answer " + r.body.substr(0, 200));
        auto it = d["by_path"].FindMember("/v1/chat/completions");
        return it != d["by_path"].MemberEnd() && it->value.IsUint64() ? long(it->value.GetUint64()) : 0;
    }
    bool wait_healthy(Clock::duration limit) {
        for (auto until = Clock::now() + limit; Clock::now() < until; std::this_thread::sleep_for(20ms)) {
            Connection c(o_.mock_a);
            if (c.exchange(http::verb::get, "/__mock/health", "", {}, 1s).status == 200) return true;
        }
        return false;
    }

private:
    const Options& o_;
};

// ---------------------------------------------------------------------------------------
// Analysis

struct Series {
    std::vector<Sample> s;          // after warm-up, by start time
    std::vector<std::size_t> cum_a;  // prefix counts of first attempts to A
    std::vector<std::size_t> cum_known;

    explicit Series(std::vector<Sample> samples) : s(std::move(samples)) {
        std::sort(s.begin(), s.end(), [](const Sample& x, const Sample& y) { return x.start_s < y.start_s; });
        cum_a.assign(s.size() + 1, 0);
        cum_known.assign(s.size() + 1, 0);
        for (std::size_t i = 0; i < s.size(); ++i) {
            cum_a[i + 1] = cum_a[i] + (s[i].first == 0);
            cum_known[i + 1] = cum_known[i] + (s[i].first >= 0);
        }
    }
    std::size_t index(double t) const {
        return std::lower_bound(s.begin(), s.end(), t, [](const Sample& x, double v) { return x.start_s < v; }) -
               s.begin();
    }
    // Share of A among the known first attempts started in [a, b); NaN when there is none.
    double share(double a, double b) const {
        auto i = index(a), j = index(b);
        auto known = cum_known[j] - cum_known[i];
        return known ? double(cum_a[j] - cum_a[i]) / double(known) : kNaN;
    }
    std::vector<double> latencies(double a, double b) const {
        std::vector<double> v;
        for (auto i = index(a), j = index(b); i < j; ++i) v.push_back(s[i].latency_ms);
        return v;
    }
};

double percentile(std::vector<double> v, double p) {
    if (v.empty()) return kNaN;
    std::sort(v.begin(), v.end());
    auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * double(v.size())));
    return v[std::clamp<std::size_t>(rank, 1, v.size()) - 1];
}

struct Measured {
    std::size_t requests = 0, errors = 0;
    std::size_t fault_requests = 0, fault_errors = 0;
    std::size_t before_errors = 0;  // among the requests answered before the fault began
    long failed_attempts = 0;
    double split_before = kNaN, split_fault = kNaN;
    double shift_s = kNaN, back_s = kNaN;
    double p50 = kNaN, p99 = kNaN, healthy_p99 = kNaN;
    double split_min = kNaN, split_max = kNaN;
    double fair = kNaN;
};

bool is_error(const Sample& x) { return x.status < 200 || x.status > 299; }

// f0, f1: when the fault was applied and lifted (since the run's start); end: when the
// clients stopped starting requests.
Measured analyse(const Target& t, const Timeline& tl, double f0, double f1, double end, bool fair_from_before) {
    std::vector<Sample> kept;
    for (const auto& per_client : t.samples)
        for (const auto& x : per_client)
            if (x.start_s >= tl.warmup) kept.push_back(x);
    Series ser(std::move(kept));
    Measured m;
    m.requests = ser.s.size();
    for (const auto& x : ser.s) {
        bool err = is_error(x);
        m.errors += err;
        if (x.attempts > 1) m.failed_attempts += x.attempts - 1;
        if (tl.fault > 0 && x.start_s >= f0 && x.start_s < f1) {
            ++m.fault_requests;
            m.fault_errors += err;
        } else if (x.start_s + x.latency_ms / 1000 < f0) {
            m.before_errors += err;  // answered before the fault (one in flight may meet it)
        }
    }
    const double before_end = tl.fault > 0 ? f0 : end;
    m.split_before = ser.share(tl.warmup, before_end);
    m.healthy_p99 = percentile(ser.latencies(tl.warmup, before_end), 99);
    if (tl.fault > 0) {
        m.split_fault = ser.share(f0, f1);
        auto during = ser.latencies(f0, f1);
        m.p50 = percentile(during, 50);
        m.p99 = percentile(during, 99);
        constexpr double eps = 1e-9;
        for (int k = 0;; ++k) {
            double at = f0 + 0.1 * k;
            if (at + 1.0 > f1 + eps) break;
            double sh = ser.share(at, at + 1.0);
            if (!std::isnan(sh) && sh < 0.10) {
                m.shift_s = at - f0;
                break;
            }
        }
        m.fair = fair_from_before ? m.split_before : 0.5;
        if (!std::isnan(m.fair)) {
            for (int k = 0;; ++k) {
                double at = f1 + 0.1 * k;
                if (at + 1.0 > end + eps) break;
                double sh = ser.share(at, at + 1.0);
                if (!std::isnan(sh) && sh >= m.fair / 2) {
                    m.back_s = at - f1;
                    break;
                }
            }
        }
    } else {
        for (double at = tl.warmup; at + 10.0 <= end + 1e-9; at += 1.0) {
            double sh = ser.share(at, at + 10.0);
            if (std::isnan(sh)) continue;
            m.split_min = std::isnan(m.split_min) ? sh : std::min(m.split_min, sh);
            m.split_max = std::isnan(m.split_max) ? sh : std::max(m.split_max, sh);
        }
    }
    return m;
}

// ---------------------------------------------------------------------------------------
// Bounds and output

struct Bound {
    std::string text;
    bool met;
};

std::string fmt(const char* f, double v) {
    if (std::isnan(v)) return "-";
    char buf[64];
    std::snprintf(buf, sizeof buf, f, v);
    return buf;
}
std::string pct(double v) { return std::isnan(v) ? "-" : fmt("%.1f%%", 100 * v); }
std::string secs_or_never(double v, double observable) {
    return std::isnan(v) ? ">" + fmt("%.1f", observable) : fmt("%.1f", v);
}

struct Limits {
    double time_mul, p99_ratio, fair_lo, fair_hi, back;
};

Limits limits_of(const Timeline& tl, bool short_form) {
    Limits l{};
    l.time_mul = short_form ? 2 : 1;
    l.p99_ratio = short_form ? 5 : 3;
    l.fair_lo = short_form ? 0.30 : 0.40;
    l.fair_hi = short_form ? 0.70 : 0.60;
    // back_s <= 10 s (x2 in the short form), but never beyond what the after phase can show.
    l.back = std::min(10.0 * l.time_mul, tl.after - 1.0);
    return l;
}

std::vector<Bound> bounds_for(const Scenario& sc, const Target& t, const Measured& m, const Limits& l) {
    std::vector<Bound> b;
    auto errors0 = [&] { b.push_back({"errors=0", m.errors == 0}); };
    auto shift_le = [&](double s) {
        b.push_back({"shift_s<=" + fmt("%g", s), !std::isnan(m.shift_s) && m.shift_s <= s + 1e-9});
    };
    auto back_le = [&] { b.push_back({"back_s<=" + fmt("%g", l.back), !std::isnan(m.back_s) && m.back_s <= l.back + 1e-9}); };
    auto p99_ratio = [&] {
        double limit = l.p99_ratio * m.healthy_p99;
        b.push_back({"p99_ms<=" + fmt("%g", l.p99_ratio) + "x healthy (" + fmt("%.1f", limit) + ")",
                     !std::isnan(m.p99) && !std::isnan(limit) && m.p99 <= limit});
    };
    if (t.label == "control") {
        // The measure itself: a model with A alone must show A's outage to its clients.
        b.push_back({"control: no errors answered before the fault", m.before_errors == 0});
        b.push_back({"control: >=90% errors during the fault",
                     m.fault_requests > 0 && double(m.fault_errors) >= 0.9 * double(m.fault_requests)});
        return b;
    }
    switch (sc.kind) {
        case Kind::brownout:
            errors0(), shift_le(3 * l.time_mul), p99_ratio(), back_le();
            break;
        case Kind::outage: {
            double s = 1 * l.time_mul;
            errors0();
            b.push_back({"shift_s<" + fmt("%g", s), !std::isnan(m.shift_s) && m.shift_s < s});
            back_le();
            break;
        }
        case Kind::gray:
            errors0();
            if (t.strategy == "cost_first") back_le();
            else shift_le(5 * l.time_mul);
            break;
        case Kind::recovery:
            errors0(), back_le();
            break;
        case Kind::fairness: {
            bool ok = !std::isnan(m.split_min) && m.split_min >= l.fair_lo - 1e-9 && m.split_max <= l.fair_hi + 1e-9;
            b.push_back({"split in " + pct(l.fair_lo) + ".." + pct(l.fair_hi) + " every 10 s window", ok});
            break;
        }
        case Kind::prices:
            if (t.strategy != "cost_first") break;  // report only
            b.push_back({"split_before>=90%", !std::isnan(m.split_before) && m.split_before >= 0.9});
            shift_le(3 * l.time_mul), back_le(), errors0();
            break;
        case Kind::flapping:
            errors0(), p99_ratio();
            break;
    }
    return b;
}

void print_result(const Scenario& sc, const Target& t, const Measured& m, const Timeline& tl,
                  const std::vector<Bound>& bounds, double run_s) {
    std::string line = "RESULT scenario=" + sc.name + " strategy=" + t.label;
    line += " requests=" + std::to_string(m.requests) + " req_s=" + fmt("%.0f", double(m.requests) / run_s);
    line += " errors=" + std::to_string(m.errors);
    if (t.label == "control") {
        line += " split_before=" + pct(m.split_before) + " fault_errors=" + std::to_string(m.fault_errors) + "/" +
                std::to_string(m.fault_requests) + " healthy_p99_ms=" + fmt("%.1f", m.healthy_p99);
    } else if (sc.kind == Kind::fairness) {
        line += " split=" + pct(m.split_before) + " split_min=" + pct(m.split_min) + " split_max=" + pct(m.split_max);
        line += " p99_ms=" + fmt("%.1f", m.healthy_p99);
    } else {
        line += " split_before=" + pct(m.split_before) + " split_fault=" + pct(m.split_fault);
        line += " shift_s=" + secs_or_never(m.shift_s, tl.fault - 1) + " p50_ms=" + fmt("%.1f", m.p50) +
                " p99_ms=" + fmt("%.1f", m.p99) + " healthy_p99_ms=" + fmt("%.1f", m.healthy_p99) +
                " back_s=" + secs_or_never(m.back_s, tl.after - 1);
    }
    line += " failed_attempts=" + std::to_string(m.failed_attempts);
    line += " |";
    if (bounds.empty()) line += " report only (no bounds for this strategy in this scenario)";
    for (std::size_t i = 0; i < bounds.size(); ++i)
        line += std::string(i ? ";" : "") + " " + bounds[i].text + (bounds[i].met ? " met" : " NOT MET");
    std::printf("%s\n", line.c_str());
}

// ---------------------------------------------------------------------------------------

std::vector<std::string> split_list(std::string_view csv) {
    std::vector<std::string> out;
    while (!csv.empty()) {
        auto comma = csv.find(',');
        auto item = csv.substr(0, comma);
        if (!item.empty()) out.emplace_back(item);
        if (comma == std::string_view::npos) break;
        csv.remove_prefix(comma + 1);
    }
    return out;
}

const char* kUsage =
    "usage: apiproxy-scenario-bench --gateway URL --token BASE64 --mock-a URL --mock-b URL\n"
    "         --scenario NAME [--strategies a,b,...] [--clients N] [--short] [--report-only]\n"
    "         [--stop-a CMD --start-a CMD]\n"
    "       apiproxy-scenario-bench --list\n"
    "Runs one scenario of tests/bench/scenario_bench.sh against a running gateway and two mock\n"
    "upstreams (URLs http://127.0.0.1:PORT). --stop-a/--start-a: shell commands that stop and\n"
    "restart mock A's process on the same port (outage_refused). Exit status: 0 all bounds met\n"
    "(or --report-only), 1 a bound not met, 2 a usage or setup error.\n";

Options parse(int argc, char** argv) {
    Options o;
    bool have_gw = false, have_a = false, have_b = false;
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) die(std::string(arg) + ": missing value");
            return argv[++i];
        };
        if (arg == "--help" || arg == "-h") {
            std::fputs(kUsage, stdout);
            std::exit(0);
        } else if (arg == "--list") {
            for (const auto& s : scenarios()) std::printf("%s\n", s.name.c_str());
            std::exit(0);
        } else if (arg == "--gateway") o.gateway = parse_http_url(value()), have_gw = true;
        else if (arg == "--mock-a") o.mock_a = parse_http_url(value()), have_a = true;
        else if (arg == "--mock-b") o.mock_b = parse_http_url(value()), have_b = true;
        else if (arg == "--token") o.token = value();
        else if (arg == "--scenario") o.scenario = value();
        else if (arg == "--strategies") o.strategies = split_list(value());
        else if (arg == "--short") o.short_form = true;
        else if (arg == "--report-only") o.report_only = true;
        else if (arg == "--stop-a") o.stop_a = value();
        else if (arg == "--start-a") o.start_a = value();
        else if (arg == "--clients") {
            std::string v = value();
            auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), o.clients);
            if (ec != std::errc() || end != v.data() + v.size() || o.clients < 1 || o.clients > 256)
                die("--clients: expected 1..256, got '" + v + "'");
        } else {
            std::fprintf(stderr, "%s", kUsage);
            die("unknown argument: " + std::string(arg));
        }
    }
    if (!have_gw || !have_a || !have_b || o.scenario.empty()) {
        std::fprintf(stderr, "%s", kUsage);
        die("--gateway, --mock-a, --mock-b and --scenario are required");
    }
    if (o.strategies.empty()) die("--strategies: empty list");
    return o;
}

int run(const Options& o) {
    const Scenario* found = nullptr;
    for (const auto& s : scenarios())
        if (s.name == o.scenario) found = &s;
    if (!found) die("unknown scenario '" + o.scenario + "' (--list shows them)");
    const Scenario& sc = *found;
    const Timeline tl = timeline_of(sc, o.short_form);
    const Limits lim = limits_of(tl, o.short_form);

    // Both mocks healthy at the base latency.
    MockA mock_a(o);
    if (!mock_a.wait_healthy(5s)) die("mock A does not answer at " + o.mock_a.host + ":" + std::to_string(o.mock_a.port));
    mock_a.reset();
    auto reset_mock_b = [&] {
        for (const char* path : {"/__mock/reset", "/__mock/config"}) {
            std::string body = std::string_view(path) == "/__mock/config"
                                   ? "{\"latency_ms\":" + std::to_string(kBaseLatencyMs) + "}"
                                   : "";
            auto r = call(o.mock_b, http::verb::post, path, body);
            if (r.status != 200) die("mock B: POST " + std::string(path) + ": " + describe(r));
        }
    };
    reset_mock_b();

    // One logical model per strategy (and the control), under names no earlier run used.
    const std::string run_id = [] {
        auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch());
        char buf[32];
        std::snprintf(buf, sizeof buf, "%llx", static_cast<unsigned long long>(ms.count()) & 0xffffffULL);
        return std::string(buf);
    }();
    const bool prices = sc.kind == Kind::prices;
    const std::vector<std::string> pair = prices ? std::vector<std::string>{"cheap", "pricey"}
                                                 : std::vector<std::string>{"a", "b"};
    std::vector<Target> targets;
    for (const auto& s : o.strategies) {
        Target t;
        t.label = s;
        t.strategy = s;
        t.model = "sc-" + sc.name + "-" + s + "-" + run_id;
        t.providers = pair;
        t.clients = o.clients;
        targets.push_back(std::move(t));
    }
    if (sc.control) {
        Target t;
        t.label = "control";
        t.model = "sc-" + sc.name + "-control-" + run_id;
        t.providers = {"a"};
        t.clients = 2;
        t.pause = 5ms;  // its errors come back at once: do not let it spin
        targets.push_back(std::move(t));
    }
    for (auto& t : targets) {
        auto r = call(o.gateway, http::verb::put, "/logical-models/" + t.model, model_document(t), o.token);
        if (r.status < 200 || r.status > 299) die("PUT /logical-models/" + t.model + ": " + describe(r));
        // Usable at once? One request must succeed before the clock starts.
        bool ok = false;
        for (auto until = Clock::now() + 5s; !ok && Clock::now() < until;) {
            auto c = call(o.gateway, http::verb::post, "/v1/chat/completions", chat_body(t.model), o.token);
            ok = c.status == 200;
            if (!ok) std::this_thread::sleep_for(100ms);
        }
        if (!ok) die("the new logical model " + t.model + " does not answer 200");
        t.samples.resize(static_cast<std::size_t>(t.clients));
    }

    // Counters from zero, for the check at the end: the readiness requests are not in it.
    mock_a.reset();
    reset_mock_b();

    std::printf("scenario %s: %s\n", sc.name.c_str(), sc.what.c_str());
    if (tl.fault > 0)
        std::printf("  timeline%s: warm-up %g s (not counted), before %g s, fault %g s, after %g s; ",
                    o.short_form ? " (short)" : "", tl.warmup, tl.before, tl.fault, tl.after);
    else
        std::printf("  timeline%s: warm-up %g s (not counted), measured %g s; ", o.short_form ? " (short)" : "",
                    tl.warmup, tl.before);
    std::printf("%zu strateg%s x %d closed-loop clients%s\n", o.strategies.size(),
                o.strategies.size() == 1 ? "y" : "ies", o.clients,
                sc.control ? ", plus a control model with A alone (2 clients)" : "");
    std::fflush(stdout);

    // Go: every client, then the fault schedule on this thread.
    const auto t0 = Clock::now();
    const auto stop = t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(tl.end()));
    std::vector<std::thread> threads;
    for (auto& t : targets)
        for (std::size_t i = 0; i < t.samples.size(); ++i)
            threads.emplace_back(client_loop, std::cref(o), std::ref(t), i, t0, stop);

    auto at = [&](double s) { return t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s)); };
    double f0 = tl.fault_start(), f1 = tl.fault_end();
    if (tl.fault > 0) {
        std::this_thread::sleep_until(at(tl.fault_start()));
        f0 = seconds_between(t0, Clock::now());
        if (sc.stop_process) mock_a.stop();
        else mock_a.post_config(sc.fault_config);
        if (sc.kind == Kind::flapping) {
            // 2 s down, 2 s up, ... until the fault's end.
            bool down = true;
            for (double next = tl.fault_start() + 2; next < tl.fault_end() - 1e-9; next += 2) {
                std::this_thread::sleep_until(at(next));
                if (down) mock_a.restore();
                else mock_a.post_config(sc.fault_config);
                down = !down;
            }
        }
        std::this_thread::sleep_until(at(tl.fault_end()));
        f1 = seconds_between(t0, Clock::now());
        if (sc.stop_process) mock_a.start();
        else mock_a.restore();
        std::printf("  fault applied at %.3f s, lifted at %.3f s (planned %g / %g)\n", f0, f1, tl.fault_start(),
                    tl.fault_end());
    }
    for (auto& th : threads) th.join();
    const double end = tl.end();

    int bounds_total = 0, not_met = 0;
    for (const auto& t : targets) {
        Measured m = analyse(t, tl, f0, f1, end, prices);
        auto b = bounds_for(sc, t, m, lim);
        print_result(sc, t, m, tl, b, end - tl.warmup);
        for (const auto& x : b) {
            ++bounds_total;
            not_met += !x.met;
        }
    }
    // The measure checked against the upstream: every attempt the driver attributes to A
    // (a first attempt, or a failover's second attempt) must be one mock A counted; requests
    // without a known route (transport errors, answers without the provider header) may
    // each have reached A once more. Not possible when A's process (and count) restarted.
    if (!sc.stop_process) {
        long attributed = 0, unknown = 0;
        for (const auto& t : targets)
            for (const auto& per_client : t.samples)
                for (const auto& x : per_client) {
                    if (x.first < 0) ++unknown;
                    else attributed += (x.first == 0) + (x.first == 1 && x.attempts >= 2);
                }
        long counted = mock_a.chat_requests();
        bool ok = counted >= attributed && counted <= attributed + unknown;
        std::printf("RESULT scenario=%s strategy=check mock_a_chat_requests=%ld driver_attempts_to_a=%ld "
                    "unknown_route=%ld | mock A's count matches the driver's attribution%s\n",
                    sc.name.c_str(), counted, attributed, unknown, ok ? " met" : " NOT MET");
        ++bounds_total;
        not_met += !ok;
    }
    std::printf("SUMMARY scenario=%s bounds=%d met=%d not_met=%d%s\n", sc.name.c_str(), bounds_total,
                bounds_total - not_met, not_met, o.report_only ? " (report only)" : "");
    std::fflush(stdout);
    return not_met > 0 && !o.report_only ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(parse(argc, argv));
    } catch (const std::exception& e) {
        die(e.what());
    }
}
