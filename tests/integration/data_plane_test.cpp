// The OpenAI-compatible data plane end to end: the real gateway, its plugins, a private
// redis-server and three mock upstreams (support/data_plane.hpp). Chat, streams,
// embeddings, completions, /v1/models, model resolution, the Azure request shape and the
// answers to bad input. Failover lives in data_plane_failover_test.cpp, stickiness,
// metrics and /routing/decide in data_plane_routing_test.cpp.
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "assertions.hpp"
#include "data_plane.hpp"

namespace it {
namespace {

using namespace dp;

// Requests a mock saw other than its model listing.
long long inference_requests(const MockUpstream& m) {
  auto stats = m.stats();
  return static_cast<long long>(num(stats, "requests")) - path_count(stats, "/v1/models") -
         path_count(stats, "/openai/models");
}

class DataPlane : public ::testing::Test {
 protected:
  void SetUp() override { world.start(); }

  // The provider that answered, after checking it is one of `allowed`.
  static std::string provider_of(const Response& r, const std::set<std::string>& allowed) {
    std::string p = r.header("x-apiproxy-provider");
    EXPECT_TRUE(allowed.count(p)) << "answered by '" << p << "'\n" << r.dump();
    return p;
  }

  // The OpenAI error envelope {"error":{"message","type","param","code"}}; returns error.
  static const rapidjson::Value& envelope(const rapidjson::Document& d, const std::string& raw) {
    EXPECT_TRUE(d.IsObject() && d.HasMember("error") && d["error"].IsObject()) << raw;
    static const rapidjson::Value empty(rapidjson::kObjectType);
    if (!d.IsObject() || !d.HasMember("error") || !d["error"].IsObject()) return empty;
    const auto& e = d["error"];
    for (const char* k : {"message", "type", "param", "code"})
      EXPECT_TRUE(e.HasMember(k)) << "error." << k << " missing in " << raw;
    EXPECT_FALSE(str(e, "message").empty()) << raw;
    EXPECT_FALSE(str(e, "type").empty()) << raw;
    return e;
  }

