// OpenAI Responses <-> Chat Completions translation (core/translate/openai_responses.hpp): the
// request, the whole answer and the SSE stream, on samples written for this project.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <random>
#include <regex>
#include <string>
#include <vector>

#include "core/translate/openai_responses.hpp"
#include "tests/unit/support/json_test_helpers.hpp"
#include "tests/unit/support/sse_test_helpers.hpp"

namespace apiproxy::translate {
namespace {

using test_support::compact_json;
using test_support::expect_json_eq;
using test_support::NamedEvent;
using test_support::names_of;
using test_support::parsed_json;

std::string chat_request(std::string_view responses_body, ResponsesRequestEcho* echo = nullptr) {
  auto result = responses_request_to_chat(responses_body, echo);
  EXPECT_TRUE(result.ok()) << (result.ok() ? "" : result.error());
  return result.ok() ? *result : "{}";
}

std::string refusal(std::string_view responses_body) {
  auto result = responses_request_to_chat(responses_body);
  EXPECT_FALSE(result.ok()) << "accepted: " << (result.ok() ? *result : "");
  return result.ok() ? "" : result.error();
}

// ---------------------------------------------------------------- request

TEST(ResponsesRequest, StringInputIsOneUserMessage) {
  expect_json_eq(chat_request(R"({"model":"gpt-4.1-mini","input":"Name three moons of Jupiter."})"),
                 R"({"model":"gpt-4.1-mini","messages":[{"role":"user","content":"Name three moons of Jupiter."}]})");
}

TEST(ResponsesRequest, InstructionsAndMessageItemsOfEveryForm) {
  std::string body = R"({
    "model": "ops-assistant",
    "instructions": "Answer as the on-call runbook.",
    "input": [
      {"role": "developer", "content": "Prefer short answers."},
      {"type": "message", "role": "system", "content": [{"type": "input_text", "text": "Region: eu-west"}]},
      {"role": "user", "content": [{"type": "input_text", "text": "Disk alert on db-3."},
                                   {"type": "input_text", "text": "It is at 91%."}]},
      {"type": "message", "id": "msg_earlier", "status": "completed", "role": "assistant",
       "content": [{"type": "output_text", "text": "Check /var/log first.", "annotations": []}]},
      {"role": "user", "content": "Done, still 90%."}
    ]})";
  expect_json_eq(chat_request(body), R"({"model":"ops-assistant","messages":[
      {"role":"system","content":"Answer as the on-call runbook."},
      {"role":"system","content":"Prefer short answers."},
      {"role":"system","content":"Region: eu-west"},
      {"role":"user","content":"Disk alert on db-3.\nIt is at 91%."},
      {"role":"assistant","content":"Check /var/log first."},
      {"role":"user","content":"Done, still 90%."}]})");
}

TEST(ResponsesRequest, ImagePartsMakeAnArrayContent) {
  std::string body = R"({"model":"vision-1","input":[{"role":"user","content":[
      {"type":"input_text","text":"What is on this whiteboard?"},
      {"type":"input_image","image_url":"https://files.example.internal/wb-0412.png","detail":"high"},
      {"type":"input_image","image_url":"data:image/png;base64,iVBORw0KGgo="}]}]})";
  expect_json_eq(chat_request(body), R"({"model":"vision-1","messages":[{"role":"user","content":[
      {"type":"text","text":"What is on this whiteboard?"},
      {"type":"image_url","image_url":{"url":"https://files.example.internal/wb-0412.png","detail":"high"}},
      {"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}}]}]})");
}

TEST(ResponsesRequest, FunctionCallHistoryBecomesToolCallsAndToolMessages) {
  std::string body = R"({"model":"gpt-4.1","input":[
      {"role":"user","content":"Weather in Lyon and Porto?"},
      {"type":"message","role":"assistant","content":[{"type":"output_text","text":"Checking both."}]},
      {"type":"function_call","id":"fc_1","call_id":"call_lyon","name":"get_weather","arguments":"{\"city\":\"Lyon\"}",
       "status":"completed"},
      {"type":"function_call","id":"fc_2","call_id":"call_porto","name":"get_weather",
       "arguments":"{\"city\":\"Porto\"}"},
      {"type":"function_call_output","call_id":"call_lyon","output":"{\"temp_c\":14}"},
      {"type":"function_call_output","call_id":"call_porto","output":[{"type":"input_text","text":"{\"temp_c\":"},
       {"type":"input_text","text":"19}"}]},
      {"type":"function_call","call_id":"call_again","name":"get_weather","arguments":"{}"}
    ]})";
  expect_json_eq(chat_request(body), R"({"model":"gpt-4.1","messages":[
      {"role":"user","content":"Weather in Lyon and Porto?"},
      {"role":"assistant","content":"Checking both.","tool_calls":[
        {"id":"call_lyon","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Lyon\"}"}},
        {"id":"call_porto","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Porto\"}"}}]},
      {"role":"tool","content":"{\"temp_c\":14}","tool_call_id":"call_lyon"},
      {"role":"tool","content":"{\"temp_c\":19}","tool_call_id":"call_porto"},
      {"role":"assistant","content":null,"tool_calls":[
        {"id":"call_again","type":"function","function":{"name":"get_weather","arguments":"{}"}}]}]})");
}

