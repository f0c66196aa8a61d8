// The mock's behaviour ("config"): what the tests can tune at start (flags) and at run
// time (POST /__mock/config). Plain data plus its JSON form; no locking here.
#pragma once

#include <rapidjson/document.h>

#include <map>
#include <string>
#include <vector>

namespace mock {

class JsonWriter;

struct Behaviour {
    int latency_ms = 0;          // delay before the response headers
    int status = 0;              // 0 = normal, else every API request fails with it
    int fail_first = 0;          // the next N inference requests fail (503 or `status`)
    double error_rate = 0;       // 0..1: each inference request fails (503 or `status`) with
                                 // this probability, drawn independently per request
    int retry_after = 0;         // seconds; >0 adds Retry-After to forced failures
    int chunks = 3;              // SSE content chunks per stream
    int chunk_interval_ms = 0;   // pause before each content chunk
    int reset_after_chunks = 0;  // >0: cut streams abruptly after N content chunks
    std::vector<std::string> models{"gpt-4o-mini", "gpt-4o", "text-embedding-3-small"};
    std::string require_key;     // empty = no auth
    // Per presented key (Bearer token or api-key): the status every API request made with
    // it gets, e.g. {"sk-revoked": 401, "sk-busy": 429} — for key-pool tests.
    std::map<std::string, int> key_status;
    std::string usage;           // the `usage` object of every answer, as JSON text (any
                                 // counts, even absurd ones); empty = counted from the text
};

// A forced status must be a real error status: 0 (off) or 400..599.
bool valid_forced_status(long long v);

// Parses "a,b,c" into model ids (empty items dropped).
std::vector<std::string> split_models(std::string_view csv);

// Writes the behaviour as one JSON object (the body of GET /__mock/config).
void write_behaviour(JsonWriter& w, const Behaviour& b);

// Applies a JSON object with any subset of the fields onto `b` (`usage`: an object, or null
// for the computed counts). All-or-nothing: on error
// `b` is untouched and `error` says which field was wrong (unknown fields are errors too,
// so a typo in a test fails loudly instead of silently doing nothing).
bool apply_behaviour_patch(const rapidjson::Value& patch, Behaviour& b, std::string& error);

}  // namespace mock
