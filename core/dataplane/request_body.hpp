// A client's JSON body and where its `model` value sits, so that each attempt sends the
// client's own bytes with that one value swapped: no document is built or re-serialised.
// Other fixed edits are made the same way, on the bytes: a member that is the gateway's and
// not the upstream's (`conversation_id`) is cut out, and a streamed request that did not ask
// for token usage gets `stream_options.include_usage` put in (usage_request.hpp).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/json_parse.hpp"

namespace apiproxy {

// Bytes [span.begin, span.end) of a body replaced by `with`: an empty span inserts, an
// empty `with` cuts.
struct BodyEdit {
  Span span;
  std::string with;
};

class RequestBody {
 public:
  RequestBody() = default;
  // `model_value`: the model string's bytes, quotes included; `cut`: bytes to leave out.
  RequestBody(std::string text, Span model_value, std::optional<Span> cut = std::nullopt);

  // One more fixed edit. Edits never overlap each other nor the model value (the caller
  // edits distinct members); they may come in any order.
  void edit(BodyEdit e);

  // The body to send upstream, naming `model_id` (escaped as a JSON string).
  std::string for_model(std::string_view model_id) const;
  size_t size() const { return text_.size(); }
  std::string_view text() const { return text_; }

 private:
  std::string text_;
  Span model_;
  std::vector<BodyEdit> edits_;  // in text order
};

// The span that removes `members[i]` from its object and leaves valid JSON: the member with
// the comma before it, or — for the first of several — with the comma after it.
Span member_cut(std::string_view text, const std::vector<JsonMember>& members, size_t i);

}  // namespace apiproxy
