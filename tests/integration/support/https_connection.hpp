// One keep-alive HTTPS/1.1 connection to 127.0.0.1, for a test harness talking to an HTTPS
// mock's control API. Every exchange has a deadline, like HttpClient's.
//
// Deliberately lax: no certificate check (the mocks under test serve wrong certificates on
// purpose) and no SNI (so a mock's last_sni can only come from the client under test).
// Keeping the connection open means the harness costs the mock one handshake, made before
// anything is measured, instead of one per stats query.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string_view>

#include "http_client.hpp"

namespace it {

class HttpsConnection {
 public:
  // Connects and handshakes; throws std::runtime_error when either fails.
  explicit HttpsConnection(uint16_t port, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  ~HttpsConnection();
  HttpsConnection(const HttpsConnection&) = delete;
  HttpsConnection& operator=(const HttpsConnection&) = delete;

  // On a transport failure the Response has status 0 and `error` says why; the connection
  // is then unusable.
  Response request(std::string_view method, std::string_view target, std::string_view body = {});

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace it
