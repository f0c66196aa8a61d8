// Checks a developer may switch off while a reported finding is being fixed, so that the
// fuzzer can explore past it instead of stopping at it again and again:
//
//   FUZZ_SKIP_CHECKS=non_utf8,head_body build/fuzz/bin/fuzz_http_request ...
//
// The names are listed where each harness uses them. CI (run.sh) never sets it.
#pragma once

#include <cstdlib>
#include <string>
#include <string_view>

namespace apiproxy::fuzz {

inline bool check_skipped(std::string_view name) {
  static const std::string skipped = [] {
    const char* list = std::getenv("FUZZ_SKIP_CHECKS");
    return "," + std::string(list ? list : "") + ",";
  }();
  return skipped.find("," + std::string(name) + ",") != std::string::npos;
}

}  // namespace apiproxy::fuzz
