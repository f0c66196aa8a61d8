#include "core/common/http_head.hpp"

#include <charconv>

namespace apiproxy {

void append_number(std::string& out, size_t n, int base) {
  char digits[24];
  auto end = std::to_chars(digits, digits + sizeof digits, n, base).ptr;
  out.append(digits, static_cast<size_t>(end - digits));
}

void append_response_head(std::string& out, const boost::beast::http::response_header<>& head) {
  out.append(head.version() == 10 ? "HTTP/1.0 " : "HTTP/1.1 ");
  append_number(out, head.result_int());
  out += ' ';
  out.append(head.reason());
  out.append("\r\n", 2);
  for (const auto& f : head) append_field(out, f.name_string(), f.value());
  out.append("\r\n", 2);
}

}  // namespace apiproxy
