// The client APIs of issue 13 over real traffic: the real gateway, its plugins, redis-server
// and mocks that speak OpenAI (alpha, beta) and Anthropic (claude).
//
//   POST /v1/messages    translated to chat completions for an OpenAI-compatible provider,
//                        passed through to the anthropic adapter
//   POST /v1/responses   passed through to a provider that serves it (alpha), translated for
//                        one configured not to (beta: RESPONSES_PATH=off)
//   chat completions     served by the anthropic adapter (translated inside the plugin)
//
// Every answer is parsed and compared field by field; what reached the upstream is read back
// from the mock's last_request.
#include <algorithm>
#include <chrono>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "assertions.hpp"
#include "data_plane.hpp"

namespace it {
namespace {

using namespace dp;
using namespace std::chrono_literals;

constexpr const char* kClaudeKey = "sk-ant-claude-key-13579";
constexpr const char* kClaudeModel = "claude-mock-sonnet";
constexpr const char* kMessagesPath = "/v1/messages";
constexpr const char* kResponsesPath = "/v1/responses";
constexpr const char* kClientAnthropicVersion = "2023-01-01";  // not the adapter's default: tells them apart

// Logical models with one upstream each (the answering provider is known), and a pool that
// mixes an Anthropic and an OpenAI-compatible upstream for failover.
std::map<std::string, std::string> client_api_models() {
  auto m = default_logical_models();
  m["on-alpha"] = logical("on-alpha", {physical("alpha", "gpt-4o-mini")});
  m["on-beta"] = logical("on-beta", {physical("beta", "gpt-4o-mini")});
  m["on-claude"] = logical("on-claude", {physical("claude", kClaudeModel)});
  m["mixed-pool"] = logical("mixed-pool", {physical("claude", kClaudeModel), physical("alpha", "gpt-4o-mini")});
  return m;
}

// ------------------------------------------------------------------ reading answers ----

struct SseEvent {
  std::string name;  // "" when the event has no `event:` line
  std::string data;
};

// A whole SSE body as its events (comments and events without data are dropped).
std::vector<SseEvent> sse_events(std::string_view body) {
  std::string text;
  for (size_t i = 0; i < body.size(); ++i)
    if (!(body[i] == '\r' && i + 1 < body.size() && body[i + 1] == '\n')) text += body[i];
  std::vector<SseEvent> out;
  size_t at = 0;
  while (at < text.size()) {
    size_t end = text.find("\n\n", at);
    if (end == std::string::npos) end = text.size();
    SseEvent e;
    bool has_data = false;
    for (const auto& line : lines_of(text.substr(at, end - at))) {
      auto value = [&](size_t skip) { return line.substr(line.size() > skip && line[skip] == ' ' ? skip + 1 : skip); };
      if (line.rfind("event:", 0) == 0) e.name = value(6);
      if (line.rfind("data:", 0) == 0) {
        e.data += (has_data ? "\n" : "") + value(5);
        has_data = true;
      }
    }
    if (has_data) out.push_back(std::move(e));
    at = end + 2;
  }
  return out;
}

// The event names with each run of one name collapsed: a, b, b, c -> a, b, c.
std::vector<std::string> collapsed_names(const std::vector<SseEvent>& events) {
  std::vector<std::string> out;
  for (const auto& e : events)
    if (out.empty() || out.back() != e.name) out.push_back(e.name);
  return out;
}

// The text of a content value in either API: a string, or its text parts/blocks in order.
std::string text_of(const rapidjson::Value& content) {
  if (content.IsString()) return {content.GetString(), content.GetStringLength()};
  std::string out;
  if (!content.IsArray()) return out;
  for (const auto& part : content.GetArray()) {
    std::string type = str(part, "type");
    if (type == "text" || type == "output_text" || type == "input_text") out += str(part, "text");
  }
  return out;
}

// The concatenated text of a Messages stream's text_delta events.
std::string messages_stream_text(const std::vector<SseEvent>& events) {
  std::string out;
  for (const auto& e : events) {
    if (e.name != "content_block_delta") continue;
    auto d = parse_json(e.data);
    if (d.HasMember("delta") && str(d["delta"], "type") == "text_delta") out += str(d["delta"], "text");
  }
  return out;
}

// The concatenated delta.content of a chat stream's chunks ([DONE] skipped).
std::string chat_stream_text(const std::vector<SseEvent>& events) {
  std::string out;
  for (const auto& e : events) {
    if (e.data == "[DONE]") continue;
    auto d = parse_json(e.data);
    if (!d.HasMember("choices") || !d["choices"].IsArray()) continue;
    for (const auto& c : d["choices"].GetArray())
      if (c.HasMember("delta")) out += str(c["delta"], "content");
  }
  return out;
}

// A Response object's output text: its message items' output_text parts.
std::string response_output_text(const rapidjson::Value& response) {
  std::string out;
  if (!response.IsObject() || !response.HasMember("output") || !response["output"].IsArray()) return out;
  for (const auto& item : response["output"].GetArray())
    if (str(item, "type") == "message" && item.HasMember("content")) out += text_of(item["content"]);
  return out;
}

// Every value the mock's last request had for header `name` (lower case).
std::vector<std::string> header_values(const rapidjson::Value& last_request, const char* name) {
  std::vector<std::string> out;
  if (!last_request.IsObject() || !last_request.HasMember("headers") || !last_request["headers"].IsObject()) return out;
  for (const auto& h : last_request["headers"].GetObject())
    if (std::string_view(h.name.GetString()) == name && h.value.IsString()) out.emplace_back(h.value.GetString());
  return out;
}

// The JSON body of the mock's last request.
rapidjson::Document sent_body(const MockUpstream& mock) {
  auto stats = mock.stats();
  return parse_json(str(stats["last_request"], "body"));
}

int attempts_of(const Response& r) {
  std::string a = r.header("x-apiproxy-attempts");
  return a.empty() ? 0 : std::stoi(a);
}

// Checks an Anthropic error answer: status, {"type":"error","error":{"type":T,"message":M}}.
void expect_anthropic_error(const Response& r, int status, const std::string& type) {
  EXPECT_EQ(r.status, status) << r.dump();
  auto d = parse_json(r.body);
  EXPECT_EQ(str(d, "type"), "error") << r.body;
  ASSERT_TRUE(d.HasMember("error") && d["error"].IsObject()) << r.body;
  EXPECT_EQ(str(d["error"], "type"), type) << r.body;
  EXPECT_FALSE(str(d["error"], "message").empty()) << r.body;
  EXPECT_EQ(d.MemberCount(), 2u) << "not Anthropic's envelope: " << r.body;
}

// Checks an OpenAI error envelope: status, {"error":{"message","type","param","code"}}.
void expect_openai_error(const Response& r, int status, const std::string& type) {
  EXPECT_EQ(r.status, status) << r.dump();
  auto d = parse_json(r.body);
  ASSERT_TRUE(d.HasMember("error") && d["error"].IsObject()) << r.body;
  const auto& e = d["error"];
  EXPECT_EQ(str(e, "type"), type) << r.body;
  EXPECT_FALSE(str(e, "message").empty()) << r.body;
  EXPECT_TRUE(e.HasMember("param") && e.HasMember("code")) << r.body;
}

// Checks a Messages text stream: its events in order (runs of deltas collapsed), its number of
// text deltas and their text.
void expect_messages_text_stream(const std::vector<SseEvent>& events, int deltas, const std::string& text) {
  std::vector<std::string> order{"message_start",       "ping",          "content_block_start", "content_block_delta",
                                 "content_block_stop", "message_delta", "message_stop"};
  EXPECT_EQ(collapsed_names(events), order);
  int seen = 0;
  for (const auto& e : events) seen += e.name == "content_block_delta";
  EXPECT_EQ(seen, deltas) << "one text_delta per content chunk of the upstream";
  EXPECT_EQ(messages_stream_text(events), text);
}

// Checks the mock claude's last request (its stats' last_request): a Messages call with claude's
// own key and, once, the anthropic-version `version`.
void expect_messages_call_to_claude(const rapidjson::Value& last, const std::string& version) {
  EXPECT_EQ(str(last, "target"), kMessagesPath);
  EXPECT_EQ(header_values(last, "x-api-key"), std::vector<std::string>{kClaudeKey});
  EXPECT_EQ(header_values(last, "anthropic-version"), std::vector<std::string>{version})
      << "anthropic-version must reach the upstream, once: " << to_string(last["headers"]);
}

// Checks a whole Response object answered by `provider` to `input` (with responses_body's
// instructions); returns it parsed.
rapidjson::Document expect_completed_response(const Response& r, const std::string& provider,
                                              const std::string& input) {
  EXPECT_EQ(r.status, 200) << r.dump();
  EXPECT_EQ(r.header("x-apiproxy-provider"), provider);
  auto d = parse_json(r.body);
  EXPECT_EQ(str(d, "object"), "response") << r.body;
  EXPECT_EQ(str(d, "status"), "completed");
  EXPECT_EQ(str(d, "instructions"), "be brief");
  EXPECT_EQ(response_output_text(d), reply_of(provider, input));
  return d;
}

// ------------------------------------------------------------------ writing requests ----

// {"model":M,"max_tokens":256,"messages":[{"role":"user","content":TEXT}]EXTRA}; `extra` starts with a comma.
std::string messages_body(std::string_view model, std::string_view text, std::string_view extra = "") {
  return "{\"model\":" + quote(model) + ",\"max_tokens\":256,\"messages\":[{\"role\":\"user\",\"content\":" +
         quote(text) + "}]" + std::string(extra) + "}";
}

// The tool every tool test offers, in the Messages API's shape.
constexpr const char* kWeatherTool =
    R"({"name":"get_weather","description":"Current weather for a city",)"
    R"("input_schema":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}})";

// A conversation that ran the tool: the user's question, the assistant's tool_use, the result.
std::string tool_round_body(std::string_view model, std::string_view tool_use_id, std::string_view result) {
  return "{\"model\":" + quote(model) + ",\"max_tokens\":256,\"tools\":[" + kWeatherTool +
         "],\"messages\":[{\"role\":\"user\",\"content\":\"What is the weather in Paris?\"},"
         "{\"role\":\"assistant\",\"content\":[{\"type\":\"text\",\"text\":\"Let me check.\"},"
         "{\"type\":\"tool_use\",\"id\":" + quote(tool_use_id) +
         ",\"name\":\"get_weather\",\"input\":{\"city\":\"Paris\"}}]},"
         "{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\",\"tool_use_id\":" + quote(tool_use_id) +
         ",\"content\":" + quote(result) + "}]}]}";
}

// A chat completions request with one user message and the weather tool in OpenAI's shape.
std::string chat_tool_body(std::string_view model, std::string_view text) {
  return "{\"model\":" + quote(model) + ",\"messages\":[{\"role\":\"user\",\"content\":" + quote(text) +
         "}],\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\","
         "\"description\":\"Current weather for a city\",\"parameters\":{\"type\":\"object\","
         "\"properties\":{\"city\":{\"type\":\"string\"}},\"required\":[\"city\"]}}}]}";
}

std::string responses_body(std::string_view model, std::string_view input, std::string_view extra = "") {
  return "{\"model\":" + quote(model) + ",\"input\":" + quote(input) + ",\"instructions\":\"be brief\"" +
         std::string(extra) + "}";
}

class ClientApis : public ::testing::Test {
 protected:
  World world;
  MockUpstream claude{{"--name", "claude", "--models", std::string(kClaudeModel) + ",claude-mock-haiku",
                       "--require-key", kClaudeKey}};