TEST(ResponsesRequest, ToolsToolChoiceAndSettings) {
  std::string body = R"({"model":"gpt-4.1","input":"Book a room","stream":true,
      "tools":[{"type":"function","name":"book_room","description":"Books a meeting room",
                "parameters":{"type":"object","properties":{"room":{"type":"string"}},"required":["room"]},
                 "strict":true},
               {"type":"function","name":"list_rooms"}],
      "tool_choice":{"type":"function","name":"book_room"},
      "parallel_tool_calls":false,"max_output_tokens":512,"temperature":0.2,"top_p":1,"user":"u-77",
      "store":true,"reasoning":{"effort":"low"},"metadata":{"ticket":"T-9"},"truncation":"auto","include":[]})";
  expect_json_eq(chat_request(body), R"({"model":"gpt-4.1","messages":[{"role":"user","content":"Book a room"}],
      "tools":[{"type":"function","function":{"name":"book_room","description":"Books a meeting room",
                 "parameters":{"type":"object","properties":{"room":{"type":"string"}},"required":["room"]},
                  "strict":true}},
               {"type":"function","function":{"name":"list_rooms"}}],
      "tool_choice":{"type":"function","function":{"name":"book_room"}},
      "parallel_tool_calls":false,"max_tokens":512,"temperature":0.2,"top_p":1,"user":"u-77",
      "stream":true,"stream_options":{"include_usage":true}})");
  for (const char* mode : {"auto", "none", "required"}) {
    std::string with_mode = std::string(R"({"input":"x","tool_choice":")") + mode + "\"}";
    expect_json_eq(chat_request(with_mode),
                   std::string(R"({"messages":[{"role":"user","content":"x"}],"tool_choice":")") + mode + "\"}");
  }
}

TEST(ResponsesRequest, TextFormatBecomesResponseFormat) {
  expect_json_eq(chat_request(R"({"input":"List two colours","text":{"format":{"type":"json_schema","name":"colours",
      "schema":{"type":"object","properties":{"items":{"type":"array"}}},"strict":true}}})"),
                 R"({"messages":[{"role":"user","content":"List two colours"}],"response_format":{"type":"json_schema",
      "json_schema":{"name":"colours","schema":{"type":"object","properties":{"items":{"type":"array"}}},
       "strict":true}}})");
  expect_json_eq(chat_request(R"({"input":"x","text":{"format":{"type":"json_object"}}})"),
                 R"({"messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_object"}})");
  expect_json_eq(chat_request(R"({"input":"x","text":{"format":{"type":"text"},"verbosity":"low"}})"),
                 R"({"messages":[{"role":"user","content":"x"}]})");
}

TEST(ResponsesRequest, EchoKeepsWhatTheResponseRepeats) {
  ResponsesRequestEcho echo;
  (void)chat_request(R"({"model":"m1","instructions":"Be brief.","input":"hi","max_output_tokens":64,"temperature":0.5,
      "top_p":0.9,"parallel_tool_calls":false,"user":"u1","tools":[{"type":"function","name":"f"}],
       "tool_choice":"required",
      "text":{"format":{"type":"json_object"}},"metadata":{"k":"v"}})",
                     &echo);
  EXPECT_EQ(echo.model, "m1");
  EXPECT_EQ(echo.instructions, "Be brief.");
  EXPECT_EQ(echo.max_output_tokens, 64u);
  EXPECT_EQ(echo.temperature, 0.5);
  EXPECT_EQ(echo.top_p, 0.9);
  EXPECT_FALSE(echo.parallel_tool_calls);
  EXPECT_EQ(echo.user, "u1");
  expect_json_eq(echo.tools_json, R"([{"type":"function","name":"f"}])");
  expect_json_eq(echo.tool_choice_json, R"("required")");
  expect_json_eq(echo.text_format_json, R"({"type":"json_object"})");
  expect_json_eq(echo.metadata_json, R"({"k":"v"})");
}

