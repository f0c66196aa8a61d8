#include "core/dataplane/usage_request.hpp"

namespace apiproxy {

namespace {

constexpr std::string_view kIncludeUsage = R"("include_usage":true)";

const JsonMember* find_member(const std::vector<JsonMember>& members, std::string_view key) {
  for (const auto& m : members)
    if (m.key == key) return &m;
  return nullptr;
}

StreamUsagePlan added(Span span, std::string with) { return {StreamUsage::Added, BodyEdit{span, std::move(with)}}; }

// No stream_options: one is put in front of the object's closing brace (only blanks may
// follow it, so it is the last `}` of the text).
StreamUsagePlan add_stream_options(std::string_view text, bool has_members) {
  size_t close = text.rfind('}');
  if (close == std::string_view::npos) return {};
  std::string with = has_members ? "," : "";
  with += R"("stream_options":{)";
  with += kIncludeUsage;
  with += '}';
  return added({close, close}, std::move(with));
}

// stream_options is an object: include_usage decides, or is put in as its first member.
StreamUsagePlan plan_for_object(std::string_view text, Span object) {
  std::vector<JsonMember> options;
  if (scan_members(text.substr(object.begin, object.end - object.begin), options)) return {};
  if (const JsonMember* include = find_member(options, "include_usage")) {
    bool asked = include->kind == JsonKind::Bool && include->boolean;
    return {asked ? StreamUsage::Asked : StreamUsage::Declined, std::nullopt};
  }
  size_t after_brace = object.begin + 1;
  return added({after_brace, after_brace}, std::string(kIncludeUsage) + (options.empty() ? "" : ","));
}

}  // namespace

StreamUsagePlan plan_stream_usage(std::string_view text, const std::vector<JsonMember>& members) {
  const JsonMember* options = find_member(members, "stream_options");
  if (!options) return add_stream_options(text, !members.empty());
  switch (options->kind) {
    case JsonKind::Null: return added(options->value, "{" + std::string(kIncludeUsage) + "}");
    case JsonKind::Object: return plan_for_object(text, options->value);
    default: return {};  // the upstream's to refuse; nothing the gateway can add to
  }
}

}  // namespace apiproxy