  void SetUp() override {
    EnvMap env = world.env();
    add_provider(env, "claude", claude.base_url(), kClaudeKey,
                 {{"ADAPTER", "anthropic"}, {"MODELS_PATH", "/v1/models"}});
    env["LLM_PROVIDER_beta_RESPONSES_PATH"] = "off";
    world.start(env, client_api_models(), {"only-alpha", "only-beta", "az-gpt4", kClaudeModel});
  }

  // The headers an Anthropic SDK adds to a Messages request.
  static Headers anthropic_headers(Headers more = {}) {
    more.emplace_back("anthropic-version", kClientAnthropicVersion);
    return more;
  }
  Response messages(const std::string& body, const Headers& headers = anthropic_headers()) const {
    return world.post(kMessagesPath, body, headers);
  }
  std::unique_ptr<SseStream> stream(const std::string& path, const std::string& body,
                                    const Headers& headers = anthropic_headers()) const {
    return world.stream(path, body, headers);
  }
  // A whole streamed answer: checks the head, returns the events.
  std::vector<SseEvent> stream_events(const std::string& path, const std::string& body,
                                      const Headers& headers = anthropic_headers()) const {
    auto s = stream(path, body, headers);
    EXPECT_TRUE(s->read_head()) << "no response head";
    EXPECT_EQ(s->status(), 200) << s->read_body();
    EXPECT_TRUE(Contains(s->header("content-type"), "text/event-stream"));
    std::string body_text = s->read_body();
    EXPECT_TRUE(s->complete()) << "the stream did not end properly:\n" << body_text;
    return sse_events(body_text);
  }
  // Checks what reached `provider`'s mock: `responses` Responses calls and `chats` chat completions.
  void expect_upstream_calls(const std::string& provider, int responses, int chats) const {
    EXPECT_EQ(world.count(provider, kResponsesPath), responses) << provider;
    EXPECT_EQ(world.count(provider, kChatPath), chats) << provider;
  }
  int fail_first_left(const MockUpstream& m) const {
    return static_cast<int>(num(parse_json(HttpClient(m.port()).get("/__mock/config").body), "fail_first"));
  }
};

// ================================================= /v1/messages, OpenAI-compatible upstream ===

TEST_F(ClientApis, MessagesToAnOpenAIProviderAreTranslatedBothWays) {
  world.alpha.configure(R"({"usage":{"prompt_tokens":31,"completion_tokens":9,"total_tokens":40}})");
  std::string body = R"({"model":"on-alpha","max_tokens":300,"system":"You are terse.","messages":[)"
                     R"({"role":"user","content":"first question"},)"
                     R"({"role":"assistant","content":[{"type":"text","text":"first answer"}]},)"
                     R"({"role":"user","content":[{"type":"text","text":"second question"}]}]})";
  auto r = messages(body);
  ASSERT_EQ(r.status, 200) << r.dump();
  EXPECT_TRUE(Contains(r.header("content-type"), "application/json"));
  EXPECT_EQ(r.header("x-apiproxy-provider"), "alpha");

  auto d = parse_json(r.body);
  EXPECT_EQ(str(d, "type"), "message") << r.body;
  EXPECT_EQ(str(d, "role"), "assistant");
  EXPECT_FALSE(str(d, "id").empty());
  ASSERT_EQ(arr(d, "content").Size(), 1u) << r.body;
  EXPECT_EQ(str(d["content"][0], "type"), "text");
  EXPECT_EQ(str(d["content"][0], "text"), reply_of("alpha", "second question"));
  EXPECT_EQ(str(d, "stop_reason"), "end_turn");
  ASSERT_TRUE(d.HasMember("usage") && d["usage"].IsObject()) << r.body;
  EXPECT_EQ(num(d["usage"], "input_tokens"), 31) << "the mock's chat usage said prompt_tokens 31";
  EXPECT_EQ(num(d["usage"], "output_tokens"), 9) << "the mock's chat usage said completion_tokens 9";

  // The upstream got chat completions: the system prompt first, then every turn in order.
  auto stats = world.alpha.stats();
  const auto& last = stats["last_request"];
  EXPECT_EQ(str(last, "target"), kChatPath);
  EXPECT_EQ(header_values(last, "authorization"), std::vector<std::string>{std::string("Bearer ") + kAlphaKey});
  EXPECT_TRUE(header_values(last, "anthropic-version").empty()) << "an Anthropic header went to an OpenAI upstream";
  auto sent = parse_json(str(last, "body"));
  EXPECT_EQ(str(sent, "model"), "gpt-4o-mini");
  EXPECT_EQ(num(sent, "max_tokens"), 300);
  const auto& turns = arr(sent, "messages");
  ASSERT_EQ(turns.Size(), 4u) << str(last, "body");
  const std::vector<std::pair<std::string, std::string>> expected{{"system", "You are terse."},
                                                                  {"user", "first question"},
                                                                  {"assistant", "first answer"},
                                                                  {"user", "second question"}};
  for (rapidjson::SizeType i = 0; i < turns.Size(); ++i) {
    EXPECT_EQ(str(turns[i], "role"), expected[i].first) << i;
    ASSERT_TRUE(turns[i].HasMember("content")) << i;
    EXPECT_EQ(text_of(turns[i]["content"]), expected[i].second) << i;
  }
  EXPECT_TRUE(LacksSecret(str(last, "body") + to_string(last["headers"]), base64(kToken)));
  EXPECT_EQ(world.count("alpha", kMessagesPath), 0);
}

TEST_F(ClientApis, MessagesStreamFromAnOpenAIProviderIsAWellFormedAnthropicStream) {
  world.alpha.configure(R"({"chunks":4})");
  auto events = stream_events(kMessagesPath, messages_body("on-alpha", "stream this please", R"(,"stream":true)"));
  ASSERT_FALSE(events.empty());

  expect_messages_text_stream(events, 4, reply_of("alpha", "stream this please"));
  for (const auto& e : events) EXPECT_EQ(str(parse_json(e.data), "type"), e.name) << e.data;

  auto start = parse_json(events.front().data);
  ASSERT_TRUE(start.HasMember("message") && start["message"].IsObject()) << events.front().data;
  EXPECT_EQ(str(start["message"], "role"), "assistant");
  EXPECT_EQ(arr(start["message"], "content").Size(), 0u);
  auto block = parse_json(events[2].data);
  EXPECT_EQ(num(block, "index"), 0);
  ASSERT_TRUE(block.HasMember("content_block")) << events[2].data;
  EXPECT_EQ(str(block["content_block"], "type"), "text");
  auto message_delta = parse_json(events[events.size() - 2].data);
  ASSERT_TRUE(message_delta.HasMember("delta") && message_delta.HasMember("usage")) << events[events.size() - 2].data;
  EXPECT_EQ(str(message_delta["delta"], "stop_reason"), "end_turn");
  EXPECT_GT(num(message_delta["usage"], "output_tokens"), 0);

  // The translation asked the upstream for a stream with its usage.
  auto sent = sent_body(world.alpha);
  EXPECT_TRUE(sent.HasMember("stream") && sent["stream"].IsBool() && sent["stream"].GetBool());
  ASSERT_TRUE(sent.HasMember("stream_options")) << to_string(sent);
  EXPECT_TRUE(sent["stream_options"]["include_usage"].IsBool() && sent["stream_options"]["include_usage"].GetBool());
}

TEST_F(ClientApis, MessagesToolsAndToolResultsReachAnOpenAIProviderAsChatTools) {
  auto first = messages(messages_body("on-alpha", "What is the weather in Paris?",
                                      std::string(",\"tools\":[") + kWeatherTool + "]"));
  ASSERT_EQ(first.status, 200) << first.dump();
  auto sent = sent_body(world.alpha);
  auto expected_tools = parse_json(
      R"([{"type":"function","function":{"name":"get_weather","description":"Current weather for a city",)"
      R"("parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}])");
  ASSERT_TRUE(sent.HasMember("tools")) << to_string(sent);
  EXPECT_TRUE(sent["tools"] == expected_tools) << to_string(sent["tools"]);

