#include "core/dataplane/sse_framer.hpp"

namespace apiproxy {

std::optional<std::string_view> SseFramer::next(std::string_view piece) {
  if (partial_.empty()) {
    size_t whole = complete_sse_events(piece);
    if (whole == piece.size()) return piece;  // the usual case: the piece ends an event
    partial_.assign(piece.substr(whole));
    if (partial_.size() > kMaxSseEventBytes) return std::nullopt;
    return piece.substr(0, whole);
  }
  partial_.append(piece);
  size_t whole = complete_sse_events(partial_);
  whole_.assign(partial_, 0, whole);
  partial_.erase(0, whole);
  if (partial_.size() > kMaxSseEventBytes) return std::nullopt;
  return std::string_view(whole_);
}

std::string_view SseFramer::finish() {
  if (partial_.empty()) return {};
  whole_ = std::move(partial_);
  whole_ += whole_.back() == '\n' ? "\n" : "\n\n";
  partial_.clear();
  return whole_;
}

}  // namespace apiproxy
