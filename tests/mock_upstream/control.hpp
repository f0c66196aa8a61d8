// The control API under /__mock/ used by tests: inspect and change the behaviour, read the
// statistics, reset. Never subject to the simulated failures, latency or auth.
#pragma once

#include "mock_state.hpp"

#include <boost/beast/http/verb.hpp>

#include <string>
#include <string_view>

namespace mock {

// Handles one control request; writes the JSON body into `out` and returns the status.
// `body` may be modified (parsed in place).
int handle_control(MockState& state, boost::beast::http::verb method, std::string_view path,
                   std::string& body, std::string& out);

}  // namespace mock
