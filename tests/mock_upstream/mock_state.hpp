// State shared by every connection (and every event-loop thread): the current behaviour
// and the request statistics. One mutex guards both; it is held only for a few field
// copies per request, so it stays uncontended even under wrk.
#pragma once

#include "behaviour.hpp"
#include "routes.hpp"

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace mock {

class JsonWriter;
using Request = boost::beast::http::request<boost::beast::http::string_body>;

// What one API request gets: the behaviour after per-request X-Mock-* overrides, and the
// verdicts that need the shared state (auth, fail-first countdown).
struct Admission {
    int latency_ms = 0;
    int chunks = 0;
    int chunk_interval_ms = 0;
    int reset_after_chunks = 0;
    int retry_after = 0;
    int forced_status = 0;  // non-zero: answer with this error status
    bool authorized = true;
    std::string usage;  // Behaviour::usage
};

// What the session found out about a request before admitting it.
struct Arrival {
    std::string_view path;  // the target without its query
    Endpoint endpoint = Endpoint::unknown;
    // A real endpoint with the right method (and api-version for Azure) that does
    // inference: only such requests consume the fail-first countdown and the error rate.
    bool servable = false;
    // Speaks the Anthropic API: its key comes in x-api-key (or as a Bearer token, as some
    // relays send it) instead of api-key.
    bool anthropic = false;
};

class MockState {
public:
    MockState(std::string name, Behaviour initial);

    const std::string& name() const { return name_; }

    // Counts and records one API request and decides how to treat it.
    Admission admit(const Request& req, const Arrival& arrival);

    // Control API.
    bool patch_behaviour(const rapidjson::Value& patch, std::string& error);
    void reset();
    void write_behaviour(JsonWriter& w) const;
    void write_stats(JsonWriter& w) const;
    std::vector<std::string> models() const;

    // An HTTPS connection completed its handshake; `sni` is the name the client sent ("" if
    // none). Feeds tls_handshakes and last_sni, which show a client's pooling and SNI.
    void record_tls_handshake(std::string_view sni);

    // Live gauges, maintained by the connections themselves (RAII, see Gauge).
    std::atomic<std::int64_t> open_connections{0};
    std::atomic<std::int64_t> active_streams{0};

    // Counters the connections bump (POST /__mock/reset zeroes them):
    //   peer_closed_waiting    the peer hung up after its request, before the answer's first
    //                          byte (during a delay): it cancelled the call
    //   peer_closed_answering  the peer hung up in the middle of an answer (a slow body, a
    //                          stream, a trickle)
    //   misbehaved             requests that got the misbehaviour their body's "mock" asked for
    std::atomic<std::int64_t> peer_closed_waiting{0};
    std::atomic<std::int64_t> peer_closed_answering{0};
    std::atomic<std::int64_t> misbehaved{0};

private:
    struct LastRequest {
        bool present = false;
        std::string method, target, body;
        std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
        std::size_t header_count = 0;  // entries in use; the vector keeps its capacity
    };

    void record(const Request& req, const Arrival& arrival);
    bool authorized(const Request& req, bool anthropic) const;
    // The key a request presents: its Bearer token, else its api-key header (x-api-key for
    // the Anthropic API); "" if none.
    static std::string_view presented_key(const Request& req, bool anthropic);

    const std::string name_;
    const Behaviour initial_;

    mutable std::mutex mutex_;
    Behaviour behaviour_;
    std::uint64_t requests_ = 0;
    std::map<std::string, std::uint64_t, std::less<>> by_path_;
    std::array<std::uint64_t, kEndpointCount> by_endpoint_{};
    std::map<std::string, std::uint64_t, std::less<>> by_key_;  // requests per presented key (bounded)
    LastRequest last_;
    std::uint64_t tls_handshakes_ = 0;
    std::string last_sni_;
};

// Increments a gauge for the lifetime of the guard, so every exit path (disconnect,
// reset, shutdown) decrements it exactly once.
class Gauge {
public:
    explicit Gauge(std::atomic<std::int64_t>& g) : g_(&g) { g_->fetch_add(1, std::memory_order_relaxed); }
    ~Gauge() { g_->fetch_sub(1, std::memory_order_relaxed); }
    Gauge(const Gauge&) = delete;
    Gauge& operator=(const Gauge&) = delete;

private:
    std::atomic<std::int64_t>* g_;
};

}  // namespace mock
