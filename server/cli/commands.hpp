// The apiproxy command line: `serve` (the default) and the operator's helpers.
#pragma once

#include <string>
#include <vector>

namespace apiproxy {

int cli_main(const std::vector<std::string>& args);

int cmd_serve(const std::vector<std::string>& args);
int cmd_encode_token(const std::vector<std::string>& args);
int cmd_check_config(const std::vector<std::string>& args);
int cmd_logical_model(const std::vector<std::string>& args);
int cmd_health(const std::vector<std::string>& args);

// Sets up spdlog on stderr at LOG_LEVEL (or "info"), as text or JSON lines (LOG_FORMAT).
void setup_logging(const std::string& level, const std::string& format = "text");

}  // namespace apiproxy
