#include "openai_responses_api.hpp"

#include "json_writer.hpp"
#include "named_event.hpp"
#include "token_counts.hpp"

namespace mock {

namespace openai_responses_api {

constexpr int tool_argument_pieces = 2;

void write_usage(JsonWriter& w, const Completion& c) {
    TokenCounts n = token_counts(c.usage, c.prompt_tokens, c.completion_tokens);
    w.StartObject();
    w.Key("input_tokens"), write_count(w, n.input);
    w.Key("input_tokens_details");
    w.StartObject();
    w.Key("cached_tokens"), w.Int(0);
    w.EndObject();
    w.Key("output_tokens"), write_count(w, n.output);
    w.Key("output_tokens_details");
    w.StartObject();
    w.Key("reasoning_tokens"), w.Int(0);
    w.EndObject();
    w.Key("total_tokens"), write_count(w, n.total);
    w.EndObject();
}

void write_text_part(JsonWriter& w, std::string_view text) {
    w.StartObject();
    w.Key("type"), w.String("output_text");
    w.Key("text"), w.Str(text);
    w.Key("annotations");
    w.StartArray();
    w.EndArray();
    w.EndObject();
}

// The message output item; not `done`: as first announced (in progress, no content yet).
void write_message_item(JsonWriter& w, const Completion& c, bool done) {
    w.StartObject();
    w.Key("type"), w.String("message");
    w.Key("id"), w.Str(c.item_id);
    w.Key("status"), w.String(done ? "completed" : "in_progress");
    w.Key("role"), w.String("assistant");
    w.Key("content");
    w.StartArray();
    if (done) write_text_part(w, c.reply);
    w.EndArray();
    w.EndObject();
}

// The function_call output item; not `done`: as first announced (arguments still empty).
void write_call_item(JsonWriter& w, const Completion& c, bool done) {
    w.StartObject();
    w.Key("type"), w.String("function_call");
    w.Key("id"), w.Str(c.tool_item_id);
    w.Key("call_id"), w.Str(c.tool_call_id);
    w.Key("name"), w.Str(c.tool_name);
    w.Key("arguments"), w.Str(done ? kToolArguments : std::string_view());
    w.Key("status"), w.String(done ? "completed" : "in_progress");
    w.EndObject();
}

void write_empty_object(JsonWriter& w) {
    w.StartObject();
    w.EndObject();
}

// The settings a Response echoes back; the mock reports the API's defaults.
void write_settings(JsonWriter& w, const Completion& c) {
    w.Key("instructions");
    if (c.instructions) w.Str(*c.instructions); else w.Null();
    w.Key("max_output_tokens"), w.Null();
    w.Key("parallel_tool_calls"), w.Bool(true);
    w.Key("previous_response_id"), w.Null();
    w.Key("reasoning");
    w.StartObject();
    w.Key("effort"), w.Null();
    w.Key("summary"), w.Null();
    w.EndObject();
    w.Key("store"), w.Bool(false);
    w.Key("temperature"), w.Double(1.0);
    w.Key("text");
    w.StartObject();
    w.Key("format");
    w.StartObject();
    w.Key("type"), w.String("text");
    w.EndObject();
    w.EndObject();
    w.Key("tool_choice"), w.String("auto");
    w.Key("tools");
    w.StartArray();
    w.EndArray();
    w.Key("top_p"), w.Double(1.0);
    w.Key("truncation"), w.String("disabled");
    w.Key("user"), w.Null();
    w.Key("metadata"), write_empty_object(w);
}

// The Response object; not `done`: as the stream first announces it (in progress, no
// output, no usage).
void write_response(JsonWriter& w, const Completion& c, bool done) {
    w.StartObject();
    w.Key("id"), w.Str(c.id);
    w.Key("object"), w.String("response");
    w.Key("created_at"), w.Int64(c.created);
    w.Key("status"), w.String(done ? "completed" : "in_progress");
    w.Key("error"), w.Null();
    w.Key("incomplete_details"), w.Null();
    w.Key("model"), w.Str(c.model);
    w.Key("output");
    w.StartArray();
    if (done) write_message_item(w, c, true);
    if (done && !c.tool_name.empty()) write_call_item(w, c, true);
    w.EndArray();
    write_settings(w, c);
    w.Key("usage");
    if (done) write_usage(w, c); else w.Null();
    w.EndObject();
}

// One event: "type", then "sequence_number", then what `fill` writes.
template <class Fill>
void event(std::string& out, std::string_view name, int& sequence, Fill&& fill) {
    append_named_event(out, name, [&](JsonWriter& w) {
        w.Key("sequence_number"), w.Int(sequence++);
        fill(w);
    });
}

// The members that place an event in the message item's text part.
void write_text_place(JsonWriter& w, const Completion& c) {
    w.Key("item_id"), w.Str(c.item_id);
    w.Key("output_index"), w.Int(0);
    w.Key("content_index"), w.Int(0);
}

void item_event(std::string& out, const Completion& c, int& sequence, bool done, int index) {
    event(out, done ? "response.output_item.done" : "response.output_item.added", sequence, [&](JsonWriter& w) {
        w.Key("output_index"), w.Int(index);
        w.Key("item");
        if (index == 0) write_message_item(w, c, done);
        else write_call_item(w, c, done);
    });
}

void part_event(std::string& out, const Completion& c, int& sequence, bool done) {
    event(out, done ? "response.content_part.done" : "response.content_part.added", sequence, [&](JsonWriter& w) {
        write_text_place(w, c);
        w.Key("part");
        write_text_part(w, done ? c.reply : std::string_view());
    });
}

void text_done_event(std::string& out, const Completion& c, int& sequence) {
    event(out, "response.output_text.done", sequence, [&](JsonWriter& w) {
        write_text_place(w, c);
        w.Key("text"), w.Str(c.reply);
        w.Key("logprobs");
        w.StartArray();
        w.EndArray();
    });
}

// The function_call item of a stream: announced, its arguments in pieces, then done.
void call_events(std::string& out, const Completion& c, int& sequence) {
    constexpr int index = 1;
    item_event(out, c, sequence, false, index);
    for (int i = 0; i < tool_argument_pieces; ++i) {
        event(out, "response.function_call_arguments.delta", sequence, [&](JsonWriter& w) {
            w.Key("item_id"), w.Str(c.tool_item_id);
            w.Key("output_index"), w.Int(index);
            w.Key("delta"), w.Str(reply_piece(kToolArguments, i, tool_argument_pieces));
        });
    }
    event(out, "response.function_call_arguments.done", sequence, [&](JsonWriter& w) {
        w.Key("item_id"), w.Str(c.tool_item_id);
        w.Key("output_index"), w.Int(index);
        w.Key("arguments"), w.Str(kToolArguments);
    });
    item_event(out, c, sequence, true, index);
}

void response_event(std::string& out, const Completion& c, int& sequence, std::string_view name, bool done) {
    event(out, name, sequence, [&](JsonWriter& w) {
        w.Key("response");
        write_response(w, c, done);
    });
}

}  // namespace openai_responses_api

void response_body(std::string& out, const Completion& c) {
    JsonWriter w(out);
    openai_responses_api::write_response(w, c, true);
}

void response_opening_events(std::string& out, const Completion& c, int& sequence) {
    using namespace openai_responses_api;
    response_event(out, c, sequence, "response.created", false);
    response_event(out, c, sequence, "response.in_progress", false);
    item_event(out, c, sequence, false, 0);
    part_event(out, c, sequence, false);
}

void response_text_event(std::string& out, const Completion& c, std::string_view piece, int& sequence) {
    using namespace openai_responses_api;
    event(out, "response.output_text.delta", sequence, [&](JsonWriter& w) {
        write_text_place(w, c);
        w.Key("delta"), w.Str(piece);
        w.Key("logprobs");
        w.StartArray();
        w.EndArray();
    });
}

void response_closing_events(std::string& out, const Completion& c, int& sequence) {
    using namespace openai_responses_api;
    text_done_event(out, c, sequence);
    part_event(out, c, sequence, true);
    item_event(out, c, sequence, true, 0);
    if (!c.tool_name.empty()) call_events(out, c, sequence);
    response_event(out, c, sequence, "response.completed", true);
}

}  // namespace mock
