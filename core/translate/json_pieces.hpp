// Reading and writing the JSON of the client-API translations (core/translate): member
// lookups that check types before anything is read (requests come from clients and answers
// from upstreams) and the writer every translation fills. Internal to core/translate.
#pragma once

#include <string>
#include <string_view>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace apiproxy::translate::json_pieces {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

// The member `name`, JSON null included; nullptr when `object` is not an object or lacks it.
const rapidjson::Value* any_member(const rapidjson::Value& object, const char* name);

// The member `name` when it is present and not null (both APIs read null as "not given");
// otherwise nullptr.
const rapidjson::Value* given_member(const rapidjson::Value& object, const char* name);

// The member `name` when it is a string, else nullptr.
const rapidjson::Value* given_string(const rapidjson::Value& object, const char* name);

// The text of the string member `name`; empty when it is absent or not a string.
std::string_view string_or_empty(const rapidjson::Value& object, const char* name);

// The text of a string value (the caller has checked IsString).
std::string_view text_of(const rapidjson::Value& string);

// Writes `s` as a JSON string. The bytes must be UTF-8: text read by parse_json is, and text
// of other origin goes through to_valid_utf8 first.
void put_string(JsonWriter& w, std::string_view s);

// {"type":"text","text":...}: the same object is a text part of a chat message's content and
// a text block of an Anthropic message.
void write_text_part(JsonWriter& w, std::string_view text);

// `value` written out as compact JSON text.
std::string serialized(const rapidjson::Value& value);

}  // namespace apiproxy::translate::json_pieces
