// The SDK examples, built out of tree against the installed SDK (ctest fixture
// `sdk_examples`, tests/sdk/build_examples.cmake), loaded by the real gateway from a plugin
// directory that holds them next to the bundled plugins, and used:
//
//   round_robin   POST /routing/decide and the data plane rotate through the upstreams
//                 in turn, the rest ranked in rotation order for failover
//   header_auth   a provider with ADAPTER=header_auth discovers its models and sends chat
//                 completions with the key in its own header and no Authorization header
//   least_loaded  docs/plugins.md's walkthrough, built from the guide's own code blocks:
//                 /routing/decide uses it, and its configuration is read and checked
//   completions_bridge  (ABI 1.3 transform hooks) a provider with ADAPTER=completions_bridge
//                 serves chat completions, streamed or not, from the mock's legacy
//                 /v1/completions endpoint; the gateway counts the usage the adapter
//                 translated, relays the upstream's errors, and chains its own Messages
//                 translation in front of the adapter's
#include <algorithm>
#include <cstdlib>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "assertions.hpp"
#include "data_plane.hpp"
#include "json.hpp"
#include "services.hpp"

namespace it {
namespace {

using namespace std::chrono_literals;
using dp::logical;
using dp::physical;

constexpr const char* kPluginDir = APIPROXY_SDK_PLUGIN_DIR;
// The ABI of this tree's SDK headers, which the examples are built against.
constexpr const char* kSdkAbi = "1.3";
constexpr const char* kToken = "sdk-examples-token";

// A gateway with the example plugin directory and no Redis (the in-process store).
EnvMap sdk_env() {
  return gateway_env({{"APIPROXY_AUTH_TOKEN", kToken}, {"APIPROXY_PLUGIN_DIR", kPluginDir}});
}

Response get(const Gateway& g, const std::string& path) { return g.client().get(path, {bearer(kToken)}); }
Response post(const Gateway& g, const std::string& path, const std::string& body) {
  return g.client().post(path, body, {bearer(kToken)});
}
Response put(const Gateway& g, const std::string& path, const std::string& body) {
  return g.client().put(path, body, {bearer(kToken)});
}

// stats.last_request.headers of a mock, as name -> value (names in lower case).
std::map<std::string, std::string> last_request_headers(const rapidjson::Document& stats) {
  std::map<std::string, std::string> out;
  if (!stats.IsObject() || !stats.HasMember("last_request") || !stats["last_request"].IsObject()) return out;
  const auto& last = stats["last_request"];
  if (!last.HasMember("headers") || !last["headers"].IsObject()) return out;
  for (const auto& h : last["headers"].GetObject())
    if (h.value.IsString()) out[h.name.GetString()] = h.value.GetString();
  return out;
}

// ------------------------------------------------------------------------ GET /plugins ---

TEST(SdkExamples, PluginsListsTheExamplesBesideTheBundledPlugins) {
  MockUpstream mock{{"--name", "up", "--models", "gpt-4o-mini"}};
  EnvMap env = sdk_env();
  add_provider(env, "p1", mock.base_url(), "sk-p1", {{"ADAPTER", "openai"}});
  Gateway gateway(env);

  auto r = get(gateway, "/plugins");
  ASSERT_EQ(r.status, 200) << r.dump();
  auto d = parse_json(r.body);
  EXPECT_EQ(str(d, "plugin_dir"), kPluginDir);
  EXPECT_EQ(arr(d, "rejected").Size(), 0u) << r.body;

  std::set<std::string> names;
  bool round_robin = false, header_auth = false, completions_bridge = false;
  for (const auto& p : arr(d, "plugins").GetArray()) {
    std::string name = str(p, "name");
    names.insert(name);
    if (name == "round_robin") {
      round_robin = true;
      EXPECT_EQ(str(p, "kind"), "strategy") << to_string(p);
      EXPECT_EQ(str(p, "version"), "1.0.0") << to_string(p);
      EXPECT_EQ(str(p, "abi"), kSdkAbi) << to_string(p);  // the SDK it was built with
      EXPECT_EQ(str(p, "file"), std::string(kPluginDir) + "/round_robin.so") << to_string(p);
      EXPECT_TRUE(Contains(str(p, "description"), "example"));
    }
    if (name == "header_auth") {
      header_auth = true;
      EXPECT_EQ(str(p, "kind"), "provider") << to_string(p);
      EXPECT_EQ(str(p, "version"), "1.0.0") << to_string(p);
      EXPECT_EQ(str(p, "abi"), kSdkAbi) << to_string(p);  // the SDK it was built with
      EXPECT_EQ(str(p, "file"), std::string(kPluginDir) + "/header_auth.so") << to_string(p);
    }
    if (name == "completions_bridge") {
      completions_bridge = true;
      EXPECT_EQ(str(p, "kind"), "provider") << to_string(p);
      EXPECT_EQ(str(p, "version"), "1.0.0") << to_string(p);
      EXPECT_EQ(str(p, "abi"), kSdkAbi) << to_string(p);  // the transform hooks need 1.3
      EXPECT_EQ(str(p, "file"), std::string(kPluginDir) + "/completions_bridge.so") << to_string(p);
    }
  }
  EXPECT_TRUE(round_robin) << r.body;
  EXPECT_TRUE(header_auth) << r.body;
  EXPECT_TRUE(completions_bridge) << r.body;
  // The bundled plugins load from the same directory alongside them.
  for (const char* bundled : {"latency_first", "cost_first", "reliability_first", "balanced", "openai", "azure", "local"})
    EXPECT_TRUE(names.count(bundled)) << bundled << " missing from " << r.body;
  EXPECT_TRUE(Contains(gateway.log(), "loaded strategy 'round_robin' 1.0.0"));
  EXPECT_TRUE(Contains(gateway.log(), "loaded provider adapter 'header_auth' 1.0.0"));
  EXPECT_TRUE(Contains(gateway.log(), "loaded provider adapter 'completions_bridge' 1.0.0"));
}

// ------------------------------------------------------------------------- round_robin ---

class RoundRobin : public ::testing::Test {
 protected:
  void SetUp() override {
    EnvMap env = sdk_env();
    for (const auto& id : kProviders) add_provider(env, id, mock.base_url(), "sk-" + id, {{"ADAPTER", "openai"}});
    gateway = std::make_unique<Gateway>(env);
    std::vector<std::string> ups;
    for (const auto& id : kProviders) ups.push_back(physical(id, "gpt-4o-mini"));
    // rr-pool names no strategy (requests choose one); rr-default makes round_robin its
    // default, for the data plane.
    for (const auto& [id, extra] : {std::pair<std::string, std::string>{"rr-pool", ""},
                                    {"rr-default", ",\"strategy\":\"round_robin\""}}) {
      auto r = put(*gateway, "/logical-models/" + id, logical(id, ups, extra));
      ASSERT_TRUE(r.status == 200 || r.status == 201) << r.dump();
    }
  }