  World world;
};

// ------------------------------------------------------------------------------ chat ---

TEST_F(DataPlane, ChatIsAnsweredByAnUpstreamWithThePhysicalModelAndAttribution) {
  auto r = world.chat("chat-pool", "hello chat one", {{"X-Request-Id", "client-req-42"}});
  ASSERT_EQ(r.status, 200) << r.dump();
  EXPECT_TRUE(Contains(r.header("content-type"), "application/json"));
  std::string provider = provider_of(r, {"alpha", "beta"});
  EXPECT_EQ(r.header("x-apiproxy-model"), "gpt-4o-mini");
  EXPECT_EQ(r.header("x-apiproxy-attempts"), "1");
  EXPECT_EQ(r.header("x-request-id"), "client-req-42");

  auto d = parse_json(r.body);
  EXPECT_EQ(str(d, "object"), "chat.completion");
  EXPECT_EQ(content_of(r.body), reply_of(provider, "hello chat one"));
  ASSERT_TRUE(d.HasMember("usage") && d["usage"].IsObject()) << r.body;
  EXPECT_GT(num(d["usage"], "total_tokens"), 0);

  // What the upstream saw: the logical name replaced by the physical model, the rest intact,
  // and the provider's own key.
  auto stats = world.mock(provider).stats();
  const auto& last = stats["last_request"];
  EXPECT_EQ(str(last, "method"), "POST");
  EXPECT_EQ(str(last, "target"), "/v1/chat/completions");
  EXPECT_EQ(str(last["headers"], "authorization"),
            std::string("Bearer ") + (provider == "alpha" ? kAlphaKey : kBetaKey));
  auto sent = parse_json(str(last, "body"));
  EXPECT_EQ(str(sent, "model"), "gpt-4o-mini");
  ASSERT_TRUE(sent.HasMember("messages") && sent["messages"].IsArray());
  ASSERT_EQ(sent["messages"].Size(), 2u);
  EXPECT_EQ(str(sent["messages"][1], "content"), "hello chat one");
  // The client's own credentials never reach an upstream.
  EXPECT_TRUE(LacksSecret(str(last, "body") + to_string(last["headers"]), base64(kToken)));
  // Only one upstream was asked.
  std::string other = provider == "alpha" ? "beta" : "alpha";
  EXPECT_EQ(world.count(provider), 1);
  EXPECT_EQ(world.count(other), 0);
}

TEST_F(DataPlane, RequestIdIsGeneratedWhenTheClientSendsNone) {
  auto a = world.chat("chat-pool", "one");
  auto b = world.chat("chat-pool", "two");
  ASSERT_EQ(a.status, 200) << a.dump();
  ASSERT_EQ(b.status, 200) << b.dump();
  EXPECT_FALSE(a.header("x-request-id").empty());
  EXPECT_NE(a.header("x-request-id"), b.header("x-request-id"));
  // Error answers carry one too.
  auto bad = world.chat("no-such-model", "x", {{"X-Request-Id", "err-req-7"}});
  EXPECT_EQ(bad.header("x-request-id"), "err-req-7") << bad.dump();
}

// ---------------------------------------------------------------------------- stream ---

TEST_F(DataPlane, StreamRelaysEventsAsTheyArriveAndEndsWithDone) {
  for (const auto* m : {&world.alpha, &world.beta}) m->configure(R"({"chunks":4,"chunk_interval_ms":250})");
  auto s = world.stream(kChatPath, chat_body("chat-pool", "stream me please",
                                             R"(,"stream":true,"stream_options":{"include_usage":true})"));
  ASSERT_TRUE(s->read_head()) << "no response head";
  ASSERT_EQ(s->status(), 200) << s->body();
  EXPECT_TRUE(Contains(s->header("content-type"), "text/event-stream"));
  std::string provider = s->header("x-apiproxy-provider");
  ASSERT_TRUE(provider == "alpha" || provider == "beta") << provider;
  EXPECT_EQ(s->header("x-apiproxy-model"), "gpt-4o-mini");
  EXPECT_FALSE(s->header("x-request-id").empty());

  auto first = s->next_event();
  ASSERT_TRUE(first) << "no first event; body so far:\n" << s->body();
  // The first event is here while the upstream is still producing the rest: the gateway
  // relays as it reads instead of buffering the whole answer.
  EXPECT_FALSE(s->complete()) << "the whole stream had already arrived with the first event";
  EXPECT_FALSE(Contains(s->body(), "[DONE]")) << "the whole stream had already arrived with the first event";
  EXPECT_EQ(num(world.mock(provider).stats(), "active_streams"), 1) << "the upstream stream should still be open";

  std::vector<std::string> events{*first};
  for (auto& e : s->rest()) events.push_back(std::move(e));
  EXPECT_TRUE(s->complete()) << "the chunked body did not end properly";
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back(), "[DONE]");

  std::string content;
  int content_events = 0;
  bool usage_seen = false;
  for (size_t i = 0; i + 1 < events.size(); ++i) {
    auto d = parse_json(events[i]);
    EXPECT_EQ(str(d, "object"), "chat.completion.chunk") << events[i];
    EXPECT_EQ(str(d, "model"), "gpt-4o-mini") << events[i];
    const auto& choices = arr(d, "choices");
    if (choices.Empty()) {
      ASSERT_TRUE(d.HasMember("usage") && d["usage"].IsObject()) << events[i];
      EXPECT_GT(num(d["usage"], "prompt_tokens"), 0);
      EXPECT_GT(num(d["usage"], "completion_tokens"), 0);
      usage_seen = true;
      continue;
    }
    std::string piece = str(choices[0]["delta"], "content");
    if (!piece.empty()) ++content_events;
    content += piece;
  }
  EXPECT_EQ(content, reply_of(provider, "stream me please"));
  EXPECT_EQ(content_events, 4) << "each upstream chunk should arrive as its own event";
  EXPECT_TRUE(usage_seen) << "stream_options.include_usage: the usage chunk was not relayed";