  // The second round hands the tool's result back.
  auto r = messages(tool_round_body("on-alpha", "toolu_weather_1", "Sunny, 21 C"));
  ASSERT_EQ(r.status, 200) << r.dump();
  auto d = parse_json(r.body);
  ASSERT_EQ(arr(d, "content").Size(), 1u) << r.body;
  EXPECT_EQ(str(d["content"][0], "text"), reply_of("alpha", "Sunny, 21 C"));

  sent = sent_body(world.alpha);
  const auto& turns = arr(sent, "messages");
  ASSERT_EQ(turns.Size(), 3u) << to_string(sent);
  EXPECT_EQ(str(turns[1], "role"), "assistant");
  EXPECT_EQ(text_of(turns[1]["content"]), "Let me check.");
  const auto& calls = arr(turns[1], "tool_calls");
  ASSERT_EQ(calls.Size(), 1u);
  EXPECT_EQ(str(calls[0], "id"), "toolu_weather_1");
  EXPECT_EQ(str(calls[0], "type"), "function");
  EXPECT_EQ(str(calls[0]["function"], "name"), "get_weather");
  EXPECT_TRUE(parse_json(str(calls[0]["function"], "arguments")) == parse_json(R"({"city":"Paris"})"))
      << to_string(calls[0]);
  EXPECT_EQ(str(turns[2], "role"), "tool");
  EXPECT_EQ(str(turns[2], "tool_call_id"), "toolu_weather_1");
  EXPECT_EQ(text_of(turns[2]["content"]), "Sunny, 21 C");
}

