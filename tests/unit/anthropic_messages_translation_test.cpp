// Anthropic Messages <-> OpenAI Chat Completions, client side (core/translate/anthropic_messages.hpp):
// requests, whole answers and streams, on samples written for this project.
#include <gtest/gtest.h>

#include <rapidjson/document.h>

#include <random>
#include <string>
#include <vector>

#include "core/translate/anthropic_messages.hpp"
#include "tests/unit/support/json_test_helpers.hpp"
#include "tests/unit/support/sse_test_helpers.hpp"

namespace apiproxy::translate {
namespace {

// --- Helpers -------------------------------------------------------------------------------

using test_support::compact_json;
using test_support::expect_json_eq;
using test_support::named_events;
using test_support::names_of;
using test_support::parsed_json;

std::string chat_request(std::string_view messages_body) {
  auto chat = messages_request_to_chat(messages_body);
  EXPECT_TRUE(chat.ok()) << chat.error();
  return chat.ok() ? *chat : std::string("null");
}

std::string refusal_of(std::string_view messages_body) {
  auto chat = messages_request_to_chat(messages_body);
  EXPECT_FALSE(chat.ok()) << "accepted: " << messages_body;
  return chat.ok() ? std::string() : chat.error();
}

// The whole stream, fed in one call, then finished.
std::string translate_stream(std::string_view chat_stream) {
  ChatStreamToMessages stream;
  return test_support::fed_whole(stream, chat_stream);
}

// Each whole event of a chat stream (cut after every blank line).
std::vector<std::string> chat_events(std::string_view chat_stream) {
  std::vector<std::string> pieces;
  size_t at = 0;
  while (at < chat_stream.size()) {
    size_t end = chat_stream.find("\n\n", at);
    end = end == std::string_view::npos ? chat_stream.size() : end + 2;
    pieces.emplace_back(chat_stream.substr(at, end - at));
    at = end;
  }
  return pieces;
}

// --- Samples -------------------------------------------------------------------------------

constexpr std::string_view kTextStream =
    "data: {\"id\":\"chatcmpl-7Qx2\",\"object\":\"chat.completion.chunk\",\"created\":1731000000,"
    "\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},"
    "\"finish_reason\":null}]}\n\n"
    "data: {\"id\":\"chatcmpl-7Qx2\",\"object\":\"chat.completion.chunk\",\"created\":1731000000,"
    "\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Bonjour\"},"
    "\"finish_reason\":null}]}\n\n"
    "data: {\"id\":\"chatcmpl-7Qx2\",\"object\":\"chat.completion.chunk\",\"created\":1731000000,"
    "\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\" à tous \\\"!\\\"\"},"
    "\"finish_reason\":null}]}\n\n"
    "data: {\"id\":\"chatcmpl-7Qx2\",\"object\":\"chat.completion.chunk\",\"created\":1731000000,"
    "\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n"
    "data: {\"id\":\"chatcmpl-7Qx2\",\"object\":\"chat.completion.chunk\",\"created\":1731000000,"
    "\"model\":\"gpt-4o-mini\",\"choices\":[],\"usage\":{\"prompt_tokens\":21,\"completion_tokens\":6,"
    "\"total_tokens\":27}}\n\n"
    "data: [DONE]\n\n";

constexpr std::string_view kToolStream =
    "data: {\"id\":\"chatcmpl-T1\",\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\","
    "\"content\":\"Checking both cities.\"},\"finish_reason\":null}]}\n\n"
    "data: {\"id\":\"chatcmpl-T1\",\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,"
    "\"delta\":{\"tool_calls\":[{\"index\":0,"
    "\"id\":\"call_paris\",\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":\"\"}}]},"
    "\"finish_reason\":null}]}\n\n"
    "data: {\"id\":\"chatcmpl-T1\",\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,"
    "\"delta\":{\"tool_calls\":[{\"index\":0,"
    "\"function\":{\"arguments\":\"{\\\"city\\\":\"}}]},\"finish_reason\":null}]}\n\n"
    "data: {\"id\":\"chatcmpl-T1\",\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,"
    "\"delta\":{\"tool_calls\":[{\"index\":0,"
    "\"function\":{\"arguments\":\" \\\"Paris\\\"}\"}}]},\"finish_reason\":null}]}\n\n"
    "data: {\"id\":\"chatcmpl-T1\",\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,"
    "\"delta\":{\"tool_calls\":[{\"index\":1,"
    "\"id\":\"call_oslo\",\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":\"{\\\"city\\\":"
    "\\\"Oslo\\\"}\"}}]},\"finish_reason\":null}]}\n\n"
    "data: {\"id\":\"chatcmpl-T1\",\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,\"delta\":{},"
    "\"finish_reason\":\"tool_calls\"}]}\n\n"
    "data: {\"id\":\"chatcmpl-T1\",\"model\":\"gpt-4o\",\"choices\":[],\"usage\":{\"prompt_tokens\":88,"
    "\"completion_tokens\":41,\"total_tokens\":129}}\n\n"
    "data: [DONE]\n\n";

// --- Request -------------------------------------------------------------------------------

TEST(AnthropicMessagesRequest, PlainText) {
  expect_json_eq(chat_request(R"({"model":"claude-sonnet-4-5","max_tokens":1024,
                                  "messages":[{"role":"user","content":"Hello, Claude"}]})"),
                 R"({"model":"claude-sonnet-4-5","max_tokens":1024,
                     "messages":[{"role":"user","content":"Hello, Claude"}]})");
}

