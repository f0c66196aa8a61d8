#include "core/upstream/upstream_parser.hpp"

#include <cstring>

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>

namespace apiproxy {

void UpstreamParser::on_field_impl(boost::beast::http::field, boost::beast::string_view name,
                                   boost::beast::string_view value, boost::beast::error_code&) {
  if (offsets_.empty()) text_.reserve(512);
  size_t at = text_.size();
  text_.append(name.data(), name.size());
  text_.append(value.data(), value.size());
  offsets_.push_back({at, at + name.size(), text_.size()});
}

void UpstreamParser::on_header_impl(boost::beast::error_code&) {
  std::string_view text(text_);
  for (const auto& o : offsets_)
    fields_.push_back({text.substr(o.name_at, o.value_at - o.name_at), text.substr(o.value_at, o.value_end - o.value_at)});
}

std::string_view UpstreamParser::field(std::string_view name) const {
  for (const auto& f : fields_)
    if (boost::beast::iequals(f.name, name)) return f.value;
  return {};
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
