#include "core/config/values.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>

#include "core/common/text.hpp"

namespace apiproxy {

namespace {

}  // namespace

std::optional<double> parse_double(std::string_view text) {
  text = trim_space(text);
  if (text.empty()) return std::nullopt;
  std::string s(text);
  char* end = nullptr;
  double d = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size() || !std::isfinite(d)) return std::nullopt;
  return d;
}

std::optional<long long> parse_integer(std::string_view text) {
  text = trim_space(text);
  long long v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || p != text.data() + text.size()) return std::nullopt;
  return v;
}

std::optional<bool> parse_bool(std::string_view text) {
  std::string s(trim_space(text));
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (s == "1" || s == "true" || s == "yes" || s == "on") return true;
  if (s == "0" || s == "false" || s == "no" || s == "off") return false;
  return std::nullopt;
}

std::optional<StatusCodeSet> StatusCodeSet::parse(std::string_view text) {
  StatusCodeSet set;
  bool any = false;
  while (!text.empty()) {
    auto comma = text.find(',');
    std::string_view item = trim_space(text.substr(0, comma));
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    if (item.empty()) continue;
    auto dash = item.find('-');
    auto lo = parse_integer(item.substr(0, dash));
    auto hi = dash == std::string_view::npos ? lo : parse_integer(item.substr(dash + 1));
    if (!lo || !hi || *lo < 100 || *hi > 599 || *lo > *hi) return std::nullopt;
    for (long long s = *lo; s <= *hi; ++s) set.bits_.set(static_cast<size_t>(s));
    any = true;
  }
  if (!any) return std::nullopt;
  return set;
}

StatusCodeSet StatusCodeSet::default_retryable() {
  return *parse("429,500,502-504");
}

std::string StatusCodeSet::to_string() const {
  std::string out;
  for (int s = 100; s < 600; ++s) {
    if (!bits_[s]) continue;
    int e = s;
    while (e + 1 < 600 && bits_[e + 1]) ++e;
    if (!out.empty()) out += ',';
    out += std::to_string(s);
    if (e > s) {  // two appends: GCC 12 -O3 warns (falsely, -Wrestrict) on "-" + to_string()
      out += '-';
      out += std::to_string(e);
    }
    s = e;
  }
  return out;
}

}  // namespace apiproxy
