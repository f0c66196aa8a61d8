#include "server/http/http_request.hpp"

#include <boost/beast/core/string.hpp>

namespace apiproxy {

// The parser's header limit bounds text_, so offsets fit in 32 bits.
HttpRequest::Piece HttpRequest::add(std::string_view s) {
  Piece p{static_cast<uint32_t>(text_.size()), static_cast<uint32_t>(s.size())};
  text_.append(s.data(), s.size());
  return p;
}

const HttpRequest::Field* HttpRequest::find(std::string_view name) const {
  for (const auto& f : fields_)
    if (boost::beast::iequals(piece(f.name), name)) return &f;
  return nullptr;
}

std::string_view HttpRequest::operator[](std::string_view name) const {
  const Field* f = find(name);
  return f ? piece(f->value) : std::string_view();
}

bool HttpRequest::has(std::string_view name) const { return find(name) != nullptr; }

void HttpRequestParser::on_request_impl(boost::beast::http::verb method, boost::beast::string_view method_string,
                                        boost::beast::string_view target, int version, boost::beast::error_code&) {
  HttpRequest& r = request_;
  r.text_.reserve(512);
  r.method_ = method;
  r.version_ = static_cast<unsigned>(version);
  r.method_at_ = r.add(method_string);
  r.target_at_ = r.add(target);
}

void HttpRequestParser::on_field_impl(boost::beast::http::field, boost::beast::string_view name,
                                      boost::beast::string_view value, boost::beast::error_code&) {
  HttpRequest::Field f;
  f.name = request_.add(name);
  f.value = request_.add(value);
  request_.fields_.push_back(f);
}

void HttpRequestParser::on_body_init_impl(const boost::optional<std::uint64_t>& content_length,
                                          boost::beast::error_code&) {
  // basic_parser has already refused a length over the body limit.
  if (content_length) request_.body_.reserve(static_cast<size_t>(*content_length));
}

std::size_t HttpRequestParser::on_body_impl(boost::beast::string_view body, boost::beast::error_code&) {
  request_.body_.append(body.data(), body.size());
  return body.size();
}

}  // namespace apiproxy