TEST(AnthropicMessagesRequest, SystemStringAndSamplingParameters) {
  expect_json_eq(chat_request(R"({"model":"m","max_tokens":300,"system":"You answer in French.",
                                  "temperature":0.25,"top_p":0.9,"top_k":40,"metadata":{"user_id":"u-1138"},
                                  "messages":[{"role":"user","content":"Hi"}]})"),
                 R"({"model":"m","max_tokens":300,"temperature":0.25,"top_p":0.9,"user":"u-1138",
                     "messages":[{"role":"system","content":"You answer in French."},
                                 {"role":"user","content":"Hi"}]})");
}

TEST(AnthropicMessagesRequest, SystemBlocksBecomeOneSystemMessage) {
  expect_json_eq(chat_request(R"({"model":"m","max_tokens":50,
      "system":[{"type":"text","text":"You are a code reviewer."},
                {"type":"text","text":"Be brief.","cache_control":{"type":"ephemeral"}}],
      "messages":[{"role":"user","content":"Review this."}]})"),
                 R"({"model":"m","max_tokens":50,
      "messages":[{"role":"system","content":"You are a code reviewer.\n\nBe brief."},
                  {"role":"user","content":"Review this."}]})");
  // An empty system prompt adds no message.
  expect_json_eq(chat_request(R"({"model":"m","max_tokens":5,"system":"","messages":[{"role":"user","content":"x"}]})"),
                 R"({"model":"m","max_tokens":5,"messages":[{"role":"user","content":"x"}]})");
}

TEST(AnthropicMessagesRequest, MultiTurn) {
  expect_json_eq(chat_request(R"({"model":"m","max_tokens":64,"messages":[
      {"role":"user","content":"What is 2+2?"},
      {"role":"assistant","content":[{"type":"text","text":"4"}]},
      {"role":"user","content":[{"type":"text","text":"And times 3?"},{"type":"text","text":"Show the steps."}]}]})"),
                 R"({"model":"m","max_tokens":64,"messages":[
      {"role":"user","content":"What is 2+2?"},
      {"role":"assistant","content":"4"},
      {"role":"user","content":[{"type":"text","text":"And times 3?"},{"type":"text","text":"Show the steps."}]}]})");
}

TEST(AnthropicMessagesRequest, Images) {
  expect_json_eq(chat_request(R"({"model":"m","max_tokens":64,"messages":[{"role":"user","content":[
      {"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}},
      {"type":"image","source":{"type":"url","url":"https://example.com/cat.jpg"}},
      {"type":"text","text":"Which is bigger?"}]}]})"),
                 R"({"model":"m","max_tokens":64,"messages":[{"role":"user","content":[
      {"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}},
      {"type":"image_url","image_url":{"url":"https://example.com/cat.jpg"}},
      {"type":"text","text":"Which is bigger?"}]}]})");
}

constexpr std::string_view kWeatherTool =
    R"({"name":"get_weather","description":"Current weather for a city",
        "input_schema":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}})";
constexpr std::string_view kWeatherFunction =
    R"({"type":"function","function":{"name":"get_weather","description":"Current weather for a city",
        "parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}})";

TEST(AnthropicMessagesRequest, ToolsAndToolChoice) {
  struct Case {
    std::string choice, expected;  // expected: the chat request's tool fields past "tools"
  };
  const Case cases[] = {
      {R"({"type":"auto"})", R"("tool_choice":"auto")"},
      {R"({"type":"any"})", R"("tool_choice":"required")"},
      {R"({"type":"none"})", R"("tool_choice":"none")"},
      {R"({"type":"tool","name":"get_weather"})",
       R"("tool_choice":{"type":"function","function":{"name":"get_weather"}})"},
      {R"({"type":"auto","disable_parallel_tool_use":true})", R"("tool_choice":"auto","parallel_tool_calls":false)"},
      {R"({"type":"any","disable_parallel_tool_use":false})", R"("tool_choice":"required")"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.choice);
    std::string body = R"({"model":"m","max_tokens":10,"messages":[{"role":"user","content":"Weather?"}],"tools":[)" +
                       std::string(kWeatherTool) + R"(],"tool_choice":)" + c.choice + "}";
    expect_json_eq(chat_request(body),
                   R"({"model":"m","max_tokens":10,"messages":[{"role":"user","content":"Weather?"}],"tools":[)" +
                       std::string(kWeatherFunction) + "]," + c.expected + "}");
  }
  // Without tools, OpenAI would refuse a tool_choice: it is left out.
  expect_json_eq(chat_request(R"({"model":"m","max_tokens":10,"messages":[{"role":"user","content":"x"}],
                                  "tool_choice":{"type":"none"}})"),
                 R"({"model":"m","max_tokens":10,"messages":[{"role":"user","content":"x"}]})");
}