// =============================================== /v1/messages, the anthropic adapter (native) ===

TEST_F(ClientApis, MessagesToTheAnthropicAdapterPassThrough) {
  std::string body = R"({"model":"on-claude","max_tokens":200,"system":"Answer in one line.","temperature":0.3,)"
                     R"("metadata":{"user_id":"u-42"},"messages":[{"role":"user","content":"hello claude"}]})";
  // As an Anthropic SDK authenticates: x-api-key, with the gateway's token.
  auto r = world.client().post(kMessagesPath, body,
                               {api_key_header(kToken), {"anthropic-version", kClientAnthropicVersion},
                                {"anthropic-beta", "tools-2024-04-04"}});
  ASSERT_EQ(r.status, 200) << r.dump();
  EXPECT_EQ(r.header("x-apiproxy-provider"), "claude");
  auto d = parse_json(r.body);
  EXPECT_EQ(str(d, "type"), "message");
  EXPECT_EQ(str(d, "model"), kClaudeModel);
  EXPECT_EQ(str(d, "id").rfind("msg_", 0), 0u) << r.body;
  ASSERT_EQ(arr(d, "content").Size(), 1u) << r.body;
  EXPECT_EQ(str(d["content"][0], "text"), reply_of("claude", "hello claude"));
  EXPECT_EQ(str(d, "stop_reason"), "end_turn");
  EXPECT_GT(num(d["usage"], "input_tokens"), 0);
  EXPECT_GT(num(d["usage"], "output_tokens"), 0);

  auto stats = claude.stats();
  const auto& last = stats["last_request"];
  // The client's anthropic-version, not the adapter's default.
  expect_messages_call_to_claude(last, kClientAnthropicVersion);
  EXPECT_EQ(header_values(last, "anthropic-beta"), std::vector<std::string>{"tools-2024-04-04"});
  EXPECT_TRUE(LacksSecret(str(last, "body") + to_string(last["headers"]), base64(kToken)));
  // The body as the client sent it, the logical model replaced by the physical one.
  auto expected = parse_json(body);
  expected["model"].SetString(kClaudeModel, expected.GetAllocator());
  EXPECT_TRUE(parse_json(str(last, "body")) == expected) << str(last, "body");
  EXPECT_EQ(path_count(stats, kChatPath), 0);
}

