// The mock upstream's own control API, where the benchmarks depend on it: error_rate (a
// share of inference requests fails at random) is honoured, shown, validated and reset.
// Also the mock's Anthropic Messages and OpenAI Responses endpoints, which the gateway's
// tests rely on as a faithful upstream: shapes, streams, auth, validation and knobs.
// No gateway here: the mock is talked to directly.
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "json.hpp"
#include "services.hpp"
#include "sse.hpp"

namespace it {
namespace {

constexpr const char* kChat = R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]})";

double error_rate_of(const MockUpstream& m) {
  auto r = HttpClient(m.port()).get("/__mock/config");
  EXPECT_EQ(r.status, 200) << r.dump();
  return num(parse_json(r.body), "error_rate");
}

TEST(MockControl, ErrorRateFailsRoughlyThatShareOfInferenceRequests) {
  MockUpstream mock;
  EXPECT_EQ(error_rate_of(mock), 0.0);
  mock.configure(R"({"error_rate":0.3})");
  EXPECT_DOUBLE_EQ(error_rate_of(mock), 0.3);

  HttpConnection conn(mock.port());
  const int n = 400;
  int failed = 0, ok = 0;
  for (int i = 0; i < n; ++i) {
    auto r = conn.request("POST", "/v1/chat/completions", {{"Content-Type", "application/json"}}, kChat);
    ASSERT_TRUE(r.status == 200 || r.status == 503) << r.dump();
    (r.status == 503 ? failed : ok) += 1;
  }
  // Binomial(400, 0.3): mean 120, sd ~9.2; 80..160 is more than 4 sd either side.
  EXPECT_GE(failed, n * 0.2) << failed << " of " << n << " failed";
  EXPECT_LE(failed, n * 0.4) << failed << " of " << n << " failed";

  // The model list is not an inference request: never failed by the draw.
  for (int i = 0; i < 20; ++i) EXPECT_EQ(conn.request("GET", "/v1/models").status, 200);

  // A configured status is the status of the failures (every request fails then).
  mock.configure(R"({"error_rate":0.5,"status":429})");
  EXPECT_EQ(conn.request("POST", "/v1/chat/completions", {}, kChat).status, 429);

  // 1 fails everything, 0 nothing; reset clears the rate.
  mock.configure(R"({"error_rate":1,"status":0})");
  for (int i = 0; i < 20; ++i) EXPECT_EQ(conn.request("POST", "/v1/chat/completions", {}, kChat).status, 503);
  mock.configure(R"({"error_rate":0})");
  for (int i = 0; i < 20; ++i) EXPECT_EQ(conn.request("POST", "/v1/chat/completions", {}, kChat).status, 200);
  mock.configure(R"({"error_rate":1})");
  mock.reset();
  EXPECT_EQ(error_rate_of(mock), 0.0);
  EXPECT_EQ(conn.request("POST", "/v1/chat/completions", {}, kChat).status, 200);
}

TEST(MockControl, BadErrorRatesAreRefusedAndChangeNothing) {
  MockUpstream mock;
  mock.configure(R"({"error_rate":0.25})");
  for (const char* bad : {R"({"error_rate":-0.1})", R"({"error_rate":1.5})", R"({"error_rate":"0.3"})",
                          R"({"error_rate":null})", R"({"error_rate":true})", R"({"error_rate":[0.3]})",
                          R"({"latency_ms":7,"error_rate":2})"}) {
    auto r = HttpClient(mock.port()).post("/__mock/config", bad);
    EXPECT_EQ(r.status, 400) << bad << "\n" << r.dump();
    EXPECT_NE(r.body.find("error_rate"), std::string::npos) << r.body;
  }
  // All-or-nothing: nothing of a refused patch was applied.
  auto cfg = parse_json(HttpClient(mock.port()).get("/__mock/config").body);
  EXPECT_DOUBLE_EQ(num(cfg, "error_rate"), 0.25);
  EXPECT_EQ(num(cfg, "latency_ms"), 0);
}


