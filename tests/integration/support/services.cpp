#include "services.hpp"

#include <fstream>
#include <iostream>
#include <regex>
#include <stdexcept>

#include <gtest/gtest.h>

#include "json.hpp"

namespace it {

const std::string& gateway_binary() {
  static const std::string path = APIPROXY_IT_GATEWAY_BIN;
  return path;
}

const std::string& mock_binary() {
  static const std::string path = APIPROXY_IT_MOCK_BIN;
  return path;
}

std::string redis_cli(uint16_t port, const std::vector<std::string>& args, const std::string& password) {
  std::vector<std::string> argv{"redis-cli", "-h", "127.0.0.1", "-p", std::to_string(port)};
  if (!password.empty()) {
    argv.insert(argv.end(), {"-a", password, "--no-auth-warning"});
  }
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = run_command(argv, base_env(), 10s);
  if (r.exit_code != 0) throw std::runtime_error("redis-cli failed (" + std::to_string(r.exit_code) + "): " + r.err);
  std::string out = r.out;
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

// ---------------------------------------------------------------- RedisServer ----

RedisServer::RedisServer(std::string password) : password_(std::move(password)) {
  if (which("redis-server").empty()) throw std::runtime_error("redis-server is not installed (not in PATH)");
  for (int attempt = 0; attempt < 5; ++attempt)
    if (try_start(free_port())) return;
  throw std::runtime_error("could not start redis-server on a free port");
}

RedisServer::~RedisServer() { stop(); }

std::string RedisServer::url(int db) const {
  std::string auth = password_.empty() ? "" : ":" + password_ + "@";
  return "redis://" + auth + "127.0.0.1:" + std::to_string(port_) + "/" + std::to_string(db);
}

bool RedisServer::try_start(uint16_t port) {
  std::vector<std::string> argv{"redis-server", "--port", std::to_string(port), "--bind", "127.0.0.1",
                                "--save", "", "--appendonly", "no", "--daemonize", "no",
                                "--dir", dir_.path().string(), "--loglevel", "notice"};
  if (!password_.empty()) argv.insert(argv.end(), {"--requirepass", password_});
  proc_ = std::make_unique<Process>(argv, base_env());
  if (!proc_->wait_for_line(false, "Ready to accept connections", 10s)) {
    proc_->kill_now();
    return false;
  }
  port_ = port;
  bool pong = eventually(
      [&] {
        try {
          return cli({"PING"}) == "PONG";
        } catch (...) {
          return false;
        }
      },
      5s);
  if (!pong) proc_->kill_now();
  return pong;
}

void RedisServer::stop() {
  if (proc_) proc_->stop(5s);
}

void RedisServer::start() {
  stop();
  // The port was ours a moment ago; another process grabbing it now is unlikely but retried.
  for (int attempt = 0; attempt < 20; ++attempt) {
    if (try_start(port_)) return;
    std::this_thread::sleep_for(100ms);
  }
  throw std::runtime_error("could not restart redis-server on port " + std::to_string(port_));
}

// --------------------------------------------------------------- MockUpstream ----

MockUpstream::MockUpstream(std::vector<std::string> args) {
  std::vector<std::string> argv{mock_binary(), "--host", "127.0.0.1", "--port", "0"};
  argv.insert(argv.end(), args.begin(), args.end());
  proc_ = std::make_unique<Process>(argv, base_env());
  auto line = proc_->wait_for_line(false, "listening on ", 10s);
  std::smatch m;
  static const std::regex re(R"(listening on [0-9.]+:([0-9]+))");
  if (!line || !std::regex_search(*line, m, re))
    throw std::runtime_error("the mock upstream did not start:\n" + proc_->out() + proc_->err());
  port_ = static_cast<uint16_t>(std::stoi(m[1]));
}

Response MockUpstream::configure(const std::string& json) const {
  auto r = HttpClient(port_).post("/__mock/config", json);
  if (r.status != 200) throw std::runtime_error("mock config rejected: " + r.dump());
  return r;
}

rapidjson::Document MockUpstream::stats() const {
  auto r = HttpClient(port_).get("/__mock/stats");
  if (r.status != 200) throw std::runtime_error("mock stats failed: " + r.dump());
  return parse_json(r.body);
}

void MockUpstream::reset() const {
  auto r = HttpClient(port_).post("/__mock/reset", "");
  if (r.status != 200) throw std::runtime_error("mock reset failed: " + r.dump());
}

// -------------------------------------------------------------------- Gateway ----

EnvMap gateway_env(const EnvMap& extra) {
  static const std::filesystem::path empty_env = [] {
    auto p = scratch_dir() / "empty.env";
    std::ofstream(p).flush();
    return p;
  }();
  EnvMap env = base_env();
  env["APIPROXY_ENV_FILE"] = empty_env.string();
  env["LOG_LEVEL"] = "info";
  env["APIPROXY_WORKERS"] = "2";
  for (const auto& [k, v] : extra) env[k] = v;
  return env;
}

void add_provider(EnvMap& env, const std::string& id, const std::string& base_url,
                  const std::string& api_key, const EnvMap& more) {
  std::string& list = env["LLM_PROVIDERS"];
  list += (list.empty() ? "" : ",") + id;
  std::string prefix = "LLM_PROVIDER_" + id + "_";
  env[prefix + "NAME"] = id;
  env[prefix + "BASE_URL"] = base_url;
  env[prefix + "API_KEY"] = api_key;
  for (const auto& [k, v] : more) env[prefix + k] = v;
}

Gateway::Gateway(EnvMap env, std::chrono::milliseconds startup_timeout)
    : Gateway(std::move(env), {"serve", "--host", "127.0.0.1", "--port", "0"}, startup_timeout) {}

Gateway::Gateway(EnvMap env, std::vector<std::string> args, std::chrono::milliseconds startup_timeout) {
  args.insert(args.begin(), gateway_binary());
  proc_ = std::make_unique<Process>(std::move(args), std::move(env));
  // Other lines may mention "listening on" too (a warning about the address): the one that
  // counts names ADDR:PORT.
  static const std::regex re(R"(listening on ([0-9.]+|\[[0-9a-fA-F:.]+\]):([0-9]+))");
  std::smatch m;
  std::string text;
  auto found = [&] {
    text = proc_->err();
    return std::regex_search(text, m, re);
  };
  eventually([&] { return found() || !proc_->running(); }, startup_timeout, 10ms);
  if (!found()) {
    proc_->stop(2s);
    throw std::runtime_error("the gateway did not start; its log:\n" + log());
  }
  host_ = m[1];
  port_ = static_cast<uint16_t>(std::stoi(m[2]));
}

Gateway::~Gateway() {
  if (::testing::Test::HasFailure()) {
    std::string text = log();
    constexpr size_t keep = 12000;
    if (text.size() > keep) text = "...\n" + text.substr(text.size() - keep);
    std::cerr << "----- gateway log (port " << port_ << ") -----\n" << text << "----- end of gateway log -----\n";
  }
}

}  // namespace it
