// How the data plane reads an upstream's answer: which failures count against the
// provider, which headers a client may see. (Its token counts: usage_parse.hpp.)
#pragma once

#include <string>
#include <string_view>

#include "core/dataplane/results.hpp"
#include "core/upstream/upstream_exchange.hpp"

namespace apiproxy {

// Problems with the provider count against it; a client's own mistakes (400, 404, 422...)
// do not.
inline bool provider_fault(int status) { return status >= 500 || status == 401 || status == 403; }

bool is_event_stream(std::string_view content_type);

// The upstream's answer as the client gets it: status, content type (JSON when the
// upstream named none), the headers worth passing on, the body.
UpstreamAnswer relayable_answer(const UpstreamExchange& up, std::string body);

}  // namespace apiproxy
