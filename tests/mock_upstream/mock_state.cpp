#include "mock_state.hpp"

#include "json_writer.hpp"

#include <charconv>
#include <optional>
#include <random>

namespace mock {

namespace {

// An integer X-Mock-* override header, if present and well-formed; otherwise the config wins.
std::optional<int> override_of(const Request& req, std::string_view header, int lo, int hi) {
    auto it = req.find(header);
    if (it == req.end()) return std::nullopt;
    auto v = it->value();
    int out = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
    if (ec != std::errc() || end != v.data() + v.size() || out < lo || out > hi) return std::nullopt;
    return out;
}

// True with probability `rate` (0..1). Each event-loop thread has its own generator, so
// the draws need no lock and are independent of each other.
bool draw(double rate) {
    if (rate <= 0) return false;
    thread_local std::mt19937_64 gen{std::random_device{}()};
    return std::uniform_real_distribution<double>(0.0, 1.0)(gen) < rate;
}

void to_lower(std::string& s) {
    for (char& c : s)
        if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
}

// The header that carries a key not sent as a Bearer token.
std::string_view non_bearer_key_header(bool anthropic) { return anthropic ? "x-api-key" : "api-key"; }

}  // namespace

MockState::MockState(std::string name, Behaviour initial)
    : name_(std::move(name)), initial_(initial), behaviour_(std::move(initial)) {}

std::string_view MockState::presented_key(const Request& req, bool anthropic) {
    if (auto it = req.find(boost::beast::http::field::authorization); it != req.end()) {
        std::string_view v = it->value();
        if (v.starts_with("Bearer ")) return v.substr(7);
    }
    if (auto it = req.find(non_bearer_key_header(anthropic)); it != req.end()) return it->value();
    return {};
}

bool MockState::authorized(const Request& req, bool anthropic) const {
    if (behaviour_.require_key.empty()) return true;
    const std::string& key = behaviour_.require_key;
    if (auto it = req.find(non_bearer_key_header(anthropic)); it != req.end() && it->value() == key) return true;
    if (auto it = req.find(boost::beast::http::field::authorization); it != req.end()) {
        std::string_view v = it->value();
        return v.size() == key.size() + 7 && v.starts_with("Bearer ") && v.substr(7) == key;
    }
    return false;
}

// Keeps a copy of the request for GET /__mock/stats. Assigning into the existing strings
// reuses their capacity, so steady-state recording does not allocate.
void MockState::record(const Request& req, const Arrival& arrival) {
    std::string_view path = arrival.path;
    ++requests_;
    ++by_endpoint_[std::size_t(arrival.endpoint)];
    if (auto it = by_path_.find(path); it != by_path_.end()) ++it->second;
    else by_path_.emplace(std::string(path), 1);
    constexpr std::size_t kMaxKeysCounted = 1000;
    if (std::string_view key = presented_key(req, arrival.anthropic); !key.empty()) {
        if (auto it = by_key_.find(key); it != by_key_.end()) ++it->second;
        else if (by_key_.size() < kMaxKeysCounted) by_key_.emplace(std::string(key), 1);
    }

    last_.present = true;
    last_.method.assign(req.method_string());
    last_.target.assign(req.target());
    last_.body.assign(req.body());
    std::size_t n = 0;
    for (const auto& f : req) {
        if (n == last_.headers.size()) last_.headers.emplace_back();
        auto& [name, value] = last_.headers[n++];
        name.assign(f.name_string());
        to_lower(name);
        value.assign(f.value());
    }
    last_.header_count = n;
}

Admission MockState::admit(const Request& req, const Arrival& arrival) {
    const bool servable = arrival.servable;
    // -1 = no (valid) X-Mock-Status header.
    int status_override = override_of(req, "X-Mock-Status", 0, 599).value_or(-1);
    if (!valid_forced_status(status_override)) status_override = -1;

    Admission a;
    double error_rate = 0;
    {
        std::lock_guard lock(mutex_);
        record(req, arrival);
        const Behaviour& b = behaviour_;
        a.latency_ms = b.latency_ms;
        a.chunks = b.chunks;
        a.chunk_interval_ms = b.chunk_interval_ms;
        a.reset_after_chunks = b.reset_after_chunks;
        a.retry_after = b.retry_after;
        a.authorized = authorized(req, arrival.anthropic);
        a.forced_status = b.status;
        if (a.forced_status == 0 && !b.key_status.empty()) {
            auto it = b.key_status.find(std::string(presented_key(req, arrival.anthropic)));
            if (it != b.key_status.end()) a.forced_status = it->second;
        }
        a.usage = b.usage;
        // The header decides alone for its request, without consuming the countdown.
        if (status_override < 0 && servable && a.authorized && behaviour_.fail_first > 0) {
            --behaviour_.fail_first;
            if (a.forced_status == 0) a.forced_status = 503;
        }
        if (status_override < 0 && servable && a.authorized) error_rate = behaviour_.error_rate;
    }
    // Like fail_first: the status header decides alone; a failure drawn here is `status`
    // when one is configured (every request fails then anyway), else 503.
    if (a.forced_status == 0 && draw(error_rate)) a.forced_status = 503;
    if (status_override >= 0) a.forced_status = status_override;
    constexpr int big = 1'000'000'000;
    a.latency_ms = override_of(req, "X-Mock-Latency-Ms", 0, big).value_or(a.latency_ms);
    a.chunks = override_of(req, "X-Mock-Chunks", 0, big).value_or(a.chunks);
    a.chunk_interval_ms = override_of(req, "X-Mock-Chunk-Interval-Ms", 0, big).value_or(a.chunk_interval_ms);
    a.reset_after_chunks = override_of(req, "X-Mock-Reset-After-Chunks", 0, big).value_or(a.reset_after_chunks);
    a.retry_after = override_of(req, "X-Mock-Retry-After", 0, big).value_or(a.retry_after);
    return a;
}

bool MockState::patch_behaviour(const rapidjson::Value& patch, std::string& error) {
    std::lock_guard lock(mutex_);
    return apply_behaviour_patch(patch, behaviour_, error);
}

void MockState::record_tls_handshake(std::string_view sni) {
    std::lock_guard lock(mutex_);
    ++tls_handshakes_;
    last_sni_.assign(sni);
}

void MockState::reset() {
    std::lock_guard lock(mutex_);
    behaviour_ = initial_;
    requests_ = 0;
    tls_handshakes_ = 0;
    last_sni_.clear();
    by_path_.clear();
    by_endpoint_.fill(0);
    by_key_.clear();
    last_.present = false;
    last_.header_count = 0;
    peer_closed_waiting.store(0);
    peer_closed_answering.store(0);
    misbehaved.store(0);
}

void MockState::write_behaviour(JsonWriter& w) const {
    std::lock_guard lock(mutex_);
    mock::write_behaviour(w, behaviour_);
}

std::vector<std::string> MockState::models() const {
    std::lock_guard lock(mutex_);
    return behaviour_.models;
}

void MockState::write_stats(JsonWriter& w) const {
    std::lock_guard lock(mutex_);
    w.StartObject();
    w.Key("requests"), w.Uint64(requests_);
    w.Key("by_path");
    w.StartObject();
    for (const auto& [path, n] : by_path_) w.Key(path), w.Uint64(n);
    w.EndObject();
    w.Key("by_endpoint");
    w.StartObject();
    for (int e = 0; e < kEndpointCount; ++e) w.Key(endpoint_name(Endpoint(e))), w.Uint64(by_endpoint_[std::size_t(e)]);
    w.EndObject();
    w.Key("by_key");
    w.StartObject();
    for (const auto& [key, n] : by_key_) w.Key(key), w.Uint64(n);
    w.EndObject();
    w.Key("open_connections"), w.Int64(open_connections.load(std::memory_order_relaxed));
    w.Key("active_streams"), w.Int64(active_streams.load(std::memory_order_relaxed));
    w.Key("peer_closed_waiting"), w.Int64(peer_closed_waiting.load(std::memory_order_relaxed));
    w.Key("peer_closed_answering"), w.Int64(peer_closed_answering.load(std::memory_order_relaxed));
    w.Key("misbehaved"), w.Int64(misbehaved.load(std::memory_order_relaxed));
    w.Key("tls_handshakes"), w.Uint64(tls_handshakes_);
    w.Key("last_sni"), w.Str(last_sni_);
    w.Key("last_request");
    if (!last_.present) {
        w.Null();
    } else {
        w.StartObject();
        w.Key("method"), w.Str(last_.method);
        w.Key("target"), w.Str(last_.target);
        w.Key("headers");
        w.StartObject();
        for (std::size_t i = 0; i < last_.header_count; ++i) w.Key(last_.headers[i].first), w.Str(last_.headers[i].second);
        w.EndObject();
        w.Key("body"), w.Str(last_.body);
        w.EndObject();
    }
    w.EndObject();
}

}  // namespace mock
