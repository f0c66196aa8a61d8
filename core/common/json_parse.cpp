#include "core/common/json_parse.hpp"

#include <cmath>
#include <cstring>

#include "core/common/json_fast_scan.hpp"
#include "core/common/utf8.hpp"

#include <rapidjson/error/en.h>
#include <rapidjson/reader.h>

namespace apiproxy {

namespace {

constexpr unsigned kFlags = rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag;

// Hands SAX events on to `Inner` (a document, or a scanner), refusing to open a container
// past the limit, and refusing numbers that overflow a double: RapidJSON 1.1 reads some (say
// 41e308) as infinity, which its Writer then cannot write, cutting the re-serialised text
// short.
template <class Inner>
class Guarded {
 public:
  explicit Guarded(Inner& inner) : inner_(inner) {}
  bool exceeded() const { return exceeded_; }
  bool overflowed() const { return overflowed_; }
  bool bad_escape() const { return bad_escape_; }

  bool Null() { return inner_.Null(); }
  bool Bool(bool b) { return inner_.Bool(b); }
  bool Int(int i) { return inner_.Int(i); }
  bool Uint(unsigned u) { return inner_.Uint(u); }
  bool Int64(int64_t i) { return inner_.Int64(i); }
  bool Uint64(uint64_t u) { return inner_.Uint64(u); }
  bool Double(double d) {
    if (std::isfinite(d)) return inner_.Double(d);
    overflowed_ = true;
    return false;
  }
  bool RawNumber(const char* s, rapidjson::SizeType n, bool copy) { return inner_.RawNumber(s, n, copy); }
  bool String(const char* s, rapidjson::SizeType n, bool copy) { return text_ok(s, n) && inner_.String(s, n, copy); }
  bool Key(const char* s, rapidjson::SizeType n, bool copy) { return text_ok(s, n) && inner_.Key(s, n, copy); }
  bool StartObject() { return open() && inner_.StartObject(); }
  bool StartArray() { return open() && inner_.StartArray(); }
  bool EndObject(rapidjson::SizeType members) { return close() && inner_.EndObject(members); }
  bool EndArray(rapidjson::SizeType elements) { return close() && inner_.EndArray(elements); }

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

  Inner& inner_;
  unsigned depth_ = 0;
  bool exceeded_ = false;
  bool overflowed_ = false;
  bool bad_escape_ = false;
};

// Runs `parse(guarded_handler)` and turns what went wrong into one message.
template <class Inner, class Parse>
std::optional<std::string> guarded_parse(Inner& inner, Parse parse) {
  Guarded<Inner> guarded(inner);
  rapidjson::ParseResult result = parse(guarded);
  if (guarded.exceeded()) return "JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels";
  if (guarded.bad_escape())
    return "a string at offset " + std::to_string(result.Offset()) + " has an invalid \\u escape";
  if (guarded.overflowed()) return "a number at offset " + std::to_string(result.Offset()) + " is too large";
  if (result.IsError())
    return "invalid JSON at offset " + std::to_string(result.Offset()) + ": " +
           rapidjson::GetParseError_En(result.Code());
  return std::nullopt;
}

template <unsigned Flags, class Stream>
std::optional<std::string> parse_stream(rapidjson::Document& doc, Stream& in) {
  std::optional<std::string> why;
  auto generate = [&](rapidjson::Document& d) {
    why = guarded_parse(d, [&](auto& handler) {
      rapidjson::Reader reader;
      return reader.Parse<Flags>(in, handler);
    });
    return !why;
  };
  doc.Populate(generate);
  return why;
}

using ValidatingStream = rapidjson::EncodedInputStream<rapidjson::UTF8<>, rapidjson::MemoryStream>;

// RapidJSON takes a NUL byte for the end of the text, so `{...}\0anything` parses: a
// parser differential (the bytes are passed on as they came). A successful parse must have
// read the whole text.
std::optional<std::string> unread_rest(const ValidatingStream& in, std::string_view text) {
  if (in.Tell() == text.size()) return std::nullopt;
  return "invalid JSON at offset " + std::to_string(in.Tell()) + ": a NUL byte outside a string";
}

// Collects the top-level members of an object with their byte ranges (see scan_members).
class MemberScanner {
 public:
  MemberScanner(const ValidatingStream& in, std::string_view text, std::vector<JsonMember>& out)
      : in_(in), text_(text), out_(out) {}
  bool is_object() const { return is_object_; }

