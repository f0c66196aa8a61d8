// A client's request as the handlers see it: method, target, version, header fields and
// body, read by HttpRequestParser with Beast's HTTP/1.1 grammar (framing, chunked coding,
// limits) but kept flat -- the start line and every field in one buffer -- instead of a
// Beast message that allocates each field and keeps it in a tree.
#pragma once

#include <string>
#include <string_view>

#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>

#include "core/common/flat_fields.hpp"

namespace apiproxy {

class HttpRequest {
 public:
  boost::beast::http::verb method() const { return method_; }
  std::string_view method_string() const { return head_.text(method_at_); }
  std::string_view target() const { return head_.text(target_at_); }
  unsigned version() const { return version_; }  // 10 or 11
  std::string& body() { return body_; }
  const std::string& body() const { return body_; }

  // The value of the first field named `name` (any case), or "" when there is none.
  std::string_view operator[](std::string_view name) const { return head_[name]; }
  std::string_view operator[](boost::beast::http::field f) const {
    return head_[boost::beast::http::to_string(f)];
  }
  // Whether a field named `name` came, even with an empty value.
  bool has(std::string_view name) const { return head_.has(name); }

 private:
  friend class HttpRequestParser;

  boost::beast::http::verb method_ = boost::beast::http::verb::unknown;
  unsigned version_ = 11;
  FlatFields head_;  // the fields, and the method and target kept in the same buffer
  FlatFields::Piece method_at_, target_at_;
  std::string body_;
};

class HttpRequestParser final : public boost::beast::http::basic_parser<true> {
 public:
  HttpRequest& get() { return request_; }
  // The request, once is_done(); the parser is spent.
  HttpRequest release() { return std::move(request_); }

 private:
  void on_request_impl(boost::beast::http::verb method, boost::beast::string_view method_string,
                       boost::beast::string_view target, int version, boost::beast::error_code&) override;
  void on_response_impl(int, boost::beast::string_view, int, boost::beast::error_code&) override {}
  void on_field_impl(boost::beast::http::field, boost::beast::string_view name, boost::beast::string_view value,
                     boost::beast::error_code&) override;
  void on_header_impl(boost::beast::error_code&) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t>& content_length, boost::beast::error_code&) override;
  std::size_t on_body_impl(boost::beast::string_view body, boost::beast::error_code&) override;
  void on_chunk_header_impl(std::uint64_t, boost::beast::string_view, boost::beast::error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t, boost::beast::string_view body, boost::beast::error_code& ec) override {
    return on_body_impl(body, ec);
  }
  void on_finish_impl(boost::beast::error_code&) override {}

  HttpRequest request_;
};

}  // namespace apiproxy
