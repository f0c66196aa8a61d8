// Assertion helpers that print the haystack when they fail.
#pragma once

#include <string>
#include <string_view>

#include <gtest/gtest.h>

namespace it {

inline ::testing::AssertionResult Contains(std::string_view haystack, std::string_view needle) {
  if (haystack.find(needle) != std::string_view::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << needle << "\" not found in:\n" << haystack;
}

inline ::testing::AssertionResult LacksSecret(std::string_view haystack, std::string_view secret) {
  auto at = haystack.find(secret);
  if (at == std::string_view::npos) return ::testing::AssertionSuccess();
  size_t from = at > 200 ? at - 200 : 0;
  return ::testing::AssertionFailure() << "secret \"" << secret << "\" leaked, near:\n"
                                       << haystack.substr(from, 400);
}

}  // namespace it