TEST(ResponsesRequest, RefusesWhatChatCompletionsCannotDo) {
  EXPECT_EQ(refusal(R"({"input":"x","tools":[{"type":"web_search"}]})"),
            "tool type 'web_search' is not supported by this upstream");
  EXPECT_EQ(
      refusal(R"({"input":"x","tools":[{"type":"function","name":"a"},{"type":"file_search","vector_store_ids":[]}]})"),
      "tool type 'file_search' is not supported by this upstream");
  EXPECT_NE(refusal(R"({"input":"x","previous_response_id":"resp_abc"})").find("keeps no response state"),
            std::string::npos);
  EXPECT_EQ(refusal(R"({"input":"x","tool_choice":{"type":"web_search_preview"}})"),
            "tool_choice type 'web_search_preview' is not supported by this upstream");
  EXPECT_EQ(refusal(R"({"input":"x","tool_choice":"sometimes"})"),
            "tool_choice 'sometimes' is not supported by this upstream");
  EXPECT_EQ(refusal(R"({"input":[{"type":"file_search_call","id":"fs_1"}]})"),
            "input[0]: input item type 'file_search_call' is not supported by this upstream");
  EXPECT_EQ(refusal(
                R"({"input":[{"role":"user","content":"a"},{"role":"user","content":[{"type":"input_file",
           "file_id":"f"}]}]})"),
            "input[1]: content type 'input_file' is not supported by this upstream");
  EXPECT_EQ(
      refusal(R"({"input":[{"role":"system","content":[{"type":"input_image","image_url":"https://x/y.png"}]}]})"),
      "input[0]: only user messages can hold images");
  EXPECT_EQ(refusal(R"({"input":[{"role":"tool","content":"x"}]})"),
            "input[0]: message role 'tool' is not supported by this upstream");
  EXPECT_EQ(refusal(R"({"input":"x","text":{"format":{"type":"yaml"}}})"),
            "text.format type 'yaml' is not supported by this upstream");
  EXPECT_EQ(refusal(R"({"model":"m"})"), "'input' is required");
  EXPECT_EQ(refusal(R"({"input":42})"), "'input' must be a string or an array of input items");
  EXPECT_EQ(refusal(R"({"input":[]})"), "'input' holds no message");
  EXPECT_EQ(refusal(R"({"input":"x","max_output_tokens":-5})"), "'max_output_tokens' must be a whole number");
  EXPECT_EQ(refusal(R"({"input":"x","temperature":"warm"})"), "'temperature' must be a number");
  EXPECT_EQ(refusal(R"({"input":"x","model":7})"), "'model' must be a string");
  EXPECT_EQ(refusal(R"({"input":[{"type":"function_call","call_id":"c","name":"f"}]})"),
            "input[0]: a function_call needs string 'call_id', 'name' and 'arguments'");
  EXPECT_EQ(refusal(R"(["input"])"), "the request body must be a JSON object");
  EXPECT_EQ(refusal(R"({"input":"x",)").rfind("the request body is not valid JSON", 0), 0u);
}

// ---------------------------------------------------------------- answer

constexpr std::string_view kTextCompletion = R"({"id":"chatcmpl-7Qx","object":"chat.completion","created":1767225600,
  "model":"llama-3.3-70b","choices":[{"index":0,"message":{"role":"assistant","content":"Io, Europa and Ganymede."},
  "finish_reason":"stop"}],"usage":{"prompt_tokens":21,"completion_tokens":9,"total_tokens":30,
  "prompt_tokens_details":{"cached_tokens":4}}})";

TEST(ResponsesAnswer, TextCompletionBecomesAResponse) {
  ResponsesRequestEcho echo;
  echo.model = "moons";
  echo.instructions = "Be brief.";
  echo.temperature = 0.3;
  echo.max_output_tokens = 100;
  auto answer = translate_chat_answer(200, kTextCompletion, echo);
  EXPECT_EQ(answer.status, 200);
  auto doc = parsed_json(answer.body);
  std::string id = doc["id"].GetString();
  EXPECT_TRUE(std::regex_match(id, std::regex("resp_[0-9a-f]{32}"))) << id;
  std::string item_id = doc["output"][0]["id"].GetString();
  EXPECT_TRUE(std::regex_match(item_id, std::regex("msg_[0-9a-f]{32}"))) << item_id;
  doc["id"].SetString("resp_X");
  doc["output"][0]["id"].SetString("msg_X");
  expect_json_eq(compact_json(doc), R"({"id":"resp_X","object":"response","created_at":1767225600,"status":"completed",
    "error":null,"incomplete_details":null,"model":"llama-3.3-70b",
    "output":[{"id":"msg_X","type":"message","status":"completed","role":"assistant",
               "content":[{"type":"output_text","text":"Io, Europa and Ganymede.","annotations":[]}]}],
    "instructions":"Be brief.","max_output_tokens":100,"metadata":{},"parallel_tool_calls":true,
    "previous_response_id":null,"reasoning":{"effort":null,"summary":null},"store":false,"temperature":0.3,
    "text":{"format":{"type":"text"}},"tool_choice":"auto","tools":[],"top_p":null,"truncation":"disabled","user":null,
    "usage":{"input_tokens":21,"input_tokens_details":{"cached_tokens":4},"output_tokens":9,
             "output_tokens_details":{"reasoning_tokens":0},"total_tokens":30}})");
  EXPECT_EQ(chat_answer_to_response(200, kTextCompletion, echo).find("\"resp_"), 6u);
}