TEST(AnthropicMessagesRequest, ToolUseRoundPutsToolMessagesFirst) {
  std::string chat = chat_request(R"({"model":"m","max_tokens":200,"messages":[
      {"role":"user","content":"Weather in Paris and Oslo?"},
      {"role":"assistant","content":[
          {"type":"thinking","thinking":"Two calls.","signature":"c2lnbmF0dXJl"},
          {"type":"text","text":"Let me check."},
          {"type":"tool_use","id":"toolu_01","name":"get_weather","input":{"city":"Paris","units":{"temp":"C"}}},
          {"type":"tool_use","id":"toolu_02","name":"get_weather","input":{}}]},
      {"role":"user","content":[
          {"type":"text","text":"Here you go."},
          {"type":"tool_result","tool_use_id":"toolu_01","content":"18C, sunny"},
          {"type":"tool_result","tool_use_id":"toolu_02","is_error":true,
           "content":[{"type":"text","text":"city not found"},{"type":"text","text":"try 'Oslo, NO'"}]}]}]})");
  expect_json_eq(chat, R"({"model":"m","max_tokens":200,"messages":[
      {"role":"user","content":"Weather in Paris and Oslo?"},
      {"role":"assistant","content":"Let me check.","tool_calls":[
          {"id":"toolu_01","type":"function","function":{"name":"get_weather",
           "arguments":"{\"city\":\"Paris\",\"units\":{\"temp\":\"C\"}}"}},
          {"id":"toolu_02","type":"function","function":{"name":"get_weather","arguments":"{}"}}]},
      {"role":"tool","tool_call_id":"toolu_01","content":"18C, sunny"},
      {"role":"tool","tool_call_id":"toolu_02","content":"Error: city not found\ntry 'Oslo, NO'"},
      {"role":"user","content":"Here you go."}]})");
}

TEST(AnthropicMessagesRequest, ToolResultsAloneAndWithImages) {
  expect_json_eq(chat_request(R"({"model":"m","max_tokens":20,"messages":[
      {"role":"assistant","content":[{"type":"thinking","thinking":"only thoughts","signature":"x"}]},
      {"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"screenshot","input":{}}]},
      {"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":[
          {"type":"text","text":"captured"},
          {"type":"image","source":{"type":"base64","media_type":"image/jpeg","data":"/9j/4AAQ"}}]}]},
      {"role":"assistant","content":[{"type":"tool_use","id":"t2","name":"screenshot","input":{}}]},
      {"role":"user","content":[{"type":"tool_result","tool_use_id":"t2"}]}]})"),
                 R"({"model":"m","max_tokens":20,"messages":[
      {"role":"assistant","content":null,"tool_calls":[
          {"id":"t1","type":"function","function":{"name":"screenshot","arguments":"{}"}}]},
      {"role":"tool","tool_call_id":"t1","content":"captured"},
      {"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/jpeg;base64,/9j/4AAQ"}}]},
      {"role":"assistant","content":null,"tool_calls":[
          {"id":"t2","type":"function","function":{"name":"screenshot","arguments":"{}"}}]},
      {"role":"tool","tool_call_id":"t2","content":""}]})");
}

TEST(AnthropicMessagesRequest, StopSequences) {
  expect_json_eq(chat_request(R"({"model":"m","max_tokens":10,"stop_sequences":["\n\nHuman:","END"],
                                  "messages":[{"role":"user","content":"x"}]})"),
                 R"({"model":"m","max_tokens":10,"stop":["\n\nHuman:","END"],
                     "messages":[{"role":"user","content":"x"}]})");
}

TEST(AnthropicMessagesRequest, StreamAsksForUsage) {
  expect_json_eq(chat_request(R"({"model":"m","max_tokens":10,"stream":true,
                                  "messages":[{"role":"user","content":"x"}]})"),
                 R"({"model":"m","max_tokens":10,"stream":true,"stream_options":{"include_usage":true},
                     "messages":[{"role":"user","content":"x"}]})");
  expect_json_eq(chat_request(R"({"model":"m","max_tokens":10,"stream":false,
                                  "messages":[{"role":"user","content":"x"}]})"),
                 R"({"model":"m","max_tokens":10,"stream":false,"messages":[{"role":"user","content":"x"}]})");
}

