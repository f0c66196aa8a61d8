#include "core/upstream/tls_context.hpp"

namespace apiproxy {

namespace asio = boost::asio;

std::shared_ptr<asio::ssl::context> make_tls_context(bool verify_peer) {
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                   asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                   asio::ssl::context::no_tlsv1_1);
  // An idle pooled connection need not hold its read and write buffers (about 34 KiB each):
  // with thousands of streams open that is most of the gateway's memory.
  SSL_CTX_set_mode(ctx->native_handle(), SSL_MODE_RELEASE_BUFFERS);
  boost::system::error_code ignored;
  ctx->set_default_verify_paths(ignored);
  ctx->set_verify_mode(verify_peer ? asio::ssl::verify_peer : asio::ssl::verify_none);
  return ctx;
}

}  // namespace apiproxy
