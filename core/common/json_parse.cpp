#include "core/common/json_parse.hpp"

#include <cmath>
#include <cstring>

#include "core/common/utf8.hpp"

#include <rapidjson/error/en.h>
#include <rapidjson/reader.h>

namespace apiproxy {

namespace {

constexpr unsigned kFlags = rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag;

// Hands SAX events on to the document, refusing to open a container past the limit, and
// refusing numbers that overflow a double: RapidJSON 1.1 reads some (say 41e308) as
// infinity, which its Writer then cannot write, cutting the re-serialised text short.
class DepthLimit {
 public:
  explicit DepthLimit(rapidjson::Document& doc) : doc_(doc) {}
  bool exceeded() const { return exceeded_; }
  bool overflowed() const { return overflowed_; }
  bool bad_escape() const { return bad_escape_; }

  bool Null() { return doc_.Null(); }
  bool Bool(bool b) { return doc_.Bool(b); }
  bool Int(int i) { return doc_.Int(i); }
  bool Uint(unsigned u) { return doc_.Uint(u); }
  bool Int64(int64_t i) { return doc_.Int64(i); }
  bool Uint64(uint64_t u) { return doc_.Uint64(u); }
  bool Double(double d) {
    if (std::isfinite(d)) return doc_.Double(d);
    overflowed_ = true;
    return false;
  }
  bool RawNumber(const char* s, rapidjson::SizeType n, bool copy) { return doc_.RawNumber(s, n, copy); }
  bool String(const char* s, rapidjson::SizeType n, bool copy) { return text_ok(s, n) && doc_.String(s, n, copy); }
  bool Key(const char* s, rapidjson::SizeType n, bool copy) { return text_ok(s, n) && doc_.Key(s, n, copy); }
  bool StartObject() { return open() && doc_.StartObject(); }
  bool StartArray() { return open() && doc_.StartArray(); }
  bool EndObject(rapidjson::SizeType members) { return close() && doc_.EndObject(members); }
  bool EndArray(rapidjson::SizeType elements) { return close() && doc_.EndArray(elements); }

 private:
  bool open() {
    if (++depth_ <= kMaxJsonDepth) return true;
    exceeded_ = true;
    return false;
  }
  bool close() {
    --depth_;
    return true;
  }
  // RapidJSON 1.1 decodes a lone low surrogate escape (\uDC00) into bytes that are not
  // UTF-8; such bytes always start with 0xED, so only strings holding one are checked.
  bool text_ok(const char* s, rapidjson::SizeType n) {
    if (!std::memchr(s, 0xED, n)) return true;
    for (std::string_view rest(s, n); !rest.empty();) {
      size_t len = utf8_sequence(rest);
      if (len == 0) {
        bad_escape_ = true;
        return false;
      }
      rest.remove_prefix(len);
    }
    return true;
  }

  rapidjson::Document& doc_;
  unsigned depth_ = 0;
  bool exceeded_ = false;
  bool overflowed_ = false;
  bool bad_escape_ = false;
};

template <unsigned Flags, class Stream>
std::optional<std::string> parse_stream(rapidjson::Document& doc, Stream& in) {
  DepthLimit limit(doc);
  rapidjson::ParseResult result;
  auto generate = [&](rapidjson::Document&) {
    rapidjson::Reader reader;
    result = reader.Parse<Flags>(in, limit);
    return !result.IsError();
  };
  doc.Populate(generate);
  if (limit.exceeded()) return "JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels";
  if (limit.bad_escape()) return "a string at offset " + std::to_string(result.Offset()) + " has an invalid \\u escape";
  if (limit.overflowed()) return "a number at offset " + std::to_string(result.Offset()) + " is too large";
  if (result.IsError())
    return "invalid JSON at offset " + std::to_string(result.Offset()) + ": " +
           rapidjson::GetParseError_En(result.Code());
  return std::nullopt;
}

}  // namespace

std::optional<std::string> parse_json(rapidjson::Document& doc, std::string_view text) {
  rapidjson::MemoryStream bytes(text.data(), text.size());
  rapidjson::EncodedInputStream<rapidjson::UTF8<>, rapidjson::MemoryStream> in(bytes);
  return parse_stream<kFlags>(doc, in);
}

std::optional<std::string> parse_json_in_place(rapidjson::Document& doc, std::string& text) {
  // RapidJSON 1.1's UTF-8 validation reads a sequence's continuation bytes before checking
  // them, past the terminating NUL when the text ends inside a sequence: pad the buffer.
  size_t size = text.size();
  text.append(4, '\0');
  rapidjson::InsituStringStream in(text.data());
  auto why = parse_stream<kFlags | rapidjson::kParseInsituFlag>(doc, in);
  text.resize(size);  // shrinking keeps the buffer the document points into
  return why;
}

}  // namespace apiproxy