TEST(ResponsesAnswer, ToolCallsBecomeFunctionCallItems) {
  auto answer = translate_chat_answer(200, R"({"id":"c1","created":1767225601,"model":"qwen3","choices":[{"index":0,
    "message":{"role":"assistant","content":null,"tool_calls":[
      {"id":"call_a1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Lyon\"}"}},
      {"id":"call_b2","type":"function","function":{"name":"get_time","arguments":{"tz":"UTC"}}}]},
    "finish_reason":"tool_calls"}]})");
  auto doc = parsed_json(answer.body);
  ASSERT_TRUE(doc["output"].IsArray());
  ASSERT_EQ(doc["output"].Size(), 2u);
  for (auto& item : doc["output"].GetArray()) {
    EXPECT_TRUE(std::regex_match(item["id"].GetString(), std::regex("fc_[0-9a-f]{32}")));
    item["id"].SetString("fc_X");
  }
  expect_json_eq(compact_json(doc["output"]), R"([
    {"id":"fc_X","type":"function_call","status":"completed","call_id":"call_a1","name":"get_weather",
     "arguments":"{\"city\":\"Lyon\"}"},
    {"id":"fc_X","type":"function_call","status":"completed","call_id":"call_b2","name":"get_time",
     "arguments":"{\"tz\":\"UTC\"}"}])");
  EXPECT_EQ(std::string(doc["status"].GetString()), "completed");
  EXPECT_TRUE(doc["usage"].IsNull());
}

TEST(ResponsesAnswer, TextWithToolCallGivesMessageThenCall) {
  auto doc = parsed_json(chat_answer_to_response(200, R"({"choices":[{"message":{"content":"Let me look.","tool_calls":[
    {"id":"call_1","type":"function","function":{"name":"search","arguments":"{}"}}]},
     "finish_reason":"tool_calls"}]})"));
  ASSERT_EQ(doc["output"].Size(), 2u);
  EXPECT_EQ(std::string(doc["output"][0]["type"].GetString()), "message");
  EXPECT_EQ(std::string(doc["output"][0]["content"][0]["text"].GetString()), "Let me look.");
  EXPECT_EQ(std::string(doc["output"][1]["type"].GetString()), "function_call");
  EXPECT_EQ(std::string(doc["output"][1]["call_id"].GetString()), "call_1");
}

TEST(ResponsesAnswer, LengthMakesAnIncompleteResponse) {
  auto doc = parsed_json(chat_answer_to_response(200, R"({"created":1,"model":"m","choices":[{"index":0,
    "message":{"role":"assistant","content":"The first part of a long"},"finish_reason":"length"}],
    "usage":{"prompt_tokens":5,"completion_tokens":16}})"));
  EXPECT_EQ(std::string(doc["status"].GetString()), "incomplete");
  expect_json_eq(compact_json(doc["incomplete_details"]), R"({"reason":"max_output_tokens"})");
  expect_json_eq(compact_json(doc["usage"]), R"({"input_tokens":5,"input_tokens_details":{"cached_tokens":0},
    "output_tokens":16,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":21})");
}

TEST(ResponsesAnswer, UpstreamEnvelopePassesThrough) {
  std::string envelope =
      R"({"error":{"message":"Rate limit reached for requests","type":"requests","param":null,
       "code":"rate_limit_exceeded"}})";
  auto answer = translate_chat_answer(429, envelope);
  EXPECT_EQ(answer.status, 429);
  EXPECT_EQ(answer.body, envelope);
}

TEST(ResponsesAnswer, OtherUpstreamErrorsBecomeEnvelopes) {
  auto html = translate_chat_answer(502, "<html><body>Bad Gateway</body></html>");
  EXPECT_EQ(html.status, 502);
  expect_json_eq(html.body,
                 R"({"error":{"message":"the upstream answered with status 502: <html><body>Bad Gateway</body></html>",
    "type":"server_error","param":null,"code":null}})");
  expect_json_eq(chat_answer_to_response(503, R"({"error":"model is loading"})"),
                 R"({"error":{"message":"model is loading","type":"server_error","param":null,"code":null}})");
  expect_json_eq(
      chat_answer_to_response(400, R"({"detail":"messages: field required"})"),
      R"({"error":{"message":"messages: field required","type":"invalid_request_error","param":null,"code":null}})");
  auto long_body = translate_chat_answer(500, std::string(5000, 'x') + "\xff");
  EXPECT_LT(long_body.body.size(), 1000u);
  parsed_json(long_body.body);
}

TEST(ResponsesAnswer, A2xxThatIsNotAChatCompletionIs502) {
  for (std::string_view body :
       {std::string_view("upstream says hi"), std::string_view(R"({"object":"list","data":[]})"),
        std::string_view(R"({"choices":[]})"), std::string_view(R"({"choices":[{"message":"hi"}]})"),
        std::string_view(R"({"choices":[{"message":{"tool_calls":[{"function":{}}]}}]})")}) {
    auto answer = translate_chat_answer(200, body);
    EXPECT_EQ(answer.status, 502) << body;
    auto doc = parsed_json(answer.body);
    EXPECT_EQ(std::string(doc["error"]["type"].GetString()), "server_error");
    EXPECT_EQ(std::string(doc["error"]["code"].GetString()), "bad_upstream_answer");
  }
  auto error_with_200 =
      translate_chat_answer(200, R"({"error":{"message":"context too long","code":"context_length"}})");
  EXPECT_EQ(error_with_200.status, 502);
  EXPECT_EQ(std::string(parsed_json(error_with_200.body)["error"]["message"].GetString()), "context too long");
}

