#include "core/telemetry/exposition.hpp"

#include <charconv>
#include <cmath>

#include "core/common/utf8.hpp"

namespace apiproxy::telemetry {

namespace {

bool name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool name_rest(char c) { return name_start(c) || (c >= '0' && c <= '9'); }


template <class Integer>
void append_integer(std::string& out, Integer value) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, r.ptr);
}

}  // namespace

bool valid_metric_name(std::string_view name) {
  if (name.empty() || !(name_start(name[0]) || name[0] == ':')) return false;
  for (char c : name)
    if (!(name_rest(c) || c == ':')) return false;
  return true;
}

bool valid_label_name(std::string_view name) {
  if (name.empty() || !name_start(name[0]) || name.substr(0, 2) == "__") return false;
  for (char c : name)
    if (!name_rest(c)) return false;
  return true;
}

void append_label_value(std::string& out, std::string_view value) {
  while (!value.empty()) {
    char c = value[0];
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else if (size_t n = utf8_sequence(value); n > 0) {
      out.append(value.data(), n);
      value.remove_prefix(n);
      continue;
    } else {
      out += "\xEF\xBF\xBD";  // U+FFFD for one byte that starts no valid sequence
    }
    value.remove_prefix(1);
  }
}

void append_help(std::string& out, std::string_view text) {
  for (char c : text) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
}

void append_number(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "NaN";
    return;
  }
  if (std::isinf(value)) {
    out += value > 0 ? "+Inf" : "-Inf";
    return;
  }
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, value);  // shortest text that reads back exactly
  out.append(buf, r.ptr);
}

void append_number(std::string& out, uint64_t value) { append_integer(out, value); }
void append_number(std::string& out, int64_t value) { append_integer(out, value); }

void TextWriter::family(std::string_view name, std::string_view help, std::string_view type) {
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  append_help(out_, help);
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += type;
  out_ += '\n';
}

void TextWriter::begin_sample(std::string_view name) {
  out_ += name;
  any_label_ = false;
}

void TextWriter::add_label(std::string_view name, std::string_view value) {
  out_ += any_label_ ? ',' : '{';
  any_label_ = true;
  out_ += name;
  out_ += "=\"";
  append_label_value(out_, value);
  out_ += '"';
}

void TextWriter::end_labels() {
  if (any_label_) out_ += '}';
  out_ += ' ';
}

}  // namespace apiproxy::telemetry
