// Issue 9: what attackers sent the gateway, as a client. Every answer here is a 400-class
// refusal (or a closed connection) and the process survives, small and well:
//   JSON nested far too deep (contract item 1), model names that are too long or carry
//   control or non-ASCII bytes, and header injection through them (2), forged access-log
//   lines (3), session ids (4), header sections, chunk extensions and trailers that never end
//   (5), Transfer-Encoding tricks (6), duplicate top-level keys (14).
// Real gateway, plugins, redis-server and mocks (support/data_plane.hpp).
#include <atomic>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "adversary.hpp"
#include "assertions.hpp"
#include "data_plane.hpp"

namespace it {
namespace {

using namespace dp;
using namespace std::chrono_literals;
using adv::ControlError;
using adv::OpenAiError;

std::string deep_arrays(size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }
std::string deep_objects(size_t depth) {
  std::string out;
  out.reserve(depth * 6 + 1);
  for (size_t i = 0; i < depth; ++i) out += "{\"a\":";
  out += "1";
  out.append(depth, '}');
  return out;
}

// A raw HTTP/1.1 request with the data-plane token, Content-Length and Connection: close.
std::string raw_request(std::string_view method, std::string_view target, std::string_view body,
                        std::string_view extra_headers = "") {
  std::string r = std::string(method) + " " + std::string(target) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
                  "Authorization: Bearer " + base64(kToken) + "\r\nConnection: close\r\n" + std::string(extra_headers);
  if (!body.empty() || method == "POST" || method == "PUT")
    r += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  return r + "\r\n" + std::string(body);
}

class AdversarialInput : public ::testing::Test {
 protected:
  void SetUp() override { world.start({{"APIPROXY_MAX_BODY_BYTES", "4194304"}}); }
  void TearDown() override {
    ASSERT_TRUE(world.gateway->running()) << "the gateway died";
    auto h = world.client().get("/health");
    EXPECT_EQ(h.status, 200) << h.dump();
    // And it still serves the data plane.
    std::string n = adv::nonce("after");
    auto r = world.chat("chat-pool", n);
    ASSERT_EQ(r.status, 200) << r.dump();
    EXPECT_EQ(adv::answer_text(r.body), reply_of(r.header("x-apiproxy-provider"), n));
  }

  World world;
};

// ------------------------------------------------------------ 1: nesting depth ---

TEST_F(AdversarialInput, JsonNestedDeeperThan64LevelsIs400InvalidJsonOnTheDataPlane) {
  const std::string head = R"({"model":"chat-pool","messages":[{"role":"user","content":"deep"}],"x":)";
  const std::vector<std::pair<std::string, std::string>> bodies = {
      {"300k nested arrays in a member", head + deep_arrays(300000) + "}"},
      {"300k nested arrays as the body", deep_arrays(300000)},
      {"150k nested objects in a member", head + deep_objects(150000) + "}"},
      {"500k unclosed arrays", head + std::string(500000, '[')},
      {"100 nested arrays", head + deep_arrays(100) + "}"},
      {"100 nested objects", head + deep_objects(100) + "}"},
  };
  for (const auto& [what, body] : bodies) {
    SCOPED_TRACE(what);
    auto r = world.post(kChatPath, body, {}, 20s);
    EXPECT_TRUE(OpenAiError(r, 400, "invalid_json"));
    ASSERT_TRUE(world.gateway->running()) << "the gateway died on " << what;
  }
  for (const char* path : {"/v1/completions", "/v1/embeddings"}) {
    SCOPED_TRACE(path);
    auto r = world.post(path, R"({"model":"chat-pool","prompt":"x","input":"x","x":)" + deep_arrays(300000) + "}", {}, 20s);
    EXPECT_TRUE(OpenAiError(r, 400, "invalid_json"));
    ASSERT_TRUE(world.gateway->running());
  }
}

TEST_F(AdversarialInput, ModeratelyNestedJsonIsStillServed) {
  // 20 levels inside a member: ordinary (tool schemas nest like this) and forwarded.
  std::string n = adv::nonce("nest20");
  auto r = world.chat("chat-pool", n, {}, R"(,"x":)" + deep_arrays(20) + R"(,"y":)" + deep_objects(20));
  ASSERT_EQ(r.status, 200) << r.dump();
  EXPECT_EQ(adv::answer_text(r.body), reply_of(r.header("x-apiproxy-provider"), n));
}

TEST_F(AdversarialInput, JsonNestedTooDeepIs400OnTheControlPlane) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"/routing/decide arrays", R"({"logical_model":"chat-pool","x":)" + deep_arrays(300000) + "}"},
      {"/routing/decide objects", R"({"logical_model":"chat-pool","x":)" + deep_objects(150000) + "}"},
      {"/routing/decide 100", R"({"logical_model":"chat-pool","x":)" + deep_arrays(100) + "}"},
  };
  for (const auto& [what, body] : cases) {
    SCOPED_TRACE(what);
    EXPECT_TRUE(ControlError(world.post("/routing/decide", body, {}, 20s), 400));
    ASSERT_TRUE(world.gateway->running());
  }
  for (const auto& body : {R"({"upstreams":[],"description":"x","x":)" + deep_arrays(300000) + "}",
                           R"({"upstreams":[],"x":)" + deep_objects(150000) + "}", deep_arrays(300000),
                           R"({"upstreams":[],"x":)" + deep_arrays(100) + "}"}) {
    SCOPED_TRACE(body.substr(0, 40));
    auto r = world.client(20s).put("/logical-models/deep", body, {bearer(kToken)});
    EXPECT_TRUE(ControlError(r, 400));
    ASSERT_TRUE(world.gateway->running());
  }
  EXPECT_EQ(world.get("/logical-models/deep").status, 404) << "nothing was stored";
}

