#include "misbehaviour.hpp"

#include <algorithm>
#include <climits>

namespace mock {

bool Misbehaviour::applies_to(std::string_view name) const {
    return present && (on.empty() || std::find(on.begin(), on.end(), name) != on.end());
}

namespace {

bool read_int(const rapidjson::Value& v, std::string_view name, long long lo, long long hi, long long& out,
              std::string& error) {
    if (!v.IsInt64() || v.GetInt64() < lo || v.GetInt64() > hi) {
        error = "mock." + std::string(name) + " must be an integer in " + std::to_string(lo) + ".." + std::to_string(hi);
        return false;
    }
    out = v.GetInt64();
    return true;
}

bool read_int(const rapidjson::Value& v, std::string_view name, long long lo, long long hi, int& out,
              std::string& error) {
    long long x = 0;
    if (!read_int(v, name, lo, std::min<long long>(hi, INT_MAX), x, error)) return false;
    out = int(x);
    return true;
}

bool read_names(const rapidjson::Value& v, std::vector<std::string>& out, std::string& error) {
    out.clear();
    if (v.IsString()) {
        out.emplace_back(v.GetString(), v.GetStringLength());
        return true;
    }
    if (v.IsArray()) {
        for (const auto& n : v.GetArray()) {
            if (!n.IsString()) break;
            out.emplace_back(n.GetString(), n.GetStringLength());
        }
        if (out.size() == v.Size()) return true;
    }
    error = "mock.on must be a mock name or an array of names";
    return false;
}

// A recognisable filler that no HTTP parser takes for a status line.
std::string garbage_of(long long n) {
    static constexpr char pattern[] = "\x01\xfe NOT HTTP AT ALL \x7f\x00 garbage ";
    std::string out;
    out.reserve(std::size_t(n));
    while (out.size() < std::size_t(n)) out.push_back(pattern[out.size() % (sizeof pattern - 1)]);
    return out;
}

bool read_slow(const rapidjson::Value& v, Misbehaviour& m, std::string& error) {
    m.slow = true;
    if (v.IsInt64()) return read_int(v, "slow_body", 1, 600000, m.slow_interval_ms, error);
    if (!v.IsObject()) {
        error = "mock.slow_body must be an interval in ms or an object";
        return false;
    }
    for (const auto& f : v.GetObject()) {
        std::string_view key(f.name.GetString(), f.name.GetStringLength());
        bool ok = true;
        if (key == "interval_ms") ok = read_int(f.value, "slow_body.interval_ms", 1, 600000, m.slow_interval_ms, error);
        else if (key == "bytes") ok = read_int(f.value, "slow_body.bytes", 1, 1 << 20, m.slow_bytes, error);
        else if (key == "endless") {
            ok = f.value.IsBool();
            if (ok) m.slow_endless = f.value.GetBool();
            else error = "mock.slow_body.endless must be a boolean";
        } else {
            error = "unknown mock.slow_body member: " + std::string(key);
            ok = false;
        }
        if (!ok) return false;
    }
    return true;
}

}  // namespace

bool parse_misbehaviour(const rapidjson::Value& v, Misbehaviour& m, std::string& error) {
    m = Misbehaviour{};
    if (!v.IsObject()) {
        error = "mock must be an object";
        return false;
    }
    m.present = true;
    constexpr long long big = 1'000'000'000;
    for (const auto& f : v.GetObject()) {
        std::string_view key(f.name.GetString(), f.name.GetStringLength());
        const auto& x = f.value;
        bool ok = true;
        if (key == "on") ok = read_names(x, m.on, error);
        else if (key == "delay_ms") ok = read_int(x, key, 0, big, m.delay_ms, error);
        else if (key == "interim") ok = read_int(x, key, 0, 1000, m.interim, error);
        else if (key == "status") ok = read_int(x, key, 400, 599, m.status, error);
        else if (key == "reset") ok = read_int(x, key, 0, 1LL << 40, m.reset_after, error);
        else if (key == "close") ok = read_int(x, key, 0, 1LL << 40, m.close_after, error);
        else if (key == "garbage") {
            if (x.IsString() && x.GetStringLength() > 0) {
                m.garbage.assign(x.GetString(), x.GetStringLength());
            } else {
                long long n = 0;
                ok = read_int(x, key, 1, 64LL * 1024 * 1024, n, error);
                if (ok) m.garbage = garbage_of(n);
            }
        } else if (key == "slow_body") ok = read_slow(x, m, error);
        else if (key == "endless_chunk_ext") ok = read_int(x, key, 1, kMaxEndlessChunkExt, m.endless_chunk_ext, error);
        else if (key == "huge_header") ok = read_int(x, key, 1, kMaxHugeHeader, m.huge_header, error);
        else if (key == "pad_bytes") ok = read_int(x, key, 1, kMaxPadBytes, m.pad_bytes, error);
        else if (key == "chunks") ok = read_int(x, key, 0, 100000, m.chunks, error);
        else if (key == "chunk_interval_ms") ok = read_int(x, key, 0, big, m.chunk_interval_ms, error);
        else {
            error = "unknown mock member: " + std::string(key);
            ok = false;
        }
        if (!ok) return false;
    }
    return true;
}

}  // namespace mock
