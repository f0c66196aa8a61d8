// Helpers for the adversarial tests (issue 9): what a process costs (RSS, CPU time,
// descriptors, listening sockets, read from /proc), unique nonces a mock echoes back, the
// mock's per-request misbehaviour (tests/mock_upstream/misbehaviour.hpp), a raw connection
// that floods the gateway without ever blocking the test, and checks of a raw response head.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "http_client.hpp"
#include "json.hpp"

namespace it::adv {

// ------------------------------------------------------------------------------ /proc ---

// VmRSS of `pid` in KiB; -1 when the process is gone.
inline long rss_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  return -1;
}

inline double rss_mib(pid_t pid) { return static_cast<double>(rss_kib(pid)) / 1024.0; }

// User + system CPU time `pid` has used, in seconds; -1 when the process is gone.
inline double cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto close = all.rfind(')');  // the command name may hold spaces and parentheses
  if (close == std::string::npos) return -1;
  std::istringstream rest(all.substr(close + 2));
  std::string field;
  // After ") ": state(3) ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime(14) stime(15)
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::strtoull(field.c_str(), nullptr, 10);
    if (i == 15) stime = std::strtoull(field.c_str(), nullptr, 10);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// Open descriptors of `pid`.
inline int open_fds(pid_t pid) {
  std::error_code ec;
  int n = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
    ++n;
  return n;
}

// The local IPv4 addresses (dotted) of the TCP sockets listening on `port` (/proc/net/tcp).
inline std::vector<std::string> listening_addresses(uint16_t port) {
  std::vector<std::string> out;
  std::ifstream in("/proc/net/tcp");
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string slot, local, remote, state;
    f >> slot >> local >> remote >> state;
    if (state != "0A") continue;  // TCP_LISTEN
    auto colon = local.find(':');
    if (colon == std::string::npos) continue;
    if (std::strtoul(local.substr(colon + 1).c_str(), nullptr, 16) != port) continue;
    in_addr a{};
    a.s_addr = static_cast<in_addr_t>(std::strtoul(local.substr(0, colon).c_str(), nullptr, 16));
    char buf[INET_ADDRSTRLEN];
    out.emplace_back(::inet_ntop(AF_INET, &a, buf, sizeof buf));
  }
  return out;
}

// An IPv4 address of this machine that is not loopback, or "" when it has none.
inline std::string non_loopback_ipv4() {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return {};
  std::string found;
  for (auto* i = list; i && found.empty(); i = i->ifa_next) {
    if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET) continue;
    auto* sin = reinterpret_cast<sockaddr_in*>(i->ifa_addr);
    if ((ntohl(sin->sin_addr.s_addr) >> 24) == 127) continue;
    char buf[INET_ADDRSTRLEN];
    found = ::inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof buf);
  }
  ::freeifaddrs(list);
  return found;
}

// A TCP connect to ip:port; true when it was accepted within `timeout`.
inline bool can_connect(const std::string& ip, uint16_t port, std::chrono::milliseconds timeout = std::chrono::seconds(2)) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  ::inet_pton(AF_INET, ip.c_str(), &addr.sin_addr);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  if (!ok && errno == EINPROGRESS) {
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) == 1) {
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      ok = err == 0;
    }
  }
  ::close(fd);
  return ok;
}

// ------------------------------------------------------------------- nonces, bodies ---

// A string no other request of any test carries: `tag`, a counter and random hex.
inline std::string nonce(std::string_view tag = "n") {
  static std::atomic<unsigned> counter{0};
  thread_local std::mt19937_64 rng{std::random_device{}()};
  char buf[64];
  std::snprintf(buf, sizeof buf, "-%u-%016llx", counter.fetch_add(1),
                static_cast<unsigned long long>(rng()));
  return std::string(tag) + buf;
}

// choices[0].message.content of a chat completion; for a body that is not one (not JSON,
// an SSE stream where JSON was due, ...) "<not a chat completion> " and its start. Never
// throws, so client threads can use it.
inline std::string answer_text(const std::string& body) {
  rapidjson::Document d;
  d.Parse(body.c_str(), body.size());
  if (!d.HasParseError() && d.IsObject() && d.HasMember("choices") && d["choices"].IsArray() && !d["choices"].Empty() &&
      d["choices"][0].IsObject() && d["choices"][0].HasMember("message"))
    return str(d["choices"][0]["message"], "content");
  return "<not a chat completion> " + body.substr(0, 300);
}

// ,"mock":{...} for a chat body's `extra` (see data_plane.hpp's chat_body): the misbehaviour
// the mock upstream applies to this one request. `directive` is the object's inside.
inline std::string mock_field(std::string_view directive) {
  return directive.empty() ? std::string() : ",\"mock\":{" + std::string(directive) + "}";
}

// ------------------------------------------------------------------ raw responses ---

// The head of a raw HTTP response (up to the blank line; all of it when there is none).
inline std::string head_of(const std::string& raw) {
  auto end = raw.find("\r\n\r\n");
  return end == std::string::npos ? raw : raw.substr(0, end + 2);
}

