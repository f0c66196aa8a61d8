// A private redis-server for unit tests that need a real one: started on a free loopback
// port in its own temporary directory, killed when the object goes.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "core/store/redis_url.hpp"

namespace apiproxy::test {

using namespace std::chrono_literals;

// The path of an executable on PATH, or "".
inline std::string find_program(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string p = path ? path : "/usr/local/bin:/usr/bin:/bin";
  size_t start = 0;
  while (start <= p.size()) {
    size_t colon = p.find(':', start);
    if (colon == std::string::npos) colon = p.size();
    std::string candidate = p.substr(start, colon - start) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = colon + 1;
  }
  return "";
}

// A free TCP port on 127.0.0.1 (bound then released).
inline int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);
  ::close(fd);
  return port;
}

// A blocking one-shot exchange with a server on 127.0.0.1:port: sends `request`, returns
// the first bytes of the reply ("" when it cannot connect).
inline std::string raw_exchange(int port, const std::string& request) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  timeval tv{0, 500000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string out;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::send(fd, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size())) {
    char buf[256];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n > 0) out.assign(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

// A redis-server child process on a loopback port.
class RedisServer {
 public:
  static const std::string& program() {
    static const std::string p = find_program("redis-server");
    return p;
  }
  static bool available() { return !program().empty(); }

  RedisServer() = default;
  ~RedisServer() { stop(); }
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  // Starts on `port` (0: a free one) with extra arguments; false (with a reason) on failure.
  bool start(int port = 0, std::vector<std::string> extra = {}) {
    stop();
    port_ = port ? port : free_port();
    if (dir_.empty()) {
      char tmpl[] = "/tmp/apiproxy-redis-XXXXXX";
      if (!::mkdtemp(tmpl)) return fail("mkdtemp failed");
      dir_ = tmpl;
    }
    std::vector<std::string> args{program(), "--port", std::to_string(port_), "--bind", "127.0.0.1",
                                  "--save", "", "--appendonly", "no", "--dir", dir_,
                                  "--logfile", dir_ + "/redis.log"};
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = ::fork();
    if (pid < 0) return fail("fork failed");
    if (pid == 0) {
      int devnull = ::open("/dev/null", O_RDWR);
      if (devnull >= 0) {
        ::dup2(devnull, 0);
        ::dup2(devnull, 1);
        ::dup2(devnull, 2);
      }
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    pid_ = pid;
    // Ready when it answers PING (or refuses it for want of AUTH).
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return fail("redis-server exited during start-up (see " + dir_ + "/redis.log)");
      }
      std::string reply = raw_exchange(port_, "PING\r\n");
      if (!reply.empty() && (reply[0] == '+' || reply[0] == '-')) return true;
      std::this_thread::sleep_for(20ms);
    }
    stop();
    return fail("redis-server did not answer PING within 5 s");
  }

  void stop() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
      pid_ = -1;
    }
  }

  int port() const { return port_; }
  const std::string& error() const { return error_; }

  RedisUrl url(std::string password = "", std::string user = "", int db = 0) const {
    RedisUrl u;
    u.host = "127.0.0.1";
    u.port = std::to_string(port_);
    u.password = std::move(password);
    u.user = std::move(user);
    u.db = db;
    return u;
  }

 private:
  bool fail(std::string why) {
    error_ = std::move(why);
    return false;
  }
  pid_t pid_ = -1;
  int port_ = 0;
  std::string dir_;
  std::string error_;
};

}  // namespace apiproxy::test