  // Index of `provider` in kProviders (the logical model's upstream order), or -1.
  int index_of(const std::string& provider) const {
    for (size_t i = 0; i < kProviders.size(); ++i)
      if (kProviders[i] == provider) return static_cast<int>(i);
    return -1;
  }

  const std::vector<std::string> kProviders{"p1", "p2", "p3"};
  MockUpstream mock{{"--name", "up", "--models", "gpt-4o-mini"}};
  std::unique_ptr<Gateway> gateway;
};

TEST_F(RoundRobin, DecideRotatesThroughTheUpstreamsWithTheRestInTurnOrderAsFailover) {
  const int n = static_cast<int>(kProviders.size());
  std::vector<int> chosen;
  for (int call = 0; call < 3 * n; ++call) {
    auto r = post(*gateway, "/routing/decide", R"({"logical_model":"rr-pool","strategy":"round_robin"})");
    ASSERT_EQ(r.status, 200) << r.dump();
    auto d = parse_json(r.body);
    EXPECT_EQ(str(d, "strategy_used"), "round_robin") << r.body;
    ASSERT_TRUE(d.HasMember("selected_upstream")) << r.body;
    int sel = index_of(str(d["selected_upstream"], "provider_id"));
    ASSERT_GE(sel, 0) << r.body;
    chosen.push_back(sel);

    // Failover order: the others, in the order their turns come.
    auto alternatives = pluck(arr(d, "alternative_upstreams"), "provider_id");
    std::vector<std::string> expected;
    for (int k = 1; k < n; ++k) expected.push_back(kProviders[(sel + k) % n]);
    EXPECT_EQ(alternatives, expected) << r.body;

    // Scores as the strategy wrote them: 1 for the turn, tiny but non-zero for the rest.
    const auto& all = arr(d, "all_candidates");
    ASSERT_EQ(all.Size(), kProviders.size()) << r.body;
    for (const auto& c : all.GetArray()) {
      double score = num(c, "score");
      if (index_of(str(c["upstream"], "provider_id")) == sel) EXPECT_DOUBLE_EQ(score, 1.0) << to_string(c);
      else EXPECT_TRUE(score > 0 && score < 1e-6) << to_string(c);
    }
  }
  // Each call moves on by one: p1 p2 p3 p1 p2 p3 ... from wherever it started. A weighted
  // draw over equal upstreams (what every bundled strategy does here) almost never does this
  // nine times in a row, and never ranks the failover order by turn.
  for (size_t i = 1; i < chosen.size(); ++i)
    EXPECT_EQ(chosen[i], (chosen[i - 1] + 1) % n) << "call " << i << " did not move to the next upstream";
}

TEST_F(RoundRobin, DataPlaneRequestsTakeTurnsWhenItIsTheModelsStrategy) {
  const int n = static_cast<int>(kProviders.size());
  std::vector<int> served_by;
  for (int i = 0; i < 2 * n; ++i) {
    std::string message = "turn " + std::to_string(i);
    auto r = post(*gateway, dp::kChatPath, dp::chat_body("rr-default", message));
    ASSERT_EQ(r.status, 200) << r.dump();
    EXPECT_EQ(dp::content_of(r.body), dp::reply_of("up", message)) << r.body;
    int p = index_of(r.header("x-apiproxy-provider"));
    ASSERT_GE(p, 0) << r.dump();
    served_by.push_back(p);
  }
  for (size_t i = 1; i < served_by.size(); ++i)
    EXPECT_EQ(served_by[i], (served_by[i - 1] + 1) % n) << "request " << i << " did not go to the next upstream";
  EXPECT_EQ(dp::path_count(mock.stats(), dp::kChatPath), 2 * n);
}

// ---------------------------------------------------------------- the guide's walkthrough ---

TEST(Walkthrough, LeastLoadedFromDocsPluginsMdScoresWhatTheGuideSays) {
  MockUpstream mock{{"--name", "up", "--models", "gpt-4o-mini"}};
  EnvMap env = sdk_env();
  add_provider(env, "light", mock.base_url(), "sk-light", {{"ADAPTER", "openai"}});
  add_provider(env, "heavy", mock.base_url(), "sk-heavy", {{"ADAPTER", "openai"}});
  Gateway gateway(env);
  EXPECT_TRUE(Contains(gateway.log(), "loaded strategy 'least_loaded' 0.1.0"));
  EXPECT_TRUE(Contains(gateway.log(), "plugin least_loaded: ready"));  // host.info from its constructor
  auto m = put(gateway, "/logical-models/gpt-4",
               dp::logical("gpt-4", {physical("light", "gpt-4o-mini", 1.0), physical("heavy", "gpt-4o-mini", 5.0)}));
  ASSERT_TRUE(m.status == 200 || m.status == 201) << m.dump();

  // Step 6 of the guide, as printed there.
  auto r = post(gateway, "/routing/decide", R"({"logical_model": "gpt-4", "strategy": "least_loaded"})");
  ASSERT_EQ(r.status, 200) << r.dump();
  auto d = parse_json(r.body);
  EXPECT_EQ(str(d, "strategy_used"), "least_loaded") << r.body;
  const auto& all = arr(d, "all_candidates");
  ASSERT_EQ(all.Size(), 2u) << r.body;
  for (const auto& c : all.GetArray()) {
    // Nothing in flight: base_weight / (1 + 0)^POWER = base_weight.
    EXPECT_EQ(num(c["metrics"], "in_flight"), 0) << to_string(c);
    EXPECT_DOUBLE_EQ(num(c, "score"), num(c["metrics"], "base_weight")) << to_string(c);
  }
}

TEST(Walkthrough, LeastLoadedRefusesABadPowerAndTheGatewayCarriesOn) {
  EnvMap env = sdk_env();
  env["APIPROXY_STRATEGY_LEAST_LOADED_POWER"] = "0";
  Gateway gateway(env);
  EXPECT_TRUE(Contains(gateway.log(), "POWER must be a number > 0")) << gateway.log();
  auto r = get(gateway, "/plugins");
  ASSERT_EQ(r.status, 200) << r.dump();
  auto d = parse_json(r.body);
  bool rejected = false;
  for (const auto& p : arr(d, "rejected").GetArray())
    rejected = rejected || Contains(to_string(p), "least_loaded");
  EXPECT_TRUE(rejected) << r.body;
  auto names = pluck(arr(d, "plugins"), "name");
  EXPECT_EQ(std::count(names.begin(), names.end(), "least_loaded"), 0) << r.body;
  EXPECT_EQ(std::count(names.begin(), names.end(), "round_robin"), 1) << r.body;
}

// ------------------------------------------------------------------------- header_auth ---

TEST(HeaderAuth, ProviderSendsItsKeyInTheConfiguredHeaderAndNoAuthorization) {
  constexpr const char* kAcmeKey = "acme-secret-key-0123";
  constexpr const char* kPlainKey = "plain-secret-key-4567";
  MockUpstream acme{{"--name", "acme", "--models", "acme-model"}};
  MockUpstream plain{{"--name", "plain", "--models", "plain-model"}};
  EnvMap env = sdk_env();
  // The header name comes from the provider's own settings (LLM_PROVIDER_acme_AUTH_HEADER).
  add_provider(env, "acme", acme.base_url(), kAcmeKey, {{"ADAPTER", "header_auth"}, {"AUTH_HEADER", "X-Acme-Key"}});
  // Without AUTH_HEADER: the adapter's default, X-Api-Key.
  add_provider(env, "plain", plain.base_url(), kPlainKey, {{"ADAPTER", "header_auth"}});
  // A header name with a space: the adapter refuses this provider, the others still work.
  add_provider(env, "bad", plain.base_url(), "bad-key", {{"ADAPTER", "header_auth"}, {"AUTH_HEADER", "Bad Header"}});
  Gateway gateway(env);
  EXPECT_TRUE(Contains(gateway.log(), "provider 'bad': AUTH_HEADER is not a valid header name"));
  EXPECT_TRUE(Contains(gateway.log(), "provider 'bad' skipped"));

  auto providers = get(gateway, "/providers");
  ASSERT_EQ(providers.status, 200) << providers.dump();
  std::set<std::string> usable;
  auto listed = parse_json(providers.body);  // named: a range-for would not keep a temporary alive
  for (const auto& p : arr(listed, "providers").GetArray()) {
    EXPECT_EQ(str(p, "adapter"), "header_auth") << to_string(p);
    usable.insert(str(p, "id"));
  }
  EXPECT_TRUE(usable.count("acme") && usable.count("plain")) << providers.body;
  EXPECT_FALSE(usable.count("bad")) << providers.body;

  // Discovery went through the adapter: its URL and its parse_models.
  std::string last;
  bool discovered = eventually(
      [&] {
        auto r = get(gateway, "/v1/models");
        last = r.dump();
        if (r.status != 200) return false;
        auto ids = pluck(arr(parse_json(r.body), "data"), "id");
        std::set<std::string> have(ids.begin(), ids.end());
        return have.count("acme-model") && have.count("plain-model");
      },
      10s, 50ms);
  ASSERT_TRUE(discovered) << "the gateway never listed the models read by header_auth; last /v1/models:\n" << last;
  auto models = get(gateway, "/providers/acme/models");
  ASSERT_EQ(models.status, 200) << models.dump();
  EXPECT_EQ(pluck(arr(parse_json(models.body), "models"), "model_id"), std::vector<std::string>{"acme-model"})
      << models.body;

  struct Case {
    const MockUpstream& mock;
    std::string name, model, header, key;
  };
  for (const Case& c : {Case{acme, "acme", "acme-model", "x-acme-key", kAcmeKey},
                        Case{plain, "plain", "plain-model", "x-api-key", kPlainKey}}) {
    SCOPED_TRACE(c.model);
    std::string message = "hello via " + c.model;
    auto r = post(gateway, dp::kChatPath, dp::chat_body(c.model, message));
    ASSERT_EQ(r.status, 200) << r.dump();
    EXPECT_EQ(dp::content_of(r.body), dp::reply_of(c.name, message)) << r.body;

    auto stats = c.mock.stats();
    EXPECT_EQ(dp::path_count(stats, dp::kChatPath), 1);
    const auto& req = stats["last_request"];
    EXPECT_EQ(str(req, "method"), "POST") << to_string(req);
    EXPECT_EQ(str(req, "target"), "/v1/chat/completions") << to_string(req);
    EXPECT_EQ(str(parse_json(str(req, "body")), "model"), c.model) << to_string(req);
    auto headers = last_request_headers(stats);
    EXPECT_EQ(headers[c.header], c.key) << to_string(req);
    EXPECT_EQ(headers.count("authorization"), 0u) << "the adapter sent Authorization: " << to_string(req);
    EXPECT_TRUE(Contains(headers["content-type"], "application/json")) << to_string(req);
  }
  // The key is the adapter's to send, nobody else's to show.
  EXPECT_TRUE(LacksSecret(get(gateway, "/providers").body, kAcmeKey));
  EXPECT_TRUE(LacksSecret(gateway.log(), kAcmeKey));
}

// ------------------------------------------------------------------ completions_bridge ---

constexpr const char* kLegacyKey = "legacy-secret-key-8901";
constexpr const char* kLegacyModel = "legacy-instruct";
constexpr const char* kCompletionsPath = "/v1/completions";
constexpr const char* kMessagesPath = "/v1/messages";
// What the mock reports instead of its own count, so that every number is known exactly.
constexpr const char* kLegacyUsage = R"({"prompt_tokens":31,"completion_tokens":12,"total_tokens":43})";

// The prompt completions_bridge makes of dp::chat_body(model, message) (its README's template).
std::string legacy_prompt(const std::string& message) { return "System: be brief\nUser: " + message + "\nAssistant:"; }

// The sum of the gateway's apiproxy_tokens_total samples of `direction` for provider "legacy".
double legacy_tokens_counted(const Gateway& g, const std::string& direction) {
  auto r = get(g, "/metrics");
  EXPECT_EQ(r.status, 200) << r.dump();
  double sum = 0;
  for (const auto& line : lines_of(r.body)) {
    if (line.rfind("apiproxy_tokens_total{", 0) != 0 || !Contains(line, "direction=\"" + direction + "\"") ||
        !Contains(line, "provider=\"legacy\""))
      continue;
    sum += std::strtod(line.c_str() + line.rfind(' ') + 1, nullptr);
  }
  return sum;
}

class CompletionsBridge : public ::testing::Test {
 protected:
  void SetUp() override {
    EnvMap env = sdk_env();
    add_provider(env, "legacy", legacy.base_url(), kLegacyKey, {{"ADAPTER", "completions_bridge"}});
    gateway = std::make_unique<Gateway>(env);
    // The model list came through the adapter's URL, key and parse_models.
    std::string last;
    bool discovered = eventually(
        [&] {
          auto r = get(*gateway, "/v1/models");
          last = r.dump();
          if (r.status != 200) return false;
          auto ids = pluck(arr(parse_json(r.body), "data"), "id");
          return std::find(ids.begin(), ids.end(), kLegacyModel) != ids.end();
        },
        10s, 50ms);
    ASSERT_TRUE(discovered) << "the gateway never listed the model read by completions_bridge:\n" << last;
    auto configured = legacy.configure(std::string(R"({"usage":)") + kLegacyUsage + "}");
    ASSERT_EQ(configured.status, 200) << configured.dump();
  }

