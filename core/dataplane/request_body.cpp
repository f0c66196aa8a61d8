#include "core/dataplane/request_body.hpp"

#include <algorithm>

namespace apiproxy {

namespace {

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    // Model names are printable ASCII (core/common/identifiers.hpp): only these two need
    // escaping.
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
}

}  // namespace

RequestBody::RequestBody(std::string text, Span model_value, std::optional<Span> cut)
    : text_(std::move(text)), model_(model_value) {
  if (cut) edit({*cut, ""});
}

void RequestBody::edit(BodyEdit e) {
  auto at = std::upper_bound(edits_.begin(), edits_.end(), e.span.begin,
                             [](size_t begin, const BodyEdit& other) { return begin < other.span.begin; });
  edits_.insert(at, std::move(e));
}

std::string RequestBody::for_model(std::string_view model_id) const {
  std::string_view t = text_;
  std::string out;
  size_t added = model_id.size() + 4;
  for (const auto& e : edits_) added += e.with.size();
  out.reserve(t.size() + added);
  size_t copied = 0;  // text before this offset is in `out` (or was edited away)
  bool model_done = false;
  auto replace = [&](Span span, auto&& put) {
    out.append(t.substr(copied, span.begin - copied));
    put();
    copied = span.end;
  };
  auto put_model = [&] {
    replace(model_, [&] { append_json_string(out, model_id); });
    model_done = true;
  };
  // The edits and the model in the order they appear in the text (they never overlap).
  for (const auto& e : edits_) {
    if (!model_done && model_.begin <= e.span.begin) put_model();
    replace(e.span, [&] { out += e.with; });
  }
  if (!model_done) put_model();
  out.append(t.substr(copied));
  return out;
}

Span member_cut(std::string_view text, const std::vector<JsonMember>& members, size_t i) {
  Span cut = members[i].member;
  if (i == 0 && members.size() > 1) {
    // The first member follows the `{`: take the comma after it instead of the one before.
    size_t comma = text.find(',', cut.end);
    cut.end = comma == std::string_view::npos ? cut.end : comma + 1;
  }
  return cut;
}

}  // namespace apiproxy