TEST(AnthropicMessagesRequest, Rejections) {
  const std::string user = R"("messages":[{"role":"user","content":"x"}])";
  struct Case {
    std::string body, error;
  };
  const Case cases[] = {
      {"[1,2]", "the request body must be a JSON object"},
      {R"({"model":"m","max_tokens":5})", "messages: must be a non-empty array"},
      {R"({"model":"m","max_tokens":5,"messages":[]})", "messages: must be a non-empty array"},
      {R"({"model":"m","max_tokens":5,"messages":"hello"})", "messages: must be a non-empty array"},
      {R"({"model":"m",)" + user + "}", "max_tokens: must be a positive integer"},
      {R"({"model":"m","max_tokens":0,)" + user + "}", "max_tokens: must be a positive integer"},
      {R"({"model":"m","max_tokens":-5,)" + user + "}", "max_tokens: must be a positive integer"},
      {R"({"model":"m","max_tokens":1.5,)" + user + "}", "max_tokens: must be a positive integer"},
      {R"({"model":"m","max_tokens":"100",)" + user + "}", "max_tokens: must be a positive integer"},
      {R"({"model":7,"max_tokens":5,)" + user + "}", "model: must be a string"},
      {R"({"model":"m","max_tokens":5,"temperature":"hot",)" + user + "}", "temperature: must be a number"},
      {R"({"model":"m","max_tokens":5,"stream":"yes",)" + user + "}", "stream: must be a boolean"},
      {R"({"model":"m","max_tokens":5,"system":42,)" + user + "}",
       "system: must be a string or an array of text blocks"},
      {R"({"model":"m","max_tokens":5,"system":[{"type":"image"}],)" + user + "}", "system[0]: must be a text block"},
      {R"({"model":"m","max_tokens":5,"stop_sequences":["a",1],)" + user + "}", "stop_sequences[1]: must be a string"},
      {R"({"model":"m","max_tokens":5,"messages":[{"role":"system","content":"x"}]})",
       "messages[0].role: unknown role 'system' (user or assistant)"},
      {R"({"model":"m","max_tokens":5,"messages":[{"content":"x"}]})", "messages[0].role: must be a string"},
      {R"({"model":"m","max_tokens":5,"messages":["x"]})", "messages[0]: must be an object"},
      {R"({"model":"m","max_tokens":5,"messages":[{"role":"user","content":3}]})",
       "messages[0].content: must be a string or an array of content blocks"},
      {R"({"model":"m","max_tokens":5,"messages":[{"role":"user","content":"a"},{"role":"assistant","content":"b"},
          {"role":"user","content":[{"type":"x"}]}]})",
       "messages[2].content[0]: unknown block type 'x'"},
      {R"({"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"text"}]}]})",
       "messages[0].content[0].text: must be a string"},
      {R"({"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"document","source":{}}]}]})",
       "messages[0].content[0]: document blocks are not supported by this model's upstream"},
      {R"({"model":"m","max_tokens":5,"messages":[{"role":"user","content":[
          {"type":"tool_use","id":"t","name":"n","input":{}}]}]})",
       "messages[0].content[0]: 'tool_use' blocks may not appear in a user message"},
      {R"({"model":"m","max_tokens":5,"messages":[{"role":"assistant","content":[
          {"type":"image","source":{"type":"url","url":"https://example.com/a.png"}}]}]})",
       "messages[0].content[0]: 'image' blocks may not appear in an assistant message"},
      {R"({"model":"m","max_tokens":5,"messages":[{"role":"assistant","content":[
          {"type":"tool_use","id":"t","name":"n","input":"{}"}]}]})",
       "messages[0].content[0].input: must be an object"},
      {R"({"model":"m","max_tokens":5,"messages":[{"role":"user","content":[
          {"type":"image","source":{"type":"file","file_id":"f"}}]}]})",
       "messages[0].content[0].source.type: image source 'file' is not supported (base64 or url)"},
      {R"({"model":"m","max_tokens":5,"messages":[{"role":"user","content":[
          {"type":"tool_result","tool_use_id":"t","content":[{"type":"document"}]}]}]})",
       "messages[0].content[0].content[0]: block type 'document' is not supported in a tool result"},
      {R"({"model":"m","max_tokens":5,"tools":[{"type":"web_search_20250305","name":"web_search"}],)" + user + "}",
       "tools[0].type: tool type 'web_search_20250305' is not supported by this model's upstream"},
      {R"({"model":"m","max_tokens":5,"tools":[{"name":"f"}],)" + user + "}",
       "tools[0].input_schema: must be an object"},
      {R"({"model":"m","max_tokens":5,"tools":[)" + std::string(kWeatherTool) + R"(],"tool_choice":{"type":"bogus"},)" +
           user + "}",
       "tool_choice.type: unknown tool choice 'bogus' (auto, any, tool or none)"},
      {R"({"model":"m","max_tokens":5,"tool_choice":{"type":"tool"},)" + user + "}",
       "tool_choice.name: must be a string"},
      {R"({"model":"m","max_tokens":5,"metadata":{"user_id":5},)" + user + "}", "metadata.user_id: must be a string"},
  };
  for (const auto& c : cases) EXPECT_EQ(refusal_of(c.body), c.error) << c.body;
  EXPECT_EQ(refusal_of("{\"model\":").rfind("the request body is not valid JSON: ", 0), 0u);
  // A long client-chosen name is quoted short.
  std::string long_type(5000, 'z');
  std::string error = refusal_of(R"({"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":")" +
                                 long_type + R"("}]}]})");
  EXPECT_LT(error.size(), 200u);
}

// --- Whole answer --------------------------------------------------------------------------