// The status code of a raw response (0 when it does not start with a status line).
inline int status_of(const std::string& raw) {
  if (raw.rfind("HTTP/1.", 0) != 0 || raw.size() < 12) return 0;
  return std::atoi(raw.c_str() + 9);
}

// Header lines of a raw head named `name` (any case). A bare CR or LF counts as a line
// break too: that is where a lax client would split.
inline std::vector<std::string> header_lines(std::string head, std::string_view name) {
  for (auto& c : head)
    if (c == '\r') c = '\n';
  std::vector<std::string> out;
  std::istringstream in(head);
  std::string line;
  while (std::getline(in, line)) {
    size_t b = line.find_first_not_of(" \t");
    if (b == std::string::npos || line.size() - b <= name.size() || line[b + name.size()] != ':') continue;
    bool same = true;
    for (size_t i = 0; i < name.size(); ++i)
      same = same && std::tolower(static_cast<unsigned char>(line[b + i])) == std::tolower(static_cast<unsigned char>(name[i]));
    if (same) out.push_back(line);
  }
  return out;
}

// ------------------------------------------------------------------ error bodies ---

// `r` is a `status` in OpenAI's envelope {"error":{"message","type","param","code"}} with
// error.code `code` (any when empty) and error.param `param` (not checked when empty).
inline ::testing::AssertionResult OpenAiError(const Response& r, int status, const std::string& code = "",
                                              const std::string& param = "") {
  if (r.status != status) return ::testing::AssertionFailure() << "expected " << status << ", got:\n" << r.dump().substr(0, 3000);
  rapidjson::Document d;
  d.Parse(r.body.c_str(), r.body.size());
  if (d.HasParseError() || !d.IsObject() || !d.HasMember("error") || !d["error"].IsObject())
    return ::testing::AssertionFailure() << "not OpenAI's error envelope:\n" << r.dump().substr(0, 3000);
  const auto& e = d["error"];
  for (const char* k : {"message", "type", "param", "code"})
    if (!e.HasMember(k)) return ::testing::AssertionFailure() << "error." << k << " missing:\n" << r.body.substr(0, 3000);
  if (!code.empty() && str(e, "code") != code)
    return ::testing::AssertionFailure() << "error.code is '" << str(e, "code") << "', expected '" << code << "':\n"
                                         << r.body.substr(0, 3000);
  if (!param.empty() && str(e, "param") != param)
    return ::testing::AssertionFailure() << "error.param is '" << str(e, "param") << "', expected '" << param
                                         << "':\n" << r.body.substr(0, 3000);
  return ::testing::AssertionSuccess();
}

// `r` is a `status` in the control plane's shape {"error":"<name>","message":..,"code":status}.
inline ::testing::AssertionResult ControlError(const Response& r, int status) {
  if (r.status != status) return ::testing::AssertionFailure() << "expected " << status << ", got:\n" << r.dump().substr(0, 3000);
  rapidjson::Document d;
  d.Parse(r.body.c_str(), r.body.size());
  if (d.HasParseError() || !d.IsObject() || !d.HasMember("error") || !d["error"].IsString() ||
      num(d, "code") != status)
    return ::testing::AssertionFailure() << "not the control plane's error shape:\n" << r.dump().substr(0, 3000);
  return ::testing::AssertionSuccess();
}

// ----------------------------------------------------------------------- flooding ---

// A raw connection to 127.0.0.1:port that sends without ever blocking the test: a send gives
// up when the peer stops reading for `stall`. For requests whose header section, chunk
// extension or trailer never ends.
class Flood {
 public:
  enum class Sent { all, closed, stalled };

  explicit Flood(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    connected_ = fd_ >= 0 && ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    if (connected_) ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) | O_NONBLOCK);
  }
  ~Flood() {
    if (fd_ >= 0) ::close(fd_);
  }
  Flood(const Flood&) = delete;
  Flood& operator=(const Flood&) = delete;

  bool connected() const { return connected_; }
  size_t bytes_sent() const { return sent_; }

  Sent send(std::string_view bytes, std::chrono::milliseconds stall = std::chrono::seconds(3)) {
    while (!bytes.empty()) {
      ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n > 0) {
        sent_ += static_cast<size_t>(n);
        bytes.remove_prefix(static_cast<size_t>(n));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        pollfd p{fd_, POLLOUT, 0};
        int r = ::poll(&p, 1, static_cast<int>(stall.count()));
        if (r == 0) return Sent::stalled;
        if (p.revents & (POLLERR | POLLHUP)) return Sent::closed;
        continue;
      }
      return Sent::closed;
    }
    return Sent::all;
  }

  // Reads what the peer sends until it closes or `timeout` passes; `closed` says which.
  std::string read(std::chrono::milliseconds timeout, bool& closed) {
    closed = false;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      pollfd p{fd_, POLLIN, 0};
      int r = ::poll(&p, 1, static_cast<int>(left.count()));
      if (r <= 0) break;
      char buf[16384];
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (n <= 0) {
        closed = true;
        break;
      }
      received_.append(buf, static_cast<size_t>(n));
    }
    return received_;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
  size_t sent_ = 0;
  std::string received_;
};

}  // namespace it::adv
