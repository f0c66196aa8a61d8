// Per-request misbehaviour, chosen by the request body: a top-level "mock" object that a
// gateway forwards unchanged (it rewrites only "model"). Concurrent clients can each ask
// for different trouble, and a test knows exactly what its own request will meet.
//
//   "mock": {
//     "on": "alpha" | ["alpha", "beta"],  only these mocks (by --name) misbehave; default all
//     "delay_ms": 500,                    wait before answering (after any interim responses)
//     "interim": 2,                       1xx responses before the answer: 100 Continue,
//                                         103 Early Hints (with a Link header), alternating
//     "status": 503,                      answer with this error status instead
//     "reset": 0,                         RST after this many bytes of the answer (0: at once)
//     "close": 0,                         FIN after this many bytes of the answer
//     "garbage": 64 | "bytes",            this many bytes that are not HTTP (or the string),
//                                         instead of an answer, then FIN
//     "slow_body": 200 | {"interval_ms": 200, "bytes": 1, "endless": false},
//                                         the head at once, then the body trickled `bytes`
//                                         at a time every `interval_ms`; `endless`: a chunked
//                                         body (JSON whitespace, or SSE comments for a
//                                         stream) that never ends (the mock gives up after
//                                         10 minutes)
//     "endless_chunk_ext": 4194304,       a chunked answer whose first chunk extension runs
//                                         for this many bytes (at most 256 MiB), then FIN
//     "huge_header": 70000,               an X-Mock-Huge response header of this many bytes
//     "pad_bytes": 100000,                a "mock_padding" member of this many bytes in the
//                                         JSON answer (a large but valid answer)
//     "chunks": 5, "chunk_interval_ms": 50   stream shape, as X-Mock-Chunks / -Interval-Ms
//   }
//
// Unknown members and wrong types are a 400 from the mock, so a typo in a test fails loudly.
#pragma once

#include <rapidjson/document.h>

#include <string>
#include <string_view>
#include <vector>

namespace mock {

struct Misbehaviour {
    bool present = false;               // the body had a "mock" object
    std::vector<std::string> on;        // empty: every mock
    int delay_ms = -1;                  // -1: the configured latency
    int interim = 0;
    int status = 0;
    long long reset_after = -1;         // -1: off
    long long close_after = -1;         // -1: off
    std::string garbage;                // empty: off
    bool slow = false;
    int slow_interval_ms = 100;
    int slow_bytes = 1;
    bool slow_endless = false;
    long long endless_chunk_ext = 0;    // 0: off
    long long huge_header = 0;          // 0: off
    long long pad_bytes = 0;            // 0: off
    int chunks = -1;                    // -1: the configured value
    int chunk_interval_ms = -1;

    // Whether the mock named `name` misbehaves for this request.
    bool applies_to(std::string_view name) const;
    // Anything beyond delay and stream shape: the answer is rendered whole and sent by
    // the misbehaving writer instead of the normal one.
    bool needs_raw_writer() const {
        return interim > 0 || status != 0 || reset_after >= 0 || close_after >= 0 || !garbage.empty() || slow ||
               endless_chunk_ext > 0 || huge_header > 0 || pad_bytes > 0;
    }
};

// Reads `v` (the body's "mock" member) into `out`. False with `error` set when it is not
// an object or a member is unknown or of the wrong type.
bool parse_misbehaviour(const rapidjson::Value& v, Misbehaviour& out, std::string& error);

// Upper bounds the mock enforces on itself.
inline constexpr long long kMaxEndlessChunkExt = 256LL * 1024 * 1024;
inline constexpr long long kMaxHugeHeader = 64LL * 1024 * 1024;
inline constexpr long long kMaxPadBytes = 256LL * 1024 * 1024;
inline constexpr int kEndlessSlowBodyMs = 10 * 60 * 1000;

}  // namespace mock
