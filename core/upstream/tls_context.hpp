// The TLS settings every upstream connection shares, one per process.
#pragma once

#include <memory>

#include <boost/asio/ssl/context.hpp>

namespace apiproxy {

// TLS 1.2 or later; certificates verified against OpenSSL's default store (which honours
// SSL_CERT_FILE and SSL_CERT_DIR) unless `verify_peer` is false (testing only).
std::shared_ptr<boost::asio::ssl::context> make_tls_context(bool verify_peer);

}  // namespace apiproxy