  // The upstream was asked to stream, with include_usage intact.
  auto sent = parse_json(str(world.mock(provider).stats()["last_request"], "body"));
  ASSERT_TRUE(sent.HasMember("stream") && sent["stream"].IsBool() && sent["stream"].GetBool());
  ASSERT_TRUE(sent.HasMember("stream_options") && sent["stream_options"].IsObject());
  EXPECT_TRUE(sent["stream_options"]["include_usage"].GetBool());
}

TEST_F(DataPlane, StreamRelaysAnEventThatCameWithTheHeadBeforeTheUpstreamSendsMore) {
  // The upstream sends its head and first event at once, then nothing for 4 s. The first
  // event must reach the client with the head, not wait for the upstream's next bytes (the
  // stream is read with a 2 s limit on every wait).
  for (const auto* m : {&world.alpha, &world.beta}) m->configure(R"({"chunks":2,"chunk_interval_ms":4000})");
  auto s = world.stream(kChatPath, chat_body("chat-pool", "first event now", R"(,"stream":true)"), {},
                        std::chrono::milliseconds(2000));
  ASSERT_TRUE(s->read_head()) << "no response head";
  ASSERT_EQ(s->status(), 200) << s->body();
  auto first = s->next_event();
  ASSERT_TRUE(first) << "the first event did not arrive before the upstream's pause; body so far:\n" << s->body();
  EXPECT_TRUE(Contains(*first, "chat.completion.chunk")) << *first;
  EXPECT_FALSE(s->complete());
}

TEST_F(DataPlane, StreamWithoutIncludeUsageHasNoUsageChunk) {
  auto s = world.stream(kChatPath, chat_body("chat-pool", "no usage", R"(,"stream":true)"));
  ASSERT_TRUE(s->read_head());
  ASSERT_EQ(s->status(), 200) << s->read_body();
  auto events = s->rest();
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back(), "[DONE]");
  for (size_t i = 0; i + 1 < events.size(); ++i) EXPECT_FALSE(Contains(events[i], "\"usage\"")) << events[i];
  // The connection stays usable for a next request (keep-alive after the last chunk).
  EXPECT_TRUE(s->complete());
}

TEST_F(DataPlane, StreamedCompletionRelaysTextPieces) {
  auto s = world.stream("/v1/completions", R"({"model":"chat-pool","prompt":"complete streamed","stream":true})");
  ASSERT_TRUE(s->read_head());
  ASSERT_EQ(s->status(), 200) << s->read_body();
  std::string provider = s->header("x-apiproxy-provider");
  auto events = s->rest();
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back(), "[DONE]");
  std::string text;
  for (size_t i = 0; i + 1 < events.size(); ++i) {
    auto d = parse_json(events[i]);
    EXPECT_EQ(str(d, "object"), "text_completion") << events[i];
    text += str(arr(d, "choices")[0], "text");
  }
  EXPECT_EQ(text, reply_of(provider, "complete streamed"));
}

// -------------------------------------------------------- embeddings and completions ---

TEST_F(DataPlane, EmbeddingsAreProxied) {
  auto r = world.post("/v1/embeddings", R"({"model":"text-embedding-3-small","input":["first text","second text"]})");
  ASSERT_EQ(r.status, 200) << r.dump();
  std::string provider = provider_of(r, {"alpha", "beta"});
  EXPECT_EQ(r.header("x-apiproxy-model"), "text-embedding-3-small");
  auto d = parse_json(r.body);
  EXPECT_EQ(str(d, "object"), "list");
  const auto& data = arr(d, "data");
  ASSERT_EQ(data.Size(), 2u) << r.body;
  for (unsigned i = 0; i < 2; ++i) {
    EXPECT_EQ(str(data[i], "object"), "embedding");
    EXPECT_EQ(num(data[i], "index"), i);
    ASSERT_TRUE(data[i]["embedding"].IsArray()) << r.body;
    EXPECT_EQ(data[i]["embedding"].Size(), 8u);
  }
  EXPECT_EQ(str(d, "model"), "text-embedding-3-small");
  auto stats = world.mock(provider).stats();
  EXPECT_EQ(str(stats["last_request"], "target"), "/v1/embeddings");
  EXPECT_EQ(path_count(stats, "/v1/embeddings"), 1);
}

TEST_F(DataPlane, CompletionsAreProxiedWithThePhysicalModel) {
  auto r = world.post("/v1/completions", R"({"model":"chat-pool","prompt":"complete me","max_tokens":16})");
  ASSERT_EQ(r.status, 200) << r.dump();
  std::string provider = provider_of(r, {"alpha", "beta"});
  auto d = parse_json(r.body);
  EXPECT_EQ(str(d, "object"), "text_completion");
  EXPECT_EQ(str(arr(d, "choices")[0], "text"), reply_of(provider, "complete me"));
  auto stats = world.mock(provider).stats();
  EXPECT_EQ(str(stats["last_request"], "target"), "/v1/completions");
  auto sent = parse_json(str(stats["last_request"], "body"));
  EXPECT_EQ(str(sent, "model"), "gpt-4o-mini");
  EXPECT_EQ(num(sent, "max_tokens"), 16);
}

