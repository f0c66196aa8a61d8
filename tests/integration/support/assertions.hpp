// Assertion helpers that print the haystack when they fail.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

namespace it {

inline ::testing::AssertionResult Contains(std::string_view haystack, std::string_view needle) {
  if (haystack.find(needle) != std::string_view::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << needle << "\" not found in:\n" << haystack;
}

// The non-empty lines of `text` (a log, a Prometheus exposition), without their '\n'.
inline std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  size_t at = 0;
  while (at < text.size()) {
    size_t nl = text.find('\n', at);
    if (nl == std::string::npos) nl = text.size();
    if (nl > at) out.push_back(text.substr(at, nl - at));
    at = nl + 1;
  }
  return out;
}

inline ::testing::AssertionResult LacksSecret(std::string_view haystack, std::string_view secret) {
  auto at = haystack.find(secret);
  if (at == std::string_view::npos) return ::testing::AssertionSuccess();
  size_t from = at > 200 ? at - 200 : 0;
  return ::testing::AssertionFailure() << "secret \"" << secret << "\" leaked, near:\n"
                                       << haystack.substr(from, 400);
}

}  // namespace it
