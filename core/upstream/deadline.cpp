#include "core/upstream/deadline.hpp"

namespace apiproxy {

Deadline::Deadline(boost::asio::io_context::executor_type executor, std::function<void()> on_expire)
    : state_(std::make_shared<State>(executor)) {
  state_->on_expire = std::move(on_expire);
}

Deadline::~Deadline() {
  state_->on_expire = nullptr;
  state_->timer.cancel();
}

void Deadline::expires_at(Clock::time_point at) {
  state_->at = at;
  state_->expired = false;
  if (at < state_->armed) arm(state_, at);
}

void Deadline::arm(const std::shared_ptr<State>& s, Clock::time_point at) {
  s->armed = at;
  s->timer.expires_at(at);  // cancels a wait for a later time: it completes as aborted
  s->timer.async_wait([s](const boost::system::error_code& ec) {
    if (!ec) fired(s);
  });
}

void Deadline::fired(const std::shared_ptr<State>& s) {
  if (!s->on_expire) return;  // the owner is gone
  s->armed = Clock::time_point::max();
  if (s->at == Clock::time_point::max()) return;  // no deadline now: wait for the next one
  if (Clock::now() < s->at) return arm(s, s->at);  // moved later meanwhile
  s->expired = true;
  s->on_expire();
}

}  // namespace apiproxy
