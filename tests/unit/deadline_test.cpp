// The upstream connection's lazily armed deadline: moving it later never lets it fire at
// the old time, moving it earlier makes it fire at the new one, and nothing fires for an
// owner that is gone.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "core/upstream/deadline.hpp"

namespace apiproxy {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

class DeadlineTest : public ::testing::Test {
 protected:
  // Runs the event loop for `d`.
  void run_for(Clock::duration d) {
    io_.restart();
    io_.run_for(d);
  }
  boost::asio::io_context io_;
  Clock::time_point fired_at_ = Clock::time_point::max();
  int fired_ = 0;
  std::unique_ptr<Deadline> deadline_ = std::make_unique<Deadline>(io_.get_executor(), [this] {
    ++fired_;
    fired_at_ = Clock::now();
  });
};

TEST_F(DeadlineTest, FiresOnceWhenItPasses) {
  auto start = Clock::now();
  deadline_->expires_after(50ms);
  run_for(300ms);
  EXPECT_EQ(fired_, 1);
  EXPECT_GE(fired_at_ - start, 50ms);
  EXPECT_TRUE(deadline_->expired());
}

TEST_F(DeadlineTest, MovedLaterItDoesNotFireAtTheOldTime) {
  auto start = Clock::now();
  deadline_->expires_after(50ms);
  deadline_->expires_after(250ms);  // the timer still waits for 50 ms, then for the rest
  run_for(150ms);
  EXPECT_EQ(fired_, 0);
  EXPECT_FALSE(deadline_->expired());
  run_for(400ms);
  EXPECT_EQ(fired_, 1);
  EXPECT_GE(fired_at_ - start, 250ms);
}

TEST_F(DeadlineTest, MovedEarlierItFiresAtTheNewTime) {
  auto start = Clock::now();
  deadline_->expires_after(10s);
  deadline_->expires_after(50ms);
  run_for(500ms);
  EXPECT_EQ(fired_, 1);
  EXPECT_LT(fired_at_ - start, 5s);
}

TEST_F(DeadlineTest, NeverMeansNeverAndANewDeadlineCountsAgain) {
  deadline_->expires_after(50ms);
  deadline_->expires_never();
  run_for(200ms);
  EXPECT_EQ(fired_, 0);
  deadline_->expires_after(20ms);
  run_for(200ms);
  EXPECT_EQ(fired_, 1);
  deadline_->expires_after(1h);  // a new deadline clears "expired"
  EXPECT_FALSE(deadline_->expired());
}

TEST_F(DeadlineTest, NothingFiresForAnOwnerThatIsGone) {
  deadline_->expires_after(20ms);
  deadline_.reset();
  run_for(200ms);
  EXPECT_EQ(fired_, 0);
}

}  // namespace
}  // namespace apiproxy
