// The official `openai` npm package against the gateway: what a real application sees.
// The package is installed once with npm into <build>/tests/integration/openai_client/
// (skipped when node_modules/openai is already there); openai_client/sdk_check.mjs makes
// the calls and prints a JSON summary that this test checks.
#include <filesystem>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "assertions.hpp"
#include "data_plane.hpp"
#include "npm_client.hpp"

namespace it {
namespace {

namespace fs = std::filesystem;
using namespace dp;
using namespace std::chrono_literals;

fs::path source_dir() {
#ifdef APIPROXY_IT_OPENAI_CLIENT_DIR
  return APIPROXY_IT_OPENAI_CLIENT_DIR;
#else
  return fs::path(__FILE__).parent_path() / "openai_client";
#endif
}

// `openai` next to this test program, inside the build tree.
NpmClient openai_client() {
  return {source_dir(), beside_test_program("openai_client"), "openai@4", "openai", {"sdk_check.mjs"}};
}

class OpenAISdk : public ::testing::Test {
 protected:
  void SetUp() override {
    bool skip = false;
    std::string problem = prepare_npm_client(openai_client(), skip);
    if (!problem.empty() && skip) GTEST_SKIP() << problem;
    ASSERT_TRUE(problem.empty()) << problem;
    world.start();
  }

  // Runs sdk_check.mjs against the gateway; returns its JSON summary.
  rapidjson::Document run_script() {
    EnvMap env = base_env();
    env["APIPROXY_BASE_URL"] = "http://127.0.0.1:" + std::to_string(world.gateway->port()) + "/v1";
    env["APIPROXY_API_KEY"] = base64(kToken);
    env["APIPROXY_MODEL"] = "chat-pool";
    env["APIPROXY_EMBEDDING"] = "text-embedding-3-small";
    return run_node_script(openai_client().install_dir / "sdk_check.mjs", env);
  }

  World world;
};

TEST_F(OpenAISdk, ChatStreamModelsEmbeddingsAndErrorsWorkThroughTheOfficialClient) {
  auto d = run_script();
  ASSERT_TRUE(d.IsObject() && d.HasMember("chat")) << to_string(d);

  const auto& chat = d["chat"];
  std::string provider = str(chat, "provider");
  ASSERT_TRUE(provider == "alpha" || provider == "beta") << to_string(chat);
  EXPECT_EQ(str(chat, "object"), "chat.completion");
  EXPECT_EQ(str(chat, "content"), reply_of(provider, "hello from the sdk"));
  EXPECT_EQ(str(chat, "finish_reason"), "stop");
  EXPECT_GT(num(chat, "total_tokens"), 0);

  ASSERT_TRUE(d.HasMember("stream")) << to_string(d);
  const auto& stream = d["stream"];
  std::string content = str(stream, "content");
  EXPECT_TRUE(content == reply_of("alpha", "stream from the sdk") || content == reply_of("beta", "stream from the sdk"))
      << content;
  EXPECT_GE(num(stream, "chunks"), 4) << "role, content pieces, finish and usage chunks";
  EXPECT_EQ(str(stream, "finish_reason"), "stop");
  EXPECT_GT(num(stream, "total_tokens"), 0) << "the include_usage chunk did not reach the SDK";

  ASSERT_TRUE(d.HasMember("models") && d["models"].IsArray()) << to_string(d);
  std::set<std::string> ids;
  for (const auto& m : d["models"].GetArray()) ids.insert(m.GetString());
  for (const char* id : {"chat-pool", "gpt-4o-mini", "only-alpha", "only-beta", "az-gpt4", "text-embedding-3-small"})
    EXPECT_TRUE(ids.count(id)) << id << " missing from models.list(): " << to_string(d["models"]);
  EXPECT_EQ(ids.size(), d["models"].Size()) << "duplicates in models.list()";

  ASSERT_TRUE(d.HasMember("embedding")) << to_string(d);
  EXPECT_EQ(num(d["embedding"], "count"), 1);
  EXPECT_EQ(num(d["embedding"], "dims"), 8) << "the SDK could not decode the base64 embedding";

  ASSERT_TRUE(d.HasMember("not_found")) << to_string(d);
  const auto& nf = d["not_found"];
  EXPECT_TRUE(nf["thrown"].GetBool());
  EXPECT_EQ(str(nf, "class"), "NotFoundError") << to_string(nf);
  EXPECT_EQ(num(nf, "status"), 404);
  EXPECT_EQ(str(nf, "code"), "model_not_found");
  EXPECT_EQ(str(nf, "param"), "model");

  ASSERT_TRUE(d.HasMember("bad_key")) << to_string(d);
  EXPECT_EQ(str(d["bad_key"], "class"), "AuthenticationError") << to_string(d["bad_key"]);
  EXPECT_EQ(num(d["bad_key"], "status"), 401);

  // The SDK's requests reached the upstreams with the physical model.
  EXPECT_GE(world.count("alpha") + world.count("beta"), 2);
}

}  // namespace
}  // namespace it
