// Writing to a plain TCP socket at once, and going on at once when the socket took it all.
//
// asio::async_write already sends in the initiating call when the socket has room, but it
// must not call the handler from inside that call, so the handler waits for the next turn
// of the event loop: a system call (epoll_wait) and a trip through the scheduler for every
// write, and on a streamed answer the next read waits behind it. A write the kernel takes
// whole (the usual case on a healthy connection) is done, so here its handler runs at once.
// A partial write, a full socket or an error goes the asynchronous way for the rest.
//
// Handlers that run at once can write again at once (a stream relays its next piece): at
// most kMaxNestedWrites deep on a thread, then the asynchronous way, so a peer that keeps
// the writes coming cannot grow the stack.
#pragma once

#include <cstddef>
#include <utility>

#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_suffix.hpp>

namespace apiproxy {

namespace write_now_detail {
constexpr int kMaxNestedWrites = 8;
inline thread_local int nested_writes = 0;
}  // namespace write_now_detail

// `socket`: a plain TCP socket (TLS streams keep their own write path). handler(ec, bytes).
template <class Socket, class Buffers, class Handler>
void write_now(Socket& socket, const Buffers& buffers, Handler&& handler) {
  using namespace write_now_detail;
  boost::system::error_code ec;
  size_t written = 0;
  if (nested_writes < kMaxNestedWrites) {
    if (!socket.non_blocking()) socket.non_blocking(true, ec);  // never wait inside write_some
    if (!ec) written = socket.write_some(buffers, ec);
    if (!ec && written == boost::asio::buffer_size(buffers)) {
      ++nested_writes;
      std::forward<Handler>(handler)(ec, written);
      --nested_writes;
      return;
    }
    if (ec == boost::asio::error::would_block || ec == boost::asio::error::try_again) ec = {};
    if (ec) written = 0;  // the asynchronous write meets the same error and reports it
  }
  boost::beast::buffers_suffix<Buffers> rest(buffers);
  rest.consume(written);
  boost::asio::async_write(socket, rest,
                           [handler = std::forward<Handler>(handler), written](const boost::system::error_code& ec,
                                                                                size_t n) mutable {
                             handler(ec, written + n);
                           });
}

}  // namespace apiproxy
