#include "tls.hpp"

#include <openssl/ssl.h>

#include <stdexcept>

namespace mock {

namespace ssl = boost::asio::ssl;

std::unique_ptr<ssl::context> make_server_tls(const std::string& cert_file, const std::string& key_file) {
    auto ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
    ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                     ssl::context::single_dh_use);
    boost::system::error_code ec;
    ctx->use_certificate_chain_file(cert_file, ec);
    if (ec) throw std::runtime_error("--tls-cert " + cert_file + ": " + ec.message());
    ctx->use_private_key_file(key_file, ssl::context::pem, ec);
    if (ec) throw std::runtime_error("--tls-key " + key_file + ": " + ec.message());
    if (SSL_CTX_check_private_key(ctx->native_handle()) != 1)
        throw std::runtime_error("--tls-key " + key_file + " does not match --tls-cert " + cert_file);
    return ctx;
}

}  // namespace mock
