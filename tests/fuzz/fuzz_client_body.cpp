// Fuzzes the data plane's reading of a client's JSON body (server/api/client_request.hpp):
// the in-place parse, the nesting limit, and the validation of everything the gateway
// reads (model, stream, session id, token limits).
//
// Input: the X-Session-Id header value, a newline, then the body ("" header when there is
// no newline). Each body is read for every operation, and an accepted one is written back
// with a RapidJSON Writer, as the gateway does before sending it upstream. The harness
// checks what read_client_request promises about an accepted request.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "server/api/client_request.hpp"

namespace {

using namespace apiproxy;

void require(bool ok) {
  if (!ok) __builtin_trap();  // a broken promise: libFuzzer saves the input
}

bool printable_ascii(std::string_view s, char lowest) {
  for (char c : s)
    if (c < lowest || c > '~') return false;
  return true;
}

// The model name the gateway puts into headers, logs and metric labels.
bool valid_model(std::string_view s) { return !s.empty() && s.size() <= 256 && printable_ascii(s, ' '); }
// A session id: no spaces, bounded (core/common/identifiers.hpp).
bool valid_session(std::string_view s) { return s.size() <= 128 && printable_ascii(s, '!'); }

void check_accepted(const ClientRequest& r, apx_operation op) {
  require(valid_model(r.model));
  require(valid_session(r.session_id));
  require(r.body.IsObject());
  require(!r.body.HasMember("conversation_id"));  // ours: never sent upstream
  if (op == APX_OP_EMBEDDINGS) require(!r.stream);

  // What the gateway sends upstream. The writer refuses nothing a parse produced, so a
  // false here would mean a truncated upstream body.
  rapidjson::StringBuffer out;
  rapidjson::Writer<rapidjson::StringBuffer> writer(out);
  require(r.body.Accept(writer));
  // The parse validates UTF-8 (core/common/json_parse.hpp): nothing malformed goes on,
  // not even what an escape such as a lone \uDC00 would decode to.
  rapidjson::Document again;
  again.Parse<rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag>(out.GetString(), out.GetSize());
  require(!again.HasParseError());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t newline = input.find('\n');
  std::string_view header = newline == std::string_view::npos ? std::string_view() : input.substr(0, newline);
  std::string_view body = newline == std::string_view::npos ? input : input.substr(newline + 1);

  for (apx_operation op : {APX_OP_LIST_MODELS, APX_OP_CHAT_COMPLETIONS, APX_OP_COMPLETIONS,
                           APX_OP_EMBEDDINGS, APX_OP_HEALTH}) {
    std::string text(body);  // parsed in place: a fresh copy for every reading
    auto result = read_client_request(text, op, header);
    if (auto* accepted = std::get_if<ClientRequest>(&result)) check_accepted(*accepted, op);
  }
  return 0;
}
