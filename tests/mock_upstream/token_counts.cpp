#include "token_counts.hpp"

#include "json_writer.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>

namespace mock {

namespace token_counts_detail {

using rapidjson::Value;

std::string json_text(const Value& v) {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    v.Accept(w);
    return {buf.GetString(), buf.GetSize()};
}

// The first of the two members present, as JSON text; `counted` when neither is.
std::string pick(const Value& usage, const char* name, const char* alias, int counted) {
    for (const char* key : {name, alias}) {
        auto it = usage.FindMember(key);
        if (it != usage.MemberEnd()) return json_text(it->value);
    }
    return std::to_string(counted);
}

bool parse_int(const std::string& text, long long& out) {
    rapidjson::Document d;
    d.Parse(text.c_str(), text.size());
    if (d.HasParseError() || !d.IsInt64()) return false;
    out = d.GetInt64();
    return true;
}

std::string total_of(const Value& usage, const TokenCounts& c, int counted_total) {
    if (auto it = usage.FindMember("total_tokens"); it != usage.MemberEnd()) return json_text(it->value);
    long long input = 0, output = 0, sum = 0;
    if (parse_int(c.input, input) && parse_int(c.output, output) && !__builtin_add_overflow(input, output, &sum))
        return std::to_string(sum);
    return std::to_string(counted_total);
}

}  // namespace token_counts_detail

TokenCounts token_counts(std::string_view usage, int counted_input, int counted_output) {
    using namespace token_counts_detail;
    rapidjson::Document doc;
    if (!usage.empty()) doc.Parse<rapidjson::kParseIterativeFlag>(usage.data(), usage.size());
    if (usage.empty() || doc.HasParseError() || !doc.IsObject()) {
        return {std::to_string(counted_input), std::to_string(counted_output),
                std::to_string(counted_input + counted_output)};
    }
    TokenCounts c;
    c.input = pick(doc, "input_tokens", "prompt_tokens", counted_input);
    c.output = pick(doc, "output_tokens", "completion_tokens", counted_output);
    c.total = total_of(doc, c, counted_input + counted_output);
    return c;
}

void write_count(JsonWriter& w, const std::string& count) {
    w.RawValue(count.data(), count.size(), rapidjson::kNumberType);
}

}  // namespace mock
