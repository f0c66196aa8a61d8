#include "options.hpp"

#include <charconv>
#include <string_view>
#include <type_traits>

namespace mock {

std::string usage(const char* argv0) {
    return std::string("usage: ") + argv0 + R"( [options]

A mock OpenAI / Azure OpenAI compatible upstream for tests and benchmarks; it also
serves the Anthropic Messages API (POST /v1/messages, key in x-api-key, anthropic-version
header required; GET /v1/models with anthropic-version lists models Anthropic's way) and
the OpenAI Responses API (POST /v1/responses), streamed or not, with the same settings.
Prints "listening on HOST:PORT" on stdout once it accepts connections.

  --host ADDR                 listen address (default 127.0.0.1)
  --port N                    listen port, 0 = pick a free one (default 0)
  --name NAME                 name in replies, X-Mock-Name and owned_by (default mock)
  --models A,B,...            model ids (default gpt-4o-mini,gpt-4o,text-embedding-3-small)
  --latency-ms N              delay before response headers (default 0)
  --status N                  answer every API request with status N (0 = normal; 400..599)
  --fail-first N              the next N inference requests fail with 503 (or --status)
  --retry-after N             add Retry-After: N to forced failures (default 0 = none)
  --chunks N                  SSE content chunks per stream (default 3)
  --chunk-interval-ms N       pause before each content chunk (default 0)
  --reset-after-chunks N      cut streams abruptly after N content chunks (default 0 = off)
  --require-key KEY           require "Authorization: Bearer KEY" or "api-key: KEY"
                              ("x-api-key: KEY" on the Anthropic API)
  --threads N                 event-loop threads, one SO_REUSEPORT acceptor each (default 1)
  --tls-cert FILE             serve HTTPS only, with this PEM certificate (chain: leaf first)
  --tls-key FILE              the PEM private key of --tls-cert; both or neither
  --verbose                   log one line per request on stderr
  --help                      show this text

Per-request overrides: X-Mock-Latency-Ms, X-Mock-Status, X-Mock-Chunks,
X-Mock-Chunk-Interval-Ms, X-Mock-Reset-After-Chunks, X-Mock-Retry-After.
Per-request misbehaviour, from the request body (passes through a gateway unchanged):
a top-level "mock" object with on, delay_ms, interim, status, reset, close, garbage,
slow_body, endless_chunk_ext, huge_header, pad_bytes, chunks, chunk_interval_ms
(see misbehaviour.hpp). Chat answers echo the last message: "mock NAME reply to: TEXT".
Messages and Responses answers echo the last user message the same way; offered tools and
a user text mentioning "weather", they call the first tool with {"city":"Paris"} after
"Let me check."; handed a tool result, they answer "The tool said: RESULT".
Control API: GET|POST /__mock/config, GET /__mock/stats, POST /__mock/reset,
GET /__mock/health. POST /__mock/config takes the settings above in JSON (latency_ms,
status, fail_first, ...) plus error_rate: 0..1, the probability that an inference request
fails (503, or the configured status), and usage: a JSON object that every answer reports
as its "usage" instead of the counted one (any values, to test a client's checks), or null.
The stats count, besides requests (by_path, and by_endpoint: models, chat, completions,
embeddings, messages, responses, unknown),
peer_closed_waiting (the peer hung up before the answer began: it cancelled its call),
peer_closed_answering and misbehaved; with TLS also tls_handshakes (completed) and
last_sni (the name the client sent, "" if none).
)";
}

namespace {

bool parse_int(std::string_view s, long long lo, long long hi, long long& out) {
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && end == s.data() + s.size() && out >= lo && out <= hi;
}

// Applies one "--flag value" pair; returns false with `error` set when it is invalid.
bool apply_flag(std::string_view flag, std::string_view value, Options& o, std::string& error) {
    auto number = [&](long long lo, long long hi, auto& field) {
        long long v = 0;
        if (!parse_int(value, lo, hi, v)) {
            error = std::string(flag) + ": expected an integer in " + std::to_string(lo) + ".." +
                    std::to_string(hi) + ", got '" + std::string(value) + "'";
            return false;
        }
        field = static_cast<std::remove_reference_t<decltype(field)>>(v);
        return true;
    };
    constexpr long long big = 1'000'000'000;
    Behaviour& b = o.behaviour;
    if (flag == "--host") {
        if (value.empty()) {
            error = "--host: empty address";
            return false;
        }
        o.host = value;
        return true;
    }
    if (flag == "--port") return number(0, 65535, o.port);
    if (flag == "--name") { o.name = value; return true; }
    if (flag == "--models") { b.models = split_models(value); return true; }
    if (flag == "--latency-ms") return number(0, big, b.latency_ms);
    if (flag == "--status") {
        if (!number(0, 599, b.status)) return false;
        if (valid_forced_status(b.status)) return true;
        error = "--status: must be 0 or 400..599";
        return false;
    }
    if (flag == "--fail-first") return number(0, big, b.fail_first);
    if (flag == "--retry-after") return number(0, big, b.retry_after);
    if (flag == "--chunks") return number(0, big, b.chunks);
    if (flag == "--chunk-interval-ms") return number(0, big, b.chunk_interval_ms);
    if (flag == "--reset-after-chunks") return number(0, big, b.reset_after_chunks);
    if (flag == "--require-key") { b.require_key = value; return true; }
    if (flag == "--threads") return number(1, 256, o.threads);
    if (flag == "--tls-cert" || flag == "--tls-key") {
        if (value.empty()) {
            error = std::string(flag) + ": empty file name";
            return false;
        }
        (flag == "--tls-cert" ? o.tls_cert : o.tls_key) = value;
        return true;
    }
    error = "unknown option: " + std::string(flag);
    return false;
}

}  // namespace

ParseResult parse_options(int argc, char** argv, Options& opts, std::string& error) {
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        if (arg == "--help" || arg == "-h") return ParseResult::help;
        if (arg == "--verbose" || arg == "-v") {
            opts.verbose = true;
            continue;
        }
        if (!arg.starts_with("--")) {
            error = "unexpected argument: " + std::string(arg);
            return ParseResult::error;
        }
        // Both "--flag value" and "--flag=value".
        std::string_view flag = arg, value;
        if (auto eq = arg.find('='); eq != std::string_view::npos) {
            flag = arg.substr(0, eq);
            value = arg.substr(eq + 1);
        } else if (i + 1 < argc) {
            value = argv[++i];
        } else {
            error = std::string(flag) + ": missing value";
            return ParseResult::error;
        }
        if (!apply_flag(flag, value, opts, error)) return ParseResult::error;
    }
    // Half a TLS configuration would silently serve plain HTTP to a client expecting HTTPS.
    if (opts.tls_cert.empty() != opts.tls_key.empty()) {
        error = "--tls-cert and --tls-key go together";
        return ParseResult::error;
    }
    return ParseResult::run;
}

}  // namespace mock