// ---------------------------------------------------------------- stream

// A translated stream's events (see named_events), checking too that their sequence numbers
// count from `first_sequence` without gaps.
std::vector<NamedEvent> events_of(const std::string& out, uint64_t first_sequence = 0) {
  std::vector<NamedEvent> events = test_support::named_events(out);
  for (size_t i = 0; i < events.size(); ++i) {
    const rapidjson::Value& data = events[i].data;
    bool numbered = data.IsObject() && data.HasMember("sequence_number") && data["sequence_number"].IsUint64();
    EXPECT_TRUE(numbered) << "no sequence_number: " << events[i].name;
    if (numbered) {
      EXPECT_EQ(data["sequence_number"].GetUint64(), first_sequence + i) << events[i].name;
    }
  }
  return events;
}

// One SSE event; the samples' line breaks (between JSON tokens) are taken out, as an upstream writes it.
std::string data_event(std::string_view json) {
  std::string line;
  for (char c : json)
    if (c != '\n') line.push_back(c);
  return "data: " + line + "\n\n";
}

// A text answer as a chat stream: role chunk, three pieces, the finish chunk, the usage chunk.
std::string text_stream() {
  std::string head =
      R"({"id":"chatcmpl-9","object":"chat.completion.chunk","created":1767225700,"model":"mistral-small",)";
  return data_event(head +
                    R"("choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]})") +
         data_event(head + R"("choices":[{"index":0,"delta":{"content":"Grüße"},"finish_reason":null}]})") +
         data_event(head + R"("choices":[{"index":0,"delta":{"content":" aus "},"finish_reason":null}]})") +
         data_event(head + R"("choices":[{"index":0,"delta":{"content":"Köln \"🙂\""},"finish_reason":null}]})") +
         data_event(head + R"("choices":[{"index":0,"delta":{},"finish_reason":"stop"}]})") +
         data_event(head + R"("choices":[],"usage":{"prompt_tokens":12,"completion_tokens":7,"total_tokens":19}})") +
         "data: [DONE]\n\n";
}

// Ids are random per response: the same events with their 32 hex digits blanked.
std::string without_ids(std::string out) {
  for (std::string_view prefix : {"resp_", "msg_", "fc_", "call_"}) {
    for (size_t at = out.find(prefix); at != std::string::npos; at = out.find(prefix, at + 1)) {
      size_t digits = at + prefix.size();
      if (digits + 32 <= out.size() && out.find_first_not_of("0123456789abcdef", digits) >= digits + 32)
        out.replace(digits, 32, "X");
    }
  }
  return out;
}

std::string translate_whole(const std::string& chat, ResponsesRequestEcho echo = {}) {
  ChatStreamToResponses stream(std::move(echo));
  return test_support::fed_whole(stream, chat);
}

TEST(ResponsesStream, TextStreamEvents) {
  ChatStreamToResponses stream;
  std::string out;
  stream.feed(text_stream(), out);
  auto events = events_of(out);
  EXPECT_EQ(
      names_of(events),
      (std::vector<std::string>{"response.created", "response.in_progress", "response.output_item.added",
                                "response.content_part.added", "response.output_text.delta",
                                "response.output_text.delta", "response.output_text.delta", "response.output_text.done",
                                "response.content_part.done", "response.output_item.done", "response.completed"}));
  ASSERT_EQ(events.size(), 11u);
  EXPECT_EQ(std::string(events[0].data["response"]["status"].GetString()), "in_progress");
  EXPECT_EQ(events[0].data["response"]["output"].Size(), 0u);
  EXPECT_EQ(std::string(events[0].data["response"]["model"].GetString()), "mistral-small");
  std::string response_id = events[0].data["response"]["id"].GetString();
  std::string item_id = events[2].data["item"]["id"].GetString();
  expect_json_eq(
      compact_json(events[2].data["item"]),
      R"({"id":")" + item_id + R"(","type":"message","status":"in_progress","role":"assistant","content":[]})");
  expect_json_eq(compact_json(events[3].data), R"({"type":"response.content_part.added","item_id":")" + item_id +
                                              R"(","output_index":0,"content_index":0,"part":{"type":"output_text",
                                              "text":"","annotations":[]},"sequence_number":3})");
  expect_json_eq(compact_json(events[5].data), R"({"type":"response.output_text.delta","item_id":")" + item_id +
                                              R"(","output_index":0,"content_index":0,"delta":" aus ","logprobs":[],
                                              "sequence_number":5})");
  std::string full = "Grüße aus Köln \"🙂\"";
  EXPECT_EQ(events[7].data["text"].GetString(), full);
  EXPECT_EQ(events[8].data["part"]["text"].GetString(), full);
  EXPECT_EQ(std::string(events[9].data["item"]["status"].GetString()), "completed");
  EXPECT_EQ(events[9].data["item"]["content"][0]["text"].GetString(), full);
  const auto& response = events[10].data["response"];
  EXPECT_EQ(response["id"].GetString(), response_id);
  EXPECT_EQ(std::string(response["status"].GetString()), "completed");
  EXPECT_EQ(response["created_at"].GetInt64(), 1767225700);
  EXPECT_EQ(response["output"][0]["id"].GetString(), item_id);
  EXPECT_EQ(response["output"][0]["content"][0]["text"].GetString(), full);
  expect_json_eq(compact_json(response["usage"]), R"({"input_tokens":12,"input_tokens_details":{"cached_tokens":0},
    "output_tokens":7,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":19})");
  EXPECT_EQ(stream.input_tokens(), 12u);
  EXPECT_EQ(stream.output_tokens(), 7u);
  std::string after;
  stream.finish(after);
  EXPECT_EQ(after, "") << "[DONE] already completed the response";
}

