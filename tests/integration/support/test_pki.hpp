// A throwaway PKI for TLS tests, made with the OpenSSL C API into a private temp dir:
// a test CA that a client can be told to trust, and server certificates signed by it or
// by a second CA nobody trusts. Keys are EC P-256: generating one takes microseconds, so
// every test program can afford its own PKI.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "process.hpp"

namespace it {

// A certificate and its private key, PEM files.
struct CertFiles {
  std::filesystem::path cert;
  std::filesystem::path key;
};

struct ServerCertSpec {
  std::string san = "DNS:localhost,IP:127.0.0.1";  // subjectAltName, OpenSSL config syntax
  bool expired = false;                            // notAfter a day in the past
  bool untrusted_issuer = false;                   // signed by the second, untrusted CA
};

class TestPki {
 public:
  TestPki();  // creates both CAs; writes the trusted one's certificate
  ~TestPki();
  TestPki(const TestPki&) = delete;
  TestPki& operator=(const TestPki&) = delete;

  // The trusted CA's certificate: what SSL_CERT_FILE should name.
  const std::filesystem::path& ca_cert() const { return ca_cert_; }

  // Issues a server certificate; `name` names its files (NAME.crt, NAME.key).
  CertFiles issue(const std::string& name, const ServerCertSpec& spec = {});

  // The cases a TLS client must tell apart.
  CertFiles good() { return issue("good"); }
  CertFiles other_host() { return issue("other-host", {.san = "DNS:other.example"}); }
  CertFiles expired() { return issue("expired", {.expired = true}); }
  CertFiles untrusted() { return issue("untrusted", {.untrusted_issuer = true}); }

 private:
  struct Ca;
  TempDir dir_{"apiproxy-it-pki"};
  std::unique_ptr<Ca> trusted_, rogue_;
  std::filesystem::path ca_cert_;
};

}  // namespace it
