#include "server/http/http_request.hpp"

namespace apiproxy {

void HttpRequestParser::on_request_impl(boost::beast::http::verb method, boost::beast::string_view method_string,
                                        boost::beast::string_view target, int version, boost::beast::error_code&) {
  HttpRequest& r = request_;
  r.method_ = method;
  r.version_ = static_cast<unsigned>(version);
  r.method_at_ = r.head_.keep(method_string);
  r.target_at_ = r.head_.keep(target);
}

void HttpRequestParser::on_field_impl(boost::beast::http::field, boost::beast::string_view name,
                                      boost::beast::string_view value, boost::beast::error_code&) {
  request_.head_.add(name, value);
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
