// Just enough JSON to read an OpenAI-style model list:
//
//   {"object":"list","data":[{"id":"model-a", ...}, {"id":"model-b", ...}]}
//
// A real adapter would usually link a JSON library, which stays private to the plugin
// (only apiproxy_plugin_entry is exported). This example reads the list by hand so that it
// builds with nothing but the SDK. Malformed input throws apx::InvalidInput: the host then
// keeps the provider's last good model list.
#ifndef EXAMPLE_MODEL_LIST_HPP
#define EXAMPLE_MODEL_LIST_HPP

#include <apiproxy/plugin.hpp>

#include <cctype>
#include <string>
#include <string_view>

namespace example {

class JsonReader {
 public:
  explicit JsonReader(std::string_view text) : s_(text) {}

  // Calls fn(id, raw_entry) for each object in the top-level "data" array with a string
  // "id"; raw_entry is the object's JSON text.
  template <class Fn>
  void for_each_model(Fn&& fn) {
    bool found = false;
    expect('{');
    if (!consume('}')) {
      do {
        std::string key = string();
        expect(':');
        if (key == "data" && peek() == '[') {
          found = true;
          read_entries(fn);
        } else {
          skip_value(0);
        }
      } while (consume(','));
      expect('}');
    }
    if (peek() != '\0') fail("trailing characters");
    if (!found) fail("no \"data\" array");
  }

 private:
  static constexpr int kMaxDepth = 64;  // untrusted input: bound the recursion

  template <class Fn>
  void read_entries(Fn& fn) {
    expect('[');
    if (consume(']')) return;
    do {
      if (peek() != '{') {
        skip_value(1);
        continue;
      }
      size_t start = pos_;
      std::string id;
      expect('{');
      if (!consume('}')) {
        do {
          std::string key = string();
          expect(':');
          if (key == "id" && peek() == '"') id = string();
          else skip_value(2);
        } while (consume(','));
        expect('}');
      }
      if (!id.empty()) fn(std::string_view(id), s_.substr(start, pos_ - start));
    } while (consume(','));
    expect(']');
  }

  void skip_value(int depth) {
    if (depth > kMaxDepth) fail("nested too deeply");
    char c = peek();
    if (c == '"') {
      string();
    } else if (c == '{' || c == '[') {
      const char close = c == '{' ? '}' : ']';
      ++pos_;
      if (consume(close)) return;
      do {
        if (close == '}') {
          string();
          expect(':');
        }
        skip_value(depth + 1);
      } while (consume(','));
      expect(close);
    } else {
      // A number, true, false or null: only skipped, so not checked in detail.
      size_t start = pos_;
      while (pos_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[pos_])) ||
                                  s_[pos_] == '-' || s_[pos_] == '+' || s_[pos_] == '.'))
        ++pos_;
      if (pos_ == start) fail("unexpected character");
    }
  }

  // A string, its escapes decoded (\uXXXX to UTF-8).
  std::string string() {
    expect('"');
    std::string out;
    while (true) {
      if (pos_ >= s_.size()) fail("unterminated string");
      char c = s_[pos_++];
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 0x20) fail("control character in a string");
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos_ >= s_.size()) fail("unterminated string");
      switch (char e = s_[pos_++]) {
        case '"': case '\\': case '/': out += e; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': append_utf8(out, code_point()); break;
        default: fail("bad escape");
      }
    }
  }

  // The code point of a \u escape (the "\u" already read), joining a surrogate pair.
  unsigned code_point() {
    unsigned cp = hex4();
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      if (s_.substr(pos_, 2) != "\\u") fail("lone surrogate");
      pos_ += 2;
      unsigned low = hex4();
      if (low < 0xDC00 || low > 0xDFFF) fail("lone surrogate");
      cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
    } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
      fail("lone surrogate");
    }
    return cp;
  }
  unsigned hex4() {
    if (s_.size() - pos_ < 4) fail("short \\u escape");
    unsigned v = 0;
    for (int i = 0; i < 4; ++i) {
      char h = s_[pos_++];
      v <<= 4;
      if (h >= '0' && h <= '9') v |= static_cast<unsigned>(h - '0');
      else if (h >= 'a' && h <= 'f') v |= static_cast<unsigned>(h - 'a' + 10);
      else if (h >= 'A' && h <= 'F') v |= static_cast<unsigned>(h - 'A' + 10);
      else fail("bad \\u escape");
    }
    return v;
  }
  static void append_utf8(std::string& out, unsigned cp) {
    auto byte = [&](unsigned b) { out += static_cast<char>(b); };
    if (cp < 0x80) return byte(cp);
    if (cp < 0x800) {
      byte(0xC0 | (cp >> 6));
    } else {
      if (cp < 0x10000) {
        byte(0xE0 | (cp >> 12));
      } else {
        byte(0xF0 | (cp >> 18));
        byte(0x80 | ((cp >> 12) & 0x3F));
      }
      byte(0x80 | ((cp >> 6) & 0x3F));
    }
    byte(0x80 | (cp & 0x3F));
  }

  // The next non-space character, not consumed; '\0' at the end.
  char peek() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' ||
                                s_[pos_] == '\r'))
      ++pos_;
    return pos_ < s_.size() ? s_[pos_] : '\0';
  }
  bool consume(char c) {
    if (peek() != c) return false;
    ++pos_;
    return true;
  }
  void expect(char c) {
    if (!consume(c)) fail(std::string("expected '") + c + "'");
  }
  [[noreturn]] void fail(const std::string& what) const {
    throw apx::InvalidInput("model list is not the expected JSON: " + what + " at offset " +
                            std::to_string(pos_));
  }

  std::string_view s_;
  size_t pos_ = 0;
};

template <class Fn>
void for_each_model(std::string_view body, Fn&& fn) {
  JsonReader(body).for_each_model(fn);
}

}  // namespace example

#endif  // EXAMPLE_MODEL_LIST_HPP
