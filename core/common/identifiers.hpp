// Names and ids chosen by clients (model names, session ids, request ids) or by upstreams
// (model ids in a model list) end up in response headers, log lines, metric labels and store
// keys. Each kind is checked here, once, where the request or list is read; everything past
// that point may rely on it: bounded length, no control characters (no header or log-line
// injection), plain ASCII.
#pragma once

#include <cstddef>
#include <string_view>

namespace apiproxy {

inline constexpr size_t kMaxModelNameBytes = 256;
inline constexpr size_t kMaxSessionIdBytes = 128;
inline constexpr size_t kMaxRequestIdBytes = 128;

namespace detail {
inline bool all_in(std::string_view s, char lowest) {
  for (char c : s)
    if (c < lowest || c > '~') return false;  // signed char: bytes >= 0x80 are negative
  return true;
}
}  // namespace detail

// A model name, logical model id or upstream model id: 1 to 256 printable ASCII
// characters (spaces allowed).
inline bool is_valid_model_name(std::string_view s) {
  return !s.empty() && s.size() <= kMaxModelNameBytes && detail::all_in(s, ' ');
}

// A session (conversation) id or request id: 1 to `max` printable ASCII characters, no spaces.
inline bool is_valid_token(std::string_view s, size_t max) {
  return !s.empty() && s.size() <= max && detail::all_in(s, '!');
}

inline bool is_valid_session_id(std::string_view s) { return is_valid_token(s, kMaxSessionIdBytes); }

// A header value a client sends that the gateway passes on (e.g. anthropic-version):
// 1 to `max` printable ASCII characters, spaces allowed — nothing that could end a header.
inline bool is_valid_header_text(std::string_view s, size_t max) {
  return !s.empty() && s.size() <= max && detail::all_in(s, ' ');
}

}  // namespace apiproxy
