#include "api_request.hpp"

#include "anthropic_request.hpp"
#include "openai_responses_request.hpp"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

namespace mock {

namespace {

// A Document whose first few KiB come from the stack: typical requests parse without malloc.
using Pool = rapidjson::MemoryPoolAllocator<>;
using Doc = rapidjson::GenericDocument<rapidjson::UTF8<>, Pool, Pool>;

std::string_view view(const rapidjson::Value& v) { return {v.GetString(), v.GetStringLength()}; }

// Message content is either a string or an array of parts ({"type":"text","text":...}).
void append_content(const rapidjson::Value& content, std::string& out) {
    if (content.IsString()) {
        out.append(view(content));
        return;
    }
    if (!content.IsArray()) return;
    for (const auto& part : content.GetArray()) {
        if (!part.IsObject()) continue;
        auto text = part.FindMember("text");
        if (text != part.MemberEnd() && text->value.IsString()) out.append(view(text->value));
    }
}

void read_chat(const rapidjson::Value& root, ApiRequest& out) {
    auto messages = root.FindMember("messages");
    if (messages == root.MemberEnd() || !messages->value.IsArray()) return;
    for (const auto& msg : messages->value.GetArray()) {
        if (!msg.IsObject()) continue;
        auto content = msg.FindMember("content");
        if (content == msg.MemberEnd()) continue;
        // Only the last message's text is echoed back; every message counts for tokens.
        out.prompt.clear();
        append_content(content->value, out.prompt);
        out.prompt_chars += out.prompt.size();
    }
}

// One prompt / input item: a string, or a token array (rendered as "1,2,3").
bool item_text(const rapidjson::Value& v, std::string& out) {
    out.clear();
    if (v.IsString()) {
        out.append(view(v));
        return true;
    }
    if (!v.IsArray()) return false;
    for (const auto& t : v.GetArray()) {
        if (!t.IsInt64()) return false;
        if (!out.empty()) out.push_back(',');
        out.append(std::to_string(t.GetInt64()));
    }
    return true;
}

void read_completion(const rapidjson::Value& root, ApiRequest& out) {
    auto prompt = root.FindMember("prompt");
    if (prompt == root.MemberEnd()) return;
    const auto& p = prompt->value;
    if (p.IsArray() && !p.Empty() && (p[0].IsString() || p[0].IsArray())) {
        // A batch of prompts: answer the first, count them all.
        std::string scratch;
        for (const auto& item : p.GetArray())
            if (item_text(item, scratch)) out.prompt_chars += scratch.size();
        item_text(p[0], out.prompt);
        return;
    }
    item_text(p, out.prompt);
    out.prompt_chars = out.prompt.size();
}

bool read_embeddings(const rapidjson::Value& root, ApiRequest& out, ParseFailure& failure) {
    auto format = root.FindMember("encoding_format");
    out.base64 = format != root.MemberEnd() && format->value.IsString() && view(format->value) == "base64";
    auto input = root.FindMember("input");
    auto add = [&](const rapidjson::Value& v) {
        if (out.input_count == out.inputs.size()) out.inputs.emplace_back();
        auto& slot = out.inputs[out.input_count];
        if (!item_text(v, slot)) return false;
        out.prompt_chars += slot.size();
        ++out.input_count;
        return true;
    };
    bool ok = input != root.MemberEnd();
    if (ok) {
        const auto& in = input->value;
        bool batch = in.IsArray() && !in.Empty() && (in[0].IsString() || in[0].IsArray());
        if (batch) {
            for (const auto& item : in.GetArray()) ok = ok && add(item);
        } else {
            ok = add(in);
        }
    }
    if (!ok) failure = {"'input' must be a string, an array of strings or an array of tokens", "input"};
    return ok;
}

void reset(ApiRequest& r) {
    r.model.clear();
    r.stream = false;
    r.include_usage = false;
    r.base64 = false;
    r.prompt.clear();
    r.prompt_chars = 0;
    r.input_count = 0;
    r.mock = Misbehaviour{};
    r.tool_name.clear();
    r.tool_result = false;
    r.has_instructions = false;
    r.instructions.clear();
}

bool mentions_weather(std::string_view text) {
    constexpr std::string_view word = "weather";
    for (std::size_t i = 0; i + word.size() <= text.size(); ++i) {
        std::size_t n = 0;
        while (n < word.size() && (text[i + n] | 0x20) == word[n]) ++n;  // ASCII case-insensitive
        if (n == word.size()) return true;
    }
    return false;
}

// True when arrays/objects nest deeper than `limit` (strings skipped, escapes honoured).
// Checked before parsing: even an iterative parse of a maximally nested 10 MiB body
// needs half a gigabyte, and no real request nests more than a few levels.
bool nests_deeper_than(std::string_view json, int limit) {
    int depth = 0;
    bool in_string = false, escaped = false;
    for (char c : json) {
        if (in_string) {
            if (escaped) escaped = false;
            else if (c == '\\') escaped = true;
            else if (c == '"') in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > limit) return true;
        } else if (c == ']' || c == '}') {
            --depth;
        }
    }
    return false;
}

}  // namespace

bool wants_tool_call(const ApiRequest& req) {
    return !req.tool_name.empty() && !req.tool_result && mentions_weather(req.prompt);
}

bool parse_api_request(std::string& body, Endpoint endpoint, ApiRequest& out, ParseFailure& failure) {
    reset(out);
    char value_buffer[8192];
    char parse_buffer[2048];
    Pool value_pool(value_buffer, sizeof value_buffer);
    Pool parse_pool(parse_buffer, sizeof parse_buffer);
    Doc doc(&value_pool, sizeof parse_buffer, &parse_pool);

    constexpr int max_nesting = 64;
    if (nests_deeper_than(body, max_nesting)) {
        failure = {"The request body nests more than " + std::to_string(max_nesting) + " levels deep", ""};
        return false;
    }
    // Iterative as well: the stack never depends on the client.
    if (doc.ParseInsitu<rapidjson::kParseIterativeFlag>(body.data()).HasParseError()) {
        failure = {std::string("We could not parse the JSON body of your request: ") +
                       rapidjson::GetParseError_En(doc.GetParseError()),
                   ""};
        return false;
    }
    if (!doc.IsObject()) {
        failure = {"The request body must be a JSON object", ""};
        return false;
    }
    if (auto m = doc.FindMember("model"); m != doc.MemberEnd() && m->value.IsString()) out.model.assign(view(m->value));
    if (auto s = doc.FindMember("stream"); s != doc.MemberEnd() && s->value.IsBool()) out.stream = s->value.GetBool();
    if (auto so = doc.FindMember("stream_options"); so != doc.MemberEnd() && so->value.IsObject()) {
        auto iu = so->value.FindMember("include_usage");
        out.include_usage = iu != so->value.MemberEnd() && iu->value.IsBool() && iu->value.GetBool();
    }
    if (auto m = doc.FindMember("mock"); m != doc.MemberEnd()) {
        std::string error;
        if (!parse_misbehaviour(m->value, out.mock, error)) {
            failure = {error, "mock"};
            return false;
        }
    }
    switch (endpoint) {
        case Endpoint::chat: read_chat(doc, out); return true;
        case Endpoint::completions: read_completion(doc, out); return true;
        case Endpoint::embeddings: out.stream = false; return read_embeddings(doc, out, failure);
        case Endpoint::messages: return read_messages_request(doc, out, failure);
        case Endpoint::responses: return read_responses_request(doc, out, failure);
        default: return true;
    }
}

}  // namespace mock
