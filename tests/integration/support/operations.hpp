// Helpers for the operations tests (plugin reload, plugin faults, graceful shutdown): a
// private plugin directory per test, a summary of a relayed SSE stream, the plugin copies a
// process has mapped, and samples of the Prometheus text format.
//
// Only test programs that define APIPROXY_IT_PLUGIN_DIR (the build's bundled plugins) and
// APIPROXY_IT_FIXTURE_PLUGIN_DIR (test-plugins/broken) include this header; see
// tests/integration/CMakeLists.txt.
#pragma once

#if !defined(APIPROXY_IT_PLUGIN_DIR) || !defined(APIPROXY_IT_FIXTURE_PLUGIN_DIR)
#error "operations.hpp needs APIPROXY_IT_PLUGIN_DIR and APIPROXY_IT_FIXTURE_PLUGIN_DIR"
#endif

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "json.hpp"
#include "process.hpp"
#include "sse.hpp"

namespace it::ops {

namespace fs = std::filesystem;

inline fs::path bundled_plugin_dir() { return APIPROXY_IT_PLUGIN_DIR; }
inline fs::path fixture_plugin_dir() { return APIPROXY_IT_FIXTURE_PLUGIN_DIR; }

// The bundled plugin files, as the build names them.
inline constexpr const char* kOpenAiAdapter = "provider_openai.so";
inline constexpr const char* kAzureAdapter = "provider_azure.so";

// A plugin directory of one test's own, removed with the object. Files are copied in, so
// tests never touch the build's directories and can run in parallel.
class PluginDir {
 public:
  PluginDir() : dir_("apiproxy-it-plugins") {}
  std::string path() const { return dir_.path().string(); }
  fs::path file(const std::string& name) const { return dir_.path() / name; }
  bool has(const std::string& name) const { return fs::exists(file(name)); }

  // Every *.so the build bundles (4 strategies, 3 provider adapters).
  void add_bundled() {
    size_t n = 0;
    for (const auto& e : fs::directory_iterator(bundled_plugin_dir()))
      if (e.path().extension() == ".so") {
        fs::copy_file(e.path(), file(e.path().filename().string()), fs::copy_options::overwrite_existing);
        ++n;
      }
    if (n == 0) throw std::runtime_error("no bundled plugins in " + bundled_plugin_dir().string());
  }
  // A bundled plugin file (e.g. provider_openai.so), under its own name.
  void add_bundled(const std::string& name) { copy_in(bundled_plugin_dir() / name, name); }
  // A test fixture (e.g. good_strategy.so), under `as` (default: its own name).
  void add_fixture(const std::string& name, const std::string& as = "") {
    copy_in(fixture_plugin_dir() / name, as.empty() ? name : as);
  }
  void remove(const std::string& name) {
    if (!fs::remove(file(name))) throw std::runtime_error("no plugin file " + name + " to remove");
  }

  // Rewrites `name` in place (same inode, as `cp` over an existing file does) with the bytes
  // of `from`, so a gateway that mapped the file itself would see its code change under it.
  void overwrite_in_place(const std::string& name, const fs::path& from) {
    std::string bytes = read_file(from);
    if (bytes.empty()) throw std::runtime_error("empty or missing " + from.string());
    ino_t before = inode(name);
    {
      std::ofstream out(file(name), std::ios::binary | std::ios::trunc);
      out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
      if (!out) throw std::runtime_error("cannot rewrite " + file(name).string());
    }
    if (inode(name) != before) throw std::runtime_error("rewriting " + name + " changed its inode");
  }
  // A new build of the same plugin: the same code with a few bytes appended (the loader
  // ignores them; the content, and so its hash, changes). In place, like overwrite_in_place.
  void change_content(const std::string& name) {
    std::ofstream out(file(name), std::ios::binary | std::ios::app);
    out << "\n-- rebuilt --\n";
    if (!out) throw std::runtime_error("cannot append to " + file(name).string());
  }

 private:
  TempDir dir_;