TEST_F(ClientApis, MessagesToolUseRoundWithTheAnthropicAdapter) {
  auto r = messages(messages_body("on-claude", "What is the weather in Paris?",
                                  std::string(",\"tools\":[") + kWeatherTool + "]"));
  ASSERT_EQ(r.status, 200) << r.dump();
  auto d = parse_json(r.body);
  EXPECT_EQ(str(d, "stop_reason"), "tool_use");
  const auto& content = arr(d, "content");
  ASSERT_EQ(content.Size(), 2u) << r.body;
  EXPECT_EQ(str(content[0], "type"), "text");
  EXPECT_EQ(str(content[0], "text"), "Let me check.");
  EXPECT_EQ(str(content[1], "type"), "tool_use");
  EXPECT_EQ(str(content[1], "name"), "get_weather");
  std::string tool_use_id = str(content[1], "id");
  EXPECT_FALSE(tool_use_id.empty());
  ASSERT_TRUE(content[1].HasMember("input"));
  EXPECT_TRUE(content[1]["input"] == parse_json(R"({"city":"Paris"})")) << r.body;

  auto second = messages(tool_round_body("on-claude", tool_use_id, "Cloudy, 14 C"));
  ASSERT_EQ(second.status, 200) << second.dump();
  auto s = parse_json(second.body);
  EXPECT_EQ(str(s, "stop_reason"), "end_turn");
  ASSERT_EQ(arr(s, "content").Size(), 1u) << second.body;
  EXPECT_EQ(str(s["content"][0], "text"), "The tool said: Cloudy, 14 C");
}

TEST_F(ClientApis, MessagesStreamFromTheAnthropicAdapterPassesThrough) {
  claude.configure(R"({"chunks":3})");
  auto events = stream_events(kMessagesPath, messages_body("on-claude", "stream natively", R"(,"stream":true)"));
  expect_messages_text_stream(events, 3, reply_of("claude", "stream natively"));
  auto start = parse_json(events.front().data);
  EXPECT_EQ(str(start["message"], "model"), kClaudeModel);
  EXPECT_EQ(path_count(claude.stats(), kMessagesPath), 1);
  auto sent = sent_body(claude);
  EXPECT_TRUE(sent["stream"].IsBool() && sent["stream"].GetBool());
}

// ========================================== chat completions served by the anthropic adapter ===

TEST_F(ClientApis, ChatCompletionsServedByTheAnthropicAdapter) {
  claude.configure(R"({"usage":{"input_tokens":17,"output_tokens":5}})");
  auto r = world.chat("on-claude", "hello from chat");
  ASSERT_EQ(r.status, 200) << r.dump();
  EXPECT_EQ(r.header("x-apiproxy-provider"), "claude");
  auto d = parse_json(r.body);
  EXPECT_EQ(str(d, "object"), "chat.completion");
  ASSERT_EQ(arr(d, "choices").Size(), 1u) << r.body;
  EXPECT_EQ(str(d["choices"][0]["message"], "role"), "assistant");
  EXPECT_EQ(str(d["choices"][0]["message"], "content"), reply_of("claude", "hello from chat"));
  EXPECT_EQ(str(d["choices"][0], "finish_reason"), "stop");
  ASSERT_TRUE(d.HasMember("usage") && d["usage"].IsObject()) << r.body;
  EXPECT_EQ(num(d["usage"], "prompt_tokens"), 17);
  EXPECT_EQ(num(d["usage"], "completion_tokens"), 5);
  EXPECT_EQ(num(d["usage"], "total_tokens"), 22);

  // The upstream got a Messages request: the system message as `system`, a max_tokens.
  auto stats = claude.stats();
  const auto& last = stats["last_request"];
  expect_messages_call_to_claude(last, "2023-06-01");
  auto sent = parse_json(str(last, "body"));
  EXPECT_EQ(str(sent, "model"), kClaudeModel);
  ASSERT_TRUE(sent.HasMember("system")) << str(last, "body");
  EXPECT_EQ(text_of(sent["system"]), "be brief");
  EXPECT_GT(num(sent, "max_tokens"), 0);
  const auto& turns = arr(sent, "messages");
  ASSERT_EQ(turns.Size(), 1u) << str(last, "body");
  EXPECT_EQ(str(turns[0], "role"), "user");
  EXPECT_EQ(text_of(turns[0]["content"]), "hello from chat");
}

