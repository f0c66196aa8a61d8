// A streamed HTTP/1.1 exchange read incrementally off a raw socket: the head, then the body
// de-chunked as it arrives, split into Server-Sent Events. A test can read the first event
// while the server is still producing the rest, and hang up in the middle.
#pragma once

#include <chrono>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http_client.hpp"

namespace it {

class SseStream {
 public:
  // Sends `method target` with `headers` (Host, Content-Length and Content-Type: application/json
  // are added) and `body` on a new connection. `timeout` bounds every single wait.
  SseStream(uint16_t port, std::string_view method, std::string_view target, const Headers& headers,
            std::string_view body, std::chrono::milliseconds timeout = std::chrono::seconds(10))
      : sock_(std::make_unique<RawSocket>(port, timeout)), timeout_(timeout) {
    std::string req = std::string(method) + " " + std::string(target) + " HTTP/1.1\r\nHost: 127.0.0.1:" +
                      std::to_string(port) + "\r\n";
    for (const auto& [k, v] : headers) req += k + ": " + v + "\r\n";
    if (!body.empty() || method == "POST") {
      req += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
    }
    req += "\r\n";
    req.append(body);
    sent_ = sock_->send(req);
  }

  bool sent() const { return sent_; }

  // Reads until the response head is complete; false when it does not come.
  bool read_head() {
    if (head_done_) return true;
    while (true) {
      const std::string& raw = sock_->received();
      auto end = raw.find("\r\n\r\n");
      if (end != std::string::npos) {
        parse_head(std::string_view(raw).substr(0, end));
        pos_ = end + 4;
        head_done_ = true;
        return true;
      }
      if (!sock_->read_more(timeout_)) return false;
    }
  }

  int status() const { return status_; }
  // A response header (name in any case); "" when absent.
  std::string header(std::string name) const {
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    auto it = headers_.find(name);
    return it == headers_.end() ? std::string() : it->second;
  }

  // The data of the next event ("data: X" lines joined by '\n'); nullopt when the body
  // ended, the server hung up, or nothing came within the timeout.
  std::optional<std::string> next_event() {
    if (!read_head()) return std::nullopt;
    while (true) {
      decode();
      auto end = body_.find("\n\n", event_pos_);
      if (end != std::string::npos) {
        std::string_view block = std::string_view(body_).substr(event_pos_, end - event_pos_);
        event_pos_ = end + 2;
        std::string data;
        bool any = false;
        while (!block.empty()) {
          auto nl = block.find('\n');
          std::string_view line = block.substr(0, nl);
          if (line.starts_with("data:")) {
            line.remove_prefix(5);
            if (line.starts_with(" ")) line.remove_prefix(1);
            if (any) data += '\n';
            data.append(line);
            any = true;
          }
          if (nl == std::string_view::npos) break;
          block.remove_prefix(nl + 1);
        }
        if (any) return data;
        continue;  // a comment or an event without data
      }
      if (complete_ || !sock_->read_more(timeout_)) return std::nullopt;
    }
  }

  // Every remaining event up to the end of the body (or a hang-up / timeout).
  std::vector<std::string> rest() {
    std::vector<std::string> out;
    while (auto e = next_event()) out.push_back(std::move(*e));
    return out;
  }

  // Reads until the body is complete or the server hangs up; returns the body.
  const std::string& read_body() {
    if (!read_head()) return body_;
    decode();
    while (!complete_ && sock_->read_more(timeout_)) decode();
    return body_;
  }

  // The body received so far, de-chunked.
  const std::string& body() {
    decode();
    return body_;
  }
  // The body ended properly (last chunk, or Content-Length reached).
  bool complete() {
    decode();
    return complete_;
  }
  bool peer_closed() const { return sock_->peer_closed(); }
  // Hangs up now.
  void close() { sock_->close(); }

 private:
  std::unique_ptr<RawSocket> sock_;
  std::chrono::milliseconds timeout_;
  bool sent_ = false;
  bool head_done_ = false;
  int status_ = 0;
  std::map<std::string, std::string> headers_;
  bool chunked_ = false;
  std::optional<size_t> content_length_;
  size_t pos_ = 0;  // next undecoded byte of the raw stream
  std::string body_;
  size_t event_pos_ = 0;
  bool complete_ = false;

  void parse_head(std::string_view head) {
    auto nl = head.find("\r\n");
    std::string_view status_line = head.substr(0, nl);
    if (status_line.size() >= 12) status_ = std::atoi(std::string(status_line.substr(9, 3)).c_str());
    head = nl == std::string_view::npos ? std::string_view() : head.substr(nl + 2);
    while (!head.empty()) {
      nl = head.find("\r\n");
      std::string_view line = head.substr(0, nl);
      auto colon = line.find(':');
      if (colon != std::string_view::npos) {
        std::string name(line.substr(0, colon));
        for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        std::string_view value = line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
        headers_[name] = std::string(value);
      }
      if (nl == std::string_view::npos) break;
      head.remove_prefix(nl + 2);
    }
    std::string te = header("transfer-encoding");
    chunked_ = te.find("chunked") != std::string::npos;
    if (!chunked_ && !header("content-length").empty())
      content_length_ = static_cast<size_t>(std::strtoull(header("content-length").c_str(), nullptr, 10));
    if (content_length_ && *content_length_ == 0) complete_ = true;
  }

  // Moves every complete chunk (or plain body byte) received so far into body_.
  void decode() {
    if (!head_done_ || complete_) return;
    const std::string& raw = sock_->received();
    if (!chunked_) {
      body_.append(raw, pos_, std::string::npos);
      pos_ = raw.size();
      if (content_length_ && body_.size() >= *content_length_) complete_ = true;
      return;
    }
    while (true) {
      auto line_end = raw.find("\r\n", pos_);
      if (line_end == std::string::npos) return;
      size_t size = std::strtoull(raw.substr(pos_, line_end - pos_).c_str(), nullptr, 16);
      if (size == 0) {
        complete_ = true;  // trailers, if any, are ignored
        pos_ = line_end + 2;
        return;
      }
      if (raw.size() < line_end + 2 + size + 2) return;  // the chunk is not all here yet
      body_.append(raw, line_end + 2, size);
      pos_ = line_end + 2 + size + 2;
    }
  }
};

}  // namespace it