TEST(AnthropicMessagesAnswer, Text) {
  MessagesAnswer answer = translate_chat_answer_to_messages(200, R"({"id":"chatcmpl-A1b2","object":"chat.completion",
      "created":1731000000,"model":"gpt-4o-2024-08-06","choices":[{"index":0,"message":{"role":"assistant",
      "content":"Paris is the capital of France.","refusal":null},"logprobs":null,"finish_reason":"stop"}],
      "usage":{"prompt_tokens":14,"completion_tokens":8,"total_tokens":22},"system_fingerprint":"fp_1"})");
  EXPECT_EQ(answer.status, 200);
  expect_json_eq(answer.body, R"({"id":"msg_chatcmpl-A1b2","type":"message","role":"assistant",
      "model":"gpt-4o-2024-08-06","content":[{"type":"text","text":"Paris is the capital of France."}],
      "stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":14,"output_tokens":8}})");
}

TEST(AnthropicMessagesAnswer, ToolCallsWithBadArguments) {
  std::string body = chat_answer_to_messages(200, R"({"id":"chatcmpl-T9","model":"gpt-4o","choices":[{"index":0,
      "message":{"role":"assistant","content":null,"tool_calls":[
        {"id":"call_a","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Lyon\"}"}},
        {"id":"call_b","type":"function","function":{"name":"get_weather","arguments":"{\"city\": \"Par"}},
        {"id":"call_c","type":"function","function":{"name":"list_cities","arguments":"[1,2]"}}]},
      "finish_reason":"tool_calls"}],"usage":{"prompt_tokens":50,"completion_tokens":30}})");
  expect_json_eq(body, R"({"id":"msg_chatcmpl-T9","type":"message","role":"assistant","model":"gpt-4o","content":[
      {"type":"tool_use","id":"call_a","name":"get_weather","input":{"city":"Lyon"}},
      {"type":"tool_use","id":"call_b","name":"get_weather","input":{}},
      {"type":"tool_use","id":"call_c","name":"list_cities","input":{}}],
      "stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":50,"output_tokens":30}})");
}

TEST(AnthropicMessagesAnswer, TextThenToolCall) {
  rapidjson::Document answer = parsed_json(chat_answer_to_messages(200, R"({"id":"c","model":"m","choices":[{"index":0,
      "message":{"role":"assistant","content":"Looking it up.","tool_calls":[
        {"id":"call_q","type":"function","function":{"name":"search","arguments":"{\"q\":\"rust\"}"}}]},
      "finish_reason":"stop"}]})"));
  ASSERT_TRUE(answer["content"].IsArray());
  ASSERT_EQ(answer["content"].Size(), 2u);
  EXPECT_STREQ(answer["content"][0]["text"].GetString(), "Looking it up.");
  EXPECT_STREQ(answer["content"][1]["type"].GetString(), "tool_use");
  EXPECT_STREQ(answer["content"][1]["input"]["q"].GetString(), "rust");
  // Tool calls with finish_reason "stop" (some compatible servers): still tool_use, or the client would not run them.
  EXPECT_STREQ(answer["stop_reason"].GetString(), "tool_use");
}

TEST(AnthropicMessagesAnswer, FinishReasons) {
  const std::pair<std::string, std::string> cases[] = {
      {R"("stop")", "end_turn"},          {R"("length")", "max_tokens"}, {R"("tool_calls")", "tool_use"},
      {R"("function_call")", "tool_use"}, {R"("content_filter")", "refusal"}, {"null", "end_turn"},
      {R"("eos_token")", "end_turn"},     {"17", "end_turn"},
  };
  for (const auto& [finish, stop] : cases) {
    rapidjson::Document answer = parsed_json(chat_answer_to_messages(
        200, R"({"id":"c","model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},
                 "finish_reason":)" + finish + "}]}"));
    ASSERT_TRUE(answer.HasMember("stop_reason")) << finish;
    EXPECT_EQ(std::string(answer["stop_reason"].GetString()), stop) << finish;
  }
}

TEST(AnthropicMessagesAnswer, MissingFieldsGetDefaults) {
  rapidjson::Document answer = parsed_json(chat_answer_to_messages(
      200, R"({"choices":[{"message":{"role":"assistant","content":""},"finish_reason":"stop"}]})"));
  std::string id = answer["id"].GetString();
  EXPECT_EQ(id.rfind("msg_", 0), 0u);
  EXPECT_EQ(id.size(), 4u + 24u);
  EXPECT_STREQ(answer["model"].GetString(), "");
  EXPECT_EQ(answer["content"].Size(), 0u);  // empty text: no block
  EXPECT_EQ(answer["usage"]["input_tokens"].GetUint64(), 0u);
  EXPECT_EQ(answer["usage"]["output_tokens"].GetUint64(), 0u);
}

TEST(AnthropicMessagesAnswer, OpenAIErrorEnvelope) {
  MessagesAnswer answer = translate_chat_answer_to_messages(429, R"({"error":{"message":
      "Rate limit reached for gpt-4o in\n organization org-x on tokens per min (TPM): Limit 30000.",
      "type":"tokens","param":null,"code":"rate_limit_exceeded"}})");
  EXPECT_EQ(answer.status, 429);
  expect_json_eq(answer.body, R"({"type":"error","error":{"type":"rate_limit_error","message":
      "Rate limit reached for gpt-4o in\n organization org-x on tokens per min (TPM): Limit 30000."}})");
}

