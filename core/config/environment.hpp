// The configuration as the gateway sees it: the .env file, overridden by the process
// environment. Read once at start-up; immutable afterwards.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/config/dotenv.hpp"

namespace apiproxy {

class Environment {
 public:
  using Map = std::map<std::string, std::string, std::less<>>;

  Environment() = default;
  // `file` entries first, then `process` entries on top.
  Environment(Map file, Map process);

  // Loads the file named by APIPROXY_ENV_FILE (default ./.env; a missing default file is
  // fine, a missing named file is a problem) under the real process environment.
  static Environment load_process();
  // For tests: `file_text` parsed as a .env file under `process`.
  static Environment from_text(std::string_view file_text, Map process = {});

  std::optional<std::string> get(std::string_view name) const;
  // Unset and empty both give `fallback`.
  std::string get_or(std::string_view name, std::string_view fallback) const;
  // Every variable whose name starts with `prefix`, with the prefix removed.
  std::vector<std::pair<std::string, std::string>> with_prefix(std::string_view prefix) const;

  const std::string& source() const { return source_; }
  const std::vector<DotenvProblem>& problems() const { return problems_; }

 private:
  Map merged_;
  std::string source_;  // which file was read, for messages
  std::vector<DotenvProblem> problems_;
};

}  // namespace apiproxy
