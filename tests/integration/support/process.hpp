// Child processes for the integration tests: the gateway, the mock upstream, redis-server
// and one-shot CLI runs. Output goes to files so a test can poll it and print it on failure.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace it {

using namespace std::chrono_literals;
using EnvMap = std::map<std::string, std::string>;
using Clock = std::chrono::steady_clock;

// A directory removed (recursively) when the object goes away.
class TempDir {
 public:
  explicit TempDir(std::string_view prefix = "apiproxy-it");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  // Writes `text` to `name` inside the directory and returns the full path.
  std::filesystem::path write(const std::string& name, std::string_view text) const;

 private:
  std::filesystem::path path_;
};

// The scratch directory of this test program (removed at exit).
const std::filesystem::path& scratch_dir();

// The few variables a child inherits from the test's own environment: PATH, HOME, locale,
// sanitizer options. Nothing else leaks in (no stray LLM_* or REDIS_URL from the caller).
EnvMap base_env();

// A loopback port that was free a moment ago.
uint16_t free_port();

// Absolute path of `program` found in PATH, or empty.
std::string which(const std::string& program);

std::string read_file(const std::filesystem::path& path);

// One child process. Its stdout and stderr go to files; stdin is /dev/null or a given text.
// The child dies with the test program (PR_SET_PDEATHSIG), and the destructor stops it:
// SIGTERM, then SIGKILL after a grace period.
class Process {
 public:
  Process(std::vector<std::string> argv, EnvMap env, std::string stdin_text = "");
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  const std::string& name() const { return name_; }
  bool running();
  // The exit code (128+N for a signal) once the process ended within `timeout`.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);
  // SIGTERM; SIGKILL after `grace`. Returns the exit code (128+N for a signal).
  int stop(std::chrono::milliseconds grace = 5s);
  void kill_now();
  void signal(int sig);  // e.g. SIGSTOP / SIGCONT

  std::string out() const { return read_file(out_path_); }
  std::string err() const { return read_file(err_path_); }
  // Polls stdout (or stderr) until some line contains `needle`; returns that line. Gives
  // up early when the process exits.
  std::optional<std::string> wait_for_line(bool on_stderr, std::string_view needle,
                                           std::chrono::milliseconds timeout);

 private:
  std::string name_;
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
  std::filesystem::path out_path_, err_path_;

  void reap(int status);
};

struct CommandResult {
  int exit_code = -1;  // -1: timed out (and was killed)
  std::string out, err;
};

// Runs a command to completion (killed after `timeout`).
CommandResult run_command(std::vector<std::string> argv, EnvMap env,
                          std::chrono::milliseconds timeout = 20s, std::string stdin_text = "");

// Polls `pred` every few milliseconds until it holds or `timeout` passes.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout,
                std::chrono::milliseconds every = 20ms) {
  auto deadline = Clock::now() + timeout;
  while (true) {
    if (pred()) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(every);
  }
}

}  // namespace it