TEST(AnthropicMessagesAnswer, NonJsonErrorBody) {
  MessagesAnswer answer = translate_chat_answer_to_messages(502, "<html><body>502 Bad Gateway</body></html>\r\n");
  EXPECT_EQ(answer.status, 502);
  expect_json_eq(answer.body,
                 R"({"type":"error","error":{"type":"api_error",
                     "message":"<html><body>502 Bad Gateway</body></html>"}})");
  expect_json_eq(chat_answer_to_messages(500, ""),
                 R"({"type":"error","error":{"type":"api_error","message":"the upstream answered with status 500"}})");
  // Bytes that are not UTF-8 are replaced, and a long page is cut.
  std::string page = "\xff\xfe" + std::string(5000, 'x');
  rapidjson::Document error = parsed_json(chat_answer_to_messages(503, page));
  std::string message = error["error"]["message"].GetString();
  EXPECT_EQ(message.substr(0, 6), "\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_LT(message.size(), 1100u);
}

TEST(AnthropicMessagesAnswer, SuccessThatIsNotAChatCompletion) {
  for (std::string_view body : {"not json", "[]", R"({"choices":[]})", R"({"object":"list","data":[]})"}) {
    MessagesAnswer answer = translate_chat_answer_to_messages(200, body);
    EXPECT_EQ(answer.status, 502) << body;
    expect_json_eq(answer.body,
                   R"({"type":"error","error":{"type":"api_error",
                       "message":"the upstream's answer is not a chat completion"}})");
  }
  MessagesAnswer answer = translate_chat_answer_to_messages(200, R"({"error":{"message":"model overloaded"}})");
  EXPECT_EQ(answer.status, 502);
  expect_json_eq(answer.body, R"({"type":"error","error":{"type":"api_error",
                                  "message":"the upstream's answer is not a chat completion: model overloaded"}})");
}

TEST(AnthropicMessagesAnswer, ErrorBodies) {
  const std::pair<int, std::string> cases[] = {
      {400, "invalid_request_error"}, {401, "authentication_error"}, {403, "permission_error"},
      {404, "not_found_error"},       {413, "request_too_large"},    {429, "rate_limit_error"},
      {529, "overloaded_error"},      {500, "api_error"},            {503, "api_error"}, {418, "api_error"},
  };
  for (const auto& [status, type] : cases)
    expect_json_eq(anthropic_error_body(status, "it \"broke\"\n"),
                   R"({"type":"error","error":{"type":")" + type + R"(","message":"it \"broke\"\n"}})");
}

// --- Stream --------------------------------------------------------------------------------

TEST(AnthropicMessagesStream, TextStreamEvents) {
  ChatStreamToMessages stream;
  std::string out;
  stream.feed(kTextStream, out);
  auto events = named_events(out);
  EXPECT_EQ(names_of(events), (std::vector<std::string>{"message_start", "ping", "content_block_start",
                                                        "content_block_delta", "content_block_delta",
                                                        "content_block_stop", "message_delta", "message_stop"}));
  ASSERT_EQ(events.size(), 8u);
  expect_json_eq(compact_json(events[0].data), R"({"type":"message_start","message":{"id":"msg_chatcmpl-7Qx2",
      "type":"message","role":"assistant","model":"gpt-4o-mini","content":[],"stop_reason":null,
      "stop_sequence":null,"usage":{"input_tokens":0,"output_tokens":0}}})");
  expect_json_eq(compact_json(events[2].data),
                 R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})");
  expect_json_eq(compact_json(events[3].data),
                 R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Bonjour"}})");
  expect_json_eq(compact_json(events[4].data),
                 R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" à tous \"!\""}})");
  expect_json_eq(compact_json(events[5].data), R"({"type":"content_block_stop","index":0})");
  expect_json_eq(compact_json(events[6].data), R"({"type":"message_delta","delta":{"stop_reason":"end_turn",
      "stop_sequence":null},"usage":{"input_tokens":21,"output_tokens":6}})");
  EXPECT_EQ(stream.input_tokens(), 21u);
  EXPECT_EQ(stream.output_tokens(), 6u);
  // After [DONE], finish() owes nothing.
  std::string more;
  stream.finish(more);
  EXPECT_EQ(more, "");
}

TEST(AnthropicMessagesStream, SplitAtEveryEventBoundaryGivesTheSameOutput) {
  for (std::string_view sample : {kTextStream, kToolStream}) {
    std::string whole = translate_stream(sample);
    ChatStreamToMessages stream;
    std::string split;
    for (const std::string& event : chat_events(sample)) {
      size_t before = split.size();
      stream.feed(event, split);
      // What one event makes known is written at once, as whole events.
      EXPECT_TRUE(split.size() == before || split.substr(split.size() - 2) == "\n\n");
    }
    stream.finish(split);
    EXPECT_EQ(split, whole);
  }
}

TEST(AnthropicMessagesStream, TextIsWrittenBeforeTheStreamEnds) {
  ChatStreamToMessages stream;
  std::string out;
  auto pieces = chat_events(kTextStream);
  stream.feed(pieces[0], out);
  stream.feed(pieces[1], out);
  auto events = named_events(out);
  ASSERT_EQ(names_of(events), (std::vector<std::string>{"message_start", "ping", "content_block_start",
                                                        "content_block_delta"}));
  EXPECT_STREQ(events[3].data["delta"]["text"].GetString(), "Bonjour");
}