// ------------------------------------------------------------------------ /v1/models ---

TEST_F(DataPlane, ModelsListsLogicalAndDiscoveredModelsOnceInOpenAIShape) {
  auto r = world.get("/v1/models");
  ASSERT_EQ(r.status, 200) << r.dump();
  auto d = parse_json(r.body);
  EXPECT_EQ(str(d, "object"), "list");
  const auto& data = arr(d, "data");
  std::vector<std::string> ids;
  std::map<std::string, std::string> owner;
  for (const auto& m : data.GetArray()) {
    std::string id = str(m, "id");
    ids.push_back(id);
    owner[id] = str(m, "owned_by");
    EXPECT_EQ(str(m, "object"), "model") << to_string(m);
    EXPECT_TRUE(m.HasMember("created") && m["created"].IsInt64()) << to_string(m);
    EXPECT_FALSE(str(m, "owned_by").empty()) << to_string(m);
  }
  std::set<std::string> unique(ids.begin(), ids.end());
  EXPECT_EQ(unique.size(), ids.size()) << "duplicates in " << r.body;
  EXPECT_EQ(unique, (std::set<std::string>{"chat-pool", "ghost-pool", "gpt-4o-mini", "shared-model", "only-alpha",
                                           "only-beta", "text-embedding-3-small", "az-gpt4"}))
      << r.body;
  EXPECT_EQ(owner["chat-pool"], "apiproxy");
  EXPECT_EQ(owner["only-alpha"], "alpha");
  EXPECT_EQ(owner["only-beta"], "beta");
  EXPECT_EQ(owner["az-gpt4"], "az");
  // Logical models come first.
  ASSERT_GE(ids.size(), 2u);
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.begin() + 2), (std::set<std::string>{"chat-pool", "ghost-pool"}));
}

// ----------------------------------------------------------------- model resolution ---

TEST_F(DataPlane, LogicalModelUsesOnlyItsUpstreams) {
  std::set<std::string> seen;
  for (int i = 0; i < 20; ++i) {
    auto r = world.chat("chat-pool", "logical " + std::to_string(i));
    ASSERT_EQ(r.status, 200) << r.dump();
    seen.insert(provider_of(r, {"alpha", "beta"}));
    EXPECT_EQ(r.header("x-apiproxy-model"), "gpt-4o-mini");
    EXPECT_EQ(content_of(r.body), reply_of(r.header("x-apiproxy-provider"), "logical " + std::to_string(i)));
  }
  EXPECT_EQ(world.count("alpha") + world.count("beta"), 20);
  EXPECT_EQ(inference_requests(world.az), 0) << "az is not an upstream of chat-pool";
}

TEST_F(DataPlane, ProviderSlashModelGoesToThatProviderOnly) {
  for (int i = 0; i < 8; ++i) {
    auto r = world.chat("beta/gpt-4o-mini", "direct " + std::to_string(i));
    ASSERT_EQ(r.status, 200) << r.dump();
    EXPECT_EQ(r.header("x-apiproxy-provider"), "beta");
    EXPECT_EQ(r.header("x-apiproxy-model"), "gpt-4o-mini");
    EXPECT_EQ(content_of(r.body), reply_of("beta", "direct " + std::to_string(i)));
  }
  EXPECT_EQ(world.count("beta"), 8);
  EXPECT_EQ(world.count("alpha"), 0);
  EXPECT_EQ(str(parse_json(str(world.beta.stats()["last_request"], "body")), "model"), "gpt-4o-mini");

  // A model the provider did not list still goes to it: the prefix is explicit.
  auto r = world.chat("alpha/model-not-listed", "unlisted");
  ASSERT_EQ(r.status, 200) << r.dump();
  EXPECT_EQ(r.header("x-apiproxy-provider"), "alpha");
  EXPECT_EQ(str(parse_json(str(world.alpha.stats()["last_request"], "body")), "model"), "model-not-listed");
}