// ------------------------------------------------------------- 2: model names ---

TEST_F(AdversarialInput, OverlongOrNonPrintableModelIs400InvalidModel) {
  const std::vector<std::pair<std::string, std::string>> models = {
      {"257 bytes", std::string(257, 'a')},
      {"70 KB", std::string(70 * 1024, 'm')},
      {"70 KB after a provider", "alpha/" + std::string(70 * 1024, 'm')},
      {"CR LF header injection", "chat-pool\r\nSet-Cookie: injected=1"},
      {"LF", "chat-pool\n"},
      {"CR", "chat\rpool"},
      {"NUL", std::string("chat\0pool", 9)},
      {"TAB", "chat\tpool"},
      {"DEL", "chat\x7fpool"},
      {"non-ASCII", "mod\xc3\xa8le"},
      {"non-ASCII after a provider", "alpha/gpt-\xe2\x80\x8b" "4o"},
  };
  for (const auto& [what, model] : models) {
    SCOPED_TRACE(what);
    EXPECT_TRUE(OpenAiError(world.post(kChatPath, chat_body(model, "x")), 400, "invalid_model", "model"));
    EXPECT_TRUE(OpenAiError(world.post(kChatPath, chat_body(model, "x", R"(,"stream":true)")), 400, "invalid_model", "model"));
    EXPECT_TRUE(OpenAiError(world.post("/v1/completions", "{\"model\":" + quote(model) + ",\"prompt\":\"x\"}"), 400,
                            "invalid_model", "model"));
    EXPECT_TRUE(OpenAiError(world.post("/v1/embeddings", "{\"model\":" + quote(model) + ",\"input\":\"x\"}"), 400,
                            "invalid_model", "model"));
    ASSERT_TRUE(world.gateway->running());
  }
  // 256 printable bytes are a well-formed name that simply does not exist.
  EXPECT_TRUE(OpenAiError(world.post(kChatPath, chat_body(std::string(256, 'a'), "x")), 404, "model_not_found"));
  // Nothing of it reached an upstream.
  EXPECT_EQ(world.count("alpha") + world.count("beta"), 0);
}

