#include "core/common/json_fast_scan.hpp"

#include "core/common/utf8.hpp"

namespace apiproxy {

namespace {

// Recursive descent over [begin, end), bounded by kMaxJsonDepth. Every method returns false
// at the first thing it does not vouch for; the scan is then undecided.
class FastScanner {
 public:
  FastScanner(std::string_view text, std::vector<JsonMember>& out)
      : begin_(text.data()), p_(text.data()), end_(text.data() + text.size()), out_(out) {}

  bool top_level_object() {
    skip_blanks();
    if (p_ == end_ || *p_ != '{') return false;
    if (!object(1, /*top=*/true)) return false;
    skip_blanks();
    return p_ == end_;
  }

 private:
  size_t offset() const { return static_cast<size_t>(p_ - begin_); }

  void skip_blanks() {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }
  bool take(char c) {
    if (p_ == end_ || *p_ != c) return false;
    ++p_;
    return true;
  }

  // At '{'. `top`: the members are recorded (depth 1), each decoded straight into its
  // JsonMember.
  bool object(unsigned depth, bool top) {
    if (depth > kMaxJsonDepth) return false;
    ++p_;
    size_t previous_end = offset();
    skip_blanks();
    if (take('}')) return true;
    for (;;) {
      JsonMember* m = top ? &out_.emplace_back() : nullptr;
      if (p_ == end_ || *p_ != '"' || !string(m ? &m->key : nullptr)) return false;
      skip_blanks();
      if (!take(':')) return false;
      skip_blanks();
      size_t value_begin = offset();
      if (!value(depth, m)) return false;
      if (m) {
        m->member = {previous_end, offset()};
        m->value = {value_begin, offset()};
        previous_end = offset();
      }
      skip_blanks();
      if (take('}')) return true;
      if (!take(',')) return false;
      skip_blanks();
    }
  }

  // At '['.
  bool array(unsigned depth) {
    if (depth > kMaxJsonDepth) return false;
    ++p_;
    skip_blanks();
    if (take(']')) return true;
    for (;;) {
      if (!value(depth, nullptr)) return false;
      skip_blanks();
      if (take(']')) return true;
      if (!take(',')) return false;
      skip_blanks();
    }
  }

  // Any value, inside a container at `depth`. `m`, when given, is the top-level member it
  // is the value of: it receives what scan_members records.
  bool value(unsigned depth, JsonMember* m) {
    if (p_ == end_) return false;
    JsonKind kind;
    switch (*p_) {
      case '{':
        kind = JsonKind::Object;
        if (!object(depth + 1, false)) return false;
        break;
      case '[':
        kind = JsonKind::Array;
        if (!array(depth + 1)) return false;
        break;
      case '"':
        kind = JsonKind::String;
        if (!string(m ? &m->string : nullptr)) return false;
        break;
      case 't':
        kind = JsonKind::Bool;
        if (!literal("true")) return false;
        if (m) m->boolean = true;
        break;
      case 'f':
        kind = JsonKind::Bool;
        if (!literal("false")) return false;
        break;
      case 'n':
        kind = JsonKind::Null;
        if (!literal("null")) return false;
        break;
      default:
        kind = JsonKind::Number;
        if (!number(m)) return false;
    }
    if (m) m->kind = kind;
    return true;
  }

  bool literal(std::string_view word) {
    if (static_cast<size_t>(end_ - p_) < word.size() || std::string_view(p_, word.size()) != word) return false;
    p_ += word.size();
    return true;
  }

  static bool digit(char c) { return c >= '0' && c <= '9'; }

