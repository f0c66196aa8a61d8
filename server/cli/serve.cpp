#include <iostream>

#include <spdlog/spdlog.h>

#include "core/auth/auth.hpp"
#include "core/config/values.hpp"
#include "server/app/gateway.hpp"
#include "server/cli/commands.hpp"

namespace apiproxy {

int cmd_serve(const std::vector<std::string>& args) {
  std::optional<std::string> host;
  std::optional<uint16_t> port;
  for (size_t i = 0; i < args.size(); ++i) {
    bool has_value = i + 1 < args.size();
    if (args[i] == "--host" && has_value) {
      host = args[++i];
    } else if (args[i] == "--port" && has_value) {
      auto p = parse_integer(args[++i]);
      if (!p || *p < 0 || *p > 65535) {
        std::cerr << "apiproxy: --port expects 0-65535, got '" << args[i] << "'\n";
        return 2;
      }
      port = static_cast<uint16_t>(*p);
    } else {
      std::cerr << "apiproxy serve: unexpected argument '" << args[i] << "' (see apiproxy --help)\n";
      return 2;
    }
  }
  Environment env = Environment::load_process();
  auto settings = load_settings(env);
  // Settings that do not load still get their error logged in the format asked for.
  setup_logging(settings ? settings->log_level : "info",
                settings ? settings->log_format : env.get_or("LOG_FORMAT", "text"));
  auto state = build_gateway_state(std::move(env));
  if (!state) {
    spdlog::critical("cannot start: {}", state.error());
    return 2;
  }
  std::string h = host.value_or((*state)->settings.host);
  uint16_t p = port.value_or((*state)->settings.port);
  return run_gateway(std::move(state.value()), h, p);
}

int cmd_encode_token(const std::vector<std::string>& args) {
  if (args.size() != 1) {
    std::cerr << "usage: apiproxy encode-token TOKEN\n";
    return 2;
  }
  std::cout << base64_encode(args[0]) << "\n";
  return 0;
}

}  // namespace apiproxy