TEST(AnthropicMessagesStream, CrLfCommentsAndOtherFieldsAreIgnored) {
  std::string crlf;
  crlf += ": OPENROUTER PROCESSING\r\n\r\n";
  for (const std::string& event : chat_events(kTextStream)) {
    std::string e = "event: chunk\r\nid: 7\r\n" + event.substr(0, event.size() - 2) + "\r\n\r\n";
    crlf += e;
  }
  EXPECT_EQ(translate_stream(crlf), translate_stream(kTextStream));
}

TEST(AnthropicMessagesStream, ToolCallStream) {
  std::string out = translate_stream(kToolStream);
  auto events = named_events(out);
  EXPECT_EQ(names_of(events),
            (std::vector<std::string>{"message_start", "ping", "content_block_start", "content_block_delta",
                                      "content_block_stop", "content_block_start", "content_block_delta",
                                      "content_block_delta", "content_block_stop", "content_block_start",
                                      "content_block_delta", "content_block_stop", "message_delta", "message_stop"}));
  ASSERT_EQ(events.size(), 14u);
  expect_json_eq(compact_json(events[5].data), R"({"type":"content_block_start","index":1,"content_block":
      {"type":"tool_use","id":"call_paris","name":"get_weather","input":{}}})");
  expect_json_eq(compact_json(events[6].data), R"({"type":"content_block_delta","index":1,
      "delta":{"type":"input_json_delta","partial_json":"{\"city\":"}})");
  // The fragments of each block put together are its input.
  std::string paris = std::string(events[6].data["delta"]["partial_json"].GetString()) +
                      events[7].data["delta"]["partial_json"].GetString();
  expect_json_eq(paris, R"({"city":"Paris"})");
  expect_json_eq(compact_json(events[9].data), R"({"type":"content_block_start","index":2,"content_block":
      {"type":"tool_use","id":"call_oslo","name":"get_weather","input":{}}})");
  EXPECT_EQ(events[10].data["index"].GetUint(), 2u);
  expect_json_eq(events[10].data["delta"]["partial_json"].GetString(), R"({"city":"Oslo"})");
  expect_json_eq(compact_json(events[12].data), R"({"type":"message_delta","delta":{"stop_reason":"tool_use",
      "stop_sequence":null},"usage":{"input_tokens":88,"output_tokens":41}})");
}

TEST(AnthropicMessagesStream, ToolCallsWithoutIndexOrAllNumberedZero) {
  // Each call whole in one piece, told apart by its id only.
  std::string out = translate_stream(
      "data: {\"id\":\"x\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":["
      "{\"id\":\"a\",\"function\":{\"name\":\"f\",\"arguments\":\"{}\"}}]}}]}\n\n"
      "data: {\"id\":\"x\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":["
      "{\"index\":0,\"id\":\"b\",\"function\":{\"name\":\"g\",\"arguments\":\"{\\\"k\\\":1}\"}}]},"
      "\"finish_reason\":\"stop\"}]}\n\n");
  auto events = named_events(out);
  std::vector<std::string> ids;
  for (const auto& e : events)
    if (e.name == "content_block_start") ids.push_back(e.data["content_block"]["id"].GetString());
  EXPECT_EQ(ids, (std::vector<std::string>{"a", "b"}));
  EXPECT_STREQ(events[events.size() - 2].data["delta"]["stop_reason"].GetString(), "tool_use");
}

TEST(AnthropicMessagesStream, FinishWithoutDone) {
  std::string sample(kTextStream.substr(0, kTextStream.find("data: {\"id\":\"chatcmpl-7Qx2\",\"object\":"
                                                            "\"chat.completion.chunk\",\"created\":1731000000,"
                                                            "\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,"
                                                            "\"delta\":{},")));
  ChatStreamToMessages stream;
  std::string out;
  stream.feed(sample, out);
  EXPECT_EQ(names_of(named_events(out)).back(), "content_block_delta");
  std::string end;
  stream.finish(end);
  auto events = named_events(end);
  EXPECT_EQ(names_of(events), (std::vector<std::string>{"content_block_stop", "message_delta", "message_stop"}));
  EXPECT_STREQ(events[1].data["delta"]["stop_reason"].GetString(), "end_turn");
  EXPECT_EQ(events[1].data["usage"]["output_tokens"].GetUint64(), 0u);
  std::string again;
  stream.finish(again);
  stream.feed("data: [DONE]\n\n", again);
  EXPECT_EQ(again, "");
}

TEST(AnthropicMessagesStream, EmptyUpstreamStillEndsWellFormed) {
  auto events = named_events(translate_stream(""));
  EXPECT_EQ(names_of(events), (std::vector<std::string>{"message_start", "ping", "message_delta", "message_stop"}));
  EXPECT_EQ(std::string(events[0].data["message"]["id"].GetString()).rfind("msg_", 0), 0u);
}

TEST(AnthropicMessagesStream, UpstreamErrorChunkEndsTheStream) {
  ChatStreamToMessages stream;
  std::string out;
  auto pieces = chat_events(kTextStream);
  stream.feed(pieces[0] + pieces[1], out);
  stream.feed("data: {\"error\":{\"message\":\"The server is overloaded\",\"type\":\"server_error\"}}\n\n", out);
  stream.feed(pieces[2] + "data: [DONE]\n\n", out);
  stream.finish(out);
  auto events = named_events(out);
  ASSERT_EQ(names_of(events), (std::vector<std::string>{"message_start", "ping", "content_block_start",
                                                        "content_block_delta", "error"}));
  expect_json_eq(compact_json(events[4].data),
                 R"({"type":"error","error":{"type":"api_error","message":"The server is overloaded"}})");
}

TEST(AnthropicMessagesStream, UnreadableChunkEndsTheStream) {
  for (std::string_view bad : {"data: {\"id\":\"x\",\"choi\n\n", "data: [1,2]\n\n", "data: DONE\n\n"}) {
    ChatStreamToMessages stream;
    std::string out;
    stream.feed(bad, out);
    stream.feed(kTextStream, out);
    stream.finish(out);
    auto events = named_events(out);
    ASSERT_EQ(events.size(), 1u) << bad;
    expect_json_eq(compact_json(events[0].data),
                   R"({"type":"error","error":{"type":"api_error","message":"upstream sent an unreadable event"}})");
  }
}

TEST(AnthropicMessagesStream, ErrorEvent) {
  std::string event = ChatStreamToMessages::error_event("upstream timed out \"after 60 s\"");
  auto events = named_events(event);
  ASSERT_EQ(events.size(), 1u);
  expect_json_eq(compact_json(events[0].data),
                 R"({"type":"error","error":{"type":"api_error","message":"upstream timed out \"after 60 s\""}})");
}

