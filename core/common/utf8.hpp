// UTF-8 validation for text we write into formats that require it (JSON logs, Prometheus
// label values): invalid bytes are escaped there instead of producing an unreadable line.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace apiproxy {

// Length of the valid UTF-8 sequence at the start of `s` (1 to 4), or 0 when it is not one:
// a stray continuation byte, a truncated sequence, an overlong form, a surrogate or a code
// point above U+10FFFF. `s` must not be empty.
inline size_t utf8_sequence(std::string_view s) {
  auto b = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  unsigned char c = b(0);
  if (c < 0x80) return 1;
  size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
  if (n == 0 || c > 0xF4 || s.size() < n) return 0;
  for (size_t i = 1; i < n; ++i)
    if ((b(i) & 0xC0) != 0x80) return 0;
  if (c == 0xE0 && b(1) < 0xA0) return 0;   // overlong
  if (c == 0xED && b(1) >= 0xA0) return 0;  // surrogates
  if (c == 0xF0 && b(1) < 0x90) return 0;   // overlong
  if (c == 0xF4 && b(1) >= 0x90) return 0;  // above U+10FFFF
  return n;
}

// `s` with every byte that is not part of valid UTF-8 replaced by U+FFFD: for text a client
// sent (a path, say) that goes back into a JSON answer, which must be UTF-8.
inline std::string to_valid_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  while (!s.empty()) {
    size_t n = utf8_sequence(s);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      n = 1;
    } else {
      out.append(s.data(), n);
    }
    s.remove_prefix(n);
  }
  return out;
}

}  // namespace apiproxy