TEST(ResponsesStream, SplitAnywhereEqualsFedAtOnce) {
  std::string chat = text_stream();
  std::string expected = without_ids(translate_whole(chat));
  for (size_t cut = 0; cut <= chat.size(); ++cut) {
    ChatStreamToResponses stream;
    std::string out;
    stream.feed(std::string_view(chat).substr(0, cut), out);
    stream.feed(std::string_view(chat).substr(cut), out);
    stream.finish(out);
    ASSERT_EQ(without_ids(out), expected) << "cut at " << cut;
  }
  ChatStreamToResponses bytewise;
  std::string out;
  for (char c : chat) bytewise.feed(std::string_view(&c, 1), out);
  bytewise.finish(out);
  EXPECT_EQ(without_ids(out), expected);
}

TEST(ResponsesStream, CrLfLineEndsReadTheSame) {
  std::string chat = text_stream();
  std::string crlf = std::regex_replace(chat, std::regex("\n"), "\r\n");
  EXPECT_EQ(without_ids(translate_whole(crlf)), without_ids(translate_whole(chat)));
}

TEST(ResponsesStream, ToolCallStream) {
  std::string head = R"({"id":"c2","created":1767225800,"model":"gpt-4o-mini",)";
  std::string chat =
      data_event(head + R"("choices":[{"index":0,"delta":{"role":"assistant","content":"One moment."}}]})") +
      data_event(head + R"("choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_w1","type":"function",
          "function":{"name":"get_weather","arguments":""}}]}}]})") +
      data_event(head +
                 R"("choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"ci"}}]}}]})") +
      data_event(head +
                 R"("choices":[{"index":0,"delta":{"tool_calls":[{"index":0,
           "function":{"arguments":"ty\":\"Oslo\"}"}}]}}]})") +
      data_event(head + R"("choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_t2","type":"function",
          "function":{"name":"get_time","arguments":"{}"}}]}}]})") +
      data_event(head + R"("choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}],
          "usage":{"prompt_tokens":80,"completion_tokens":30,"total_tokens":110}})");
  ChatStreamToResponses stream;
  std::string out;
  stream.feed(chat, out);
  stream.finish(out);  // no [DONE]
  auto events = events_of(out);
  EXPECT_EQ(names_of(events),
            (std::vector<std::string>{
                "response.created", "response.in_progress", "response.output_item.added", "response.content_part.added",
                "response.output_text.delta", "response.output_item.added", "response.function_call_arguments.delta",
                "response.function_call_arguments.delta", "response.output_item.added",
                "response.function_call_arguments.delta", "response.output_text.done", "response.content_part.done",
                "response.output_item.done", "response.function_call_arguments.done", "response.output_item.done",
                "response.function_call_arguments.done", "response.output_item.done", "response.completed"}));
  ASSERT_EQ(events.size(), 18u);
  std::string call_item = events[5].data["item"]["id"].GetString();
  EXPECT_TRUE(std::regex_match(call_item, std::regex("fc_[0-9a-f]{32}")));
  expect_json_eq(compact_json(events[5].data),
                 R"({"type":"response.output_item.added","output_index":1,"item":{"id":")" + call_item +
                     R"(","type":"function_call","status":"in_progress",
                                              "call_id":"call_w1","name":"get_weather","arguments":""},
                                               "sequence_number":5})");
  expect_json_eq(compact_json(events[7].data), R"({"type":"response.function_call_arguments.delta","item_id":")" +
                                              call_item +
                                              R"(","output_index":1,"delta":"ty\":\"Oslo\"}","sequence_number":7})");
  expect_json_eq(compact_json(events[13].data),
                 R"({"type":"response.function_call_arguments.done","item_id":")" + call_item +
                     R"(","output_index":1,"arguments":"{\"city\":\"Oslo\"}","sequence_number":13})");
  EXPECT_EQ(events[16].data["output_index"].GetUint64(), 2u);
  const auto& response = events[17].data["response"];
  ASSERT_EQ(response["output"].Size(), 3u);
  EXPECT_EQ(std::string(response["output"][0]["content"][0]["text"].GetString()), "One moment.");
  EXPECT_EQ(std::string(response["output"][1]["arguments"].GetString()), "{\"city\":\"Oslo\"}");
  EXPECT_EQ(std::string(response["output"][2]["call_id"].GetString()), "call_t2");
  EXPECT_EQ(std::string(response["output"][2]["name"].GetString()), "get_time");
  EXPECT_EQ(response["usage"]["total_tokens"].GetUint64(), 110u);
}

