// The official `openai` npm package against the gateway: what a real application sees.
// The package is installed once with npm into <build>/tests/integration/openai_client/
// (skipped when node_modules/openai is already there); openai_client/sdk_check.mjs makes
// the calls and prints a JSON summary that this test checks.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "assertions.hpp"
#include "data_plane.hpp"

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

// Next to this test program, inside the build tree.
fs::path install_dir() { return fs::read_symlink("/proc/self/exe").parent_path() / "openai_client"; }

// Serialises installs between test processes running in parallel.
class FileLock {
 public:
  explicit FileLock(const fs::path& path) : fd_(::open(path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644)) {
    if (fd_ >= 0) ::flock(fd_, LOCK_EX);
  }
  ~FileLock() {
    if (fd_ >= 0) ::close(fd_);  // releases the lock
  }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_;
};

bool looks_like_no_network(const std::string& npm_output) {
  for (const char* sign : {"ENOTFOUND", "EAI_AGAIN", "ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "ENETUNREACH",
                           "network", "proxy", "getaddrinfo", "self-signed certificate", "UNABLE_TO_GET_ISSUER"})
    if (npm_output.find(sign) != std::string::npos) return true;
  return false;
}

// Copies the script and package.json into the install directory and installs `openai` there
// unless it is already. Returns "" when ready, else why not (`skip` tells whether to skip).
std::string prepare_client(bool& skip) {
  skip = false;
  if (which("node").empty() || which("npm").empty()) {
    skip = true;
    return "node and npm are not installed (Debian: apt-get install nodejs npm)";
  }
  fs::path src = source_dir(), dst = install_dir();
  if (!fs::exists(src / "sdk_check.mjs")) return "cannot find " + (src / "sdk_check.mjs").string();
  fs::create_directories(dst);
  FileLock lock(dst / ".install.lock");
  fs::copy_file(src / "sdk_check.mjs", dst / "sdk_check.mjs", fs::copy_options::overwrite_existing);
  if (fs::exists(dst / "node_modules" / "openai" / "package.json")) return {};
  fs::copy_file(src / "package.json", dst / "package.json", fs::copy_options::overwrite_existing);
  EnvMap env = base_env();
  // npm may need the machine's proxy and registry settings.
  for (const char* name : {"HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy",
                           "npm_config_registry", "NPM_CONFIG_REGISTRY", "npm_config_cache", "NODE_EXTRA_CA_CERTS"})
    if (const char* v = std::getenv(name)) env[name] = v;
  // Few, short retries: without a registry the test is skipped in seconds, not minutes.
  auto r = run_command({"npm", "install", "--no-audit", "--no-fund", "--no-update-notifier", "--fetch-retries=1",
                        "--fetch-retry-mintimeout=1000", "--fetch-retry-maxtimeout=3000", "--prefix", dst.string(),
                        "openai@4"},
                       env, 70s);
  if (r.exit_code == 0 && fs::exists(dst / "node_modules" / "openai" / "package.json")) return {};
  std::string why = "npm install openai@4 failed (exit " + std::to_string(r.exit_code) + "):\n" + r.out + r.err;
  skip = r.exit_code == -1 || looks_like_no_network(r.out + r.err);
  return why;
}

class OpenAISdk : public ::testing::Test {
 protected:
  void SetUp() override {
    bool skip = false;
    std::string problem = prepare_client(skip);
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
    auto r = run_command({"node", (install_dir() / "sdk_check.mjs").string()}, env, 45s);
    EXPECT_EQ(r.exit_code, 0) << "node sdk_check.mjs failed:\n" << r.out << r.err;
    std::string line = r.out;
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
    if (auto nl = line.rfind('\n'); nl != std::string::npos) line = line.substr(nl + 1);
    std::cout << "sdk_check.mjs: " << line << "\n";
    return parse_json(line.empty() ? "{}" : line);
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
