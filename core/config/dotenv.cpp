#include "core/config/dotenv.hpp"

#include <cctype>
#include <map>

#include "core/common/text.hpp"

namespace apiproxy {

namespace {

bool is_name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

bool valid_name(std::string_view name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name.front()))) return false;
  for (char c : name)
    if (!is_name_char(c) && c != '.' && c != '-') return false;
  return true;
}

class Parser {
 public:
  Parser(std::string_view text, const VariableLookup& lookup) : text_(text), lookup_(lookup) {}

  DotenvContents run() {
    while (pos_ < text_.size()) parse_line();
    return std::move(out_);
  }

 private:
  std::string_view text_;
  const VariableLookup& lookup_;
  size_t pos_ = 0;
  int line_ = 1;
  DotenvContents out_;
  std::map<std::string, std::string, std::less<>> seen_;

  std::string_view rest_of_line() {
    size_t end = text_.find('\n', pos_);
    if (end == std::string_view::npos) end = text_.size();
    std::string_view line = text_.substr(pos_, end - pos_);
    pos_ = end < text_.size() ? end + 1 : end;
    return line;
  }

  void problem(int line, std::string message) {
    out_.problems.push_back({line, std::move(message)});
  }

  void parse_line() {
    int start_line = line_;
    size_t line_end = text_.find('\n', pos_);
    if (line_end == std::string_view::npos) line_end = text_.size();
    std::string_view head = trim_space(text_.substr(pos_, line_end - pos_));
    if (head.empty() || head.front() == '#') {
      rest_of_line();
      ++line_;
      return;
    }
    // Skip leading blanks and an optional `export `.
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t')) ++pos_;
    if (text_.substr(pos_, 7) == "export " || text_.substr(pos_, 7) == "export\t") pos_ += 7;
    size_t eq = text_.find('=', pos_);
    if (eq == std::string_view::npos || eq > line_end) {
      rest_of_line();
      ++line_;
      problem(start_line, "expected KEY=value");
      return;
    }
    std::string key(trim_space(text_.substr(pos_, eq - pos_)));
    pos_ = eq + 1;
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t')) ++pos_;
    std::optional<std::string> value = parse_value(start_line);
    ++line_;
    if (!value) return;
    if (!valid_name(key)) {
      problem(start_line, "invalid variable name '" + key + "'");
      return;
    }
    seen_[key] = *value;
    out_.entries.emplace_back(std::move(key), std::move(*value));
  }

  std::optional<std::string> parse_value(int start_line) {
    if (pos_ < text_.size() && text_[pos_] == '\'') return parse_single_quoted(start_line);
    if (pos_ < text_.size() && text_[pos_] == '"') return parse_double_quoted(start_line);
    std::string_view raw = rest_of_line();
    // An unquoted value ends at a ` #` comment.
    for (size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '#' && (i == 0 || raw[i - 1] == ' ' || raw[i - 1] == '\t')) {
        raw = raw.substr(0, i);
        break;
      }
    }
    return expand(trim_space(raw));
  }

  std::optional<std::string> parse_single_quoted(int start_line) {
    size_t close = text_.find('\'', pos_ + 1);
    size_t eol = text_.find('\n', pos_);
    if (close == std::string_view::npos || (eol != std::string_view::npos && close > eol)) {
      rest_of_line();
      problem(start_line, "unterminated single quote");
      return std::nullopt;
    }
    std::string value(text_.substr(pos_ + 1, close - pos_ - 1));
    pos_ = close + 1;
    rest_of_line();  // anything after the closing quote is a comment
    return value;
  }

  std::optional<std::string> parse_double_quoted(int start_line) {
    std::string raw;
    size_t i = pos_ + 1;
    for (; i < text_.size() && text_[i] != '"'; ++i) {
      char c = text_[i];
      if (c == '\r' && i + 1 < text_.size() && text_[i + 1] == '\n') continue;  // CRLF -> LF
      if (c == '\n') ++line_;
      if (c == '\\' && i + 1 < text_.size()) {
        char n = text_[++i];
        switch (n) {
          case 'n': raw += '\n'; break;
          case 't': raw += '\t'; break;
          case 'r': raw += '\r'; break;
          case '"': raw += '"'; break;
          case '\\': raw += "\\\\"; break;  // stays escaped: expand() turns it into one
          case '$': raw += "\\$"; break;  // kept escaped so expand() leaves it literal
          default: raw += '\\'; raw += n;
        }
        continue;
      }
      raw += c;
    }
    if (i >= text_.size()) {
      // Lose only this line, as python-dotenv does, not the rest of the file.
      line_ = start_line;
      rest_of_line();
      problem(start_line, "unterminated double quote");
      return std::nullopt;
    }
    pos_ = i + 1;
    rest_of_line();
    return expand(raw, /*quoted=*/true);
  }

  std::string resolve(std::string_view name) {
    if (auto v = lookup_(name)) return *v;
    if (auto it = seen_.find(name); it != seen_.end()) return it->second;
    return {};
  }

  // `quoted`: the text came from double quotes, where \\ was kept escaped for us.
  std::string expand(std::string_view s, bool quoted = false) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '\\' && i + 1 < s.size() && (s[i + 1] == '$' || (quoted && s[i + 1] == '\\'))) {
        out += s[i + 1];
        ++i;
      } else if (s[i] == '$' && i + 1 < s.size() && s[i + 1] == '{') {
        size_t close = s.find('}', i + 2);
        if (close == std::string_view::npos) {
          out += s.substr(i);
          break;
        }
        std::string_view inner = s.substr(i + 2, close - i - 2);
        size_t dflt = inner.find(":-");
        std::string value = resolve(inner.substr(0, dflt));
        if (value.empty() && dflt != std::string_view::npos) value = inner.substr(dflt + 2);
        out += value;
        i = close;
      } else if (s[i] == '$' && i + 1 < s.size() && is_name_char(s[i + 1]) &&
                 !std::isdigit(static_cast<unsigned char>(s[i + 1]))) {
        size_t end = i + 1;
        while (end < s.size() && is_name_char(s[end])) ++end;
        out += resolve(s.substr(i + 1, end - i - 1));
        i = end - 1;
      } else {
        out += s[i];
      }
    }
    return out;
  }
};

}  // namespace

DotenvContents parse_dotenv(std::string_view text, const VariableLookup& lookup) {
  return Parser(text, lookup).run();
}

}  // namespace apiproxy
