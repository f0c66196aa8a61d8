#include "core/config/environment.hpp"

#include <unistd.h>  // environ

#include <fstream>
#include <sstream>

namespace apiproxy {

namespace {

Environment::Map process_variables() {
  Environment::Map out;
  for (char** e = environ; e && *e; ++e) {
    std::string_view entry(*e);
    auto eq = entry.find('=');
    if (eq == std::string_view::npos) continue;
    out.emplace(std::string(entry.substr(0, eq)), std::string(entry.substr(eq + 1)));
  }
  return out;
}

VariableLookup lookup_in(const Environment::Map& m) {
  return [&m](std::string_view name) -> std::optional<std::string> {
    if (auto it = m.find(name); it != m.end()) return it->second;
    return std::nullopt;
  };
}

Environment::Map to_map(const DotenvContents& contents) {
  Environment::Map out;
  for (const auto& [k, v] : contents.entries) out[k] = v;
  return out;
}

}  // namespace

Environment::Environment(Map file, Map process) : merged_(std::move(file)) {
  for (auto& [k, v] : process) merged_[k] = std::move(v);
}

Environment Environment::load_process() {
  Map process = process_variables();
  std::string path = "./.env";
  bool named = false;
  if (auto it = process.find("APIPROXY_ENV_FILE"); it != process.end() && !it->second.empty()) {
    path = it->second;
    named = true;
  }
  std::ifstream in(path);
  if (!in) {
    Environment env({}, std::move(process));
    if (named) env.problems_.push_back({0, "cannot read APIPROXY_ENV_FILE '" + path + "'"});
    return env;
  }
  std::stringstream text;
  text << in.rdbuf();
  DotenvContents contents = parse_dotenv(text.str(), lookup_in(process));
  Environment env(to_map(contents), std::move(process));
  env.source_ = path;
  env.problems_ = std::move(contents.problems);
  return env;
}

Environment Environment::from_text(std::string_view file_text, Map process) {
  DotenvContents contents = parse_dotenv(file_text, lookup_in(process));
  Environment env(to_map(contents), std::move(process));
  env.source_ = "<text>";
  env.problems_ = std::move(contents.problems);
  return env;
}

std::optional<std::string> Environment::get(std::string_view name) const {
  if (auto it = merged_.find(name); it != merged_.end()) return it->second;
  return std::nullopt;
}

std::string Environment::get_or(std::string_view name, std::string_view fallback) const {
  auto v = get(name);
  return v && !v->empty() ? *v : std::string(fallback);
}

std::vector<std::pair<std::string, std::string>> Environment::with_prefix(
    std::string_view prefix) const {
  std::vector<std::pair<std::string, std::string>> out;
  for (auto it = merged_.lower_bound(prefix);
       it != merged_.end() && std::string_view(it->first).substr(0, prefix.size()) == prefix; ++it)
    out.emplace_back(it->first.substr(prefix.size()), it->second);
  return out;
}

}  // namespace apiproxy
