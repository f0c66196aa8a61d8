// Reading a request body's JSON in the mock's validating parsers (Anthropic Messages, OpenAI
// Responses): lookups that leave type checks to the caller, and the refusal they report.
#pragma once

#include "api_request.hpp"

#include <rapidjson/document.h>

#include <string>
#include <string_view>

namespace mock::request_json {

// The text of a string value (the caller has checked IsString).
inline std::string_view text_of(const rapidjson::Value& v) { return {v.GetString(), v.GetStringLength()}; }

// The member `name` of an object, JSON null included; nullptr when it is absent.
inline const rapidjson::Value* member(const rapidjson::Value& object, const char* name) {
    auto it = object.FindMember(name);
    return it == object.MemberEnd() ? nullptr : &it->value;
}

// Records why the body is refused and which field is at fault; false, for `return fail(...)`.
inline bool fail(ParseFailure& failure, std::string message, std::string_view param) {
    failure = {std::move(message), std::string(param)};
    return false;
}

}  // namespace mock::request_json