TEST_F(DataPlane, DiscoveredModelGoesOnlyToProvidersThatListIt) {
  std::set<std::string> shared_seen;
  for (int i = 0; i < 16; ++i) {
    auto r = world.chat("shared-model", "shared " + std::to_string(i));
    ASSERT_EQ(r.status, 200) << r.dump();
    shared_seen.insert(provider_of(r, {"alpha", "beta"}));
    EXPECT_EQ(r.header("x-apiproxy-model"), "shared-model");
  }
  for (int i = 0; i < 6; ++i) {
    auto r = world.chat("only-alpha", "only " + std::to_string(i));
    ASSERT_EQ(r.status, 200) << r.dump();
    EXPECT_EQ(r.header("x-apiproxy-provider"), "alpha");
  }
  for (int i = 0; i < 6; ++i) {
    auto r = world.chat("only-beta", "only " + std::to_string(i));
    ASSERT_EQ(r.status, 200) << r.dump();
    EXPECT_EQ(r.header("x-apiproxy-provider"), "beta");
  }
  EXPECT_EQ(world.count("alpha") + world.count("beta"), 28);
  EXPECT_EQ(inference_requests(world.az), 0) << "az lists none of these models";
}

TEST_F(DataPlane, UnknownModelIs404ModelNotFound) {
  for (const std::string model : {"no-such-model", "nowhere/gpt-4o-mini", "alpha/", "/gpt-4o-mini"}) {
    auto r = world.chat(model, "hello");
    ASSERT_EQ(r.status, 404) << model << "\n" << r.dump();
    EXPECT_TRUE(Contains(r.header("content-type"), "application/json"));
    auto d = parse_json(r.body);
    const auto& e = envelope(d, r.body);
    EXPECT_EQ(str(e, "code"), "model_not_found") << r.body;
    EXPECT_EQ(str(e, "type"), "invalid_request_error") << r.body;
    EXPECT_EQ(str(e, "param"), "model") << r.body;
    EXPECT_TRUE(Contains(str(e, "message"), model));
  }
  EXPECT_EQ(world.count("alpha") + world.count("beta"), 0);
}

// ------------------------------------------------------------------------------ azure ---

TEST_F(DataPlane, AzureGetsItsDeploymentUrlApiVersionAndApiKey) {
  auto r = world.chat("az/az-gpt4", "hello azure");
  ASSERT_EQ(r.status, 200) << r.dump();
  EXPECT_EQ(r.header("x-apiproxy-provider"), "az");
  EXPECT_EQ(r.header("x-apiproxy-model"), "az-gpt4");
  EXPECT_EQ(content_of(r.body), reply_of("az", "hello azure"));
  auto stats = world.az.stats();
  const auto& last = stats["last_request"];
  EXPECT_EQ(str(last, "method"), "POST");
  EXPECT_EQ(str(last, "target"), "/openai/deployments/az-gpt4/chat/completions?api-version=2024-10-21");
  EXPECT_EQ(str(last["headers"], "api-key"), kAzureKey);
  EXPECT_FALSE(last["headers"].HasMember("authorization")) << "Azure takes the key in api-key only: "
                                                           << to_string(last["headers"]);
  EXPECT_EQ(str(parse_json(str(last, "body")), "model"), "az-gpt4");

  // The discovered deployment name alone resolves to Azure too, and embeddings use the
  // deployment's embeddings URL.
  auto d = world.chat("az-gpt4", "discovered azure");
  ASSERT_EQ(d.status, 200) << d.dump();
  EXPECT_EQ(d.header("x-apiproxy-provider"), "az");
  auto e = world.post("/v1/embeddings", R"({"model":"az/az-gpt4","input":"embed on azure"})");
  ASSERT_EQ(e.status, 200) << e.dump();
  EXPECT_EQ(str(world.az.stats()["last_request"], "target"),
            "/openai/deployments/az-gpt4/embeddings?api-version=2024-10-21");
  EXPECT_EQ(world.count("alpha") + world.count("beta"), 0);
}

// ---------------------------------------------------------------------- bad input ---