TEST_F(ClientApis, ChatToolCallServedByTheAnthropicAdapter) {
  auto r = world.post(kChatPath, chat_tool_body("on-claude", "What is the weather in Paris?"));
  ASSERT_EQ(r.status, 200) << r.dump();
  auto d = parse_json(r.body);
  const auto& choice = arr(d, "choices")[0];
  EXPECT_EQ(str(choice, "finish_reason"), "tool_calls");
  EXPECT_EQ(str(choice["message"], "content"), "Let me check.");
  const auto& calls = arr(choice["message"], "tool_calls");
  ASSERT_EQ(calls.Size(), 1u) << r.body;
  EXPECT_EQ(str(calls[0], "type"), "function");
  EXPECT_EQ(str(calls[0]["function"], "name"), "get_weather");
  EXPECT_TRUE(parse_json(str(calls[0]["function"], "arguments")) == parse_json(R"({"city":"Paris"})")) << r.body;
  auto sent = sent_body(claude);
  ASSERT_EQ(arr(sent, "tools").Size(), 1u) << to_string(sent);
  EXPECT_EQ(str(sent["tools"][0], "name"), "get_weather");
  ASSERT_TRUE(sent["tools"][0].HasMember("input_schema")) << to_string(sent);
  EXPECT_TRUE(sent["tools"][0]["input_schema"] ==
              parse_json(R"({"type":"object","properties":{"city":{"type":"string"}},"required":["city"]})"));
}

TEST_F(ClientApis, ChatStreamServedByTheAnthropicAdapterWithUsageWhenAskedFor) {
  claude.configure(R"({"chunks":3,"usage":{"input_tokens":17,"output_tokens":5}})");
  auto events = stream_events(kChatPath, chat_body("on-claude", "stream from claude",
                                                   R"(,"stream":true,"stream_options":{"include_usage":true})"));
  ASSERT_GE(events.size(), 4u);
  EXPECT_EQ(events.back().data, "[DONE]");
  EXPECT_EQ(chat_stream_text(events), reply_of("claude", "stream from claude"));
  std::string finish;
  int usage_chunks = 0;
  for (size_t i = 0; i + 1 < events.size(); ++i) {
    auto c = parse_json(events[i].data);
    EXPECT_EQ(str(c, "object"), "chat.completion.chunk") << events[i].data;
    if (i == 0) {
      EXPECT_EQ(str(c["choices"][0]["delta"], "role"), "assistant") << events[i].data;
    }
    for (const auto& choice : arr(c, "choices").GetArray())
      if (choice.HasMember("finish_reason") && choice["finish_reason"].IsString())
        finish = str(choice, "finish_reason");
    if (!c.HasMember("usage") || !c["usage"].IsObject()) continue;
    ++usage_chunks;
    EXPECT_EQ(num(c["usage"], "prompt_tokens"), 17);
    EXPECT_EQ(num(c["usage"], "completion_tokens"), 5);
    EXPECT_EQ(num(c["usage"], "total_tokens"), 22);
    EXPECT_EQ(arr(c, "choices").Size(), 0u) << "the usage chunk has no choices: " << events[i].data;
  }
  EXPECT_EQ(finish, "stop");
  EXPECT_EQ(usage_chunks, 1);
}

TEST_F(ClientApis, ChatStreamServedByTheAnthropicAdapterHasNoUsageUnlessAskedFor) {
  claude.configure(R"({"chunks":3})");
  auto events = stream_events(kChatPath, chat_body("on-claude", "no usage please", R"(,"stream":true)"));
  ASSERT_GE(events.size(), 3u);
  EXPECT_EQ(events.back().data, "[DONE]");
  EXPECT_EQ(chat_stream_text(events), reply_of("claude", "no usage please"));
  for (size_t i = 0; i + 1 < events.size(); ++i) {
    auto c = parse_json(events[i].data);
    EXPECT_FALSE(c.HasMember("usage") && c["usage"].IsObject())
        << "a usage chunk reached the client: " << events[i].data;
    EXPECT_FALSE(arr(c, "choices").Empty()) << events[i].data;
  }
}

// ======================================================================== /v1/responses ===

TEST_F(ClientApis, ResponsesGoNativelyToAProviderThatServesThem) {
  auto r = world.post(kResponsesPath, responses_body("on-alpha", "hello responses"));
  auto d = expect_completed_response(r, "alpha", "hello responses");
  EXPECT_EQ(str(d, "id").rfind("resp_", 0), 0u) << r.body;
  EXPECT_GT(num(d["usage"], "input_tokens"), 0);
  EXPECT_GT(num(d["usage"], "output_tokens"), 0);
  // The mock's own Response: it answered on /v1/responses, not on chat completions.
  expect_upstream_calls("alpha", 1, 0);
  auto sent = sent_body(world.alpha);
  EXPECT_EQ(str(sent, "model"), "gpt-4o-mini");
  EXPECT_EQ(str(sent, "input"), "hello responses");
}