// ---------------------------------------------------------------------------------------
// Anthropic Messages and OpenAI Responses

const Headers kAnthropic{{"anthropic-version", "2023-06-01"}};

std::string messages_body(const std::string& messages, const std::string& extra = "") {
  return R"({"model":"claude-test","max_tokens":64,"messages":)" + messages + extra + "}";
}

const std::string kHello = messages_body(R"([{"role":"user","content":"Hello"}])");

// One event of a named-event stream: "event: NAME" and its parsed data.
struct NamedEvent {
  std::string name;
  rapidjson::Document data;
};

std::vector<NamedEvent> named_events(const std::string& body) {
  std::vector<NamedEvent> out;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t end = body.find("\n\n", pos);
    if (end == std::string::npos) end = body.size();
    std::string block = body.substr(pos, end - pos);
    pos = end + 2;
    auto nl = block.find('\n');
    if (!block.starts_with("event: ") || nl == std::string::npos || block.compare(nl + 1, 6, "data: ") != 0) {
      ADD_FAILURE() << "not a named event: " << block;
      continue;
    }
    out.push_back({block.substr(7, nl - 7), parse_json(block.substr(nl + 7))});
  }
  return out;
}

std::vector<std::string> names_of(const std::vector<NamedEvent>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(e.name);
  return out;
}

Response post_messages(const MockUpstream& mock, const std::string& body, Headers headers = kAnthropic) {
  return HttpClient(mock.port()).post("/v1/messages", body, headers);
}

Headers with(Headers headers, std::string name, std::string value) {
  headers.emplace_back(std::move(name), std::move(value));
  return headers;
}

// Checks that `body` was refused with 400 and an invalid_request_error whose `field` (under
// "error", in both APIs' envelopes) is `expected`.
void expect_invalid_request(const Response& r, const std::string& body, const char* field,
                            const std::string& expected) {
  EXPECT_EQ(r.status, 400) << body << "\n" << r.dump();
  auto d = parse_json(r.body);
  EXPECT_EQ(str(d["error"], "type"), "invalid_request_error") << body;
  EXPECT_EQ(str(d["error"], field), expected) << body;
}

TEST(MockAnthropic, MessageAnswersTheLastUserTextAndIsCountedAndRecorded) {
  MockUpstream mock({"--name", "alpha"});
  auto body = messages_body(
      R"([{"role":"user","content":"first"},{"role":"assistant","content":"ok"},)"
      R"({"role":"user","content":[{"type":"text","text":"Hello "},{"type":"text","text":"there"}]}])",
      R"(,"system":"Be brief.")");
  auto r = post_messages(mock, body, with(kAnthropic, "x-api-key", "sk-ant-test"));
  ASSERT_EQ(r.status, 200) << r.dump();
  auto d = parse_json(r.body);
  EXPECT_TRUE(str(d, "id").starts_with("msg_")) << r.body;
  EXPECT_EQ(str(d, "type"), "message");
  EXPECT_EQ(str(d, "role"), "assistant");
  EXPECT_EQ(str(d, "model"), "claude-test");
  EXPECT_EQ(str(d, "stop_reason"), "end_turn");
  EXPECT_TRUE(is_null(d, "stop_sequence"));
  const auto& content = arr(d, "content");
  ASSERT_EQ(content.Size(), 1u) << r.body;
  EXPECT_EQ(str(content[0], "type"), "text");
  EXPECT_EQ(str(content[0], "text"), "mock alpha reply to: Hello there");
  // chars / 4: "first" + "ok" + "Hello there" + "Be brief." = 27 -> 6; the reply's 32 -> 8.
  EXPECT_EQ(num(d["usage"], "input_tokens"), 6);
  EXPECT_EQ(num(d["usage"], "output_tokens"), 8);

  auto stats = mock.stats();
  EXPECT_EQ(num(stats["by_endpoint"], "messages"), 1);
  EXPECT_EQ(num(stats["by_endpoint"], "chat"), 0);
  EXPECT_EQ(num(stats["by_path"], "/v1/messages"), 1);
  EXPECT_EQ(num(stats["by_key"], "sk-ant-test"), 1);
  const auto& last = stats["last_request"];
  EXPECT_EQ(str(last, "target"), "/v1/messages");
  EXPECT_EQ(str(last["headers"], "anthropic-version"), "2023-06-01");
  EXPECT_EQ(str(last["headers"], "x-api-key"), "sk-ant-test");
  EXPECT_EQ(str(last, "body"), body);
}

