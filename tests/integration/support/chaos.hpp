// A mix of client traffic against misbehaving mock upstreams, for the cross-talk and soak
// tests: every request carries a nonce that the mock echoes ("mock NAME reply to: NONCE"),
// and asks the mock (through its body's "mock" object) for some trouble: 1xx interim
// responses, resets, garbage, oversized headers, trickled bodies, or nothing at all. Some
// clients hang up in the middle. Each outcome is classified; the one that must never happen
// is an answer that is not the request's own.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "adversary.hpp"
#include "data_plane.hpp"

namespace it::chaos {

struct Tally {
  std::atomic<long> own{0};         // 200 with the request's own answer
  std::atomic<long> wrong{0};       // an answer that is not the request's own: never allowed
  std::atomic<long> refused{0};     // an error where the trouble asked for allowed one
  std::atomic<long> unexpected{0};  // an error (or no answer) where the request should have succeeded
  std::atomic<long> hung_up{0};     // the client left on purpose
  std::mutex mu;
  std::vector<std::string> wrong_samples, unexpected_samples;
  std::map<std::string, long> wrong_by_kind, unexpected_by_kind;

  long total() const { return own + wrong + refused + unexpected + hung_up; }
  void note(std::vector<std::string>& samples, const std::string& kind, std::string what) {
    std::lock_guard lock(mu);
    long n = ++(&samples == &wrong_samples ? wrong_by_kind : unexpected_by_kind)[kind];
    if (n <= 2 && samples.size() < 16) samples.push_back(std::move(what));  // a couple of each kind
  }
  std::string summary() {
    std::lock_guard lock(mu);
    std::ostringstream s;
    s << total() << " requests: " << own << " own answers, " << wrong << " WRONG answers, " << refused
      << " allowed refusals, " << unexpected << " unexpected failures, " << hung_up << " hang-ups";
    for (const auto& [kind, n] : wrong_by_kind) s << "\n  wrong after '" << kind << "': " << n;
    for (const auto& [kind, n] : unexpected_by_kind) s << "\n  unexpected after '" << kind << "': " << n;
    for (const auto& w : wrong_samples) s << "\n  wrong: " << w;
    for (const auto& u : unexpected_samples) s << "\n  unexpected: " << u;
    return s.str();
  }
};

// What the next request asks the upstreams for, and what the client may then expect.
struct Trouble {
  std::string name;
  std::string directive;  // inside of the body's "mock" object ("" for none)
  bool stream = false;
  bool must_succeed = true;  // false: every upstream is affected, an error is a fair answer
  bool hang_up = false;      // the client leaves in the middle
};

inline Trouble pick(std::mt19937& rng) {
  auto between = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  auto n = [](int v) { return std::to_string(v); };
  switch (between(0, 13)) {
    case 0: return {"normal", ""};
    case 1: return {"normal stream", "", true};
    case 2: return {"interim", R"("interim":)" + n(between(1, 3)) + R"(,"delay_ms":)" + n(between(0, 30))};
    case 3: return {"interim stream", R"("interim":)" + n(between(1, 2)), true};
    case 4: return {"alpha resets", R"("on":"alpha","reset":)" + n(between(0, 400))};
    case 5: return {"beta sends garbage", R"("on":"beta","garbage":)" + n(between(1, 300))};
    case 6: return {"alpha's huge header", R"("on":"alpha","huge_header":70000)"};
    case 7: return {"slow body", R"("slow_body":{"interval_ms":)" + n(between(5, 25)) + R"(,"bytes":64})"};
    case 8: return {"slow stream", R"("slow_body":{"interval_ms":)" + n(between(5, 25)) + R"(,"bytes":200})", true};
    case 9: return {"hang-up while waiting", R"("delay_ms":)" + n(between(200, 600)), false, true, true};
    case 10: return {"hang-up mid-stream", R"("chunks":8,"chunk_interval_ms":40)", true, true, true};
    case 11: return {"everyone closes mid-answer", R"("close":)" + n(between(0, 500)), false, false};
    case 12: return {"everyone resets mid-stream", R"("reset":)" + n(between(150, 900)), true, false};
    default: return {"interim then a slow body", R"("interim":1,"slow_body":{"interval_ms":10,"bytes":128})"};
  }
}

// One request of the mix, classified into `t`. `model` is a logical model over alpha and
// beta, or a direct alpha/... model.
//
// Trouble for one upstream ("on") may fairly end in a 502: failover needs the other upstream
// as a candidate, and under this mix both fail often enough that routing may leave one out
// for a while (health from the error rate). Failover itself is checked deterministically in
// adversarial_upstream_test; here what counts is that no answer is ever another request's.
inline void one_request(const dp::World& w, const std::string& model, const Trouble& trouble, Tally& t) {
  using namespace std::chrono_literals;
  const std::string n = adv::nonce("x");
  const bool may_fail = !trouble.must_succeed || trouble.directive.find("\"on\"") != std::string::npos;
  const std::string extra = (trouble.stream ? std::string(R"(,"stream":true)") : std::string()) + adv::mock_field(trouble.directive);
  const std::string body = dp::chat_body(model, n, extra);
  auto label = [&] { return trouble.name + " on " + model + " (" + n + ")"; };

  if (trouble.hang_up && !trouble.stream) {
    RawSocket s(w.gateway->port(), 2s);
    s.send("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + base64(dp::kToken) +
           "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
    std::this_thread::sleep_for(std::chrono::milliseconds(50 + static_cast<int>(n.size() % 100)));
    ++t.hung_up;
    return;  // the socket closes here
  }
  if (!trouble.stream) {
    auto r = w.post(dp::kChatPath, body, {}, 20s);
    std::string provider = r.header("x-apiproxy-provider");
    if (r.status == 200) {
      if (adv::answer_text(r.body) == dp::reply_of(provider, n)) {
        ++t.own;
      } else {
        ++t.wrong;
        t.note(t.wrong_samples, trouble.name, label() + ": " + r.dump().substr(0, 600));
      }
      return;
    }
    // Nothing of the answer may carry another request's nonce either.
    if (r.body.find("reply to: x-") != std::string::npos) {
      ++t.wrong;
      t.note(t.wrong_samples, trouble.name, label() + ": " + r.dump().substr(0, 600));
    } else if (may_fail && (r.status == 502 || r.status == 504)) {
      ++t.refused;
    } else {
      ++t.unexpected;
      t.note(t.unexpected_samples, trouble.name, label() + ": " + r.dump().substr(0, 600));
    }
    return;
  }
  auto s = w.stream(dp::kChatPath, body, {}, 20s);
  if (!s->read_head()) {
    ++t.unexpected;
    t.note(t.unexpected_samples, trouble.name, label() + ": no response head");
    return;
  }
  std::string provider = s->header("x-apiproxy-provider");
  const std::string own = dp::reply_of(provider, n);
  if (trouble.hang_up) {
    s->next_event();
    s->close();
    ++t.hung_up;
    return;
  }
  std::string content;
  bool done = false, error = false, torn = false;
  for (auto& e : s->rest()) {
    if (e == "[DONE]") {
      done = true;
      continue;
    }
    rapidjson::Document d;
    d.Parse(e.c_str(), e.size());
    if (d.HasParseError() || !d.IsObject()) {
      torn = true;  // an SDK would fail on this event before it saw any error event after it
      continue;
    }
    if (d.HasMember("error")) error = true;
    if (d.HasMember("choices") && d["choices"].IsArray() && !d["choices"].Empty() && d["choices"][0].IsObject() &&
        d["choices"][0].HasMember("delta") && d["choices"][0]["delta"].IsObject())
      content += str(d["choices"][0]["delta"], "content");
  }
  if (s->status() != 200) {
    if (s->body().find("reply to: x-") != std::string::npos) {
      ++t.wrong;
      t.note(t.wrong_samples, trouble.name, label() + ": status " + std::to_string(s->status()) + " " + s->body().substr(0, 600));
    } else if (may_fail && (s->status() == 502 || s->status() == 504)) {
      ++t.refused;
    } else {
      ++t.unexpected;
      t.note(t.unexpected_samples, trouble.name, label() + ": status " + std::to_string(s->status()) + " " + s->body().substr(0, 600));
    }
    return;
  }
  if (own.rfind(content, 0) != 0) {
    ++t.wrong;
    t.note(t.wrong_samples, trouble.name, label() + ": streamed '" + content + "'");
  } else if (content == own && done && !error && !torn) {
    ++t.own;
  } else if (may_fail && error && !torn) {
    ++t.refused;
  } else {
    ++t.unexpected;
    // A stream cut short must say so in an event the client can parse.
    t.note(t.unexpected_samples, trouble.name, label() + ": stream ended early or carried an event that is not JSON: '" + content +
                                     "', [DONE] " + std::to_string(done) + ", parseable error event " +
                                     std::to_string(error) + ", torn event " + std::to_string(torn) + ", body:\n" +
                                     s->body().substr(0, 800));
  }
}

// `threads` clients sending the mix until `duration` has passed (or `per_thread` requests
// each). `models` are picked at random per request.
inline void run_clients(const dp::World& w, int threads, std::chrono::milliseconds duration, int per_thread,
                        const std::vector<std::string>& models, Tally& t) {
  auto until = std::chrono::steady_clock::now() + duration;
  std::vector<std::thread> pool;
  for (int i = 0; i < threads; ++i)
    pool.emplace_back([&, i] {
      std::mt19937 rng(std::random_device{}() + static_cast<unsigned>(i));
      for (int k = 0; k < per_thread && std::chrono::steady_clock::now() < until; ++k) {
        const std::string& model = models[std::uniform_int_distribution<size_t>(0, models.size() - 1)(rng)];
        one_request(w, model, pick(rng), t);
      }
    });
  for (auto& th : pool) th.join();
}

// Samples a process's RSS every 100 ms while it lives; peak() is the largest seen.
class RssWatch {
 public:
  explicit RssWatch(pid_t pid) : pid_(pid), thread_([this] {
    while (!stop_) {
      long now = adv::rss_kib(pid_);
      if (now > peak_) peak_ = now;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }) {}
  ~RssWatch() {
    stop_ = true;
    thread_.join();
  }
  long peak_kib() const { return peak_; }

 private:
  pid_t pid_;
  std::atomic<bool> stop_{false};
  std::atomic<long> peak_{0};
  std::thread thread_;
};

}  // namespace it::chaos