TEST(ResponsesStream, FinishWithoutDoneCompletesOnce) {
  std::string chat = text_stream();
  chat.resize(chat.size() - std::string("data: [DONE]\n\n").size());
  ChatStreamToResponses stream;
  std::string out;
  stream.feed(chat, out);
  EXPECT_EQ(events_of(out).back().name, "response.output_text.delta");
  std::string end;
  stream.finish(end);
  auto closing = events_of(end, events_of(out).size());
  EXPECT_EQ(names_of(closing), (std::vector<std::string>{"response.output_text.done", "response.content_part.done",
                                                         "response.output_item.done", "response.completed"}));
  std::string again;
  stream.finish(again);
  stream.feed("data: [DONE]\n\n", again);
  EXPECT_EQ(again, "");
  EXPECT_EQ(stream.error_event("late"), "");
}

TEST(ResponsesStream, LastEventWithoutBlankLineStillCounts) {
  std::string chat = text_stream();
  chat.resize(chat.size() - 2);  // "data: [DONE]" with no line end
  auto events = events_of(translate_whole(chat));
  EXPECT_EQ(events.back().name, "response.completed");
}

TEST(ResponsesStream, LengthEndsWithResponseIncomplete) {
  std::string chat = data_event(R"({"model":"m","choices":[{"index":0,"delta":{"content":"Once upon"}}]})") +
                     data_event(R"({"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"length"}]})") +
                     "data: [DONE]\n\n";
  auto events = events_of(translate_whole(chat));
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().name, "response.incomplete");
  EXPECT_EQ(std::string(events.back().data["response"]["status"].GetString()), "incomplete");
  expect_json_eq(compact_json(events.back().data["response"]["incomplete_details"]),
                 R"({"reason":"max_output_tokens"})");
  EXPECT_TRUE(events.back().data["response"]["usage"].IsNull());
}

TEST(ResponsesStream, ErrorChunkEndsTheStream) {
  std::string chat =
      data_event(R"({"model":"m","choices":[{"index":0,"delta":{"content":"Partial"}}]})") +
      data_event(R"({"error":{"message":"upstream overloaded","type":"server_error","code":"overloaded"}})") +
      data_event(R"({"model":"m","choices":[{"index":0,"delta":{"content":" more"}}]})");
  ChatStreamToResponses stream;
  std::string out;
  stream.feed(chat, out);
  stream.finish(out);
  stream.feed("data: [DONE]\n\n", out);
  auto events = events_of(out);
  ASSERT_EQ(events.size(), 6u);
  expect_json_eq(compact_json(events.back().data),
                 R"({"type":"error","code":"overloaded","message":"upstream overloaded",
    "param":null,"sequence_number":5})");
}

TEST(ResponsesStream, MalformedChunkIsAnErrorEvent) {
  std::string chat = data_event(R"({"model":"m","choices":[{"index":0,"delta":{"content":"ok"}}]})") +
                     data_event(R"({"model":"m","choices":[{"index":0,"delta":{"content":"bro)");
  auto events = events_of(translate_whole(chat));
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().name, "error");
  EXPECT_EQ(std::string(events.back().data["code"].GetString()), "bad_upstream_stream");
}

TEST(ResponsesStream, NothingBeforeTheEndIsAnError) {
  auto events = events_of(translate_whole(": keep-alive\n\n"));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].name, "error");
}

TEST(ResponsesStream, HostReportedBreakIsAnErrorEvent) {
  ChatStreamToResponses stream;
  std::string out;
  stream.feed(data_event(R"({"model":"m","choices":[{"index":0,"delta":{"content":"Hal"}}]})"), out);
  std::string broke = stream.error_event("the upstream connection was reset");
  auto events = events_of(broke, events_of(out).size());
  ASSERT_EQ(events.size(), 1u);
  expect_json_eq(compact_json(events[0].data), R"({"type":"error","code":"upstream_error",
    "message":"the upstream connection was reset","param":null,"sequence_number":5})");
  std::string after;
  stream.finish(after);
  EXPECT_EQ(after, "");
}

