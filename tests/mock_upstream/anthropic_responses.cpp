#include "anthropic_responses.hpp"

#include "json_writer.hpp"
#include "named_event.hpp"
#include "token_counts.hpp"

namespace mock {

namespace anthropic_responses {

constexpr std::string_view model_created_at = "2025-01-01T00:00:00Z";  // fixed, so lists are stable
constexpr int tool_argument_pieces = 2;

const char* error_type(int status) {
    switch (status) {
        case 400: return "invalid_request_error";
        case 401: return "authentication_error";
        case 403: return "permission_error";
        case 404: return "not_found_error";
        case 413: return "request_too_large";
        case 429: return "rate_limit_error";
        case 529: return "overloaded_error";
        default: return status >= 500 ? "api_error" : "invalid_request_error";
    }
}

const char* stop_reason(const Completion& c) { return c.tool_name.empty() ? "end_turn" : "tool_use"; }

TokenCounts counts(const Completion& c) { return token_counts(c.usage, c.prompt_tokens, c.completion_tokens); }

void write_text_block(JsonWriter& w, std::string_view text) {
    w.StartObject();
    w.Key("type"), w.String("text");
    w.Key("text"), w.Str(text);
    w.EndObject();
}

// The tool_use block; `input` is the JSON object of its arguments ("{}" when streamed, as
// the arguments then follow in input_json_delta events).
void write_tool_block(JsonWriter& w, const Completion& c, std::string_view input) {
    w.StartObject();
    w.Key("type"), w.String("tool_use");
    w.Key("id"), w.Str(c.tool_call_id);
    w.Key("name"), w.Str(c.tool_name);
    w.Key("input"), w.RawValue(input.data(), input.size(), rapidjson::kObjectType);
    w.EndObject();
}

// The message object; `streamed`: the message_start form (no content, no stop reason yet,
// output_tokens 1).
void write_message(JsonWriter& w, const Completion& c, bool streamed) {
    TokenCounts n = counts(c);
    w.StartObject();
    w.Key("id"), w.Str(c.id);
    w.Key("type"), w.String("message");
    w.Key("role"), w.String("assistant");
    w.Key("model"), w.Str(c.model);
    w.Key("content");
    w.StartArray();
    if (!streamed) {
        write_text_block(w, c.reply);
        if (!c.tool_name.empty()) write_tool_block(w, c, kToolArguments);
    }
    w.EndArray();
    w.Key("stop_reason");
    if (streamed) w.Null(); else w.String(stop_reason(c));
    w.Key("stop_sequence"), w.Null();
    w.Key("usage");
    w.StartObject();
    w.Key("input_tokens"), write_count(w, n.input);
    w.Key("output_tokens"), write_count(w, streamed ? std::string("1") : n.output);
    w.EndObject();
    w.EndObject();
}

void block_start(std::string& out, int index, const Completion* tool) {
    append_named_event(out, "content_block_start", [&](JsonWriter& w) {
        w.Key("index"), w.Int(index);
        w.Key("content_block");
        if (tool) write_tool_block(w, *tool, "{}");
        else write_text_block(w, "");
    });
}

void block_delta(std::string& out, int index, const char* delta_type, const char* field, std::string_view piece) {
    append_named_event(out, "content_block_delta", [&](JsonWriter& w) {
        w.Key("index"), w.Int(index);
        w.Key("delta");
        w.StartObject();
        w.Key("type"), w.String(delta_type);
        w.Key(field), w.Str(piece);
        w.EndObject();
    });
}

void block_stop(std::string& out, int index) {
    append_named_event(out, "content_block_stop", [&](JsonWriter& w) { w.Key("index"), w.Int(index); });
}

// The tool_use block of a stream: its arguments arrive as partial JSON pieces.
void tool_block_events(std::string& out, const Completion& c) {
    constexpr int index = 1;
    block_start(out, index, &c);
    for (int i = 0; i < tool_argument_pieces; ++i) {
        auto piece = reply_piece(kToolArguments, i, tool_argument_pieces);
        block_delta(out, index, "input_json_delta", "partial_json", piece);
    }
    block_stop(out, index);
}

}  // namespace anthropic_responses

void anthropic_error_body(std::string& out, int status, std::string_view message) {
    JsonWriter w(out);
    w.StartObject();
    w.Key("type"), w.String("error");
    w.Key("error");
    w.StartObject();
    w.Key("type"), w.String(anthropic_responses::error_type(status));
    w.Key("message"), w.Str(message);
    w.EndObject();
    w.EndObject();
}

void anthropic_models_body(std::string& out, const std::vector<std::string>& models) {
    JsonWriter w(out);
    w.StartObject();
    w.Key("data");
    w.StartArray();
    for (const auto& id : models) {
        w.StartObject();
        w.Key("type"), w.String("model");
        w.Key("id"), w.Str(id);
        w.Key("display_name"), w.Str(id);
        w.Key("created_at"), w.Str(anthropic_responses::model_created_at);
        w.EndObject();
    }
    w.EndArray();
    w.Key("has_more"), w.Bool(false);
    w.Key("first_id");
    if (models.empty()) w.Null(); else w.Str(models.front());
    w.Key("last_id");
    if (models.empty()) w.Null(); else w.Str(models.back());
    w.EndObject();
}

void messages_body(std::string& out, const Completion& c) {
    JsonWriter w(out);
    anthropic_responses::write_message(w, c, false);
}

void messages_opening_events(std::string& out, const Completion& c) {
    using namespace anthropic_responses;
    append_named_event(out, "message_start", [&](JsonWriter& w) {
        w.Key("message");
        write_message(w, c, true);
    });
    append_named_event(out, "ping", [](JsonWriter&) {});
    block_start(out, 0, nullptr);
}

void messages_text_event(std::string& out, std::string_view piece) {
    anthropic_responses::block_delta(out, 0, "text_delta", "text", piece);
}

void messages_closing_events(std::string& out, const Completion& c) {
    using namespace anthropic_responses;
    block_stop(out, 0);
    if (!c.tool_name.empty()) tool_block_events(out, c);
    TokenCounts n = counts(c);
    append_named_event(out, "message_delta", [&](JsonWriter& w) {
        w.Key("delta");
        w.StartObject();
        w.Key("stop_reason"), w.String(stop_reason(c));
        w.Key("stop_sequence"), w.Null();
        w.EndObject();
        w.Key("usage");
        w.StartObject();
        w.Key("output_tokens"), write_count(w, n.output);
        w.EndObject();
    });
    append_named_event(out, "message_stop", [](JsonWriter&) {});
}

}  // namespace mock
