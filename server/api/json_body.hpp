// Reading a client's JSON request body with errors that name the offending field.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <rapidjson/document.h>

namespace apiproxy {

class JsonBody {
 public:
  // Parses `text`; on failure error() says why (not JSON, not an object).
  explicit JsonBody(const std::string& text);

  const std::optional<std::string>& error() const { return error_; }
  const rapidjson::Document& doc() const { return doc_; }

  // Each reader leaves `out` alone when the field is absent or null, and records the
  // first type error ("field 'x' must be a string").
  void string(const char* name, std::string& out, bool required = false);
  void string_list(const char* name, std::vector<std::string>& out);
  void boolean(const char* name, bool& out);
  // Records `message` as the error unless `ok` (and no error came before).
  void require(bool ok, const std::string& message);

 private:
  const rapidjson::Value* find(const char* name) const;
  void fail(const std::string& message);

  rapidjson::Document doc_;
  std::optional<std::string> error_;
};

}  // namespace apiproxy
