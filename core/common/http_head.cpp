#include "core/common/http_head.hpp"

#include <charconv>

namespace apiproxy {

void append_number(std::string& out, size_t n, int base) {
  char digits[24];
  auto end = std::to_chars(digits, digits + sizeof digits, n, base).ptr;
  out.append(digits, static_cast<size_t>(end - digits));
}

void append_status_line(std::string& out, int version, unsigned status, std::string_view reason) {
  out.append(version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ");
  append_number(out, status);
  out += ' ';
  out.append(reason);
  out.append("\r\n", 2);
}

}  // namespace apiproxy
