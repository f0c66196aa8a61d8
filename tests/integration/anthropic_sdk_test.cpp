// The official clients against the routes of issue 13, as a real application sees them:
//  * `@anthropic-ai/sdk` (anthropic_client/anthropic_check.mjs): messages.create, both stream
//    styles and a tool round on /v1/messages, to an OpenAI-compatible upstream (translated)
//    and to an Anthropic upstream (passed through);
//  * `openai` (openai_client/responses_check.mjs): responses.create plain and streamed, native
//    and translated, and chat completions served by the anthropic adapter.
// Each package is installed once with npm next to this test program (support/npm_client.hpp);
// a test is skipped only when npm cannot reach a registry. The scripts print a JSON summary
// that is checked here.
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "assertions.hpp"
#include "data_plane.hpp"
#include "npm_client.hpp"

namespace it {
namespace {

namespace fs = std::filesystem;
using namespace dp;

constexpr const char* kClaudeKey = "sk-ant-sdk-key-97531";
constexpr const char* kClaudeModel = "claude-mock-opus";

fs::path client_source(const char* configured, const char* name) {
  return configured[0] ? fs::path(configured) : fs::path(__FILE__).parent_path() / name;
}

#ifndef APIPROXY_IT_ANTHROPIC_CLIENT_DIR
#define APIPROXY_IT_ANTHROPIC_CLIENT_DIR ""
#endif
#ifndef APIPROXY_IT_OPENAI_CLIENT_DIR
#define APIPROXY_IT_OPENAI_CLIENT_DIR ""
#endif

NpmClient anthropic_client() {
  return {client_source(APIPROXY_IT_ANTHROPIC_CLIENT_DIR, "anthropic_client"), beside_test_program("anthropic_client"),
          "@anthropic-ai/sdk@1", "@anthropic-ai/sdk", {"anthropic_check.mjs"}};
}

// The same directory openai_sdk_test installs `openai` into: one install serves both.
NpmClient openai_client() {
  return {client_source(APIPROXY_IT_OPENAI_CLIENT_DIR, "openai_client"), beside_test_program("openai_client"),
          "openai@4", "openai", {"responses_check.mjs"}};
}

// Logical models: on-alpha (openai adapter, Responses native, Messages translated), on-beta
// (RESPONSES_PATH=off: Responses translated) and on-claude (the anthropic adapter).
std::map<std::string, std::string> sdk_models() {
  auto m = default_logical_models();
  m["on-alpha"] = logical("on-alpha", {physical("alpha", "gpt-4o-mini")});
  m["on-beta"] = logical("on-beta", {physical("beta", "gpt-4o-mini")});
  m["on-claude"] = logical("on-claude", {physical("claude", kClaudeModel)});
  return m;
}

const rapidjson::Value& member(const rapidjson::Value& v, const char* key) {
  static const rapidjson::Value null_value;
  if (!v.IsObject()) return null_value;
  auto it = v.FindMember(key);
  return it == v.MemberEnd() ? null_value : it->value;
}

bool is_true(const rapidjson::Value& v, const char* key) { return member(v, key).IsBool() && member(v, key).GetBool(); }

class OfficialClients : public ::testing::Test {
 protected:
  World world;
  MockUpstream claude{{"--name", "claude", "--models", kClaudeModel, "--require-key", kClaudeKey}};

  // Installs the client (or skips the test), then starts the gateway.
  void prepare(const NpmClient& client) {
    bool skip = false;
    std::string problem = prepare_npm_client(client, skip);
    if (!problem.empty() && skip) GTEST_SKIP() << problem;
    ASSERT_TRUE(problem.empty()) << problem;
    EnvMap env = world.env();
    add_provider(env, "claude", claude.base_url(), kClaudeKey,
                 {{"ADAPTER", "anthropic"}, {"MODELS_PATH", "/v1/models"}});
    env["LLM_PROVIDER_beta_RESPONSES_PATH"] = "off";
    world.start(env, sdk_models(), {"only-alpha", "only-beta", "az-gpt4", kClaudeModel});
  }

