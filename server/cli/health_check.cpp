// `apiproxy health`: asks a running gateway on this machine whether it serves, for container
// health checks and init systems, so an image needs no HTTP client of its own (no curl).
// It reads the same configuration as `serve` (APIPROXY_HOST/APIPROXY_PORT, the .env file),
// so in a container it probes the port the gateway was told to listen on.
#include <iostream>

#include <boost/asio/io_context.hpp>

#include "core/config/settings.hpp"
#include "core/config/values.hpp"
#include "core/upstream/fetch.hpp"
#include "core/upstream/tls_context.hpp"
#include "server/cli/commands.hpp"

namespace apiproxy {

namespace {

constexpr const char* kHealthUsage =
    "usage: apiproxy health [--ready] [--host HOST] [--port PORT] [--timeout-ms MS]\n"
    "  GET /health (or /health/ready with --ready) on the local gateway; exit 0 on 200, 1 otherwise\n";

struct HealthProbe {
  std::optional<std::string> host;
  std::optional<uint16_t> port;
  std::string path = "/health";
  std::chrono::milliseconds timeout{3000};
};

// A wildcard listen address is reached through the loopback of the same family.
std::string probe_host(const std::string& listen_host) {
  if (listen_host.empty() || listen_host == "0.0.0.0") return "127.0.0.1";
  if (listen_host == "::" || listen_host == "[::]") return "[::1]";
  if (listen_host.find(':') != std::string::npos && listen_host.front() != '[') return "[" + listen_host + "]";
  return listen_host;
}

std::optional<HealthProbe> parse_health_args(const std::vector<std::string>& args) {
  HealthProbe probe;
  for (size_t i = 0; i < args.size(); ++i) {
    bool has_value = i + 1 < args.size();
    if (args[i] == "--ready") {
      probe.path = "/health/ready";
    } else if (args[i] == "--host" && has_value) {
      probe.host = args[++i];
    } else if (args[i] == "--port" && has_value) {
      auto p = parse_integer(args[++i]);
      if (!p || *p < 1 || *p > 65535) return std::nullopt;
      probe.port = static_cast<uint16_t>(*p);
    } else if (args[i] == "--timeout-ms" && has_value) {
      auto ms = parse_integer(args[++i]);
      if (!ms || *ms < 1 || *ms > 600000) return std::nullopt;
      probe.timeout = std::chrono::milliseconds(*ms);
    } else {
      return std::nullopt;
    }
  }
  return probe;
}

}  // namespace

int cmd_health(const std::vector<std::string>& args) {
  auto probe = parse_health_args(args);
  if (!probe) {
    std::cerr << kHealthUsage;
    return 2;
  }
  setup_logging("off");
  std::string host = probe->host.value_or("");
  uint16_t port = probe->port.value_or(0);
  if (!probe->host || !probe->port) {
    auto settings = load_settings(Environment::load_process());
    if (!settings) {
      std::cerr << "apiproxy health: configuration error: " << settings.error() << "\n";
      return 1;
    }
    if (!probe->host) host = settings->host;
    if (!probe->port) port = settings->port;
  }
  std::string url = "http://" + probe_host(host) + ":" + std::to_string(port) + probe->path;

  boost::asio::io_context io;
  PoolOptions options;
  options.connect_timeout = probe->timeout;
  ConnectionPool pool(io, make_tls_context(true), options);
  int exit_code = 1;
  fetch(pool, UpstreamRequest{"GET", url, {}, {}}, probe->timeout, [&](Result<UpstreamResponse> r) {
    io.stop();  // the pooled connection's idle timer would otherwise keep the loop running
    if (!r) {
      std::cerr << "apiproxy health: " << url << ": " << r.error() << "\n";
      return;
    }
    if (r->status == 200) exit_code = 0;
    std::cout << url << ": " << r->status << "\n";
  }, 64 * 1024);
  io.run();
  return exit_code;
}

}  // namespace apiproxy
