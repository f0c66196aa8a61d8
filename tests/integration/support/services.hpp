// The real parts an integration test starts: redis-server, the mock upstream and the
// gateway itself. Each object owns its process and stops it when destroyed.
#pragma once

#include <csignal>
#include <memory>
#include <string>
#include <vector>

#include <rapidjson/document.h>

#include "http_client.hpp"
#include "process.hpp"

namespace it {

const std::string& gateway_binary();  // bin/apiproxy of this build
const std::string& mock_binary();     // bin/apiproxy-mock-upstream of this build

// redis-cli -h 127.0.0.1 -p PORT [-a PASSWORD] ARGS...: its stdout without the final newline,
// exactly what an operator following the spec would see.
std::string redis_cli(uint16_t port, const std::vector<std::string>& args, const std::string& password = "");

// A private redis-server on a free loopback port, no persistence.
class RedisServer {
 public:
  explicit RedisServer(std::string password = "");
  ~RedisServer();
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  uint16_t port() const { return port_; }
  const std::string& password() const { return password_; }
  // redis://[:password@]127.0.0.1:PORT/DB
  std::string url(int db = 0) const;
  std::string cli(const std::vector<std::string>& args) const { return redis_cli(port_, args, password_); }

  void stop();   // SIGTERM and wait
  void start();  // (re)start on the same port
  bool running() const { return proc_ && proc_->running(); }
  // SIGSTOP / SIGCONT: a Redis that accepts nothing and answers nothing, then recovers.
  void pause() { proc_->signal(SIGSTOP); }
  void resume() { proc_->signal(SIGCONT); }

 private:
  std::string password_;
  uint16_t port_ = 0;
  TempDir dir_{"apiproxy-it-redis"};
  std::unique_ptr<Process> proc_;

  bool try_start(uint16_t port);
};

// apiproxy-mock-upstream on a free port.
class MockUpstream {
 public:
  explicit MockUpstream(std::vector<std::string> args = {});
  uint16_t port() const { return port_; }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  Response configure(const std::string& json) const;  // POST /__mock/config
  rapidjson::Document stats() const;                  // GET /__mock/stats
  void reset() const;                                 // POST /__mock/reset
  Process& process() { return *proc_; }

 private:
  std::unique_ptr<Process> proc_;
  uint16_t port_ = 0;
};

// Environment for a gateway: base_env() plus an empty APIPROXY_ENV_FILE (so no ./.env is
// read), LOG_LEVEL=info and APIPROXY_WORKERS=2; `extra` adds or overrides.
EnvMap gateway_env(const EnvMap& extra = {});

// Adds LLM_PROVIDER_{id}_NAME/BASE_URL/API_KEY (+ `more`, keys without the prefix) and
// appends `id` to LLM_PROVIDERS.
void add_provider(EnvMap& env, const std::string& id, const std::string& base_url,
                  const std::string& api_key, const EnvMap& more = {});

// `apiproxy serve --host 127.0.0.1 --port 0` with exactly `env`; returns once the log says
// "listening on 127.0.0.1:PORT" (throws, with the log, when it does not). On a failed test
// the destructor prints the gateway's log.
class Gateway {
 public:
  explicit Gateway(EnvMap env, std::chrono::milliseconds startup_timeout = 15s);
  // `apiproxy ARGS...` instead (e.g. {"serve", "--port", "0"}: the address comes from the
  // environment or the default); returns once the log says "listening on ADDR:PORT".
  Gateway(EnvMap env, std::vector<std::string> args, std::chrono::milliseconds startup_timeout = 15s);
  ~Gateway();
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;

  // The address the log says it listens on ("127.0.0.1" unless started with other args).
  const std::string& host() const { return host_; }
  uint16_t port() const { return port_; }
  std::string log() const { return proc_->err() + proc_->out(); }
  HttpClient client(std::chrono::milliseconds timeout = 10s) const { return HttpClient(port_, timeout); }
  bool running() { return proc_->running(); }
  int stop() { return proc_->stop(10s); }
  Process& process() { return *proc_; }

 private:
  std::unique_ptr<Process> proc_;
  std::string host_;
  uint16_t port_ = 0;
};

}  // namespace it
