// The server-side TLS context of an HTTPS mock (--tls-cert / --tls-key).
#pragma once

#include <boost/asio/ssl/context.hpp>

#include <memory>
#include <string>

namespace mock {

// Loads the PEM certificate chain and its private key; throws std::runtime_error naming
// the file when either cannot be used, so a bad start-up fails loudly instead of serving
// handshakes that all fail.
std::unique_ptr<boost::asio::ssl::context> make_server_tls(const std::string& cert_file,
                                                           const std::string& key_file);

}  // namespace mock