TEST(MockAnthropic, KeyComesInXApiKeyOrBearerAndErrorsUseTheAnthropicEnvelope) {
  MockUpstream mock({"--require-key", "sk-ant"});
  auto expect_error = [](const Response& r, int status, const std::string& type) {
    EXPECT_EQ(r.status, status) << r.dump();
    auto d = parse_json(r.body);
    EXPECT_EQ(str(d, "type"), "error") << r.body;
    EXPECT_EQ(str(d["error"], "type"), type) << r.body;
    EXPECT_FALSE(str(d["error"], "message").empty()) << r.body;
  };
  expect_error(post_messages(mock, kHello), 401, "authentication_error");
  expect_error(post_messages(mock, kHello, with(kAnthropic, "x-api-key", "sk-wrong")), 401, "authentication_error");
  // api-key is Azure's header, not Anthropic's.
  expect_error(post_messages(mock, kHello, with(kAnthropic, "api-key", "sk-ant")), 401, "authentication_error");
  EXPECT_EQ(post_messages(mock, kHello, with(kAnthropic, "x-api-key", "sk-ant")).status, 200);
  EXPECT_EQ(post_messages(mock, kHello, with(kAnthropic, "Authorization", "Bearer sk-ant")).status, 200);
  // ...and x-api-key is not an OpenAI header.
  auto chat = HttpClient(mock.port()).post("/v1/chat/completions", kChat, {{"x-api-key", "sk-ant"}});
  EXPECT_EQ(chat.status, 401) << chat.dump();

  auto no_version = post_messages(mock, kHello, {{"x-api-key", "sk-ant"}});
  expect_error(no_version, 400, "invalid_request_error");
  EXPECT_EQ(str(parse_json(no_version.body)["error"], "message"), "anthropic-version: header is required");

  mock.configure(R"({"require_key":null,"key_status":{"sk-busy":429}})");
  expect_error(post_messages(mock, kHello, with(kAnthropic, "x-api-key", "sk-busy")), 429, "rate_limit_error");
}

TEST(MockAnthropic, InvalidBodiesAreRefusedWithTheFieldAtFault) {
  MockUpstream mock;
  const std::vector<std::pair<std::string, std::string>> cases{
      {R"({"max_tokens":5,"messages":[{"role":"user","content":"x"}]})", "model: Field required"},
      {R"({"model":"c","messages":[{"role":"user","content":"x"}]})", "max_tokens: Field required"},
      {R"({"model":"c","max_tokens":0,"messages":[{"role":"user","content":"x"}]})",
       "max_tokens: Input should be greater than or equal to 1"},
      {R"({"model":"c","max_tokens":"5","messages":[{"role":"user","content":"x"}]})",
       "max_tokens: Input should be a valid integer"},
      {R"({"model":"c","max_tokens":5,"messages":[]})", "messages: at least one message is required"},
      {R"({"model":"c","max_tokens":5,"messages":"hi"})", "messages: Input should be a valid list"},
      {R"({"model":"c","max_tokens":5,"messages":[{"role":"system","content":"x"}]})",
       "messages.0.role: Input should be 'user' or 'assistant'"},
      {R"({"model":"c","max_tokens":5,"messages":[{"role":"user","content":"x"},{"role":"user","content":7}]})",
       "messages.1.content: Input should be a valid string or list"},
      {R"({"model":"c","max_tokens":5,"messages":[{"role":"user","content":[{"text":"x"}]}]})",
       "messages.0.content.0.type: Field required"},
      {R"([1,2])", "The request body must be a JSON object"},
  };
  for (const auto& [body, message] : cases) expect_invalid_request(post_messages(mock, body), body, "message", message);
  // Deep nesting is refused before parsing, and the mock lives on.
  std::string deep =
      R"({"model":"c","max_tokens":5,"messages":)" + std::string(100000, '[') + std::string(100000, ']') + "}";
  EXPECT_EQ(post_messages(mock, deep).status, 400);
  EXPECT_EQ(post_messages(mock, kHello).status, 200);
}

