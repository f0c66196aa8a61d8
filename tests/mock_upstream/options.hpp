// Command-line options of apiproxy-mock-upstream.
#pragma once

#include "behaviour.hpp"

#include <cstdint>
#include <string>

namespace mock {

struct Options {
    std::string host = "127.0.0.1";
    std::uint16_t port = 0;  // 0 = let the kernel pick a free port
    std::string name = "mock";
    int threads = 1;
    bool verbose = false;
    // PEM files; both set = serve HTTPS only (the control API too), neither = plain HTTP.
    std::string tls_cert;
    std::string tls_key;
    Behaviour behaviour;  // the start-up config; POST /__mock/reset returns to it
};

enum class ParseResult { run, help, error };

// Fills `opts` from argv. On error, `error` holds the message (exit code 2 expected).
ParseResult parse_options(int argc, char** argv, Options& opts, std::string& error);

// The --help text.
std::string usage(const char* argv0);

}  // namespace mock
