// Small ASCII text helpers that several parsers share (configuration values, .env lines,
// auth headers, routing names). Locale-independent: bytes outside ASCII are compared as
// they are.
#pragma once

#include <algorithm>
#include <cctype>
#include <string_view>

namespace apiproxy {

// `s` without leading and trailing whitespace (std::isspace in the "C" locale).
inline std::string_view trim_space(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// ASCII case-insensitive equality.
inline bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](unsigned char x, unsigned char y) {
           return std::tolower(x) == std::tolower(y);
         });
}

}  // namespace apiproxy
