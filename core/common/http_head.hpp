// HTTP/1.1 message heads written straight into one reusable buffer, sent with the body in
// one gather write. Beast's serializer walks a variant of buffer sequences field by field;
// on a small proxied answer that walk cost more than the system call that sends it.
#pragma once

#include <string>
#include <string_view>

namespace apiproxy {

// One "Name: value\r\n" line.
inline void append_field(std::string& out, std::string_view name, std::string_view value) {
  out.append(name);
  out.append(": ", 2);
  out.append(value);
  out.append("\r\n", 2);
}

// "HTTP/1.1 200 OK\r\n": the status line.
void append_status_line(std::string& out, int version, unsigned status, std::string_view reason);

// A name or value that could end its line early (CR, LF or NUL): never written.
// (One pass over the bytes: find_first_of would search the three characters for each byte.)
inline bool safe_field_text(std::string_view s) {
  for (char c : s)
    if (c == '\r' || c == '\n' || c == '\0') return false;
  return true;
}

// Appends `n` in decimal (or hexadecimal, for chunk sizes).
void append_number(std::string& out, size_t n, int base = 10);

}  // namespace apiproxy
