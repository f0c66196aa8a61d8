// JSON checks for unit tests that compare what code under test wrote with what a test
// expects: as parsed values (member order aside), shown as text when they differ.
#pragma once

#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <string>
#include <string_view>

namespace test_support {

// `text` parsed; a test failure when it is not JSON with valid UTF-8.
inline rapidjson::Document parsed_json(std::string_view text) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseValidateEncodingFlag>(text.data(), text.size());
  EXPECT_FALSE(doc.HasParseError()) << "not JSON: " << text;
  return doc;
}

// `value` as compact JSON text.
inline std::string compact_json(const rapidjson::Value& value) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  value.Accept(w);
  return std::string(buffer.GetString(), buffer.GetSize());
}

// Equal JSON values (member order aside).
inline void expect_json_eq(std::string_view actual, std::string_view expected) {
  rapidjson::Document a = parsed_json(actual), e = parsed_json(expected);
  EXPECT_TRUE(a == e) << "actual:   " << compact_json(a) << "\nexpected: " << compact_json(e);
}

}  // namespace test_support
