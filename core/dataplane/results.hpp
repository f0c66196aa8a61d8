// What the data plane reports back about one request, in its own terms: the API layer that
// received the request turns these into its wire format (statuses, error envelopes).
#pragma once

#include <chrono>
#include <string>

#include "core/routing/router.hpp"
#include "core/upstream/http_types.hpp"

namespace apiproxy {

// Why a request got no upstream answer.
enum class RefusalKind {
  ModelNotFound,     // no logical model and no provider/model by that name
  Unroutable,        // the router refused: see Refusal::route_error
  NoUpstream,        // every candidate was cooling down or otherwise unavailable
  RateLimited,       // every candidate is at its MAX_QPS: see Refusal::retry_after
  AttemptsFailed,    // every attempt failed: see Refusal::message for each one
  ClientGone,        // the client hung up before its answer started
};

struct Refusal {
  RefusalKind kind;
  std::string message;  // for people
  RouteError route_error = RouteError::None;
  std::chrono::seconds retry_after{0};
};

// Who answered, for the client's attribution headers and the access log.
struct Attribution {
  std::string_view provider_id;
  std::string_view model_id;
  size_t attempts = 1;  // this one included
};

// An upstream's whole answer, relayed as it came: a success, or an error the client
// should see (not one the gateway failed over from).
struct UpstreamAnswer {
  int status = 200;
  std::string content_type;
  Headers headers;  // the upstream headers a client may see (rate-limit hints and the like)
  std::string body;
  Attribution from;
};

}  // namespace apiproxy
