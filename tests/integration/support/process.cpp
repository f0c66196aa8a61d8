#include "process.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace it {

namespace fs = std::filesystem;

namespace {

std::string base_name(const std::string& path) { return fs::path(path).filename().string(); }

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

TempDir::TempDir(std::string_view prefix) {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/" + std::string(prefix) + "-XXXXXX";
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  if (!::mkdtemp(buf.data())) throw std::runtime_error("mkdtemp failed: " + std::string(std::strerror(errno)));
  path_ = buf.data();
}

TempDir::~TempDir() {
  std::error_code ignored;
  fs::remove_all(path_, ignored);
}

fs::path TempDir::write(const std::string& name, std::string_view text) const {
  fs::path p = path_ / name;
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  if (!out) throw std::runtime_error("cannot write " + p.string());
  return p;
}

const fs::path& scratch_dir() {
  static TempDir dir("apiproxy-it");
  return dir.path();
}

EnvMap base_env() {
  EnvMap env;
  for (const char* name : {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "ASAN_OPTIONS",
                           "UBSAN_OPTIONS", "LSAN_OPTIONS", "TSAN_OPTIONS"})
    if (const char* v = std::getenv(name)) env[name] = v;
  if (!env.count("PATH")) env["PATH"] = "/usr/local/bin:/usr/bin:/bin";
  return env;
}

uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket() failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    throw std::runtime_error("cannot bind a loopback port");
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

std::string which(const std::string& program) {
  if (program.find('/') != std::string::npos) return program;
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/local/bin:/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    fs::path candidate = fs::path(dir.empty() ? "." : dir) / program;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  return {};
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

Process::Process(std::vector<std::string> argv, EnvMap env, std::string stdin_text) {
  if (argv.empty()) throw std::invalid_argument("Process: empty argv");
  static std::atomic<int> counter{0};
  name_ = base_name(argv[0]);
  std::string stem = std::to_string(::getpid()) + "-" + std::to_string(counter++) + "-" + name_;
  out_path_ = scratch_dir() / (stem + ".out");
  err_path_ = scratch_dir() / (stem + ".err");
  fs::path in_path = "/dev/null";
  if (!stdin_text.empty()) {
    in_path = scratch_dir() / (stem + ".in");
    std::ofstream(in_path, std::ios::binary) << stdin_text;
  }

  std::string exe = which(argv[0]);
  if (exe.empty()) throw std::runtime_error("program not found in PATH: " + argv[0]);

  // Everything the child needs is prepared before fork(): after it only async-signal-safe calls.
  std::vector<char*> cargv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  std::vector<std::string> env_strings;
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  std::vector<char*> cenv;
  for (auto& e : env_strings) cenv.push_back(e.data());
  cenv.push_back(nullptr);

  int in_fd = ::open(in_path.c_str(), O_RDONLY | O_CLOEXEC);
  int out_fd = ::open(out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int err_fd = ::open(err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (in_fd < 0 || out_fd < 0 || err_fd < 0) {
    for (int fd : {in_fd, out_fd, err_fd})
      if (fd >= 0) ::close(fd);
    throw std::runtime_error("cannot open the output files of " + name_);
  }
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed: " + std::string(std::strerror(errno)));
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the test program
    if (::getppid() != parent) ::_exit(127);
    ::dup2(in_fd, 0);
    ::dup2(out_fd, 1);
    ::dup2(err_fd, 2);
    ::execve(exe.c_str(), cargv.data(), cenv.data());
    ::_exit(127);
  }
  ::close(in_fd);
  ::close(out_fd);
  ::close(err_fd);
  pid_ = pid;
}

Process::~Process() {
  try {
    stop(3s);
  } catch (...) {
  }
}

void Process::reap(int status) { exit_code_ = decode_status(status); }

bool Process::running() {
  if (exit_code_ || pid_ <= 0) return false;
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    reap(status);
    return false;
  }
  return r == 0;
}

std::optional<int> Process::wait_exit(std::chrono::milliseconds timeout) {
  eventually([&] { return !running(); }, timeout, 5ms);
  return exit_code_;
}

int Process::stop(std::chrono::milliseconds grace) {
  if (!running()) return exit_code_.value_or(-1);
  ::kill(pid_, SIGCONT);  // a stopped process cannot act on SIGTERM
  ::kill(pid_, SIGTERM);
  if (auto code = wait_exit(grace)) return *code;
  kill_now();
  return exit_code_.value_or(-1);
}

void Process::kill_now() {
  if (!running()) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  if (::waitpid(pid_, &status, 0) == pid_) reap(status);
}

void Process::signal(int sig) {
  if (running()) ::kill(pid_, sig);
}

std::optional<std::string> Process::wait_for_line(bool on_stderr, std::string_view needle,
                                                  std::chrono::milliseconds timeout) {
  std::optional<std::string> found;
  auto look = [&] {
    std::stringstream text(on_stderr ? err() : out());
    std::string line;
    while (std::getline(text, line))
      if (line.find(needle) != std::string::npos) {
        found = line;
        return true;
      }
    return false;
  };
  eventually([&] { return look() || !running(); }, timeout, 10ms);
  if (!found) look();  // it may have printed the line and exited at once
  return found;
}

CommandResult run_command(std::vector<std::string> argv, EnvMap env,
                          std::chrono::milliseconds timeout, std::string stdin_text) {
  Process p(std::move(argv), std::move(env), std::move(stdin_text));
  CommandResult r;
  if (auto code = p.wait_exit(timeout)) {
    r.exit_code = *code;
  } else {
    p.kill_now();
    r.exit_code = -1;
  }
  r.out = p.out();
  r.err = p.err();
  return r;
}

}  // namespace it
