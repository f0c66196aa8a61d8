// Reading an HTTP/1.1 message from a stream into a parser, as Beast's http::async_read_header,
// async_read_some and async_read do, without their composed-operation layers: each of those
// holds a count of outstanding work on the event loop and wraps the handler once more, and
// on a small proxied request that machinery cost more than the read itself. Here one
// operation object is moved from one async_read_some to the next.
//
// Same results as Beast's: bytes already buffered are parsed first (without a read; the
// handler is then posted, never called from inside the call); end of stream before any byte
// is http::error::end_of_stream, after some it is what the parser makes of it (usually
// http::error::partial_message); a full buffer is http::error::buffer_overflow; the
// parser's own errors (header_limit, body_limit, need_buffer...) as they come.
#pragma once

#include <algorithm>
#include <cstddef>
#include <utility>

#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>

namespace apiproxy {

// How far a read goes.
enum class ReadUntil {
  Head,     // the head is complete (http::async_read_header)
  Message,  // the message is complete (http::async_read; the parser is made eager)
  Some,     // the parser took something, or failed (http::async_read_some)
};

namespace http_read_detail {

constexpr size_t kMinReadBytes = 4096;
constexpr size_t kMaxReadBytes = 65536;

template <class Stream, class Parser, class Handler>
class ReadOp {
 public:
  ReadOp(Stream& stream, boost::beast::flat_buffer& buffer, Parser& parser, ReadUntil until, Handler handler)
      : stream_(stream), buffer_(buffer), parser_(parser), until_(until), handler_(std::move(handler)) {}

  // Parses what is buffered, then reads until the goal is reached or an error.
  void run() {
    boost::beast::error_code ec;
    for (;;) {
      if (buffer_.size() > 0) {
        size_t used = parser_.put(buffer_.data(), ec);
        buffer_.consume(used);
        if (ec == boost::beast::http::error::need_more) {
          ec = {};
          // An eager parser took a piece and stopped at the start of the next.
          if (until_ == ReadUntil::Some && used > 0) return complete(ec);
        } else if (ec || until_ == ReadUntil::Some || reached()) {
          return complete(ec);
        } else if (used > 0) {
          continue;  // the parser stopped at a boundary (the end of the head): parse on
        }
      } else if (until_ != ReadUntil::Some && reached()) {
        return complete(ec);
      }
      size_t room = buffer_.max_size() - buffer_.size();
      if (room == 0) return complete(boost::beast::http::error::buffer_overflow);
      // At least kMinReadBytes at a time: a buffer starts small, and reading a 1.5 KB answer
      // 512 bytes at a time costs three system calls and three event-loop turns.
      size_t size = std::min({room, kMaxReadBytes, std::max(kMinReadBytes, buffer_.capacity() - buffer_.size())});
      auto space = buffer_.prepare(size);
      read_ = true;
      stream_.async_read_some(space, std::move(*this));
      return;
    }
  }

  // A read completed.
  void operator()(boost::beast::error_code ec, size_t n) {
    buffer_.commit(n);
    if (ec == boost::asio::error::eof) {
      if (!parser_.got_some()) return complete(boost::beast::http::error::end_of_stream);
      ec = {};
      parser_.put_eof(ec);
      return complete(ec);
    }
    if (ec) return complete(ec);
    run();
  }

 private:
  void complete(boost::beast::error_code ec) {
    if (read_) return handler_(ec);
    // Nothing was read: the handler runs later, as an asynchronous operation's must.
    boost::asio::post(stream_.get_executor(), [handler = std::move(handler_), ec]() mutable { handler(ec); });
  }

  bool reached() const { return until_ == ReadUntil::Head ? parser_.is_header_done() : parser_.is_done(); }

  Stream& stream_;
  boost::beast::flat_buffer& buffer_;
  Parser& parser_;
  ReadUntil until_;
  Handler handler_;
  bool read_ = false;
};

}  // namespace http_read_detail

// Reads into `buffer`, feeding `parser`, as far as `until` says; then `handler(error_code)`.
template <class Stream, class Parser, class Handler>
void async_http_read(Stream& stream, boost::beast::flat_buffer& buffer, Parser& parser, ReadUntil until,
                     Handler&& handler) {
  if (until == ReadUntil::Message) parser.eager(true);
  http_read_detail::ReadOp<Stream, Parser, std::decay_t<Handler>>(stream, buffer, parser, until,
                                                                   std::forward<Handler>(handler))
      .run();
}

}  // namespace apiproxy