const std::string kWeatherTool = R"(,"tools":[{"name":"get_weather","input_schema":{"type":"object"}}])";

TEST(MockAnthropic, ToolUseIsTriggeredByWeatherAndToolResultsAreEchoed) {
  MockUpstream mock;
  const std::string question = R"({"role":"user","content":"What is the weather in Paris?"})";
  auto r = post_messages(mock, messages_body("[" + question + "]", kWeatherTool));
  ASSERT_EQ(r.status, 200) << r.dump();
  auto d = parse_json(r.body);
  EXPECT_EQ(str(d, "stop_reason"), "tool_use");
  const auto& content = arr(d, "content");
  ASSERT_EQ(content.Size(), 2u) << r.body;
  EXPECT_EQ(str(content[0], "text"), "Let me check.");
  EXPECT_EQ(str(content[1], "type"), "tool_use");
  EXPECT_TRUE(str(content[1], "id").starts_with("toolu_"));
  EXPECT_EQ(str(content[1], "name"), "get_weather");
  EXPECT_EQ(to_string(content[1]["input"]), R"({"city":"Paris"})");

  // Without tools, "weather" is just text.
  auto plain = parse_json(post_messages(mock, messages_body(R"([{"role":"user","content":"weather?"}])")).body);
  EXPECT_EQ(str(plain, "stop_reason"), "end_turn");

  auto result = post_messages(
      mock, messages_body("[" + question + R"(,{"role":"assistant","content":[{"type":"tool_use","id":"toolu_1",)"
                                           R"("name":"get_weather","input":{"city":"Paris"}}]},)"
                                           R"({"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1",)"
                                           R"("content":[{"type":"text","text":"18C, light rain"}]}]}])",
                          kWeatherTool));
  ASSERT_EQ(result.status, 200) << result.dump();
  auto rd = parse_json(result.body);
  EXPECT_EQ(str(rd, "stop_reason"), "end_turn");
  EXPECT_EQ(str(arr(rd, "content")[0], "text"), "The tool said: 18C, light rain");
}

// Every event's data repeats its name as "type".
void expect_types_match_names(const std::vector<NamedEvent>& events) {
  for (const auto& e : events) EXPECT_EQ(str(e.data, "type"), e.name);
}

TEST(MockAnthropic, StreamSendsTheMessageEventsInOrder) {
  MockUpstream mock({"--name", "alpha", "--chunks", "3"});
  auto r = post_messages(mock, messages_body(R"([{"role":"user","content":"Hello"}])", R"(,"stream":true)"));
  ASSERT_EQ(r.status, 200) << r.dump();
  EXPECT_EQ(r.header("content-type"), "text/event-stream");
  auto events = named_events(r.body);
  EXPECT_EQ(names_of(events),
            (std::vector<std::string>{"message_start", "ping", "content_block_start", "content_block_delta",
                                      "content_block_delta", "content_block_delta", "content_block_stop",
                                      "message_delta", "message_stop"}));
  ASSERT_EQ(events.size(), 9u);
  expect_types_match_names(events);
  const auto& start = events[0].data["message"];
  EXPECT_EQ(arr(start, "content").Size(), 0u);
  EXPECT_TRUE(is_null(start, "stop_reason"));
  EXPECT_EQ(num(start["usage"], "input_tokens"), 1);
  EXPECT_EQ(num(start["usage"], "output_tokens"), 1);
  EXPECT_EQ(to_string(events[2].data),
            R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})");
  std::string text;
  for (size_t i = 3; i < 6; ++i) {
    EXPECT_EQ(str(events[i].data["delta"], "type"), "text_delta");
    text += str(events[i].data["delta"], "text");
  }
  EXPECT_EQ(text, "mock alpha reply to: Hello");
  EXPECT_EQ(to_string(events[7].data),
            R"({"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},)"
            R"("usage":{"output_tokens":6}})");
}