  // '-'? ('0' | [1-9][0-9]*) ('.' [0-9]+)?  -- exponents are left to RapidJSON. A
  // non-negative integer that fits records its value, as does "-0" (RapidJSON reads it as
  // the integer 0).
  bool number(JsonMember* m) {
    bool minus = take('-');
    if (p_ == end_ || !digit(*p_)) return false;
    const char* digits = p_;
    uint64_t v = 0;
    bool fits = true;
    if (*p_ == '0') {
      ++p_;
    } else {
      for (; p_ != end_ && digit(*p_); ++p_) {
        unsigned d = static_cast<unsigned>(*p_ - '0');
        if (v > (UINT64_MAX - d) / 10) fits = false;
        v = v * 10 + d;
      }
      if (static_cast<size_t>(p_ - digits) > kMaxFastScanDigits) return false;
    }
    bool integer = true;
    if (p_ != end_ && *p_ == '.') {
      ++p_;
      if (p_ == end_ || !digit(*p_)) return false;
      while (p_ != end_ && digit(*p_)) ++p_;
      integer = false;
    }
    if (p_ != end_ && (*p_ == 'e' || *p_ == 'E')) return false;
    if (m && integer && fits && (!minus || v == 0)) m->uint = v;
    return true;
  }

  static int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }
  // Past "\u": four hex digits, or -1.
  long hex4() {
    if (end_ - p_ < 4) return -1;
    long v = 0;
    for (int i = 0; i < 4; ++i) {
      int h = hex_digit(p_[i]);
      if (h < 0) return -1;
      v = v * 16 + h;
    }
    p_ += 4;
    return v;
  }
  // Past "\u": a code point (a surrogate pair joined), or -1 (RapidJSON decides).
  long code_point() {
    long cp = hex4();
    if (cp >= 0xDC00 && cp <= 0xDFFF) return -1;
    if (cp < 0xD800 || cp > 0xDBFF) return cp;
    if (!take('\\') || !take('u')) return -1;
    long low = hex4();
    if (low < 0xDC00 || low > 0xDFFF) return -1;
    return 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
  }
  static void append_utf8(std::string& out, long cp) {
    auto byte = [&](long b) { out.push_back(static_cast<char>(b)); };
    if (cp < 0x80) {
      byte(cp);
    } else if (cp < 0x800) {
      byte(0xC0 | (cp >> 6));
      byte(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      byte(0xE0 | (cp >> 12));
      byte(0x80 | ((cp >> 6) & 0x3F));
      byte(0x80 | (cp & 0x3F));
    } else {
      byte(0xF0 | (cp >> 18));
      byte(0x80 | ((cp >> 12) & 0x3F));
      byte(0x80 | ((cp >> 6) & 0x3F));
      byte(0x80 | (cp & 0x3F));
    }
  }
  // One escape, past the backslash.
  bool escape(std::string* decoded) {
    if (p_ == end_) return false;
    char c = *p_++;
    char plain;
    switch (c) {
      case '"': case '\\': case '/': plain = c; break;
      case 'b': plain = '\b'; break;
      case 'f': plain = '\f'; break;
      case 'n': plain = '\n'; break;
      case 'r': plain = '\r'; break;
      case 't': plain = '\t'; break;
      case 'u': {
        long cp = code_point();
        if (cp < 0) return false;
        if (decoded) append_utf8(*decoded, cp);
        return true;
      }
      default: return false;
    }
    if (decoded) decoded->push_back(plain);
    return true;
  }

  // At '"': to past the closing quote; `decoded` (if given) receives the text.
  bool string(std::string* decoded) {
    ++p_;
    const char* run = p_;  // unescaped bytes not yet appended to `decoded`
    auto flush = [&] {
      if (decoded) decoded->append(run, static_cast<size_t>(p_ - run));
    };
    while (p_ != end_) {
      auto c = static_cast<unsigned char>(*p_);
      if (c == '"') {
        flush();
        ++p_;
        return true;
      }
      if (c == '\\') {
        flush();
        ++p_;
        if (!escape(decoded)) return false;
        run = p_;
      } else if (c < 0x20) {
        return false;
      } else if (c < 0x80) {
        ++p_;
      } else {
        size_t n = utf8_sequence(std::string_view(p_, static_cast<size_t>(end_ - p_)));
        if (n == 0) return false;
        p_ += n;
      }
    }
    return false;
  }

  const char* begin_;
  const char* p_;
  const char* end_;
  std::vector<JsonMember>& out_;
};

}  // namespace

bool fast_scan_members(std::string_view text, std::vector<JsonMember>& members) {
  members.clear();
  return FastScanner(text, members).top_level_object();
}

}  // namespace apiproxy