  void copy_in(const fs::path& from, const std::string& as) {
    if (!fs::exists(from)) throw std::runtime_error("missing plugin " + from.string() + " (is it built?)");
    fs::copy_file(from, file(as), fs::copy_options::overwrite_existing);
  }
  ino_t inode(const std::string& name) const {
    struct stat st {};
    if (::stat(file(name).c_str(), &st) != 0) throw std::runtime_error("cannot stat " + file(name).string());
    return st.st_ino;
  }
};

// The mappings of `pid` that belong to the gateway's private copy of plugin file `name`
// (it loads each plugin from a memfd named "apiproxy-plugin:<file name>"); 0 once unloaded.
inline int mapped_plugin_copies(pid_t pid, const std::string& name) {
  std::ifstream maps("/proc/" + std::to_string(pid) + "/maps");
  std::string line, needle = "memfd:apiproxy-plugin:" + name + " ";
  int n = 0;
  while (std::getline(maps, line)) n += (line + " ").find(needle) != std::string::npos;
  return n;
}

// A whole relayed chat-completion stream, read to its end.
struct StreamSummary {
  int status = 0;
  std::string provider;              // X-APIProxy-Provider
  std::vector<std::string> events;   // every event's data, [DONE] included
  std::string content;               // the delta contents joined
  int content_events = 0;            // events that carried a piece of content
  bool complete = false;             // the chunked body ended properly
  bool done() const { return !events.empty() && events.back() == "[DONE]"; }
  std::string dump() const {
    std::ostringstream s;
    s << "status " << status << ", provider '" << provider << "', " << events.size() << " events, "
      << content_events << " with content, complete " << complete << ", content '" << content << "'";
    if (!events.empty()) s << ", last event: " << events.back();
    return s.str();
  }
};

// Checks that `s` answered 200 and sent its first event (so it is in flight), and adds
// that event to `first`.
inline std::unique_ptr<SseStream> in_flight(std::unique_ptr<SseStream> s, std::vector<std::string>& first) {
  EXPECT_TRUE(s->read_head()) << "no response head";
  EXPECT_EQ(s->status(), 200) << s->body();
  auto e = s->next_event();
  EXPECT_TRUE(e) << "no first event; body so far:\n" << s->body();
  if (e) first.push_back(*e);
  return s;
}

// Reads `s` to the end (or until the server hangs up / a wait times out).
inline StreamSummary finish_stream(SseStream& s, std::vector<std::string> already = {}) {
  StreamSummary out;
  if (!s.read_head()) return out;
  out.status = s.status();
  out.provider = s.header("x-apiproxy-provider");
  out.events = std::move(already);
  for (auto& e : s.rest()) out.events.push_back(std::move(e));
  out.complete = s.complete();
  for (const auto& e : out.events) {
    if (e == "[DONE]") continue;
    auto d = parse_json(e);
    if (!d.IsObject() || !d.HasMember("choices") || !d["choices"].IsArray() || d["choices"].Empty()) continue;
    const auto& c = d["choices"][0];
    if (!c.IsObject() || !c.HasMember("delta") || !c["delta"].IsObject()) continue;
    std::string piece = str(c["delta"], "content");
    if (!piece.empty()) ++out.content_events;
    out.content += piece;
  }
  return out;
}

// The value of the sample `family{labels}` in a Prometheus text exposition, whatever the
// label order; nullopt when there is no such sample.
inline std::optional<double> prom_sample(const std::string& text, const std::string& family,
                                         const std::map<std::string, std::string>& labels) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#' || line.rfind(family + "{", 0) != 0) continue;
    auto close = line.rfind('}');
    if (close == std::string::npos) continue;
    std::string inside = line.substr(family.size() + 1, close - family.size() - 1);
    bool all = true;
    for (const auto& [k, v] : labels) all = all && ("," + inside + ",").find("," + k + "=\"" + v + "\",") != std::string::npos;
    if (!all) continue;
    return std::strtod(line.c_str() + close + 1, nullptr);
  }
  return std::nullopt;
}

// How many times `needle` occurs in `text`.
inline int occurrences(std::string_view text, std::string_view needle) {
  int n = 0;
  for (auto at = text.find(needle); at != std::string_view::npos; at = text.find(needle, at + needle.size())) ++n;
  return n;
}

}  // namespace it::ops
