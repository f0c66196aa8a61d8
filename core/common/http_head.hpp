// HTTP/1.1 message heads written straight into one reusable buffer, sent with the body in
// one gather write. Beast's serializer walks a variant of buffer sequences field by field;
// on a small proxied answer that walk cost more than the system call that sends it.
#pragma once

#include <string>
#include <string_view>

#include <boost/beast/http/message.hpp>

namespace apiproxy {

// "HTTP/1.1 200 OK\r\n", every field, then the blank line.
void append_response_head(std::string& out, const boost::beast::http::response_header<>& head);

// One "Name: value\r\n" line.
inline void append_field(std::string& out, std::string_view name, std::string_view value) {
  out.append(name);
  out.append(": ", 2);
  out.append(value);
  out.append("\r\n", 2);
}

// A name or value that could end its line early (CR, LF or NUL): never written.
inline bool safe_field_text(std::string_view s) { return s.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos; }

// Appends `n` in decimal (or hexadecimal, for chunk sizes).
void append_number(std::string& out, size_t n, int base = 10);

}  // namespace apiproxy