TEST_F(ClientApis, ResponsesAreTranslatedForAProviderThatDoesNotServeThem) {
  world.beta.configure(R"({"usage":{"prompt_tokens":12,"completion_tokens":7,"total_tokens":19}})");
  auto r = world.post(kResponsesPath, responses_body("on-beta", "hello translated"));
  auto d = expect_completed_response(r, "beta", "hello translated");
  ASSERT_TRUE(d.HasMember("usage") && d["usage"].IsObject()) << r.body;
  EXPECT_EQ(num(d["usage"], "input_tokens"), 12);
  EXPECT_EQ(num(d["usage"], "output_tokens"), 7);
  EXPECT_EQ(num(d["usage"], "total_tokens"), 19);

  expect_upstream_calls("beta", 0, 1);
  auto sent = sent_body(world.beta);
  EXPECT_EQ(str(sent, "model"), "gpt-4o-mini");
  const auto& turns = arr(sent, "messages");
  ASSERT_EQ(turns.Size(), 2u) << to_string(sent);
  EXPECT_EQ(str(turns[0], "role"), "system");
  EXPECT_EQ(text_of(turns[0]["content"]), "be brief");
  EXPECT_EQ(str(turns[1], "role"), "user");
  EXPECT_EQ(text_of(turns[1]["content"]), "hello translated");
}

TEST_F(ClientApis, ResponsesStreamsNativeAndTranslatedHaveOrderedNamedEvents) {
  for (const std::string provider : {"alpha", "beta"}) {
    SCOPED_TRACE(provider);
    std::string input = "stream responses via " + provider;
    auto events = stream_events(kResponsesPath, responses_body("on-" + provider, input, R"(,"stream":true)"));
    ASSERT_GE(events.size(), 3u);
    EXPECT_EQ(events.front().name, "response.created");
    EXPECT_EQ(events.back().name, "response.completed");
    long long last_sequence = -1;
    std::string text;
    for (const auto& e : events) {
      auto d = parse_json(e.data);
      EXPECT_EQ(str(d, "type"), e.name) << e.data;
      ASSERT_TRUE(d.HasMember("sequence_number") && d["sequence_number"].IsInt64()) << e.data;
      EXPECT_GT(d["sequence_number"].GetInt64(), last_sequence) << e.data;
      last_sequence = d["sequence_number"].GetInt64();
      if (e.name == "response.output_text.delta") text += str(d, "delta");
    }
    EXPECT_EQ(text, reply_of(provider, input));
    auto completed = parse_json(events.back().data);
    ASSERT_TRUE(completed.HasMember("response")) << events.back().data;
    EXPECT_EQ(str(completed["response"], "status"), "completed");
    EXPECT_EQ(response_output_text(completed["response"]), reply_of(provider, input));
  }
  EXPECT_EQ(world.count("alpha", kResponsesPath), 1);
  EXPECT_EQ(world.count("beta", kChatPath), 1);
}

// =============================================================================== errors ===

TEST_F(ClientApis, MessagesErrorsUseAnthropicsShape) {
  expect_anthropic_error(messages(messages_body("no-such-model", "x")), 404, "not_found_error");
  expect_anthropic_error(messages(R"({"model":"on-alpha","max_tokens":5,"messages":[)"), 400, "invalid_request_error");
  // Valid JSON that is not a Messages request.
  expect_anthropic_error(messages(R"({"model":"on-alpha","max_tokens":5,"messages":"hi"})"), 400,
                         "invalid_request_error");
  auto anonymous = world.client().post(kMessagesPath, messages_body("on-alpha", "x"), anthropic_headers());
  expect_anthropic_error(anonymous, 401, "authentication_error");
  auto wrong = world.client().post(kMessagesPath, messages_body("on-alpha", "x"),
                                   anthropic_headers({{"x-api-key", base64("not-the-token")}}));
  expect_anthropic_error(wrong, 401, "authentication_error");
  EXPECT_EQ(world.count("alpha") + world.count("beta") + path_count(claude.stats(), kMessagesPath), 0);
}

TEST_F(ClientApis, ResponsesErrorsUseOpenAIsEnvelope) {
  auto unknown = world.post(kResponsesPath, responses_body("no-such-model", "x"));
  expect_openai_error(unknown, 404, "invalid_request_error");
  EXPECT_EQ(str(parse_json(unknown.body)["error"], "code"), "model_not_found") << unknown.body;
  expect_openai_error(world.post(kResponsesPath, R"({"model":"on-alpha","input":)"), 400, "invalid_request_error");
  auto anonymous = world.client().post(kResponsesPath, responses_body("on-alpha", "x"));
  EXPECT_EQ(anonymous.status, 401) << anonymous.dump();
  auto d = parse_json(anonymous.body);
  ASSERT_TRUE(d.HasMember("error") && d["error"].IsObject()) << anonymous.body;
  EXPECT_FALSE(str(d["error"], "message").empty());
}

TEST_F(ClientApis, AcceptEventStreamWithoutStreamFieldStreams) {
  auto s = world.stream(kChatPath, chat_body("on-alpha", "accept me"), {{"Accept", "text/event-stream"}});
  ASSERT_TRUE(s->read_head());
  ASSERT_EQ(s->status(), 200) << s->read_body();
  EXPECT_TRUE(Contains(s->header("content-type"), "text/event-stream"));
  auto events = sse_events(s->read_body());
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().data, "[DONE]");
  EXPECT_EQ(chat_stream_text(events), reply_of("alpha", "accept me"));
  auto sent = sent_body(world.alpha);
  EXPECT_TRUE(sent["stream"].IsBool() && sent["stream"].GetBool()) << to_string(sent);
}