TEST_F(DataPlane, MalformedJsonIs400InOpenAIEnvelope) {
  for (const std::string body : {"{\"model\": \"chat-pool\", ", "not json at all", "[1,2,3]", "\"chat-pool\""}) {
    auto r = world.post(kChatPath, body);
    ASSERT_EQ(r.status, 400) << body << "\n" << r.dump();
    auto d = parse_json(r.body);
    const auto& e = envelope(d, r.body);
    EXPECT_EQ(str(e, "type"), "invalid_request_error") << r.body;
  }
}

TEST_F(DataPlane, MissingOrEmptyModelIs400WithParamModel) {
  for (const std::string body : {R"({"messages":[{"role":"user","content":"hi"}]})",
                                 R"({"model":"","messages":[]})", R"({"model":42,"messages":[]})"}) {
    auto r = world.post(kChatPath, body);
    ASSERT_EQ(r.status, 400) << body << "\n" << r.dump();
    auto d = parse_json(r.body);
    const auto& e = envelope(d, r.body);
    EXPECT_EQ(str(e, "param"), "model") << r.body;
    EXPECT_EQ(str(e, "type"), "invalid_request_error") << r.body;
  }
  auto r = world.post("/v1/embeddings", R"({"input":"x"})");
  EXPECT_EQ(r.status, 400) << r.dump();
}

TEST_F(DataPlane, NonBooleanStreamIs400) {
  for (const std::string v : {"\"yes\"", "1", "{}"}) {
    auto r = world.chat("chat-pool", "hi", {}, ",\"stream\":" + v);
    ASSERT_EQ(r.status, 400) << v << "\n" << r.dump();
    auto d = parse_json(r.body);
    EXPECT_EQ(str(envelope(d, r.body), "param"), "stream") << r.body;
  }
  // null means "not set".
  auto ok = world.chat("chat-pool", "hi", {}, ",\"stream\":null");
  EXPECT_EQ(ok.status, 200) << ok.dump();
}

TEST_F(DataPlane, OversizedBodyIs413InOpenAIEnvelope) {
  std::string big(300 * 1024, 'x');  // APIPROXY_MAX_BODY_BYTES=262144 in this world
  auto r = world.chat("chat-pool", big);
  ASSERT_EQ(r.status, 413) << r.dump().substr(0, 2000);
  auto d = parse_json(r.body);
  const auto& e = envelope(d, r.body);
  EXPECT_TRUE(Contains(str(e, "message"), "262144")) << r.body;
  EXPECT_EQ(world.count("alpha") + world.count("beta"), 0);
  // The gateway is fine afterwards.
  EXPECT_EQ(world.chat("chat-pool", "small").status, 200);
}

TEST_F(DataPlane, UnauthenticatedIs401InOpenAIEnvelope) {
  const std::vector<Headers> wrong = {
      {},
      {{"Authorization", "Bearer " + base64("not-the-token")}},
      {{"Authorization", std::string("Bearer ") + kToken}},  // not base64-encoded
      {{"X-API-Key", base64("nope")}},
  };
  for (const auto& h : wrong) {
    for (const auto& [method, path] : std::vector<std::pair<std::string, std::string>>{
             {"POST", kChatPath}, {"POST", "/v1/embeddings"}, {"POST", "/v1/completions"}, {"GET", "/v1/models"}}) {
      Headers headers = h;
      headers.emplace_back("Content-Type", "application/json");
      auto r = world.client().request(method, path, headers, method == "POST" ? chat_body("chat-pool", "x") : "");
      ASSERT_EQ(r.status, 401) << method << " " << path << "\n" << r.dump();
      EXPECT_EQ(r.header("www-authenticate"), "Bearer");
      auto d = parse_json(r.body);
      EXPECT_EQ(str(envelope(d, r.body), "type"), "authentication_error") << r.body;
    }
  }
  EXPECT_EQ(world.count("alpha") + world.count("beta"), 0);
  // X-API-Key with the right token works as well as the bearer token.
  auto ok = world.client().post(kChatPath, chat_body("chat-pool", "x"), {api_key_header(kToken)});
  EXPECT_EQ(ok.status, 200) << ok.dump();
}

TEST_F(DataPlane, WrongMethodIs405InOpenAIEnvelope) {
  auto r = world.get(kChatPath);
  ASSERT_EQ(r.status, 405) << r.dump();
  EXPECT_TRUE(Contains(r.header("allow"), "POST"));
  auto d = parse_json(r.body);
  envelope(d, r.body);
}

}  // namespace
}  // namespace it