TEST(MockAnthropic, StreamedToolUseSendsASecondBlockOfPartialJson) {
  MockUpstream mock({"--chunks", "2"});
  auto r = post_messages(mock, messages_body(R"([{"role":"user","content":"weather in Paris?"}])",
                                             kWeatherTool + R"(,"stream":true)"));
  ASSERT_EQ(r.status, 200) << r.dump();
  auto events = named_events(r.body);
  expect_types_match_names(events);
  std::string text, json, tool_name;
  int tool_blocks = 0;
  for (const auto& e : events) {
    if (e.name == "content_block_start" && num(e.data, "index") == 1) {
      ++tool_blocks;
      EXPECT_EQ(str(e.data["content_block"], "type"), "tool_use");
      tool_name = str(e.data["content_block"], "name");
    }
    if (e.name != "content_block_delta") continue;
    const auto& delta = e.data["delta"];
    if (str(delta, "type") == "text_delta") text += str(delta, "text");
    if (str(delta, "type") == "input_json_delta") json += str(delta, "partial_json");
  }
  EXPECT_EQ(tool_blocks, 1);
  EXPECT_EQ(tool_name, "get_weather");
  EXPECT_EQ(text, "Let me check.");
  EXPECT_EQ(to_string(parse_json(json)), R"({"city":"Paris"})");
  ASSERT_GE(events.size(), 2u);
  EXPECT_EQ(str(events[events.size() - 2].data["delta"], "stop_reason"), "tool_use");
  EXPECT_EQ(events.back().name, "message_stop");
}

TEST(MockAnthropic, ForcedFailuresUseAnthropicErrorTypes) {
  MockUpstream mock;
  const std::vector<std::pair<int, std::string>> cases{
      {529, "overloaded_error"}, {429, "rate_limit_error"}, {500, "api_error"},
      {503, "api_error"},        {404, "not_found_error"},  {422, "invalid_request_error"}};
  for (const auto& [status, type] : cases) {
    mock.configure(R"({"status":)" + std::to_string(status) + "}");
    auto r = post_messages(mock, kHello);
    EXPECT_EQ(r.status, status) << r.dump();
    EXPECT_EQ(str(parse_json(r.body)["error"], "type"), type) << r.body;
  }
  mock.configure(R"({"status":0,"fail_first":1,"retry_after":7})");
  auto failed = post_messages(mock, kHello);
  EXPECT_EQ(failed.status, 503) << failed.dump();
  EXPECT_EQ(failed.header("retry-after"), "7");
  EXPECT_EQ(str(parse_json(failed.body), "type"), "error");
  EXPECT_EQ(post_messages(mock, kHello).status, 200);
}

TEST(MockAnthropic, ResetAfterChunksCutsTheStream) {
  MockUpstream mock({"--chunks", "4", "--reset-after-chunks", "2"});
  SseStream s(mock.port(), "POST", "/v1/messages", kAnthropic,
              messages_body(R"([{"role":"user","content":"Hello"}])", R"(,"stream":true)"));
  ASSERT_TRUE(s.read_head());
  EXPECT_EQ(s.status(), 200);
  const std::string& body = s.read_body();
  EXPECT_FALSE(s.complete());
  EXPECT_NE(body.find("content_block_delta"), std::string::npos) << body;
  EXPECT_EQ(body.find("message_stop"), std::string::npos) << body;
}

