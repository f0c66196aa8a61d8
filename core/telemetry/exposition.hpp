// The Prometheus text exposition format, version 0.0.4: `# HELP` and `# TYPE` lines, then
// one `name{label="value",...} number` line per sample. Only the writer lives here; what
// is written comes from the metric families (family.hpp) and the scrape handler.
//
// Names are checked where families are declared (valid_metric_name / valid_label_name), so
// the writer trusts them; label values and help texts are escaped here, since they carry
// configuration and request data (model ids, provider ids, plugin names).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

namespace apiproxy::telemetry {

inline constexpr std::string_view kExpositionContentType = "text/plain; version=0.0.4; charset=utf-8";

// [a-zA-Z_:][a-zA-Z0-9_:]*
bool valid_metric_name(std::string_view name);
// [a-zA-Z_][a-zA-Z0-9_]*, not starting with "__" (reserved by Prometheus)
bool valid_label_name(std::string_view name);

// Appends `value` escaped for a label value: backslash, double quote and line feed get a
// backslash; bytes that are not valid UTF-8 become U+FFFD, since a scraper rejects them.
void append_label_value(std::string& out, std::string_view value);
// Appends `text` escaped for a HELP line: backslash and line feed.
void append_help(std::string& out, std::string_view text);
// Appends a sample value: shortest round-trip decimal, "+Inf", "-Inf" or "NaN".
void append_number(std::string& out, double value);
void append_number(std::string& out, uint64_t value);
void append_number(std::string& out, int64_t value);
inline void append_number(std::string& out, int value) { append_number(out, static_cast<int64_t>(value)); }

struct Label {
  std::string_view name;
  std::string_view value;
};

class TextWriter {
 public:
  // Starts a family: `# HELP name help` and `# TYPE name type` (counter, gauge, histogram).
  void family(std::string_view name, std::string_view help, std::string_view type);

  // One sample line. `names` and `values` pair up; `extra` (e.g. a histogram's `le`) comes
  // last when its name is not empty.
  template <class Value>
  void sample(std::string_view name, std::span<const std::string> names, std::span<const std::string> values,
              Value value, Label extra = {}) {
    begin_sample(name);
    for (size_t i = 0; i < names.size() && i < values.size(); ++i) add_label(names[i], values[i]);
    if (!extra.name.empty()) add_label(extra.name, extra.value);
    end_sample(value);
  }
  template <class Value>
  void sample(std::string_view name, std::initializer_list<Label> labels, Value value) {
    begin_sample(name);
    for (const Label& l : labels) add_label(l.name, l.value);
    end_sample(value);
  }

  const std::string& text() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  void begin_sample(std::string_view name);
  void add_label(std::string_view name, std::string_view value);
  void end_labels();
  template <class Value>
  void end_sample(Value value) {
    end_labels();
    append_number(out_, value);
    out_ += '\n';
  }

  std::string out_;
  bool any_label_ = false;
};

}  // namespace apiproxy::telemetry