TEST_F(AdversarialInput, NoEndpointLetsANameInjectAResponseHeader) {
  // An operator's logical model whose upstream model id carries CR LF, straight into Redis.
  world.redis.cli({"SET", "llm:logical:injected",
                   logical("injected", {physical("alpha", "gpt-4o-mini\r\nSet-Cookie: injected=1")})});
  // The catalog picks it up within a second, unless it refuses such an id.
  eventually([&] { return Contains(world.get("/v1/models").body, "\"injected\""); }, 3s, 100ms);
  const std::string bad = "chat-pool\r\nSet-Cookie: injected=1";
  const std::string path_bad = "x%0D%0ASet-Cookie:%20injected=1";
  const std::string model_ok = R"({"upstreams":[{"provider_id":"alpha","model_id":"gpt-4o-mini","base_weight":1}]})";
  const std::vector<std::string> requests = {
      raw_request("POST", kChatPath, chat_body(bad, "x")),
      raw_request("POST", kChatPath, chat_body(bad, "x", R"(,"stream":true)")),
      raw_request("POST", "/v1/completions", "{\"model\":" + quote(bad) + ",\"prompt\":\"x\"}"),
      raw_request("POST", "/v1/embeddings", "{\"model\":" + quote(bad) + ",\"input\":\"x\"}"),
      raw_request("POST", kChatPath, chat_body("alpha/gpt-4o-mini\r\nSet-Cookie: injected=1", "x")),
      raw_request("POST", kChatPath, chat_body("injected", "x")),
      raw_request("POST", kChatPath, chat_body("injected", "x", R"(,"stream":true)")),
      raw_request("POST", "/routing/decide", "{\"logical_model\":" + quote(bad) + "}"),
      raw_request("POST", "/routing/decide", R"({"logical_model":"injected"})"),
      raw_request("POST", "/routing/decide", "{\"logical_model\":\"chat-pool\",\"conversation_id\":" + quote(bad) + "}"),
      raw_request("GET", "/logical-models/" + path_bad, ""),
      raw_request("GET", "/logical-models/" + path_bad + "/upstreams", ""),
      raw_request("PUT", "/logical-models/" + path_bad, model_ok),
      raw_request("DELETE", "/logical-models/" + path_bad, ""),
      raw_request("GET", "/providers/" + path_bad, ""),
      raw_request("GET", "/providers/" + path_bad + "/models", ""),
      raw_request("GET", "/providers/" + path_bad + "/health", ""),
      raw_request("GET", "/routing/sessions/" + path_bad, ""),
      raw_request("DELETE", "/routing/sessions/" + path_bad, ""),
      raw_request("GET", "/v1/models/" + path_bad, ""),
      raw_request("GET", "/" + path_bad, ""),
      // obs-fold: a header value continued on the next line.
      raw_request("POST", kChatPath, chat_body("chat-pool", "x"), "X-Request-Id: fold\r\n Set-Cookie: injected=1\r\n"),
      raw_request("POST", kChatPath, chat_body("chat-pool", "x"), "X-Session-Id: fold\r\n Set-Cookie: injected=1\r\n"),
  };
  for (const auto& req : requests) {
    SCOPED_TRACE(req.substr(0, req.find("\r\n")) + " " + req.substr(req.size() > 120 ? req.size() - 120 : 0));
    std::string got = send_raw(world.gateway->port(), req, /*half_close=*/false, 10s);
    std::string head = adv::head_of(got);
    EXPECT_GT(adv::status_of(got), 0) << "no answer:\n" << got.substr(0, 500);
    EXPECT_TRUE(adv::header_lines(head, "set-cookie").empty()) << "a header was injected:\n" << head;
    ASSERT_TRUE(world.gateway->running());
  }
}

// ---------------------------------------------------------- 3: forged log lines ---

// A whole access line as the text and JSON formats write it, for request id `id`.
std::string forged_text_line(const std::string& id) {
  return "2030-01-01T00:00:00.000+0000 info access id=" + id + " GET /admin status=200 ms=1 model=forged";
}
std::string forged_json_line(const std::string& id) {
  return R"({"time":"2030-01-01T00:00:00.000Z","level":"info","logger":"access","msg":"access","access":{"request_id":")" +
         id + R"(","method":"GET","path":"/admin","status":200}})";
}

