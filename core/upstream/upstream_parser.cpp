#include "core/upstream/upstream_parser.hpp"

#include <cstring>

#include <boost/beast/http/error.hpp>

namespace apiproxy {

void UpstreamParser::on_field_impl(boost::beast::http::field, boost::beast::string_view name,
                                   boost::beast::string_view value, boost::beast::error_code&) {
  fields_.add(name, value);
}

std::size_t UpstreamParser::on_body_impl(boost::beast::string_view body, boost::beast::error_code& ec) {
  size_t n = std::min(window_left_, body.size());
  if (n > 0) std::memcpy(window_, body.data(), n);
  window_ += n;
  window_left_ -= n;
  if (n < body.size()) ec = boost::beast::http::error::need_buffer;
  return n;
}

}  // namespace apiproxy