TEST(MockAnthropic, UsageKnobReportsInputAndOutputTokens) {
  MockUpstream mock;
  mock.configure(R"({"usage":{"prompt_tokens":11,"completion_tokens":22}})");
  auto mapped = parse_json(post_messages(mock, kHello).body);
  EXPECT_EQ(to_string(mapped["usage"]), R"({"input_tokens":11,"output_tokens":22})");
  mock.configure(R"({"usage":{"input_tokens":-5,"output_tokens":1000000000000,"prompt_tokens":3}})");
  auto absurd = parse_json(post_messages(mock, kHello).body);
  EXPECT_EQ(to_string(absurd["usage"]), R"({"input_tokens":-5,"output_tokens":1000000000000})");
}

TEST(MockAnthropic, ModelListIsAnthropicShapedOnlyWithTheVersionHeader) {
  MockUpstream mock({"--models", "claude-a,claude-b"});
  auto r = HttpClient(mock.port()).get("/v1/models", kAnthropic);
  ASSERT_EQ(r.status, 200) << r.dump();
  auto d = parse_json(r.body);
  EXPECT_EQ(to_string(d),
            R"({"data":[{"type":"model","id":"claude-a","display_name":"claude-a",)"
            R"("created_at":"2025-01-01T00:00:00Z"},)"
            R"({"type":"model","id":"claude-b","display_name":"claude-b","created_at":"2025-01-01T00:00:00Z"}],)"
            R"("has_more":false,"first_id":"claude-a","last_id":"claude-b"})");
  auto openai = parse_json(HttpClient(mock.port()).get("/v1/models").body);
  EXPECT_EQ(str(openai, "object"), "list");
  EXPECT_EQ(pluck(arr(openai, "data"), "id"), (std::vector<std::string>{"claude-a", "claude-b"}));
}

Response post_responses(const MockUpstream& mock, const std::string& body, const Headers& headers = {}) {
  return HttpClient(mock.port()).post("/v1/responses", body, headers);
}

TEST(MockResponses, AnswerIsACompletedResponseObject) {
  MockUpstream mock({"--name", "alpha", "--require-key", "sk-o"});
  const Headers auth{{"Authorization", "Bearer sk-o"}};
  auto r = post_responses(mock,
                          R"({"model":"gpt-4o","instructions":"Be brief.","input":[{"role":"user","content":)"
                          R"([{"type":"input_text","text":"Hello"}]}]})",
                          auth);
  ASSERT_EQ(r.status, 200) << r.dump();
  auto d = parse_json(r.body);
  EXPECT_TRUE(str(d, "id").starts_with("resp_")) << r.body;
  EXPECT_EQ(str(d, "object"), "response");
  EXPECT_EQ(str(d, "status"), "completed");
  EXPECT_EQ(str(d, "model"), "gpt-4o");
  EXPECT_EQ(str(d, "instructions"), "Be brief.");
  EXPECT_TRUE(is_null(d, "error"));
  EXPECT_TRUE(is_null(d, "incomplete_details"));
  EXPECT_GT(num(d, "created_at"), 1.7e9);
  const auto& output = arr(d, "output");
  ASSERT_EQ(output.Size(), 1u);
  EXPECT_EQ(str(output[0], "type"), "message");
  EXPECT_TRUE(str(output[0], "id").starts_with("msg_"));
  EXPECT_EQ(str(output[0], "role"), "assistant");
  EXPECT_EQ(to_string(output[0]["content"]),
            R"([{"type":"output_text","text":"mock alpha reply to: Hello","annotations":[]}])");
  // chars / 4: "Be brief." + "Hello" = 14 -> 3; the reply's 26 -> 6.
  EXPECT_EQ(to_string(d["usage"]),
            R"({"input_tokens":3,"input_tokens_details":{"cached_tokens":0},"output_tokens":6,)"
            R"("output_tokens_details":{"reasoning_tokens":0},"total_tokens":9})");

  EXPECT_EQ(post_responses(mock, R"({"model":"gpt-4o","input":"hi"})").status, 401);
  auto stats = mock.stats();
  EXPECT_EQ(num(stats["by_endpoint"], "responses"), 2);
  EXPECT_EQ(str(stats["last_request"], "target"), "/v1/responses");
}