std::string percent_encode(std::string_view s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

// Requests that each carry a newline and a forged access line somewhere: in the model, the
// conversation id, a folded X-Session-Id / X-Request-Id, the path. Each has its own clean
// X-Request-Id acc-N (but the folded X-Request-Id one), so its own access line can be found.
// Returns the acc-N ids.
std::vector<std::string> send_forgeries(World& world, bool json) {
  auto forged = [json](int i) {
    std::string id = "forged-" + std::to_string(i);
    return json ? forged_json_line(id) : forged_text_line(id);
  };
  std::vector<std::string> ids;
  auto id = [&ids](int i) {
    ids.push_back("acc-" + std::to_string(i));
    return "X-Request-Id: " + ids.back() + "\r\n";
  };
  uint16_t port = world.gateway->port();
  auto send = [&](const std::string& req) {
    std::string got = send_raw(port, req, /*half_close=*/false, 10s);
    EXPECT_GT(adv::status_of(got), 0) << "no answer to:\n" << req.substr(0, 300);
  };
  send(raw_request("POST", kChatPath, chat_body("chat-pool\n" + forged(1), "x"), id(1)));
  send(raw_request("POST", kChatPath, chat_body("chat-pool\r\n" + forged(2), "x", R"(,"stream":true)"), id(2)));
  send(raw_request("POST", kChatPath, chat_body("chat-pool", "x", ",\"conversation_id\":" + quote("c\n" + forged(3))), id(3)));
  send(raw_request("POST", kChatPath, chat_body("chat-pool", "x"), id(4) + "X-Session-Id: s\r\n " + forged(4) + "\r\n"));
  send(raw_request("POST", kChatPath + std::string("%0A") + percent_encode(forged(5)), chat_body("chat-pool", "x"), id(5)));
  send(raw_request("GET", "/logical-models/x%0A" + percent_encode(forged(6)), "", id(6)));
  send(raw_request("GET", "/v1/models%0D%0A" + percent_encode(forged(7)), "", id(7)));
  send(raw_request("POST", "/routing/decide", "{\"logical_model\":" + quote("chat-pool\n" + forged(8)) + "}", id(8)));
  send(raw_request("POST", kChatPath, chat_body("alpha/gpt-4o-mini\n" + forged(9), "x"), id(9)));
  // A folded X-Request-Id: whatever id the gateway makes of it, no line may be forged.
  send(raw_request("POST", kChatPath, chat_body("chat-pool", "x"), "X-Request-Id: acc-fold\r\n " + forged(10) + "\r\n"));
  return ids;
}

TEST(AdversarialLog, TextAccessLogGetsExactlyOneLinePerRequestAndNoForgedOne) {
  World world;
  world.start();
  auto ids = send_forgeries(world, /*json=*/false);
  world.gateway->stop();
  std::string log = world.gateway->log();
  auto lines = lines_of(log);
  for (const auto& line : lines) {
    EXPECT_NE(line.rfind("2030-01-01T", 0), 0u) << "a forged line:\n" << line;
  }
  for (const auto& id : ids) {
    int n = 0;
    for (const auto& line : lines) n += line.find(" access id=" + id + " ") != std::string::npos;
    EXPECT_EQ(n, 1) << "access lines for " << id << " in:\n" << log.substr(log.size() > 20000 ? log.size() - 20000 : 0);
  }
}

TEST(AdversarialLog, JsonAccessLogGetsExactlyOneObjectPerRequestAndNoForgedOne) {
  World world;
  world.start({{"LOG_FORMAT", "json"}});
  auto ids = send_forgeries(world, /*json=*/true);
  world.gateway->stop();
  std::string log = world.gateway->log();
  std::map<std::string, int> seen;
  for (const auto& line : lines_of(log)) {
    rapidjson::Document d;
    d.Parse(line.c_str(), line.size());
    ASSERT_FALSE(d.HasParseError()) << "not a JSON line (forged or broken):\n" << line;
    ASSERT_TRUE(d.IsObject()) << line;
    EXPECT_NE(str(d, "time").rfind("2030-", 0), 0u) << "a forged line:\n" << line;
    if (str(d, "logger") != "access" || !d.HasMember("access") || !d["access"].IsObject()) continue;
    std::string id = str(d["access"], "request_id");
    EXPECT_NE(id.rfind("forged-", 0), 0u) << "a forged access object:\n" << line;
    ++seen[id];
  }
  for (const auto& id : ids) EXPECT_EQ(seen[id], 1) << "access objects for " << id << " in:\n" << log.substr(0, 20000);
}

// ---------------------------------------------------------------- 4: session ids ---

TEST_F(AdversarialInput, SessionIdsOutsideTheirAlphabetOrLengthAre400) {
  // The header.
  for (const std::string& bad : {std::string(129, 's'), std::string("a b"), std::string("a\tb"), std::string("s\xc3\xa9ss")}) {
    SCOPED_TRACE("X-Session-Id: " + bad);
    EXPECT_TRUE(OpenAiError(world.chat("chat-pool", "x", {{"X-Session-Id", bad}}), 400, "invalid_session_id"));
  }
  // The body field, as a string that is not a valid id, or not a string at all.
  for (const std::string& bad : {quote(""), quote(std::string(129, 'c')), quote("a b"), quote("c\nd"), quote("c\r\nd"),
                                 quote(std::string("c\0d", 3)), quote("c\xc3\xa9"), std::string("42"), std::string("{\"id\":\"x\"}"),
                                 std::string("[\"x\"]"), std::string("true")}) {
    SCOPED_TRACE("conversation_id: " + bad);
    EXPECT_TRUE(OpenAiError(world.chat("chat-pool", "x", {}, ",\"conversation_id\":" + bad), 400, "invalid_session_id"));
  }
  // Nothing reached an upstream.
  EXPECT_EQ(world.count("alpha") + world.count("beta"), 0);
  // The edges of the alphabet and the length are fine.
  std::string longest;
  for (int i = 0; i < 128; ++i) longest += static_cast<char>('!' + i % ('~' - '!' + 1));
  for (const auto& good : {longest, std::string("x"), std::string("!~")}) {
    SCOPED_TRACE(good);
    std::string n = adv::nonce("sess");
    auto h = world.chat("chat-pool", n, {{"X-Session-Id", good}});
    ASSERT_EQ(h.status, 200) << h.dump();
    EXPECT_EQ(adv::answer_text(h.body), reply_of(h.header("x-apiproxy-provider"), n));
    auto b = world.chat("chat-pool", n, {}, ",\"conversation_id\":" + quote(good));
    ASSERT_EQ(b.status, 200) << b.dump();
    // The conversation stays on its upstream.
    EXPECT_EQ(b.header("x-apiproxy-provider"), h.header("x-apiproxy-provider"));
  }
}

TEST_F(AdversarialInput, RoutingDecideRefusesAnInvalidConversationId) {
  for (const std::string& bad : {quote(std::string(129, 'c')), quote("a\nb"), std::string("7")}) {
    SCOPED_TRACE(bad);
    EXPECT_TRUE(ControlError(world.post("/routing/decide", R"({"logical_model":"chat-pool","conversation_id":)" + bad + "}"), 400));
  }
  EXPECT_EQ(world.post("/routing/decide", R"({"logical_model":"chat-pool","conversation_id":"ok-1"})").status, 200);
}

// ------------------------------------------------- 5: sections that never end ---

struct FloodKind {
  std::string name;
  std::string prefix;  // the request up to where it starts to grow
  std::string filler;  // repeated for ever
};

std::vector<FloodKind> flood_kinds() {
  std::string auth = "Authorization: Bearer " + base64(kToken) + "\r\n";
  std::string post = "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n" + auth;
  std::string many_headers;
  for (int i = 0; i < 512; ++i) many_headers += "X-Pad-" + std::to_string(i) + ": " + std::string(100, 'h') + "\r\n";
  return {
      {"one header value", post + "X-Endless: ", std::string(64 * 1024, 'a')},
      {"many headers", post, many_headers},
      {"a request line", "GET /" , std::string(64 * 1024, 'p')},
      {"a chunk extension", post + "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n1;ext=",
       std::string(64 * 1024, 'e')},
      {"a trailer", post + "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\nX-Trailer: ",
       std::string(64 * 1024, 't')},
      {"many trailers", post + "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n",
       many_headers},
  };
}

TEST_F(AdversarialInput, SectionsThatNeverEndAreCutOffAndMemoryStaysBounded) {
  constexpr size_t kPerConnection = 50u * 1024 * 1024;  // 4 connections: 200 MB of each kind
  constexpr int kConnections = 4;
  const pid_t pid = world.gateway->process().pid();
  const long base = adv::rss_kib(pid);
  ASSERT_GT(base, 0);
  std::atomic<long> peak{base};
  std::atomic<bool> sampling{true};
  std::thread sampler([&] {
    while (sampling) {
      long now = adv::rss_kib(pid);
      if (now > peak) peak = now;
      std::this_thread::sleep_for(20ms);
    }
  });

  for (const auto& kind : flood_kinds()) {
    SCOPED_TRACE(kind.name);
    struct Outcome {
      size_t sent = 0;
      adv::Flood::Sent last = adv::Flood::Sent::all;
      std::string answer;
      bool closed = false;
    };
    std::vector<Outcome> out(kConnections);
    std::vector<std::thread> threads;
    auto started = Clock::now();
    for (int c = 0; c < kConnections; ++c)
      threads.emplace_back([&, c] {
        adv::Flood f(world.gateway->port());
        if (!f.connected()) return;
        auto r = f.send(kind.prefix);
        while (r == adv::Flood::Sent::all && f.bytes_sent() < kPerConnection && Clock::now() - started < 20s)
          r = f.send(kind.filler);
        out[c].sent = f.bytes_sent();
        out[c].last = r;
        out[c].answer = f.read(5s, out[c].closed);
      });
    for (auto& t : threads) t.join();
    std::cerr << "[ flood ] " << kind.name << ":";
    for (const auto& o : out)
      std::cerr << " " << o.sent / 1024 << " KiB sent, answered " << adv::status_of(o.answer)
                << (o.closed || o.last == adv::Flood::Sent::closed ? ", closed;" : ", open;");
    std::cerr << " RSS " << adv::rss_kib(pid) / 1024 << " MiB\n";
    for (int c = 0; c < kConnections; ++c) {
      SCOPED_TRACE("connection " + std::to_string(c));
      const auto& o = out[c];
      // Cut off: the gateway stopped taking bytes long before 50 MB, and answered 4xx or hung up.
      EXPECT_LT(o.sent, kPerConnection / 4) << "the gateway kept reading " << o.sent << " bytes of " << kind.name;
      int status = adv::status_of(o.answer);
      EXPECT_TRUE(o.closed || o.last == adv::Flood::Sent::closed || (status >= 400 && status < 500))
          << "neither refused nor closed; status " << status << ", answer:\n" << o.answer.substr(0, 300);
      if (status != 0) {
        EXPECT_TRUE(status == 400 || status == 413 || status == 414 || status == 431) << o.answer.substr(0, 300);
      }
    }
    ASSERT_TRUE(world.gateway->running()) << "the gateway died on " << kind.name;
    EXPECT_EQ(world.client().get("/health").status, 200);
  }
  sampling = false;
  sampler.join();
  long grown_mib = (peak.load() - base) / 1024;
  EXPECT_LT(grown_mib, 64) << "RSS grew from " << base / 1024 << " MiB to a peak of " << peak.load() / 1024 << " MiB";
}

TEST(AdversarialLimits, HeaderSectionChunkExtensionsAndTrailersCountAgainstTheConfiguredLimit) {
  World world;
  world.start({{"APIPROXY_MAX_HEADER_BYTES", "16384"}});
  const std::string auth = "Authorization: Bearer " + base64(kToken) + "\r\n";
  auto request = [&](const std::string& extra_header, const std::string& ext, const std::string& trailer,
                     const std::string& n) {
    std::string body = chat_body("chat-pool", n);
    char size[16];
    std::snprintf(size, sizeof size, "%zx", body.size());
    return "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n" + auth + extra_header +
           "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + size +
           (ext.empty() ? "" : ";ext=" + ext) + "\r\n" + body + "\r\n0\r\n" + (trailer.empty() ? "" : "X-Trailer: " + trailer + "\r\n") +
           "\r\n";
  };
  struct Case {
    std::string what, header, ext, trailer;
  };
  const std::string fits(10 * 1024, 'f'), too_big(20 * 1024, 'b');
  const std::vector<Case> under = {{"a 10 KB header", "X-Big: " + fits + "\r\n", "", ""},
                                   {"a 10 KB chunk extension", "", fits, ""},
                                   {"a 10 KB trailer", "", "", fits}};
  const std::vector<Case> over = {{"a 20 KB header", "X-Big: " + too_big + "\r\n", "", ""},
                                  {"a 20 KB chunk extension", "", too_big, ""},
                                  {"a 20 KB trailer", "", "", too_big}};
  for (const auto& c : under) {
    SCOPED_TRACE(c.what);
    std::string n = adv::nonce("limit");
    std::string got = send_raw(world.gateway->port(), request(c.header, c.ext, c.trailer, n), false, 10s);
    EXPECT_EQ(adv::status_of(got), 200) << got.substr(0, 600);
    EXPECT_TRUE(Contains(got, "reply to: " + n)) << got.substr(0, 600);
  }
  for (const auto& c : over) {
    SCOPED_TRACE(c.what);
    RawSocket s(world.gateway->port(), 5s);
    s.send(request(c.header, c.ext, c.trailer, adv::nonce("limit")));
    std::string got = s.read_all();
    int status = adv::status_of(got);
    EXPECT_TRUE(status == 400 || status == 431 || (status == 0 && s.peer_closed() && !s.timed_out()))
        << "not refused:\n" << got.substr(0, 600);
  }
  EXPECT_TRUE(world.gateway->running());
}

// ---------------------------------------------------------- 6: Transfer-Encoding ---

TEST_F(AdversarialInput, TransferEncodingNotEndingInChunkedIs400AndClosesTheConnection) {
  std::string auth = "Authorization: Bearer " + base64(kToken) + "\r\n";
  const std::string body = chat_body("chat-pool", "smuggled?");
  auto chunked = [](const std::string& b) {
    char size[16];
    std::snprintf(size, sizeof size, "%zx", b.size());
    return std::string(size) + "\r\n" + b + "\r\n0\r\n\r\n";
  };
  // Each request is followed by a pipelined GET that must never be answered: after such a
  // request the byte stream cannot be trusted, so the gateway answers 400 and hangs up.
  const std::string smuggled = "GET /providers HTTP/1.1\r\nHost: 127.0.0.1\r\n" + auth + "\r\n";
  struct Case {
    std::string what, headers, payload;
  };
  const std::vector<Case> cases = {
      {"gzip", "Transfer-Encoding: gzip\r\n", body},
      {"chunked, gzip", "Transfer-Encoding: chunked, gzip\r\n", chunked(body)},
      {"two headers: chunked then gzip", "Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n", chunked(body)},
      {"deflate", "Transfer-Encoding: deflate\r\n", body},
      {"an unknown coding", "Transfer-Encoding: x-mine\r\n", body},
      {"chunked with Content-Length", "Transfer-Encoding: chunked\r\nContent-Length: " + std::to_string(body.size()) + "\r\n",
       chunked(body)},
      {"Content-Length with chunked", "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", chunked(body)},
  };
  for (const auto& target : {std::string(kChatPath), std::string("/routing/decide")}) {
    for (const auto& c : cases) {
      SCOPED_TRACE(target + ": " + c.what);
      RawSocket s(world.gateway->port(), 5s);
      ASSERT_TRUE(s.send("POST " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + auth +
                         "Content-Type: application/json\r\n" + c.headers + "\r\n" + c.payload + smuggled));
      std::string got = s.read_all();
      EXPECT_EQ(adv::status_of(got), 400) << got.substr(0, 500);
      EXPECT_TRUE(s.peer_closed() && !s.timed_out()) << "the connection was left open:\n" << got.substr(0, 500);
      EXPECT_EQ(got.find("HTTP/1.1", 5), std::string::npos) << "a second response (a smuggled request was served):\n" << got;
    }
  }
  // Nothing reached an upstream.
  EXPECT_EQ(world.count("alpha") + world.count("beta"), 0);
}

// ------------------------------------------------------------ 14: duplicate keys ---

TEST_F(AdversarialInput, DuplicateTopLevelKeysAre400NamingTheKey) {
  const std::string messages = R"([{"role":"user","content":"dup"}])";
  struct Case {
    std::string path, body, key;
  };
  const std::vector<Case> cases = {
      {kChatPath, R"({"model":"chat-pool","model":"alpha/gpt-4o-mini","messages":)" + messages + "}", "model"},
      {kChatPath, R"({"model":"chat-pool","messages":)" + messages + R"(,"messages":[]})", "messages"},
      {kChatPath, R"({"model":"chat-pool","stream":false,"messages":)" + messages + R"(,"stream":true})", "stream"},
      {kChatPath, R"({"model":"chat-pool","messages":)" + messages + R"(,"conversation_id":"a","conversation_id":"b"})",
       "conversation_id"},
      {kChatPath, R"({"model":"chat-pool","messages":)" + messages + R"(,"temperature":1,"temperature":0})", "temperature"},
      {"/v1/completions", R"({"model":"chat-pool","prompt":"a","prompt":"b"})", "prompt"},
      {"/v1/embeddings", R"({"model":"text-embedding-3-small","model":"chat-pool","input":"a"})", "model"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.body);
    EXPECT_TRUE(OpenAiError(world.post(c.path, c.body), 400, "duplicate_key", c.key));
  }
  EXPECT_EQ(world.count("alpha") + world.count("beta"), 0);
  // The same keys nested inside members are not top-level duplicates.
  std::string n = adv::nonce("nested-dup");
  auto ok = world.chat("chat-pool", n, {}, R"(,"metadata":{"a":1},"tools_extra":[{"model":1},{"model":2}])");
  ASSERT_EQ(ok.status, 200) << ok.dump();
  EXPECT_EQ(adv::answer_text(ok.body), reply_of(ok.header("x-apiproxy-provider"), n));
}

}  // namespace
}  // namespace it
