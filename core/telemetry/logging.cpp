#include "core/telemetry/logging.hpp"

#include <ctime>

#include <atomic>

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "core/common/utf8.hpp"

namespace apiproxy::telemetry {

namespace {

// %* is the message with control characters escaped (EscapedMessage).
constexpr const char* kTextPattern = "%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ %*";

std::atomic<bool> g_json{false};
// Set once at start-up, before any worker thread exists; read by every request after.
std::shared_ptr<spdlog::logger> g_access;


void append(spdlog::memory_buf_t& dest, std::string_view s) { dest.append(s.data(), s.data() + s.size()); }

void append_time(spdlog::memory_buf_t& dest, spdlog::log_clock::time_point t) {
  using namespace std::chrono;
  auto since = t.time_since_epoch();
  std::time_t secs = duration_cast<seconds>(since).count();
  auto millis = duration_cast<milliseconds>(since).count() % 1000;
  if (millis < 0) millis += 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  int n = std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                        tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(millis));
  dest.append(buf, buf + n);
}

// A text log line is one record: a newline or other control character inside a message
// (say, from a value a client sent) is written escaped, so it can never forge another line.
class EscapedMessage final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    static constexpr char kHex[] = "0123456789abcdef";
    for (char ch : std::string_view(msg.payload.data(), msg.payload.size())) {
      auto c = static_cast<unsigned char>(ch);
      if (c >= 0x20 && c != 0x7f) {
        dest.push_back(ch);
        continue;
      }
      const char escaped[] = {'\\', 'x', kHex[c >> 4], kHex[c & 0xf]};
      if (c == '\n') append(dest, "\\n");
      else if (c == '\r') append(dest, "\\r");
      else if (c == '\t') append(dest, "\\t");
      else dest.append(escaped, escaped + sizeof escaped);
    }
  }
  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<EscapedMessage>(); }
};

std::unique_ptr<spdlog::formatter> text_formatter() {
  auto f = std::make_unique<spdlog::pattern_formatter>();
  f->add_flag<EscapedMessage>('*').set_pattern(kTextPattern);
  return f;
}

}  // namespace

void append_json_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  while (!s.empty()) {
    unsigned char c = static_cast<unsigned char>(s[0]);
    size_t n = 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 0xf];
        } else if ((n = utf8_sequence(s)) > 0) {
          out.append(s.data(), n);
        } else {
          out += "\\ufffd";
          n = 1;
        }
    }
    s.remove_prefix(n);
  }
  out += '"';
}

void JsonLogFormatter::format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) {
  std::string_view payload(msg.payload.data(), msg.payload.size());
  std::string_view fields;
  if (!fields_key_.empty()) {
    auto nl = payload.find('\n');
    if (nl != std::string_view::npos) {
      fields = payload.substr(nl + 1);
      payload = payload.substr(0, nl);
    }
  }
  thread_local std::string scratch;  // the escaped strings; reused, so no allocation per line
  append(dest, "{\"time\":\"");
  append_time(dest, msg.time);
  append(dest, "\",\"level\":");
  scratch.clear();
  auto level = spdlog::level::to_string_view(msg.level);
  append_json_string(scratch, std::string_view(level.data(), level.size()));
  scratch += ",\"logger\":";
  append_json_string(scratch, std::string_view(msg.logger_name.data(), msg.logger_name.size()));
  scratch += ",\"msg\":";
  append_json_string(scratch, payload);
  append(dest, scratch);
  if (!fields.empty()) {
    append(dest, ",\"");
    append(dest, fields_key_);
    append(dest, "\":");
    append(dest, fields);
  }
  append(dest, "}\n");
}

std::unique_ptr<spdlog::formatter> JsonLogFormatter::clone() const {
  return std::make_unique<JsonLogFormatter>(fields_key_);
}

void configure_logging(std::string_view level, bool json) {
  // spdlog keeps formatters in sinks, so each logger gets its own sink; the console sinks
  // share one process-wide mutex, so lines of the two loggers still never interleave.
  // JSON lines never carry colour codes, whatever stderr is.
  auto make_sink = [json]() -> spdlog::sink_ptr {
    if (json) return std::make_shared<spdlog::sinks::stderr_sink_mt>();
    return std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  };
  auto main = std::make_shared<spdlog::logger>("apiproxy", make_sink());
  auto access = std::make_shared<spdlog::logger>("access", make_sink());
  auto lvl = spdlog::level::from_str(std::string(level == "warning" ? "warn" : level));
  for (auto* l : {main.get(), access.get()}) {
    l->set_level(lvl);
    if (json) l->set_formatter(std::make_unique<JsonLogFormatter>(l == access.get() ? "access" : ""));
    else l->set_formatter(text_formatter());
  }
  spdlog::set_default_logger(main);
  g_access = access;
  g_json.store(json);
}

bool json_logs() { return g_json.load(std::memory_order_relaxed); }

spdlog::logger& access_logger() { return g_access ? *g_access : *spdlog::default_logger_raw(); }

}  // namespace apiproxy::telemetry
