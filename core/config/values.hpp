// Strict parsers for configuration values: the whole text must be the value.
#pragma once

#include <bitset>
#include <optional>
#include <string>
#include <string_view>

namespace apiproxy {

std::optional<double> parse_double(std::string_view text);
std::optional<long long> parse_integer(std::string_view text);
// true/false, 1/0, yes/no, on/off (any case).
std::optional<bool> parse_bool(std::string_view text);

// HTTP status codes as `429,500,502-504`.
class StatusCodeSet {
 public:
  static std::optional<StatusCodeSet> parse(std::string_view text);
  static StatusCodeSet default_retryable();  // 429,500,502,503,504

  bool contains(int status) const { return status >= 100 && status < 600 && bits_[status]; }
  std::string to_string() const;

 private:
  std::bitset<600> bits_;
};

}  // namespace apiproxy
