#include "test_pki.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include <cstdint>
#include <stdexcept>

namespace it {

// Outside the anonymous namespace: TestPki::Ca holds them, and a type with external
// linkage must not have members of an internal one.
template <auto Free>
struct PkiDeleter {
  template <class T>
  void operator()(T* p) const { Free(p); }
};
using Key = std::unique_ptr<EVP_PKEY, PkiDeleter<EVP_PKEY_free>>;
using Cert = std::unique_ptr<X509, PkiDeleter<X509_free>>;

namespace {

using Bio = std::unique_ptr<BIO, PkiDeleter<BIO_free_all>>;

constexpr long kDay = 24 * 3600;

// Throws with OpenSSL's own reason when `ok` is false.
void check(bool ok, const char* what) {
  if (ok) return;
  char reason[256] = "no OpenSSL error queued";
  if (unsigned long e = ERR_get_error()) ERR_error_string_n(e, reason, sizeof reason);
  ERR_clear_error();
  throw std::runtime_error(std::string("test PKI: ") + what + " failed: " + reason);
}

Key new_key() {
  Key key(EVP_EC_gen("P-256"));
  check(key != nullptr, "EC key generation");
  return key;
}

// An unsigned v3 certificate for `key`, subject CN=`cn`, valid from `from` to `to`
// seconds relative to now, with a random serial (clients may cache by issuer + serial).
Cert new_cert(EVP_PKEY* key, const std::string& cn, long from, long to) {
  Cert cert(X509_new());
  check(cert != nullptr, "X509_new");
  X509* x = cert.get();
  std::uint64_t serial = 0;
  check(RAND_bytes(reinterpret_cast<unsigned char*>(&serial), sizeof serial) == 1, "RAND_bytes");
  check(X509_set_version(x, X509_VERSION_3) == 1 &&
            ASN1_INTEGER_set_uint64(X509_get_serialNumber(x), serial >> 1) == 1 &&
            X509_gmtime_adj(X509_getm_notBefore(x), from) != nullptr &&
            X509_gmtime_adj(X509_getm_notAfter(x), to) != nullptr && X509_set_pubkey(x, key) == 1,
        "certificate fields");
  auto* text = reinterpret_cast<const unsigned char*>(cn.c_str());
  check(X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC, text, -1, -1, 0) == 1,
        "subject name");
  return cert;
}

// Adds one v3 extension written in OpenSSL's config syntax ("critical,CA:TRUE").
void add_ext(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  check(ext != nullptr, ("extension " + value).c_str());
  bool added = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  check(added, "X509_add_ext");
}

void write_pem(const std::filesystem::path& path, X509* cert, EVP_PKEY* key) {
  Bio bio(BIO_new_file(path.c_str(), "w"));
  check(bio != nullptr, ("opening " + path.string()).c_str());
  bool ok = cert ? PEM_write_bio_X509(bio.get(), cert) == 1
                 : PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) == 1;
  check(ok, ("writing " + path.string()).c_str());
}

}  // namespace

struct TestPki::Ca {
  Key key;
  Cert cert;

  // A self-signed CA, valid from yesterday for a month.
  explicit Ca(const std::string& cn) : key(new_key()), cert(new_cert(key.get(), cn, -kDay, 30 * kDay)) {
    X509* x = cert.get();
    check(X509_set_issuer_name(x, X509_get_subject_name(x)) == 1, "issuer name");
    add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE");
    add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign");
    add_ext(x, x, NID_subject_key_identifier, "hash");
    check(X509_sign(x, key.get(), EVP_sha256()) > 0, "signing the CA");
  }
};

TestPki::TestPki()
    : trusted_(std::make_unique<Ca>("apiproxy test CA")),
      rogue_(std::make_unique<Ca>("apiproxy untrusted test CA")),
      ca_cert_(dir_.path() / "ca.crt") {
  write_pem(ca_cert_, trusted_->cert.get(), nullptr);
}

TestPki::~TestPki() = default;

CertFiles TestPki::issue(const std::string& name, const ServerCertSpec& spec) {
  const Ca& ca = spec.untrusted_issuer ? *rogue_ : *trusted_;
  Key key = new_key();
  // Valid from yesterday, so a clock a little behind does not matter.
  long from = spec.expired ? -30 * kDay : -kDay;
  long to = spec.expired ? -kDay : 30 * kDay;
  Cert cert = new_cert(key.get(), "apiproxy test server " + name, from, to);
  X509* x = cert.get();
  check(X509_set_issuer_name(x, X509_get_subject_name(ca.cert.get())) == 1, "issuer name");
  add_ext(x, ca.cert.get(), NID_basic_constraints, "critical,CA:FALSE");
  add_ext(x, ca.cert.get(), NID_key_usage, "critical,digitalSignature");
  add_ext(x, ca.cert.get(), NID_ext_key_usage, "serverAuth");
  add_ext(x, ca.cert.get(), NID_subject_alt_name, spec.san);
  add_ext(x, ca.cert.get(), NID_authority_key_identifier, "keyid:always");
  check(X509_sign(x, ca.key.get(), EVP_sha256()) > 0, "signing the server certificate");

  CertFiles files{dir_.path() / (name + ".crt"), dir_.path() / (name + ".key")};
  write_pem(files.cert, x, nullptr);
  write_pem(files.key, nullptr, key.get());
  return files;
}

}  // namespace it