  bool Null() { return value(JsonKind::Null); }
  bool Bool(bool b) {
    if (in_member()) out_.back().boolean = b;
    return value(JsonKind::Bool);
  }
  bool Int(int i) { return i >= 0 ? Uint64(static_cast<uint64_t>(i)) : value(JsonKind::Number); }
  bool Uint(unsigned u) { return Uint64(u); }
  bool Int64(int64_t i) { return i >= 0 ? Uint64(static_cast<uint64_t>(i)) : value(JsonKind::Number); }
  bool Uint64(uint64_t u) {
    if (in_member()) out_.back().uint = u;
    return value(JsonKind::Number);
  }
  bool Double(double) { return value(JsonKind::Number); }
  bool RawNumber(const char*, rapidjson::SizeType, bool) { return value(JsonKind::Number); }
  bool String(const char* s, rapidjson::SizeType n, bool) {
    if (in_member()) out_.back().string.assign(s, n);
    return value(JsonKind::String);
  }
  bool Key(const char* s, rapidjson::SizeType n, bool) {
    if (depth_ != 1) return true;  // only an object has keys: depth 1 is the top-level object
    JsonMember& m = out_.emplace_back();
    m.key.assign(s, n);
    m.member.begin = previous_end_;
    m.value.begin = value_start(in_.Tell());
    return true;
  }
  bool StartObject() { return open(true); }
  bool StartArray() { return open(false); }
  bool EndObject(rapidjson::SizeType) { return close(JsonKind::Object); }
  bool EndArray(rapidjson::SizeType) { return close(JsonKind::Array); }

 private:
  // A value directly inside the top-level object (not an element of a top-level array).
  bool in_member() const { return depth_ == 1 && is_object_; }
  // RapidJSON calls Start/End before it takes the bracket: the bracket is at Tell().
  bool open(bool object) {
    if (depth_++ == 0) {
      is_object_ = object;
      previous_end_ = in_.Tell() + 1;
    }
    return true;
  }
  bool close(JsonKind kind) {
    --depth_;
    return in_member() ? end_value(kind, in_.Tell() + 1) : true;
  }
  // A scalar has been taken whole when its event comes: it ends at Tell().
  bool value(JsonKind kind) { return in_member() ? end_value(kind, in_.Tell()) : true; }
  bool end_value(JsonKind kind, size_t end) {
    JsonMember& m = out_.back();
    m.kind = kind;
    m.value.end = m.member.end = previous_end_ = end;
    return true;
  }
  // Where a member's value starts: past the blanks, the colon and the blanks after its key.
  size_t value_start(size_t after_key) const {
    size_t at = after_key;
    auto blank = [&](size_t i) { return i < text_.size() && (text_[i] == ' ' || text_[i] == '\t' || text_[i] == '\n' || text_[i] == '\r'); };
    while (blank(at)) ++at;
    if (at < text_.size() && text_[at] == ':') ++at;
    while (blank(at)) ++at;
    return at;
  }

  const ValidatingStream& in_;
  std::string_view text_;
  std::vector<JsonMember>& out_;
  unsigned depth_ = 0;
  bool is_object_ = false;
  size_t previous_end_ = 0;
};

}  // namespace

std::optional<std::string> parse_json(rapidjson::Document& doc, std::string_view text) {
  rapidjson::MemoryStream bytes(text.data(), text.size());
  ValidatingStream in(bytes);
  auto why = parse_stream<kFlags>(doc, in);
  return why ? why : unread_rest(in, text);
}

std::optional<std::string> exact_scan_members(std::string_view text, std::vector<JsonMember>& members) {
  members.clear();
  rapidjson::MemoryStream bytes(text.data(), text.size());
  ValidatingStream in(bytes);
  MemberScanner scanner(in, text, members);
  // The reader's string buffer is reused from one request to the next on this thread.
  thread_local rapidjson::Reader reader;
  auto why = guarded_parse(scanner, [&](auto& handler) { return reader.Parse<kFlags>(in, handler); });
  if (!why) why = unread_rest(in, text);
  if (!why && !scanner.is_object()) return std::string(kJsonNotAnObject);
  return why;
}

std::optional<std::string> scan_members(std::string_view text, std::vector<JsonMember>& members) {
  // The quick pass takes the usual text at a fraction of the cost; what it leaves
  // undecided (errors included, which RapidJSON words) goes the exact way.
  if (fast_scan_members(text, members)) return std::nullopt;
  return exact_scan_members(text, members);
}

}  // namespace apiproxy