  // The events of a whole chat stream (the data of each), after checking its head and end.
  std::vector<std::string> stream_events(const std::string& body) const {
    SseStream s(gateway->port(), "POST", dp::kChatPath, {bearer(kToken)}, body);
    EXPECT_TRUE(s.read_head()) << "no response head";
    EXPECT_EQ(s.status(), 200) << s.read_body();
    EXPECT_TRUE(Contains(s.header("content-type"), "text/event-stream"));
    auto events = s.rest();
    EXPECT_TRUE(s.complete()) << "the stream did not end properly:\n" << s.body();
    return events;
  }

  // The JSON body of the mock's last request.
  rapidjson::Document sent_body() const { return parse_json(str(legacy.stats()["last_request"], "body")); }

  // --chunks 4: a stream's text comes in four pieces, then the finishing chunk.
  MockUpstream legacy{
      {"--name", "legacy", "--models", kLegacyModel, "--require-key", kLegacyKey, "--chunks", "4"}};
  std::unique_ptr<Gateway> gateway;
};

TEST_F(CompletionsBridge, ChatCompletionIsServedFromTheLegacyCompletionsEndpoint) {
  const std::string message = "name one primary colour";
  auto r = post(*gateway, dp::kChatPath,
                dp::chat_body(kLegacyModel, message, R"(,"max_tokens":40,"temperature":0.25,"stop":["\nUser:"])"));
  ASSERT_EQ(r.status, 200) << r.dump();
  EXPECT_EQ(r.header("x-apiproxy-provider"), "legacy");

  // transform_answer: the text_completion as a chat.completion.
  auto d = parse_json(r.body);
  EXPECT_EQ(str(d, "object"), "chat.completion") << r.body;
  EXPECT_EQ(str(d, "model"), kLegacyModel) << r.body;
  ASSERT_EQ(arr(d, "choices").Size(), 1u) << r.body;
  const auto& choice = d["choices"][0];
  EXPECT_EQ(num(choice, "index"), 0) << r.body;
  EXPECT_EQ(str(choice["message"], "role"), "assistant") << r.body;
  EXPECT_EQ(str(choice["message"], "content"), dp::reply_of("legacy", legacy_prompt(message))) << r.body;
  EXPECT_EQ(str(choice, "finish_reason"), "stop") << r.body;
  ASSERT_TRUE(d.HasMember("usage")) << r.body;
  EXPECT_TRUE(d["usage"] == parse_json(kLegacyUsage)) << r.body;

  // build_request: a completions request with the prompt and the sampling fields, the key
  // as a Bearer token.
  auto stats = legacy.stats();
  EXPECT_EQ(dp::path_count(stats, kCompletionsPath), 1);
  EXPECT_EQ(dp::path_count(stats, dp::kChatPath), 0);
  const auto& req = stats["last_request"];
  EXPECT_EQ(str(req, "method"), "POST") << to_string(req);
  EXPECT_EQ(str(req, "target"), kCompletionsPath) << to_string(req);
  auto headers = last_request_headers(stats);
  EXPECT_EQ(headers["authorization"], std::string("Bearer ") + kLegacyKey) << to_string(req);
  EXPECT_TRUE(Contains(headers["content-type"], "application/json")) << to_string(req);
  auto expected = parse_json("{\"model\":\"legacy-instruct\",\"prompt\":" + dp::quote(legacy_prompt(message)) +
                             R"(,"max_tokens":40,"temperature":0.25,"stop":["\nUser:"]})");
  EXPECT_TRUE(parse_json(str(req, "body")) == expected) << str(req, "body");

  // The gateway counted the usage of the chat form the adapter wrote.
  EXPECT_EQ(legacy_tokens_counted(*gateway, "prompt"), 31);
  EXPECT_EQ(legacy_tokens_counted(*gateway, "completion"), 12);
  EXPECT_TRUE(LacksSecret(gateway->log(), kLegacyKey));
}

TEST_F(CompletionsBridge, StreamArrivesAsChatChunksAndItsUsageIsCountedButNotSent) {
  const std::string message = "stream a short answer";
  auto events = stream_events(dp::chat_body(kLegacyModel, message, R"(,"stream":true)"));
  // One chat chunk per completion chunk: four pieces, the finishing chunk, then [DONE]. The
  // usage chunk the gateway asked for in the client's place is taken out.
  ASSERT_EQ(events.size(), 6u) << ::testing::PrintToString(events);
  EXPECT_EQ(events.back(), "[DONE]");
  std::string text;
  for (size_t i = 0; i + 1 < events.size(); ++i) {
    SCOPED_TRACE(events[i]);
    auto chunk = parse_json(events[i]);
    EXPECT_EQ(str(chunk, "object"), "chat.completion.chunk");
    EXPECT_EQ(str(chunk, "model"), kLegacyModel);
    EXPECT_FALSE(chunk.HasMember("usage"));
    ASSERT_EQ(arr(chunk, "choices").Size(), 1u);
    const auto& choice = chunk["choices"][0];
    const auto& delta = choice["delta"];
    ASSERT_TRUE(delta.IsObject());
    EXPECT_EQ(delta.HasMember("role"), i == 0) << "only the first chunk carries the role";
    if (i == 0) {
      EXPECT_EQ(str(delta, "role"), "assistant");
    }
    if (delta.HasMember("content")) text += str(delta, "content");
    bool last = i + 2 == events.size();
    if (last) {
      EXPECT_EQ(str(choice, "finish_reason"), "stop");
    } else {
      EXPECT_TRUE(is_null(choice, "finish_reason"));
    }
  }
  EXPECT_EQ(text, dp::reply_of("legacy", legacy_prompt(message)));

  // The adapter copied stream and the gateway's stream_options to the completions request...
  auto sent = sent_body();
  EXPECT_EQ(str(sent, "prompt"), legacy_prompt(message));
  ASSERT_TRUE(sent.HasMember("stream") && sent["stream"].IsBool()) << to_string(sent);
  EXPECT_TRUE(sent["stream"].GetBool());
  ASSERT_TRUE(sent.HasMember("stream_options")) << to_string(sent);
  EXPECT_EQ(to_string(sent["stream_options"]), R"({"include_usage":true})");
  // ... and the gateway read the tokens from the usage chunk the adapter translated.
  EXPECT_EQ(legacy_tokens_counted(*gateway, "prompt"), 31);
  EXPECT_EQ(legacy_tokens_counted(*gateway, "completion"), 12);
}

TEST_F(CompletionsBridge, StreamThatAsksForUsageGetsAChatUsageChunkBeforeDone) {
  const std::string message = "stream with usage";
  auto events = stream_events(
      dp::chat_body(kLegacyModel, message, R"(,"stream":true,"stream_options":{"include_usage":true})"));
  ASSERT_EQ(events.size(), 7u) << ::testing::PrintToString(events);
  EXPECT_EQ(events.back(), "[DONE]");
  std::string text;
  int usage_chunks = 0;
  for (size_t i = 0; i + 1 < events.size(); ++i) {
    SCOPED_TRACE(events[i]);
    auto chunk = parse_json(events[i]);
    EXPECT_EQ(str(chunk, "object"), "chat.completion.chunk");
    for (const auto& choice : arr(chunk, "choices").GetArray())
      if (choice["delta"].HasMember("content")) text += str(choice["delta"], "content");
    if (!chunk.HasMember("usage")) continue;
    ++usage_chunks;
    EXPECT_EQ(i, events.size() - 2) << "the usage chunk comes last, before [DONE]";
    EXPECT_EQ(arr(chunk, "choices").Size(), 0u);
    EXPECT_TRUE(chunk["usage"] == parse_json(kLegacyUsage));
  }
  EXPECT_EQ(usage_chunks, 1);
  EXPECT_EQ(text, dp::reply_of("legacy", legacy_prompt(message)));
  EXPECT_EQ(to_string(sent_body()["stream_options"]), R"({"include_usage":true})");
}

TEST_F(CompletionsBridge, EachChunkReachesTheClientWhileTheUpstreamIsStillStreaming) {
  // Four pieces 400 ms apart: the whole stream takes 1.6 s.
  ASSERT_EQ(legacy.configure(R"({"chunk_interval_ms":400})").status, 200);
  const std::string message = "stream slowly";
  SseStream s(gateway->port(), "POST", dp::kChatPath, {bearer(kToken)},
              dp::chat_body(kLegacyModel, message, R"(,"stream":true)"));
  auto first = s.next_event();
  ASSERT_TRUE(first.has_value()) << s.body();
  EXPECT_FALSE(s.complete()) << "the first chunk came only when the upstream's stream ended";
  auto chunk = parse_json(*first);
  EXPECT_EQ(str(chunk["choices"][0]["delta"], "role"), "assistant") << *first;
  std::string text = str(chunk["choices"][0]["delta"], "content");
  EXPECT_EQ(text, std::string(dp::reply_of("legacy", legacy_prompt(message))).substr(0, text.size()));
  EXPECT_FALSE(text.empty()) << *first;
  auto rest = s.rest();
  ASSERT_FALSE(rest.empty());
  EXPECT_EQ(rest.back(), "[DONE]");
  EXPECT_TRUE(s.complete());
}

TEST_F(CompletionsBridge, UpstreamErrorsAreRelayedAsTheyCame) {
  ASSERT_EQ(legacy.configure(R"({"status":400})").status, 200);
  auto r = post(*gateway, dp::kChatPath, dp::chat_body(kLegacyModel, "this will be refused"));
  EXPECT_EQ(r.status, 400) << r.dump();
  // transform_answer declined: the mock's own OpenAI error envelope, unchanged.
  EXPECT_TRUE(parse_json(r.body) == parse_json(R"({"error":{"message":"mock forced status 400",)"
                                               R"("type":"invalid_request_error","param":null,"code":"bad_request"}})"))
      << r.body;
  EXPECT_EQ(dp::path_count(legacy.stats(), kCompletionsPath), 1);
}

TEST_F(CompletionsBridge, ToolsAreRefusedBeforeAnyUpstreamCall) {
  std::string body = dp::chat_body(kLegacyModel, "what is the weather?",
                                   R"(,"tools":[{"type":"function","function":{"name":"get_weather",)"
                                   R"("parameters":{"type":"object","properties":{}}}}])");
  auto r = post(*gateway, dp::kChatPath, body);
  EXPECT_EQ(r.status, 502) << r.dump();  // the request's only upstream could not take it
  auto d = parse_json(r.body);
  ASSERT_TRUE(d.HasMember("error")) << r.body;
  EXPECT_EQ(str(d["error"], "code"), "upstream_error") << r.body;
  EXPECT_TRUE(Contains(str(d["error"], "message"),
                       "adapter completions_bridge cannot build this request (APX_ERR_INVALID)"));
  EXPECT_TRUE(Contains(gateway->log(), "tools need a chat upstream")) << gateway->log();
  EXPECT_EQ(dp::path_count(legacy.stats(), kCompletionsPath), 0);
}

TEST_F(CompletionsBridge, MessagesClientsGetTheGatewaysTranslationChainedBeforeTheAdapters) {
  // /v1/messages -> (gateway) chat completions -> (adapter) completions, and back.
  std::string body = R"({"model":"legacy-instruct","max_tokens":64,"system":"be brief",)"
                     R"("messages":[{"role":"user","content":"hello through two translations"}]})";
  auto r = gateway->client().post(kMessagesPath, body, {bearer(kToken), {"anthropic-version", "2023-06-01"}});
  ASSERT_EQ(r.status, 200) << r.dump();
  auto d = parse_json(r.body);
  EXPECT_EQ(str(d, "type"), "message") << r.body;
  EXPECT_EQ(str(d, "role"), "assistant") << r.body;
  ASSERT_EQ(arr(d, "content").Size(), 1u) << r.body;
  EXPECT_EQ(str(d["content"][0], "type"), "text") << r.body;
  EXPECT_EQ(str(d["content"][0], "text"), dp::reply_of("legacy", legacy_prompt("hello through two translations")))
      << r.body;
  EXPECT_EQ(str(d, "stop_reason"), "end_turn") << r.body;
  EXPECT_EQ(num(d["usage"], "input_tokens"), 31) << r.body;
  EXPECT_EQ(num(d["usage"], "output_tokens"), 12) << r.body;
  auto sent = sent_body();
  EXPECT_EQ(str(sent, "prompt"), legacy_prompt("hello through two translations")) << to_string(sent);
  EXPECT_EQ(num(sent, "max_tokens"), 64) << to_string(sent);
}

}  // namespace
}  // namespace it
