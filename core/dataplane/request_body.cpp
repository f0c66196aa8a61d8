#include "core/dataplane/request_body.hpp"

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
    : text_(std::move(text)), model_(model_value), cut_(cut) {}

std::string RequestBody::for_model(std::string_view model_id) const {
  std::string_view t = text_;
  std::string out;
  out.reserve(t.size() + model_id.size() + 4);
  auto put_model = [&] { append_json_string(out, model_id); };
  if (!cut_) {
    out.append(t.substr(0, model_.begin));
    put_model();
    out.append(t.substr(model_.end));
    return out;
  }
  // The two edits, in the order they appear in the text (they never overlap).
  if (cut_->begin < model_.begin) {
    out.append(t.substr(0, cut_->begin));
    out.append(t.substr(cut_->end, model_.begin - cut_->end));
    put_model();
    out.append(t.substr(model_.end));
  } else {
    out.append(t.substr(0, model_.begin));
    put_model();
    out.append(t.substr(model_.end, cut_->begin - model_.end));
    out.append(t.substr(cut_->end));
  }
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