TEST_F(ClientApis, ModelsWithoutV1AnswersLikeV1Models) {
  auto v1 = world.get("/v1/models");
  auto bare = world.get("/models");
  ASSERT_EQ(v1.status, 200) << v1.dump();
  ASSERT_EQ(bare.status, 200) << bare.dump();
  EXPECT_TRUE(parse_json(v1.body) == parse_json(bare.body)) << v1.body << "\n" << bare.body;
  auto ids = pluck(arr(parse_json(bare.body), "data"), "id");
  EXPECT_NE(std::find(ids.begin(), ids.end(), "on-claude"), ids.end());
  EXPECT_NE(std::find(ids.begin(), ids.end(), kClaudeModel), ids.end());
  EXPECT_EQ(world.client().get("/models").status, 401);
}

// ========================================================================== incremental ===

// Reads a stream event by event; returns how long after the request the first event
// `is_content` accepts came, and how long until the stream ended.
struct StreamTiming {
  std::chrono::milliseconds first_content{-1}, end{-1};
  std::string text;
};

template <class IsContent>
StreamTiming time_stream(SseStream& s, IsContent&& is_content) {
  auto started = Clock::now();
  StreamTiming t;
  while (auto data = s.next_event()) {
    t.text += *data + "\n";
    if (t.first_content.count() < 0 && is_content(*data))
      t.first_content = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
  }
  t.end = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
  return t;
}

TEST_F(ClientApis, TranslatedMessagesStreamIsRelayedAsItArrives) {
  world.alpha.configure(R"({"chunks":4,"chunk_interval_ms":300})");
  auto s = stream(kMessagesPath, messages_body("on-alpha", "slowly please", R"(,"stream":true)"));
  auto t = time_stream(*s, [](const std::string& data) {
    return str(parse_json(data), "type") == "content_block_delta";
  });
  EXPECT_TRUE(s->complete()) << t.text;
  ASSERT_GE(t.first_content.count(), 0) << "no content_block_delta:\n" << t.text;
  EXPECT_LT(t.first_content.count(), t.end.count() - 500)
      << "the first delta came " << t.first_content.count() << " ms in, the end " << t.end.count() << " ms";
}

TEST_F(ClientApis, ChatStreamTranslatedFromAnthropicIsRelayedAsItArrives) {
  claude.configure(R"({"chunks":4,"chunk_interval_ms":300})");
  auto s = stream(kChatPath, chat_body("on-claude", "slowly from claude", R"(,"stream":true)"), {});
  auto t = time_stream(*s, [](const std::string& data) {
    if (data == "[DONE]") return false;
    return !chat_stream_text({{"", data}}).empty();
  });
  EXPECT_TRUE(s->complete()) << t.text;
  ASSERT_GE(t.first_content.count(), 0) << "no content chunk:\n" << t.text;
  EXPECT_LT(t.first_content.count(), t.end.count() - 500)
      << "the first content came " << t.first_content.count() << " ms in, the end " << t.end.count() << " ms";
}

// ==================================================================== failover, metrics ===

TEST_F(ClientApis, MessagesFailOverAcrossNativeAndTranslatedUpstreamsAndAreCounted) {
  // One failure: after it the router rightly keeps away from claude for a while.
  constexpr int kFailures = 1;
  claude.configure(R"({"fail_first":1})");
  int requests = 0, extra_attempts = 0;
  std::map<std::string, int> answered_by;
  while (fail_first_left(claude) > 0 && requests < 30) {
    std::string text = "failover " + std::to_string(requests++);
    auto r = messages(messages_body("mixed-pool", text));
    ASSERT_EQ(r.status, 200) << r.dump();
    std::string provider = r.header("x-apiproxy-provider");
    ASSERT_TRUE(provider == "alpha" || provider == "claude") << r.dump();
    ++answered_by[provider];
    extra_attempts += attempts_of(r) - 1;
    auto d = parse_json(r.body);
    EXPECT_EQ(str(d, "type"), "message") << r.body;
    ASSERT_EQ(arr(d, "content").Size(), 1u) << r.body;
    EXPECT_EQ(str(d["content"][0], "text"), reply_of(provider, text));
  }
  int consumed = kFailures - fail_first_left(claude);
  EXPECT_EQ(consumed, kFailures) << "claude was tried only " << consumed << " times in " << requests << " requests";
  EXPECT_EQ(extra_attempts, consumed) << "each failure on claude should cost exactly one more attempt";
  EXPECT_EQ(path_count(claude.stats(), kMessagesPath), answered_by["claude"] + consumed);
  EXPECT_EQ(world.count("alpha"), answered_by["alpha"]);

  // apiproxy_requests_total counts them under the route /v1/messages.
  const std::string series = "apiproxy_requests_total{route=\"/v1/messages\",logical_model=\"mixed-pool\"";
  double counted = 0;
  std::string text;
  bool seen = eventually(
      [&] {
        text = world.get("/metrics").body;
        counted = 0;
        for (const auto& line : lines_of(text))
          if (line.rfind(series, 0) == 0) counted += std::strtod(line.c_str() + line.rfind(' ') + 1, nullptr);
        return counted == requests;
      },
      5s, 100ms);
  EXPECT_TRUE(seen) << "counted " << counted << " of " << requests << " requests:\n" << text;
}

}  // namespace
}  // namespace it
