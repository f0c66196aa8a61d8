#include "behaviour.hpp"

#include "json_writer.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <climits>
#include <string_view>

namespace mock {

bool valid_forced_status(long long v) { return v == 0 || (v >= 400 && v <= 599); }

std::vector<std::string> split_models(std::string_view csv) {
    std::vector<std::string> out;
    while (!csv.empty()) {
        auto comma = csv.find(',');
        auto item = csv.substr(0, comma);
        while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
        while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
        if (!item.empty()) out.emplace_back(item);
        if (comma == std::string_view::npos) break;
        csv.remove_prefix(comma + 1);
    }
    return out;
}

void write_behaviour(JsonWriter& w, const Behaviour& b) {
    w.StartObject();
    w.Key("latency_ms"), w.Int(b.latency_ms);
    w.Key("status"), w.Int(b.status);
    w.Key("fail_first"), w.Int(b.fail_first);
    w.Key("error_rate"), w.Double(b.error_rate);
    w.Key("retry_after"), w.Int(b.retry_after);
    w.Key("chunks"), w.Int(b.chunks);
    w.Key("chunk_interval_ms"), w.Int(b.chunk_interval_ms);
    w.Key("reset_after_chunks"), w.Int(b.reset_after_chunks);
    w.Key("models");
    w.StartArray();
    for (const auto& m : b.models) w.Str(m);
    w.EndArray();
    w.Key("require_key");
    if (b.require_key.empty()) w.Null(); else w.Str(b.require_key);
    w.Key("key_status");
    w.StartObject();
    for (const auto& [key, status] : b.key_status) w.Key(key), w.Int(status);
    w.EndObject();
    w.Key("usage");
    if (b.usage.empty()) w.Null(); else w.RawValue(b.usage.data(), b.usage.size(), rapidjson::kObjectType);
    w.EndObject();
}

namespace {

// Non-negative integer field that fits an int.
bool read_count(const rapidjson::Value& v, std::string_view name, int& out, std::string& error) {
    if (!v.IsInt64() || v.GetInt64() < 0 || v.GetInt64() > INT_MAX) {
        error = std::string(name) + " must be a non-negative integer";
        return false;
    }
    out = int(v.GetInt64());
    return true;
}

// A probability: a JSON number in [0, 1].
bool read_rate(const rapidjson::Value& v, std::string_view name, double& out, std::string& error) {
    if (!v.IsNumber() || !(v.GetDouble() >= 0.0 && v.GetDouble() <= 1.0)) {
        error = std::string(name) + " must be a number between 0 and 1";
        return false;
    }
    out = v.GetDouble();
    return true;
}

bool read_models(const rapidjson::Value& v, std::vector<std::string>& out, std::string& error) {
    if (v.IsString()) {  // accept "a,b" too, like the command line
        out = split_models({v.GetString(), v.GetStringLength()});
        return true;
    }
    if (!v.IsArray()) {
        error = "models must be an array of strings";
        return false;
    }
    out.clear();
    for (const auto& m : v.GetArray()) {
        if (!m.IsString()) {
            error = "models must be an array of strings";
            return false;
        }
        out.emplace_back(m.GetString(), m.GetStringLength());
    }
    return true;
}

bool read_key(const rapidjson::Value& v, std::string& out, std::string& error) {
    if (v.IsNull()) {
        out.clear();
        return true;
    }
    if (!v.IsString()) {
        error = "require_key must be a string or null";
        return false;
    }
    out.assign(v.GetString(), v.GetStringLength());
    return true;
}

// {"key": status, ...} with 400..599 statuses (0 drops the key), or null for none.
bool read_key_status(const rapidjson::Value& v, std::map<std::string, int>& out, std::string& error) {
    error = "key_status must be an object of key: status (0 or 400..599), or null";
    if (v.IsNull()) {
        out.clear();
        return true;
    }
    if (!v.IsObject()) return false;
    std::map<std::string, int> next;
    for (const auto& m : v.GetObject()) {
        if (!m.value.IsInt() || !valid_forced_status(m.value.GetInt())) return false;
        if (m.value.GetInt() != 0) next[std::string(m.name.GetString(), m.name.GetStringLength())] = m.value.GetInt();
    }
    out = std::move(next);
    error.clear();
    return true;
}

// The usage object an answer reports instead of the computed one, kept as JSON text.
bool read_usage(const rapidjson::Value& v, std::string& out, std::string& error) {
    if (v.IsNull()) {
        out.clear();
        return true;
    }
    if (!v.IsObject()) {
        error = "usage must be an object or null";
        return false;
    }
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    v.Accept(w);
    out.assign(buf.GetString(), buf.GetSize());
    return true;
}

}  // namespace

bool apply_behaviour_patch(const rapidjson::Value& patch, Behaviour& b, std::string& error) {
    if (!patch.IsObject()) {
        error = "config must be a JSON object";
        return false;
    }
    Behaviour next = b;
    for (const auto& m : patch.GetObject()) {
        std::string_view key(m.name.GetString(), m.name.GetStringLength());
        const auto& v = m.value;
        bool ok = true;
        if (key == "latency_ms") ok = read_count(v, key, next.latency_ms, error);
        else if (key == "status") {
            ok = read_count(v, key, next.status, error);
            if (ok && !valid_forced_status(next.status)) {
                error = "status must be 0 or 400..599";
                ok = false;
            }
        }
        else if (key == "fail_first") ok = read_count(v, key, next.fail_first, error);
        else if (key == "error_rate") ok = read_rate(v, key, next.error_rate, error);
        else if (key == "retry_after") ok = read_count(v, key, next.retry_after, error);
        else if (key == "chunks") ok = read_count(v, key, next.chunks, error);
        else if (key == "chunk_interval_ms") ok = read_count(v, key, next.chunk_interval_ms, error);
        else if (key == "reset_after_chunks") ok = read_count(v, key, next.reset_after_chunks, error);
        else if (key == "models") ok = read_models(v, next.models, error);
        else if (key == "require_key") ok = read_key(v, next.require_key, error);
        else if (key == "key_status") ok = read_key_status(v, next.key_status, error);
        else if (key == "usage") ok = read_usage(v, next.usage, error);
        else {
            error = "unknown config field: " + std::string(key);
            ok = false;
        }
        if (!ok) return false;
    }
    b = std::move(next);
    return true;
}

}  // namespace mock
