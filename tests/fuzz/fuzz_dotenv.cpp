// Fuzzes the .env parser (core/config/dotenv.hpp): quotes, escapes, multi-line values,
// comments, `export`, and ${VAR} / ${VAR:-default} / $VAR expansion against a small fake
// process environment.
//
// Besides the sanitizers, it checks what the parser promises its callers: every entry it
// returns has a valid variable name, and every problem names a line of the file.
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/config/dotenv.hpp"

namespace {

// The process environment the expansions see. Some values contain what would be syntax
// in a .env file, to show that an expanded value is used as is, never parsed again.
std::optional<std::string> lookup(std::string_view name) {
  static const std::map<std::string, std::string, std::less<>> process{
      {"HOME", "/home/fuzz"},
      {"EMPTY", ""},
      {"TRICKY", "${HOME} $HOME \\$ \" ' # \n"},
      {"LLM_PROVIDERS", "openai,azure"},
  };
  if (auto it = process.find(name); it != process.end()) return it->second;
  return std::nullopt;
}

// The rule dotenv.cpp applies before accepting a name (letters, digits, '_', '.', '-',
// not starting with a digit).
bool valid_name(std::string_view name) {
  if (name.empty() || (name.front() >= '0' && name.front() <= '9')) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

int line_count(std::string_view text) {
  int lines = 1;
  for (char c : text) lines += c == '\n';
  return lines;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  apiproxy::DotenvContents parsed = apiproxy::parse_dotenv(text, lookup);

  for (const auto& [key, value] : parsed.entries)
    if (!valid_name(key)) __builtin_trap();  // an entry the parser should have refused
  int lines = line_count(text);
  for (const auto& problem : parsed.problems)
    if (problem.line < 1 || problem.line > lines) __builtin_trap();  // points nowhere
  return 0;
}
