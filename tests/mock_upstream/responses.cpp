#include "responses.hpp"

#include "json_writer.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>

namespace mock {

namespace {

constexpr std::int64_t model_created = 1700000000;  // fixed, so model lists are stable

std::uint32_t process_salt() {
    static const std::uint32_t salt = std::random_device{}();
    return salt;
}

void write_usage(JsonWriter& w, const Completion& c) {
    w.Key("usage");
    if (!c.usage.empty()) {
        w.RawValue(c.usage.data(), c.usage.size(), rapidjson::kObjectType);
        return;
    }
    w.StartObject();
    w.Key("prompt_tokens"), w.Int(c.prompt_tokens);
    w.Key("completion_tokens"), w.Int(c.completion_tokens);
    w.Key("total_tokens"), w.Int(c.prompt_tokens + c.completion_tokens);
    w.EndObject();
}

// The fields every chat object and chunk starts with.
void write_chat_head(JsonWriter& w, const Completion& c, std::string_view object) {
    w.Key("id"), w.Str(c.id);
    w.Key("object"), w.Str(object);
    w.Key("created"), w.Int64(c.created);
    w.Key("model"), w.Str(c.model);
    w.Key("system_fingerprint"), w.Str(c.fingerprint);
}

void write_completion_head(JsonWriter& w, const Completion& c) {
    w.Key("id"), w.Str(c.id);
    w.Key("object"), w.Str("text_completion");
    w.Key("created"), w.Int64(c.created);
    w.Key("model"), w.Str(c.model);
}

void begin_event(std::string& out) { out.append("data: "); }
void end_event(std::string& out) { out.append("\n\n"); }

// FNV-1a then splitmix64: a cheap, well-mixed stream of numbers seeded by the input text.
std::uint64_t fnv1a(std::string_view s) {
    std::uint64_t h = 14695981039346656037ull;
    for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
    return h;
}

std::uint64_t splitmix64(std::uint64_t& state) {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

// 8 floats in [-1, 1], normalised to unit length like real embeddings.
constexpr int embedding_dims = 8;

void embedding_of(std::string_view input, double (&v)[embedding_dims]) {
    double raw[embedding_dims];
    double norm = 0;
    std::uint64_t state = fnv1a(input);
    for (double& x : raw) {
        x = double(splitmix64(state) >> 11) / double(1ull << 53) * 2.0 - 1.0;
        norm += x * x;
    }
    norm = std::sqrt(norm);
    for (int i = 0; i < embedding_dims; ++i) v[i] = std::round(raw[i] / norm * 1e6) / 1e6;
}

// encoding_format "base64": the little-endian float32 bytes, base64-encoded.
std::string base64_floats(const double (&v)[embedding_dims]) {
    static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    float f[embedding_dims];
    for (int i = 0; i < embedding_dims; ++i) f[i] = float(v[i]);
    unsigned char bytes[sizeof f];
    std::memcpy(bytes, f, sizeof f);  // x86-64 and aarch64 are little-endian
    std::string out;
    for (std::size_t i = 0; i < sizeof bytes; i += 3) {
        std::uint32_t n = std::uint32_t(bytes[i]) << 16;
        if (i + 1 < sizeof bytes) n |= std::uint32_t(bytes[i + 1]) << 8;
        if (i + 2 < sizeof bytes) n |= bytes[i + 2];
        out.push_back(alphabet[(n >> 18) & 63]);
        out.push_back(alphabet[(n >> 12) & 63]);
        out.push_back(i + 1 < sizeof bytes ? alphabet[(n >> 6) & 63] : '=');
        out.push_back(i + 2 < sizeof bytes ? alphabet[n & 63] : '=');
    }
    return out;
}

void write_embedding(JsonWriter& w, std::string_view input, bool base64) {
    double v[embedding_dims];
    embedding_of(input, v);
    if (base64) {
        w.Str(base64_floats(v));
        return;
    }
    w.StartArray();
    for (double x : v) w.Double(x);
    w.EndArray();
}

struct ErrorKind {
    const char* type;
    const char* code;
};

ErrorKind error_kind(int status) {
    switch (status) {
        case 400: return {"invalid_request_error", "bad_request"};
        case 401: return {"invalid_request_error", "invalid_api_key"};
        case 403: return {"permission_error", "forbidden"};
        case 404: return {"invalid_request_error", "not_found"};
        case 405: return {"invalid_request_error", "method_not_allowed"};
        case 413: return {"invalid_request_error", "request_too_large"};
        case 429: return {"requests", "rate_limit_exceeded"};
        case 503: return {"server_error", "service_unavailable"};
        default: return status >= 500 ? ErrorKind{"server_error", "server_error"}
                                       : ErrorKind{"invalid_request_error", "error"};
    }
}

}  // namespace

void make_id(std::string& out, std::string_view prefix) {
    static std::atomic<std::uint64_t> counter{0};
    char buf[40];
    int n = std::snprintf(buf, sizeof buf, "%08x%012llx", unsigned(process_salt()),
                          static_cast<unsigned long long>(counter.fetch_add(1, std::memory_order_relaxed) + 1));
    out.assign(prefix);
    out.append(buf, std::size_t(n));
}

int estimate_tokens(std::size_t chars) { return std::max(1, int(chars / 4)); }

void error_body(std::string& out, int status, std::string_view message, std::string_view param) {
    auto kind = error_kind(status);
    JsonWriter w(out);
    w.StartObject();
    w.Key("error");
    w.StartObject();
    w.Key("message"), w.Str(message);
    w.Key("type"), w.String(kind.type);
    w.Key("param");
    if (param.empty()) w.Null(); else w.Str(param);
    w.Key("code"), w.String(kind.code);
    w.EndObject();
    w.EndObject();
}

void models_openai_body(std::string& out, const std::vector<std::string>& models, std::string_view owner) {
    JsonWriter w(out);
    w.StartObject();
    w.Key("object"), w.String("list");
    w.Key("data");
    w.StartArray();
    for (const auto& id : models) {
        w.StartObject();
        w.Key("id"), w.Str(id);
        w.Key("object"), w.String("model");
        w.Key("created"), w.Int64(model_created);
        w.Key("owned_by"), w.Str(owner);
        w.EndObject();
    }
    w.EndArray();
    w.EndObject();
}

void models_azure_body(std::string& out, const std::vector<std::string>& models) {
    JsonWriter w(out);
    w.StartObject();
    w.Key("object"), w.String("list");
    w.Key("data");
    w.StartArray();
    for (const auto& id : models) {
        bool embedding = id.find("embedding") != std::string::npos;
        w.StartObject();
        w.Key("id"), w.Str(id);
        w.Key("object"), w.String("model");
        w.Key("status"), w.String("succeeded");
        w.Key("created_at"), w.Int64(model_created);
        w.Key("lifecycle_status"), w.String("generally-available");
        w.Key("capabilities");
        w.StartObject();
        w.Key("chat_completion"), w.Bool(!embedding);
        w.Key("completion"), w.Bool(false);
        w.Key("embeddings"), w.Bool(embedding);
        w.Key("fine_tune"), w.Bool(false);
        w.Key("inference"), w.Bool(true);
        w.EndObject();
        w.EndObject();
    }
    w.EndArray();
    w.EndObject();
}

void chat_body(std::string& out, const Completion& c) {
    JsonWriter w(out);
    w.StartObject();
    write_chat_head(w, c, "chat.completion");
    w.Key("choices");
    w.StartArray();
    w.StartObject();
    w.Key("index"), w.Int(0);
    w.Key("message");
    w.StartObject();
    w.Key("role"), w.String("assistant");
    w.Key("content"), w.Str(c.reply);
    w.EndObject();
    w.Key("logprobs"), w.Null();
    w.Key("finish_reason"), w.String("stop");
    w.EndObject();
    w.EndArray();
    write_usage(w, c);
    w.EndObject();
}

void completion_body(std::string& out, const Completion& c) {
    JsonWriter w(out);
    w.StartObject();
    write_completion_head(w, c);
    w.Key("choices");
    w.StartArray();
    w.StartObject();
    w.Key("text"), w.Str(c.reply);
    w.Key("index"), w.Int(0);
    w.Key("logprobs"), w.Null();
    w.Key("finish_reason"), w.String("stop");
    w.EndObject();
    w.EndArray();
    write_usage(w, c);
    w.EndObject();
}

void embeddings_body(std::string& out, const ApiRequest& req, std::string_view model, std::string_view usage) {
    int tokens = estimate_tokens(req.prompt_chars);
    JsonWriter w(out);
    w.StartObject();
    w.Key("object"), w.String("list");
    w.Key("data");
    w.StartArray();
    for (std::size_t i = 0; i < req.input_count; ++i) {
        w.StartObject();
        w.Key("object"), w.String("embedding");
        w.Key("index"), w.Uint64(i);
        w.Key("embedding");
        write_embedding(w, req.inputs[i], req.base64);
        w.EndObject();
    }
    w.EndArray();
    w.Key("model"), w.Str(model);
    w.Key("usage");
    if (!usage.empty()) {
        w.RawValue(usage.data(), usage.size(), rapidjson::kObjectType);
    } else {
        w.StartObject();
        w.Key("prompt_tokens"), w.Int(tokens);
        w.Key("total_tokens"), w.Int(tokens);
        w.EndObject();
    }
    w.EndObject();
}

namespace {

// One chat.completion.chunk event with a single choice: `role`/`content` go into the delta
// when given; `finish` closes the choice.
void chat_chunk(std::string& out, const Completion& c, const char* role, const std::string_view* content, bool finish) {
    begin_event(out);
    {
        JsonWriter w(out);
        w.StartObject();
        write_chat_head(w, c, "chat.completion.chunk");
        w.Key("choices");
        w.StartArray();
        w.StartObject();
        w.Key("index"), w.Int(0);
        w.Key("delta");
        w.StartObject();
        if (role) w.Key("role"), w.String(role);
        if (content) w.Key("content"), w.Str(*content);
        w.EndObject();
        w.Key("logprobs"), w.Null();
        w.Key("finish_reason");
        if (finish) w.String("stop"); else w.Null();
        w.EndObject();
        w.EndArray();
        w.EndObject();
    }
    end_event(out);
}

}  // namespace

void chat_role_event(std::string& out, const Completion& c) {
    std::string_view empty;
    chat_chunk(out, c, "assistant", &empty, false);
}

void chat_delta_event(std::string& out, const Completion& c, std::string_view piece) {
    chat_chunk(out, c, nullptr, &piece, false);
}

void chat_finish_event(std::string& out, const Completion& c) { chat_chunk(out, c, nullptr, nullptr, true); }

void completion_text_event(std::string& out, const Completion& c, std::string_view piece, bool finish) {
    begin_event(out);
    {
        JsonWriter w(out);
        w.StartObject();
        write_completion_head(w, c);
        w.Key("choices");
        w.StartArray();
        w.StartObject();
        w.Key("text"), w.Str(piece);
        w.Key("index"), w.Int(0);
        w.Key("logprobs"), w.Null();
        w.Key("finish_reason");
        if (finish) w.String("stop"); else w.Null();
        w.EndObject();
        w.EndArray();
        w.EndObject();
    }
    end_event(out);
}

void usage_event(std::string& out, const Completion& c, bool chat) {
    begin_event(out);
    {
        JsonWriter w(out);
        w.StartObject();
        if (chat) write_chat_head(w, c, "chat.completion.chunk");
        else write_completion_head(w, c);
        w.Key("choices");
        w.StartArray();
        w.EndArray();
        write_usage(w, c);
        w.EndObject();
    }
    end_event(out);
}

void done_event(std::string& out) { out.append("data: [DONE]\n\n"); }

std::string_view reply_piece(std::string_view text, int i, int n) {
    auto boundary = [&](std::size_t pos) {
        // Move forward past UTF-8 continuation bytes (10xxxxxx).
        while (pos < text.size() && (static_cast<unsigned char>(text[pos]) & 0xC0) == 0x80) ++pos;
        return pos;
    };
    if (n <= 0) return {};
    std::size_t begin = boundary(text.size() * std::size_t(i) / std::size_t(n));
    std::size_t end = boundary(text.size() * std::size_t(i + 1) / std::size_t(n));
    return text.substr(begin, end - begin);
}

}  // namespace mock
