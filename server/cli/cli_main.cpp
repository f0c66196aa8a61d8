#include <dlfcn.h>

#include <cstdio>
#include <iostream>
#include <string>

#include "core/telemetry/logging.hpp"
#include "server/cli/commands.hpp"

namespace apiproxy {

namespace {

constexpr const char* kUsage = R"(apiproxy — a multi-provider, OpenAI-compatible LLM gateway

Usage:
  apiproxy [serve] [--host HOST] [--port PORT]   run the gateway (default command)
  apiproxy encode-token TOKEN                     print base64(TOKEN), the client credential
  apiproxy check-config                           show the parsed providers and problems;
                                                  exit 1 when no provider is usable
  apiproxy logical-model list                     logical models in the store (REDIS_URL)
  apiproxy logical-model get ID
  apiproxy logical-model put FILE|-               write a LogicalModel JSON document
  apiproxy logical-model delete ID
  apiproxy health [--ready] [--port PORT]         probe the local gateway's /health (or
                                                  /health/ready): exit 0 on 200, else 1
  apiproxy --version | --help

Configuration comes from the environment and the .env file named by APIPROXY_ENV_FILE
(default ./.env); see .env.example for every variable.
)";

// The allocator this process really runs on: the build links jemalloc unless told not to
// (server/CMakeLists.txt), and benchmarks should say which one they measured.
std::string allocator_in_use() {
  using Mallctl = int (*)(const char*, void*, size_t*, void*, size_t);
  if (auto mallctl = reinterpret_cast<Mallctl>(::dlsym(RTLD_DEFAULT, "mallctl"))) {
    const char* version = nullptr;
    size_t size = sizeof version;
    if (mallctl("version", &version, &size, nullptr, 0) == 0 && version) return std::string("jemalloc ") + version;
  }
  return "system";
}

}  // namespace

void setup_logging(const std::string& level, const std::string& format) {
  telemetry::configure_logging(level, format == "json");
}

int cli_main(const std::vector<std::string>& args) {
  if (!args.empty() && (args[0] == "--help" || args[0] == "-h" || args[0] == "help")) {
    std::cout << kUsage;
    return 0;
  }
  if (!args.empty() && (args[0] == "--version" || args[0] == "version")) {
    std::cout << "apiproxy " << APIPROXY_VERSION << "\n" << "allocator: " << allocator_in_use() << "\n";
    return 0;
  }
  if (args.empty() || args[0] == "serve") {
    std::vector<std::string> rest(args.begin() + (args.empty() ? 0 : 1), args.end());
    return cmd_serve(rest);
  }
  if (args[0].rfind("--", 0) == 0) return cmd_serve(args);  // `apiproxy --port 9000`
  std::vector<std::string> rest(args.begin() + 1, args.end());
  if (args[0] == "encode-token") return cmd_encode_token(rest);
  if (args[0] == "check-config") return cmd_check_config(rest);
  if (args[0] == "logical-model") return cmd_logical_model(rest);
  if (args[0] == "health") return cmd_health(rest);
  std::cerr << "apiproxy: unknown command '" << args[0] << "'\n\n" << kUsage;
  return 2;
}

}  // namespace apiproxy
