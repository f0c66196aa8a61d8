// One request and the means to answer it, handed to a route handler. A handler may answer
// at once or later (after store or upstream I/O) on the same thread; an exchange dropped
// without an answer answers 500 itself, so a client is never left hanging.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "server/http/http_router.hpp"

namespace apiproxy {

class ClientConnection;

class Exchange {
 public:
  using Request = boost::beast::http::request<boost::beast::http::string_body>;
  using Response = boost::beast::http::response<boost::beast::http::string_body>;

  Exchange(std::shared_ptr<ClientConnection> session, Request request, std::string request_id);
  ~Exchange();
  Exchange(const Exchange&) = delete;
  Exchange& operator=(const Exchange&) = delete;

  Request& request() { return request_; }
  std::string_view path() const { return path_; }
  std::optional<std::string> query(std::string_view name) const;
  // A {name} captured by the route ("" when absent).
  const std::string& param(std::string_view name) const;
  void set_params(PathParams params) { params_ = std::move(params); }
  std::string_view header(boost::beast::http::field f) const;
  const std::string& request_id() const { return request_id_; }
  std::chrono::steady_clock::time_point started() const { return started_; }

  void respond(boost::beast::http::status status, std::string body,
               std::string_view content_type = "application/json");
  // Answers with the error shape that suits the path (see api/errors.hpp).
  void respond_error(boost::beast::http::status status, std::string_view message);
  void respond(Response response);
  bool responded() const { return responded_; }

 private:
  std::shared_ptr<ClientConnection> session_;
  Request request_;
  std::string path_;
  std::string query_string_;
  PathParams params_;
  std::string request_id_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  bool responded_ = false;
};

}  // namespace apiproxy
