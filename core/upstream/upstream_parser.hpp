// An upstream's response as the exchange reads it: Beast's HTTP/1.1 grammar (basic_parser:
// framing, chunked coding, limits), but the head kept flat (FlatFields) instead of a
// message whose fields are each allocated and kept in a tree. The body is copied into a
// window the caller provides, piece by piece, as Beast's buffer_body does. One parser per
// response (an interim 1xx one included).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <boost/beast/http/basic_parser.hpp>

#include "core/common/flat_fields.hpp"

namespace apiproxy {

class UpstreamParser final : public boost::beast::http::basic_parser<false> {
 public:
  int status() const { return status_; }
  // The head's fields (views valid while the parser lives).
  const FlatFields& fields() const { return fields_; }
  // The first field named `name` (any case), or "".
  std::string_view field(std::string_view name) const { return fields_[name]; }

  // Where the next body bytes go, and how many fit. Parsing stops with
  // http::error::need_buffer when the window is full (or was never given).
  void set_body_window(char* data, size_t size) {
    window_ = data;
    window_left_ = size;
  }
  size_t body_window_left() const { return window_left_; }

 private:
  void on_request_impl(boost::beast::http::verb, boost::beast::string_view, boost::beast::string_view, int,
                       boost::beast::error_code&) override {}
  void on_response_impl(int code, boost::beast::string_view, int, boost::beast::error_code&) override {
    status_ = code;
  }
  void on_field_impl(boost::beast::http::field, boost::beast::string_view name, boost::beast::string_view value,
                     boost::beast::error_code&) override;
  void on_header_impl(boost::beast::error_code&) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t>&, boost::beast::error_code&) override {}
  std::size_t on_body_impl(boost::beast::string_view body, boost::beast::error_code& ec) override;
  void on_chunk_header_impl(std::uint64_t, boost::beast::string_view, boost::beast::error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t, boost::beast::string_view body, boost::beast::error_code& ec) override {
    return on_body_impl(body, ec);
  }
  void on_finish_impl(boost::beast::error_code&) override {}

  int status_ = 0;
  FlatFields fields_;
  char* window_ = nullptr;
  size_t window_left_ = 0;
};

}  // namespace apiproxy
