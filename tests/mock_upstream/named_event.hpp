// Server-sent events that carry a name, as the Anthropic Messages and OpenAI Responses
// streams send them: "event: NAME\ndata: {"type":"NAME",...}\n\n". The JSON repeats the
// name as its first member, as both APIs do.
#pragma once

#include "json_writer.hpp"

#include <string>
#include <string_view>

namespace mock {

// Appends one event to `out`; `fill(JsonWriter&)` writes the members after "type".
template <class Fill>
void append_named_event(std::string& out, std::string_view name, Fill&& fill) {
    out.append("event: ").append(name).append("\ndata: ");
    {
        JsonWriter w(out);
        w.StartObject();
        w.Key("type"), w.Str(name);
        fill(w);
        w.EndObject();
    }
    out.append("\n\n");
}

}  // namespace mock
