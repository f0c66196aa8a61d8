#include "npm_client.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>

#include <gtest/gtest.h>

#include "json.hpp"

namespace it {

namespace npm_client {

namespace fs = std::filesystem;

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

// npm may need the machine's proxy and registry settings; nothing else leaks in.
EnvMap npm_env() {
  EnvMap env = base_env();
  for (const char* name : {"HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy",
                           "npm_config_registry", "NPM_CONFIG_REGISTRY", "npm_config_cache", "NODE_EXTRA_CA_CERTS"})
    if (const char* v = std::getenv(name)) env[name] = v;
  return env;
}

bool installed(const NpmClient& client) {
  return fs::exists(client.install_dir / "node_modules" / client.module / "package.json");
}

std::string install(const NpmClient& client, bool& skip) {
  fs::copy_file(client.source_dir / "package.json", client.install_dir / "package.json",
                fs::copy_options::overwrite_existing);
  // Few, short retries: without a registry the test is skipped in seconds, not minutes.
  auto r = run_command({"npm", "install", "--no-audit", "--no-fund", "--no-update-notifier", "--fetch-retries=1",
                        "--fetch-retry-mintimeout=1000", "--fetch-retry-maxtimeout=3000", "--prefix",
                        client.install_dir.string(), client.package},
                       npm_env(), std::chrono::seconds(70));
  if (r.exit_code == 0 && installed(client)) return {};
  skip = r.exit_code == -1 || looks_like_no_network(r.out + r.err);
  return "npm install " + client.package + " failed (exit " + std::to_string(r.exit_code) + "):\n" + r.out + r.err;
}

}  // namespace npm_client

std::filesystem::path beside_test_program(const std::string& name) {
  return std::filesystem::read_symlink("/proc/self/exe").parent_path() / name;
}

std::string prepare_npm_client(const NpmClient& client, bool& skip) {
  namespace fs = std::filesystem;
  skip = false;
  if (which("node").empty() || which("npm").empty()) {
    skip = true;
    return "node and npm are not installed (Debian: apt-get install nodejs npm)";
  }
  for (const auto& script : client.scripts)
    if (!fs::exists(client.source_dir / script)) return "cannot find " + (client.source_dir / script).string();
  fs::create_directories(client.install_dir);
  npm_client::FileLock lock(client.install_dir / ".install.lock");
  for (const auto& script : client.scripts)
    fs::copy_file(client.source_dir / script, client.install_dir / script, fs::copy_options::overwrite_existing);
  if (npm_client::installed(client)) return {};
  return npm_client::install(client, skip);
}

rapidjson::Document run_node_script(const std::filesystem::path& script, const EnvMap& env,
                                    std::chrono::milliseconds timeout) {
  auto r = run_command({"node", script.string()}, env, timeout);
  std::string name = script.filename().string();
  EXPECT_EQ(r.exit_code, 0) << "node " << name << " failed:\n" << r.out << r.err;
  std::string line = r.out;
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  if (auto nl = line.rfind('\n'); nl != std::string::npos) line = line.substr(nl + 1);
  std::cout << name << ": " << line << "\n";
  return parse_json(line.empty() ? "{}" : line);
}

}  // namespace it
