// Process logging on stderr, as text (the default) or as JSON lines (LOG_FORMAT=json):
//
//   text  2024-05-01T12:00:00.123+0000 info APIProxy 0.1.0 listening on ...
//   json  {"time":"2024-05-01T12:00:00.123Z","level":"info","logger":"apiproxy","msg":"APIProxy 0.1.0 listening on ..."}
//
// Two loggers share one sink (so their lines never interleave): spdlog's default logger
// "apiproxy" for everything, and "access" for the one line per answered request. In JSON
// mode an access record carries its fields as a JSON object under "access" (see
// access_logger()), so log pipelines get numbers and strings, not one string to re-parse.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <spdlog/formatter.h>
#include <spdlog/logger.h>

namespace apiproxy::telemetry {

// Sets up both loggers at `level` (a spdlog level name; "warning" works too). `json`
// selects JSON lines. Calling it again replaces the previous setup.
void configure_logging(std::string_view level, bool json);

// True once configure_logging chose JSON.
bool json_logs();

// The access logger (spdlog's default logger until configure_logging ran). In JSON mode a
// message is "<text>\n<JSON object>": the text becomes "msg", the object "access".
spdlog::logger& access_logger();

// Appends `s` as a JSON string literal (quotes included): ", \ and control characters
// escaped, bytes that are not valid UTF-8 replaced by U+FFFD, so every line parses.
void append_json_string(std::string& out, std::string_view s);

// One JSON object per record: time (UTC, ISO 8601, milliseconds), level, logger, msg.
// `fields_key` not empty: the payload is "<msg>\n<JSON object>" and the object is put
// under that key as is (the caller guarantees it is JSON: only the access log uses it).
class JsonLogFormatter final : public spdlog::formatter {
 public:
  explicit JsonLogFormatter(std::string fields_key = "") : fields_key_(std::move(fields_key)) {}
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override;
  std::unique_ptr<spdlog::formatter> clone() const override;

 private:
  std::string fields_key_;
};

}  // namespace apiproxy::telemetry