TEST(ResponsesStream, CompletedRepeatsTheRequest) {
  ResponsesRequestEcho echo;
  (void)chat_request(R"({"model":"alias-fast","instructions":"Reply in French.","input":"hi","stream":true,
      "tools":[{"type":"function","name":"noop","parameters":{"type":"object"}}]})",
                     &echo);
  auto events = events_of(translate_whole(data_event(R"({"choices":[{"delta":{"content":"Salut"}}]})"), echo));
  ASSERT_FALSE(events.empty());
  const auto& response = events.back().data["response"];
  EXPECT_EQ(std::string(response["model"].GetString()), "alias-fast");
  EXPECT_EQ(std::string(response["instructions"].GetString()), "Reply in French.");
  expect_json_eq(compact_json(response["tools"]),
                 R"([{"type":"function","name":"noop","parameters":{"type":"object"}}])");
}

TEST(ResponsesStream, OversizedLineEndsWithAnError) {
  ChatStreamToResponses stream;
  std::string out;
  std::string piece(1024 * 1024, 'a');
  stream.feed("data: {\"x\":\"", out);
  for (int i = 0; i < 6; ++i) stream.feed(piece, out);
  auto events = events_of(out);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].name, "error");
}

// ---------------------------------------------------------------- fuzz

// Random damage to a valid sample: truncation, byte changes, inserted structure.
std::string mutate(std::string s, std::mt19937& rng) {
  static constexpr char kNoise[] = "{}[]\",:\\\n\r 0aeé\x80\xff";
  int edits = std::uniform_int_distribution<int>(0, 4)(rng);
  for (int i = 0; i < edits && !s.empty(); ++i) {
    size_t at = std::uniform_int_distribution<size_t>(0, s.size() - 1)(rng);
    char noise = kNoise[std::uniform_int_distribution<size_t>(0, sizeof(kNoise) - 2)(rng)];
    switch (rng() % 4) {
      case 0:
        s.resize(at);
        break;
      case 1:
        s[at] = noise;
        break;
      case 2:
        s.insert(s.begin() + at, noise);
        break;
      default:
        s.erase(at, 1);
        break;
    }
  }
  return s;
}

void expect_stream_well_formed(const std::string& out) {
  test_support::expect_one_ending(events_of(out), {"response.completed", "response.incomplete", "error"});
}

TEST(ResponsesTranslationFuzz, RandomAndTruncatedInputsNeverBreak) {
  std::mt19937 rng(20260413);
  std::vector<std::string> requests = {
      R"({"model":"m","input":[{"role":"user","content":[{"type":"input_text","text":"a"},{"type":"input_image",
       "image_url":"https://i/x.png"}]},
         {"type":"function_call","call_id":"c","name":"f","arguments":"{}"},{"type":"function_call_output",
          "call_id":"c","output":"1"}],
         "tools":[{"type":"function","name":"f","parameters":{"type":"object"}}],"tool_choice":"auto",
          "text":{"format":{"type":"json_object"}},"stream":true})",
      R"({"input":"hello","instructions":"x","max_output_tokens":9,"temperature":1})"};
  std::vector<std::string> answers = {
      std::string(kTextCompletion),
      R"({"choices":[{"message":{"content":null,"tool_calls":[{"id":"c","function":{"name":"f","arguments":"{}"}}]},
       "finish_reason":"length"}]})"};
  std::string tool_stream =
      data_event(
          R"({"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"c","function":{"name":"f",
           "arguments":"{\"a\""}}]}}]})") +
      data_event(R"({"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":":1}"}}]}}]})") +
      "data: [DONE]\n\n";
  std::vector<std::string> streams = {text_stream(), tool_stream};
  for (int round = 0; round < 2000; ++round) {
    std::string request = mutate(requests[round % requests.size()], rng);
    auto chat = responses_request_to_chat(request);
    if (chat.ok()) {
      EXPECT_TRUE(parsed_json(*chat).IsObject()) << request;
    }

    std::string answer = mutate(answers[round % answers.size()], rng);
    int status = round % 5 == 0 ? 500 : 200;
    auto translated = translate_chat_answer(status, answer);
    EXPECT_TRUE(parsed_json(translated.body).IsObject()) << answer;
    EXPECT_TRUE(translated.status == 200 || translated.status >= 400);

    std::string chat_stream = mutate(streams[round % streams.size()], rng);
    ChatStreamToResponses stream;
    std::string out;
    size_t cut = chat_stream.empty() ? 0 : rng() % chat_stream.size();
    stream.feed(std::string_view(chat_stream).substr(0, cut), out);
    stream.feed(std::string_view(chat_stream).substr(cut), out);
    stream.finish(out);
    expect_stream_well_formed(out);
    if (HasFailure()) {
      ADD_FAILURE() << "round " << round << "\nrequest: " << request << "\nanswer: " << answer
                    << "\nstream: " << chat_stream;
      return;
    }
  }
}

}  // namespace
}  // namespace apiproxy::translate
