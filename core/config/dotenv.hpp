// .env files with the rules people expect from python-dotenv and docker compose:
// `KEY=value`, optional `export `, `#` comments, single quotes (literal), double quotes
// (escapes, may span lines) and `${VAR}` / `${VAR:-default}` / `$VAR` expansion.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace apiproxy {

struct DotenvProblem {
  int line;
  std::string message;
};

struct DotenvContents {
  std::vector<std::pair<std::string, std::string>> entries;  // in file order
  std::vector<DotenvProblem> problems;                       // lines that were skipped
};

// Resolves a variable for ${VAR} expansion. It is asked before the file's own earlier
// entries, so the process environment, which overrides the file, wins in expansions too.
using VariableLookup = std::function<std::optional<std::string>(std::string_view)>;

DotenvContents parse_dotenv(std::string_view text, const VariableLookup& lookup);

}  // namespace apiproxy