TEST(AnthropicMessagesStream, OtherChoicesAreIgnored) {
  auto events = named_events(translate_stream(
      "data: {\"id\":\"x\",\"model\":\"m\",\"choices\":[{\"index\":1,\"delta\":{\"content\":\"second\"}},"
      "{\"index\":0,\"delta\":{\"content\":\"first\"}}]}\n\n"));
  ASSERT_EQ(events.size(), 7u);
  EXPECT_STREQ(events[3].data["delta"]["text"].GetString(), "first");
}

// --- Robustness ----------------------------------------------------------------------------

// A Messages stream whose events are valid, ended by an error or message_stop with nothing after it.
void expect_well_formed(const std::string& out) {
  test_support::expect_one_ending(named_events(out), {"error", "message_stop"});
}

TEST(AnthropicMessagesRobustness, RandomAndTruncatedInputs) {
  std::mt19937 random(20240613);
  const std::string samples[] = {std::string(kTextStream), std::string(kToolStream)};
  const std::string requests[] = {
      R"({"model":"m","max_tokens":9,"system":[{"type":"text","text":"s"}],"tools":[)" + std::string(kWeatherTool) +
          R"(],"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":"r"}]}]})",
  };
  const std::string answer = R"({"id":"c","model":"m","choices":[{"index":0,"message":{"content":"hi",
      "tool_calls":[{"id":"a","function":{"name":"f","arguments":"{\"x\":1}"}}]},"finish_reason":"stop"}]})";
  for (int round = 0; round < 2000; ++round) {
    std::string input;
    switch (round % 3) {
      case 0: {  // random bytes, with the stream's own words sprinkled in
        static const char* kWords[] = {"data: ", "\n\n", "{", "}", "\"choices\"", "[DONE]", "\r\n", ":",
                                       "\"tool_calls\""};
        size_t n = random() % 200;
        for (size_t i = 0; i < n; ++i)
          input += random() % 4 ? std::string(1, static_cast<char>(random())) : kWords[random() % 9];
        break;
      }
      case 1: {  // a sample cut short
        const std::string& s = samples[random() % 2];
        input = s.substr(0, random() % s.size());
        break;
      }
      default: {  // a sample with a few bytes changed
        input = samples[random() % 2];
        for (int i = 0; i < 3; ++i) input[random() % input.size()] = static_cast<char>(random());
      }
    }
    ChatStreamToMessages stream;
    std::string out;
    for (size_t at = 0; at < input.size();) {
      size_t n = 1 + random() % 64;
      stream.feed(std::string_view(input).substr(at, n), out);
      at += n;
    }
    stream.finish(out);
    expect_well_formed(out);

    std::string request = requests[0].substr(0, random() % requests[0].size());
    if (auto chat = messages_request_to_chat(request); chat.ok()) parsed_json(*chat);
    std::string cut_answer = answer.substr(0, random() % answer.size());
    parsed_json(chat_answer_to_messages(200, cut_answer));
    parsed_json(chat_answer_to_messages(400 + static_cast<int>(random() % 200), input));
    if (::testing::Test::HasFailure()) {
      ADD_FAILURE() << "round " << round;
      return;
    }
  }
}

}  // namespace
}  // namespace apiproxy::translate