TEST(MockResponses, InvalidBodiesGetTheOpenAIErrorEnvelope) {
  MockUpstream mock;
  const std::vector<std::pair<std::string, std::string>> cases{
      {R"({"input":"hi"})", "model"},
      {R"({"model":"m"})", "input"},
      {R"({"model":"m","input":42})", "input"},
      {R"({"model":"m","input":["hi"]})", "input[0]"},
      {R"({"model":"m","input":"hi","instructions":1})", "instructions"},
  };
  for (const auto& [body, param] : cases) expect_invalid_request(post_responses(mock, body), body, "param", param);
  mock.configure(R"({"status":429})");
  auto limited = post_responses(mock, R"({"model":"m","input":"hi"})");
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(str(parse_json(limited.body)["error"], "code"), "rate_limit_exceeded");
}

TEST(MockResponses, StreamSendsNumberedNamedEvents) {
  MockUpstream mock({"--name", "alpha", "--chunks", "2"});
  auto r = post_responses(mock, R"({"model":"gpt-4o","input":"Hi","stream":true})");
  ASSERT_EQ(r.status, 200) << r.dump();
  auto events = named_events(r.body);
  EXPECT_EQ(names_of(events),
            (std::vector<std::string>{"response.created", "response.in_progress", "response.output_item.added",
                                      "response.content_part.added", "response.output_text.delta",
                                      "response.output_text.delta", "response.output_text.done",
                                      "response.content_part.done", "response.output_item.done",
                                      "response.completed"}));
  expect_types_match_names(events);
  std::string text;
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(num(events[i].data, "sequence_number"), double(i)) << events[i].name;
    if (events[i].name == "response.output_text.delta") text += str(events[i].data, "delta");
  }
  EXPECT_EQ(text, "mock alpha reply to: Hi");
  ASSERT_EQ(events.size(), 10u);
  EXPECT_EQ(str(events[0].data["response"], "status"), "in_progress");
  EXPECT_TRUE(is_null(events[0].data["response"], "usage"));
  EXPECT_EQ(str(events[6].data, "text"), "mock alpha reply to: Hi");
  const auto& done = events[9].data["response"];
  EXPECT_EQ(str(done, "status"), "completed");
  EXPECT_EQ(str(arr(done, "output")[0]["content"][0], "text"), "mock alpha reply to: Hi");
  EXPECT_EQ(num(done["usage"], "total_tokens"), 1 + 5);
}

TEST(MockResponses, FunctionToolsAreCalledAndTheirOutputEchoed) {
  MockUpstream mock;
  const std::string tools = R"("tools":[{"type":"function","name":"get_weather","parameters":{"type":"object"}}])";
  auto call = parse_json(post_responses(mock, R"({"model":"m","input":"weather in Paris?",)" + tools + "}").body);
  const auto& output = arr(call, "output");
  ASSERT_EQ(output.Size(), 2u) << to_string(call);
  EXPECT_EQ(str(output[1], "type"), "function_call");
  EXPECT_EQ(str(output[1], "name"), "get_weather");
  EXPECT_EQ(str(output[1], "arguments"), R"({"city":"Paris"})");
  EXPECT_TRUE(str(output[1], "call_id").starts_with("call_"));

  auto answer = parse_json(
      post_responses(mock, R"({"model":"m","input":[{"role":"user","content":"weather in Paris?"},)"
                           R"({"type":"function_call","call_id":"call_1","name":"get_weather","arguments":"{}"},)"
                           R"({"type":"function_call_output","call_id":"call_1","output":"18C"}],)" +
                               tools + "}")
          .body);
  ASSERT_EQ(arr(answer, "output").Size(), 1u) << to_string(answer);
  EXPECT_EQ(str(answer["output"][0]["content"][0], "text"), "The tool said: 18C");
}

}  // namespace
}  // namespace it
