// A connection's transport: the accepted TCP socket, or TLS layered on it.
//
// Not a template over the session: the plain path pays one well-predicted null test per
// I/O call and nothing else (no SSL object, no extra buffers, the same handlers reach the
// same socket calls), while the session code stays written once for both.
#pragma once

#include "net.hpp"

#include <boost/asio/ssl/stream.hpp>
#include <openssl/ssl.h>

#include <memory>
#include <string_view>
#include <utility>

namespace mock {

class Transport {
public:
    using executor_type = Executor;

    // `tls` null: plain TCP. Otherwise the server side of a TLS connection; the context
    // must outlive the transport.
    Transport(Socket socket, asio::ssl::context* tls) : socket_(std::move(socket)) {
        if (tls) tls_ = std::make_unique<asio::ssl::stream<Socket&>>(socket_, *tls);
    }
    // tls_ refers to socket_: the pair stays where it was built.
    Transport(const Transport&) = delete;
    Transport& operator=(const Transport&) = delete;

    executor_type get_executor() { return socket_.get_executor(); }
    Socket& socket() { return socket_; }
    bool tls() const { return tls_ != nullptr; }

    // AsyncReadStream / AsyncWriteStream, for Beast's readers and asio::async_write.
    template <class Buffers, class Handler>
    void async_read_some(const Buffers& buffers, Handler&& handler) {
        if (tls_) tls_->async_read_some(buffers, std::forward<Handler>(handler));
        else socket_.async_read_some(buffers, std::forward<Handler>(handler));
    }
    template <class Buffers, class Handler>
    void async_write_some(const Buffers& buffers, Handler&& handler) {
        if (tls_) tls_->async_write_some(buffers, std::forward<Handler>(handler));
        else socket_.async_write_some(buffers, std::forward<Handler>(handler));
    }

    // TLS only.
    template <class Handler>
    void async_handshake(Handler&& handler) {
        tls_->async_handshake(asio::ssl::stream_base::server, std::forward<Handler>(handler));
    }
    // The host name the client asked for via SNI; empty when it sent none.
    std::string_view server_name() const {
        const char* name = SSL_get_servername(tls_->native_handle(), TLSEXT_NAMETYPE_host_name);
        return name ? std::string_view(name) : std::string_view();
    }
    // Sends close_notify without waiting for the peer's: marking the peer's as already
    // received turns the shutdown into a pure write, which may overlap the read a session
    // keeps in flight to notice hang-ups (a full shutdown would start a second read).
    template <class Handler>
    void async_close_notify(Handler&& handler) {
        SSL* ssl = tls_->native_handle();
        SSL_set_shutdown(ssl, SSL_get_shutdown(ssl) | SSL_RECEIVED_SHUTDOWN);
        tls_->async_shutdown(std::forward<Handler>(handler));
    }

private:
    Socket socket_;
    std::unique_ptr<asio::ssl::stream<Socket&>> tls_;
};

}  // namespace mock
