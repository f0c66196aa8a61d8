// Driving an io_context from a fuzz harness: one input's work runs on the harness's own
// thread, until it is done or a wall-time bound passes, so a stuck input costs a bounded
// time instead of hanging the fuzzer.
#pragma once

#include <chrono>

#include <boost/asio/io_context.hpp>

namespace apiproxy::fuzz {

// Runs handlers of `io` until `done()` holds or `bound` has passed. Returns done(). Returns
// early when `io` runs out of work, since nothing can change `done()` any more.
template <class Done>
bool run_until(boost::asio::io_context& io, Done&& done, std::chrono::milliseconds bound) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + bound;
  while (!done()) {
    const auto now = Clock::now();
    if (now >= deadline) return false;
    if (io.stopped()) io.restart();
    if (io.run_one_for(deadline - now) == 0 && io.stopped()) {
      io.restart();  // out of work
      return done();
    }
  }
  return true;
}

// Runs every handler that is ready now, and again until none is (cancelled operations
// complete this way), so that nothing of one input is left for the next.
inline void drain_ready(boost::asio::io_context& io) {
  for (;;) {
    if (io.stopped()) io.restart();
    if (io.poll() == 0) break;
  }
  if (io.stopped()) io.restart();
}

}  // namespace apiproxy::fuzz