  EnvMap script_env() const {
    EnvMap env = base_env();
    std::string origin = "http://127.0.0.1:" + std::to_string(world.gateway->port());
    env["APIPROXY_BASE_URL"] = origin + "/v1";
    env["APIPROXY_ANTHROPIC_BASE_URL"] = origin;
    env["APIPROXY_API_KEY"] = base64(kToken);
    return env;
  }
};

// ------------------------------------------------------------------ @anthropic-ai/sdk ----

// What every Messages route must give the SDK; `provider` answers, `model` is the logical one.
void expect_messages_basics(const rapidjson::Value& d, const std::string& provider, const std::string& model) {
  const auto& create = member(d, "create");
  EXPECT_EQ(str(create, "type"), "message") << to_string(create);
  EXPECT_EQ(str(create, "role"), "assistant");
  EXPECT_EQ(str(create, "provider"), provider);
  EXPECT_EQ(num(create, "blocks"), 1);
  EXPECT_EQ(str(create, "text"), reply_of(provider, "hello from the anthropic sdk to " + model));
  EXPECT_EQ(str(create, "stop_reason"), "end_turn");
  EXPECT_GT(num(create, "input_tokens"), 0);
  EXPECT_GT(num(create, "output_tokens"), 0);

  const auto& stream = member(d, "stream");
  std::string streamed = reply_of(provider, "stream from the anthropic sdk to " + model);
  EXPECT_EQ(str(stream, "text"), streamed) << to_string(stream);
  EXPECT_EQ(str(stream, "final_text"), streamed);
  EXPECT_EQ(num(stream, "text_events"), 3) << "the mock streams three content pieces";
  EXPECT_EQ(str(stream, "stop_reason"), "end_turn");
  EXPECT_GT(num(stream, "output_tokens"), 0);

  const auto& raw = member(d, "raw_stream");
  EXPECT_EQ(str(raw, "text"), reply_of(provider, "raw stream to " + model)) << to_string(raw);
  EXPECT_EQ(str(raw, "stop_reason"), "end_turn");
  // The SDK does not hand ping events to the application.
  std::vector<std::string> order{"message_start",      "content_block_start", "content_block_delta",
                                 "content_block_stop", "message_delta",       "message_stop"};
  EXPECT_EQ(strings(raw, "types"), order) << to_string(raw);
}

// Checks the script's report of an error the SDK threw: its class, HTTP status and error type.
void expect_sdk_error(const rapidjson::Value& report, const std::string& error_class, int status,
                      const std::string& type) {
  EXPECT_TRUE(is_true(report, "thrown")) << to_string(report);
  EXPECT_EQ(str(report, "class"), error_class) << to_string(report);
  EXPECT_EQ(num(report, "status"), status);
  EXPECT_EQ(str(report, "type"), type);
}

TEST_F(OfficialClients, AnthropicSdkMessagesToTranslatedAndNativeUpstreams) {
  prepare(anthropic_client());
  if (IsSkipped() || HasFatalFailure()) return;
  EnvMap env = script_env();
  env["APIPROXY_TRANSLATED_MODEL"] = "on-alpha";
  env["APIPROXY_NATIVE_MODEL"] = "on-claude";
  auto d = run_node_script(anthropic_client().install_dir / "anthropic_check.mjs", env);
  ASSERT_TRUE(d.IsObject() && d.HasMember("translated") && d.HasMember("native")) << to_string(d);

  {
    SCOPED_TRACE("translated: on-alpha");
    const auto& t = d["translated"];
    expect_messages_basics(t, "alpha", "on-alpha");
    // The OpenAI-compatible mock never calls tools: the script wrote the tool_use itself.
    const auto& tools = member(t, "tools");
    EXPECT_TRUE(member(member(tools, "first"), "tool_use").IsNull()) << to_string(tools);
    EXPECT_EQ(str(member(tools, "first"), "stop_reason"), "end_turn");
    EXPECT_EQ(str(member(tools, "first"), "text"), reply_of("alpha", "What is the weather in Paris today?"));
    EXPECT_EQ(str(member(tools, "second"), "text"), reply_of("alpha", "Sunny, 21 C")) << "the tool result was lost";
    EXPECT_EQ(str(member(tools, "streamed"), "text"), reply_of("alpha", "What is the weather in Paris today?"));
    auto sent = parse_json(str(world.alpha.stats()["last_request"], "body"));
    ASSERT_TRUE(sent.HasMember("tools") && sent["tools"].IsArray() && sent["tools"].Size() == 1) << to_string(sent);
    EXPECT_EQ(str(member(sent["tools"][0], "function"), "name"), "get_weather");
  }
  {
    SCOPED_TRACE("native: on-claude");
    const auto& n = d["native"];
    expect_messages_basics(n, "claude", "on-claude");
    EXPECT_EQ(str(member(n, "create"), "model"), kClaudeModel);
    const auto& tools = member(n, "tools");
    const auto& first = member(tools, "first");
    EXPECT_EQ(str(first, "stop_reason"), "tool_use") << to_string(tools);
    EXPECT_EQ(str(first, "text"), "Let me check.");
    EXPECT_EQ(str(member(first, "tool_use"), "name"), "get_weather");
    EXPECT_TRUE(member(member(first, "tool_use"), "input") == parse_json(R"({"city":"Paris"})")) << to_string(first);
    EXPECT_EQ(str(member(tools, "second"), "text"), "The tool said: Sunny, 21 C");
    EXPECT_EQ(str(member(tools, "second"), "stop_reason"), "end_turn");
    const auto& streamed = member(tools, "streamed");
    EXPECT_EQ(str(streamed, "stop_reason"), "tool_use") << to_string(streamed);
    EXPECT_TRUE(member(member(streamed, "tool_use"), "input") == parse_json(R"({"city":"Paris"})"))
        << "the SDK could not assemble the streamed tool input: " << to_string(streamed);
  }

  expect_sdk_error(member(d, "not_found"), "NotFoundError", 404, "not_found_error");
  expect_sdk_error(member(d, "bad_key"), "AuthenticationError", 401, "authentication_error");

  // Translated calls reached alpha as chat completions, native ones claude as Messages.
  EXPECT_EQ(world.count("alpha", "/v1/messages"), 0);
  EXPECT_GE(world.count("alpha"), 6);
  EXPECT_GE(path_count(claude.stats(), "/v1/messages"), 6);
  EXPECT_EQ(path_count(claude.stats(), kChatPath), 0);
}

// ------------------------------------------------------------------------------ openai ----

void expect_responses(const rapidjson::Value& d, const std::string& provider, const std::string& model) {
  const auto& plain = member(d, "plain");
  EXPECT_EQ(str(plain, "object"), "response") << to_string(plain);
  EXPECT_EQ(str(plain, "status"), "completed");
  EXPECT_EQ(str(plain, "provider"), provider);
  EXPECT_EQ(str(plain, "output_text"), reply_of(provider, "hello responses via " + model));
  EXPECT_EQ(str(plain, "items_text"), reply_of(provider, "hello responses via " + model));
  EXPECT_EQ(str(plain, "instructions"), "be brief");
  EXPECT_GT(num(plain, "input_tokens"), 0);
  EXPECT_GT(num(plain, "output_tokens"), 0);

  const auto& stream = member(d, "stream");
  std::string streamed = reply_of(provider, "stream responses via " + model);
  EXPECT_EQ(str(stream, "first"), "response.created") << to_string(stream);
  EXPECT_EQ(str(stream, "last"), "response.completed");
  EXPECT_TRUE(is_true(stream, "sequence_increasing"));
  EXPECT_EQ(num(stream, "deltas"), 3) << "the mock streams three content pieces";
  EXPECT_EQ(str(stream, "text"), streamed);
  EXPECT_EQ(str(stream, "completed_status"), "completed");
  EXPECT_EQ(str(stream, "completed_text"), streamed);

  const auto& helper = member(d, "helper");
  EXPECT_EQ(str(helper, "status"), "completed") << to_string(helper);
  EXPECT_EQ(str(helper, "items_text"), reply_of(provider, "helper stream via " + model));
}

TEST_F(OfficialClients, OpenAISdkResponsesAndChatServedByTheAnthropicAdapter) {
  prepare(openai_client());
  if (IsSkipped() || HasFatalFailure()) return;
  EnvMap env = script_env();
  env["APIPROXY_NATIVE_MODEL"] = "on-alpha";
  env["APIPROXY_TRANSLATED_MODEL"] = "on-beta";
  env["APIPROXY_CLAUDE_MODEL"] = "on-claude";
  auto d = run_node_script(openai_client().install_dir / "responses_check.mjs", env);
  ASSERT_TRUE(d.IsObject() && d.HasMember("native") && d.HasMember("translated") && d.HasMember("claude_chat"))
      << to_string(d);

  {
    SCOPED_TRACE("responses native: on-alpha");
    expect_responses(d["native"], "alpha", "on-alpha");
  }
  {
    SCOPED_TRACE("responses translated: on-beta");
    expect_responses(d["translated"], "beta", "on-beta");
  }
  EXPECT_EQ(world.count("alpha", "/v1/responses"), 3);
  EXPECT_EQ(world.count("alpha"), 0);
  EXPECT_EQ(world.count("beta", "/v1/responses"), 0);
  EXPECT_EQ(world.count("beta"), 3);

  const auto& chat = d["claude_chat"];
  const auto& plain = member(chat, "plain");
  EXPECT_EQ(str(plain, "object"), "chat.completion") << to_string(plain);
  EXPECT_EQ(str(plain, "provider"), "claude");
  EXPECT_EQ(str(plain, "content"), reply_of("claude", "hello claude from the openai sdk"));
  EXPECT_EQ(str(plain, "finish_reason"), "stop");
  EXPECT_GT(num(plain, "prompt_tokens"), 0);
  EXPECT_GT(num(plain, "completion_tokens"), 0);
  EXPECT_EQ(num(plain, "total_tokens"), num(plain, "prompt_tokens") + num(plain, "completion_tokens"));

  const auto& stream = member(chat, "stream");
  EXPECT_EQ(str(stream, "content"), reply_of("claude", "stream claude through the openai sdk")) << to_string(stream);
  EXPECT_GE(num(stream, "chunks"), 5) << "role, three content pieces, finish and usage chunks";
  EXPECT_EQ(str(stream, "finish_reason"), "stop");
  EXPECT_GT(num(stream, "total_tokens"), 0) << "the include_usage chunk did not reach the SDK";

  const auto& tool = member(chat, "tool");
  EXPECT_EQ(str(tool, "finish_reason"), "tool_calls") << to_string(tool);
  EXPECT_EQ(str(tool, "name"), "get_weather");
  EXPECT_TRUE(member(tool, "arguments") == parse_json(R"({"city":"Paris"})")) << to_string(tool);
  EXPECT_EQ(path_count(claude.stats(), "/v1/messages"), 3);
}

}  // namespace
}  // namespace it
