// A connection's deadline: one timer, armed only when the deadline moves earlier than the
// time it is already armed for. A request pushes its connection's deadline later at every
// step (first byte, next body piece); arming a timer at each step costs a timer-queue update
// and often a system call, so instead the timer that fires early finds the deadline moved,
// and waits again for what is left. The deadline never fires early, and late only by the
// event loop's delay.
#pragma once

#include <chrono>
#include <functional>
#include <memory>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

namespace apiproxy {

class Deadline {
 public:
  using Clock = std::chrono::steady_clock;

  // `on_expire` runs (on the executor's thread) when a deadline passes; it is never called
  // after this object is destroyed.
  Deadline(boost::asio::io_context::executor_type executor, std::function<void()> on_expire);
  ~Deadline();
  Deadline(const Deadline&) = delete;
  Deadline& operator=(const Deadline&) = delete;

  void expires_after(Clock::duration d) { expires_at(Clock::now() + d); }
  void expires_at(Clock::time_point at);
  void expires_never() { expires_at(Clock::time_point::max()); }
  // The last deadline set has passed (and on_expire ran). Cleared by setting a new one.
  bool expired() const { return state_->expired; }

 private:
  using Timer = boost::asio::basic_waitable_timer<Clock, boost::asio::wait_traits<Clock>,
                                                  boost::asio::io_context::executor_type>;
  // Shared with the pending wait, so a wait that completes after this object is gone
  // touches only this state, never the connection.
  struct State {
    explicit State(boost::asio::io_context::executor_type ex) : timer(ex) {}
    Timer timer;
    Clock::time_point at = Clock::time_point::max();     // the deadline
    Clock::time_point armed = Clock::time_point::max();  // what the timer waits for
    std::function<void()> on_expire;
    bool expired = false;
  };
  static void arm(const std::shared_ptr<State>& s, Clock::time_point at);
  static void fired(const std::shared_ptr<State>& s);

  std::shared_ptr<State> state_;
};

}  // namespace apiproxy
