// completions_bridge — an example provider adapter (SDK ABI 1.3) that serves OpenAI chat
// completions clients from an upstream offering only the legacy /v1/completions endpoint
// (old instruct models, some self-hosted engines).
//
//   LLM_PROVIDER_old_ADAPTER=completions_bridge
//
// Requests: the chat messages become one prompt (chat_prompt.hpp); max_tokens (or
// max_completion_tokens), temperature, top_p, n, stop, presence/frequency_penalty, seed,
// user, stream and stream_options are copied. A request the prompt cannot express (tools,
// images) is refused, and the gateway tries the request's next upstream.
//
// Answers and streams come back through the ABI 1.3 transform hooks: a text_completion
// becomes a chat.completion, completion chunks become chat.completion.chunk events. The
// gateway reads the usage from what these hooks write, so it must keep the chat form.
#include <apiproxy/provider.hpp>

#include "bridge_json.hpp"
#include "chat_prompt.hpp"

#include <ctime>
#include <memory>
#include <set>
#include <string>
#include <string_view>

namespace completions_bridge {

constexpr size_t kMaxEventBytes = 1024 * 1024;  // one SSE event of the upstream's stream
constexpr size_t kMaxChoices = 128;             // distinct choice indexes in one stream

// ------------------------------------------------------------ completion -> chat ---

// id, created and model of a chat answer or stream: the upstream's where it sent them (a
// stream keeps what its earlier chunks said), else made up here.
class ChatHead {
 public:
  explicit ChatHead(std::string_view model) : model_(model), created_(static_cast<int64_t>(std::time(nullptr))) {}

  void update(const rapidjson::Value& upstream) {
    if (const rapidjson::Value* id = member(upstream, "id"); id && id->IsString())
      id_.assign(id->GetString(), id->GetStringLength());
    if (const rapidjson::Value* model = member(upstream, "model"); model && model->IsString())
      model_.assign(model->GetString(), model->GetStringLength());
    if (const rapidjson::Value* created = member(upstream, "created"); created && created->IsInt64())
      created_ = created->GetInt64();
  }

  void write(JsonWriter& w, const char* object) const {
    w.Key("id");
    write_string(w, id_);
    w.Key("object");
    w.String(object);
    w.Key("created");
    w.Int64(created_);
    w.Key("model");
    write_string(w, model_);
  }

 private:
  std::string id_ = "chatcmpl-bridge", model_;
  int64_t created_;
};

const rapidjson::Value& checked_choice(const rapidjson::Value& choice) {
  if (!choice.IsObject()) throw apx::InvalidInput("a choice of the upstream's answer is not an object");
  return choice;
}

uint64_t index_of(const rapidjson::Value& choice) {
  const rapidjson::Value* index = member(choice, "index");
  return index && index->IsUint64() ? index->GetUint64() : 0;
}

// finish_reason: completions and chat use the same words ("stop", "length").
void write_finish_reason(JsonWriter& w, const rapidjson::Value& choice) {
  w.Key("finish_reason");
  const rapidjson::Value* reason = member(choice, "finish_reason");
  if (reason && reason->IsString()) reason->Accept(w);
  else w.Null();
}

void write_usage(JsonWriter& w, const rapidjson::Value& upstream) {
  const rapidjson::Value* usage = member(upstream, "usage");
  if (!usage || !usage->IsObject()) return;
  w.Key("usage");
  usage->Accept(w);  // the same field names in both APIs: the gateway counts tokens from it
}

const rapidjson::Value& choices_of(const rapidjson::Value& upstream) {
  const rapidjson::Value* choices = member(upstream, "choices");
  if (!choices || !choices->IsArray()) throw apx::InvalidInput("the upstream's answer has no choices array");
  return *choices;
}

std::string chat_answer(std::string_view completion_body, std::string_view model_id) {
  rapidjson::Document completion = parse_object(completion_body, "the upstream's completion");
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  ChatHead head(model_id);
  head.update(completion);
  head.write(w, "chat.completion");
  w.Key("choices");
  w.StartArray();
  for (const auto& raw : choices_of(completion).GetArray()) {
    const rapidjson::Value& choice = checked_choice(raw);
    w.StartObject();
    w.Key("index");
    w.Uint64(index_of(choice));
    w.Key("message");
    w.StartObject();
    w.Key("role");
    w.String("assistant");
    w.Key("content");
    write_string(w, string_member(choice, "text"));
    w.EndObject();
    write_finish_reason(w, choice);
    w.EndObject();
  }
  w.EndArray();
  write_usage(w, completion);
  w.EndObject();
  return std::string(written(buffer));
}

// One stream: completion chunks in, chat chunks out, each as soon as its event is whole.
// `data: [DONE]` ends it; so does an `error` event, which is already in OpenAI's shape.
class ChatChunkStream final : public apx::StreamTransform {
 public:
  explicit ChatChunkStream(std::string_view model_id) : head_(model_id) {}

  void feed(std::string_view bytes, apx::TransformWriter& out) override {
    while (!bytes.empty() && !done_) {
      size_t end = bytes.find('\n');
      line_.append(bytes.substr(0, end));
      // Bounded whatever the upstream sends: a line that never ends cannot grow memory.
      if (line_.size() + data_.size() > kMaxEventBytes)
        throw apx::InvalidInput("an event of the upstream's stream is larger than 1 MiB");
      if (end == std::string_view::npos) return;
      bytes.remove_prefix(end + 1);
      take_line(out);
    }
  }

  void finish(apx::TransformWriter& out) override {
    if (!done_ && !line_.empty()) take_line(out);  // the last line had no line break
    if (!done_ && has_data_) dispatch(out);        // nor a blank line after it
    if (!events_) throw apx::InvalidInput("the upstream's answer is not an event stream");
    // The body ended cleanly: some engines omit [DONE], but chat clients wait for it.
    if (!done_) out.write("data: [DONE]\n\n");
  }

 private:
  void take_line(apx::TransformWriter& out) {
    std::string_view line = line_;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() && has_data_) {
      dispatch(out);
    } else if (line.substr(0, 5) == "data:") {  // event:, id: and comments carry nothing we need
      std::string_view value = line.substr(5);
      if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      if (has_data_) data_ += '\n';
      data_.append(value);
      has_data_ = true;
    }
    line_.clear();
  }

  void dispatch(apx::TransformWriter& out) {
    ++events_;
    if (data_ == "[DONE]") {
      done_ = true;
      out.write("data: [DONE]\n\n");
    } else {
      translate(out);
    }
    data_.clear();
    has_data_ = false;
  }

  void translate(apx::TransformWriter& out) {
    rapidjson::Document chunk = parse_object(data_, "an event of the upstream's stream");
    buffer_.Clear();
    JsonWriter w(buffer_);
    if (member(chunk, "error")) {  // the upstream gave up: relayed, and the rest (a [DONE] too) left out
      done_ = true;
      chunk.Accept(w);  // written again: one line, whatever data lines it came in
      return send(out, written(buffer_));
    }
    w.StartObject();
    head_.update(chunk);
    head_.write(w, "chat.completion.chunk");
    w.Key("choices");
    w.StartArray();  // empty in the usage chunk, which stays a chat usage chunk
    for (const auto& choice : choices_of(chunk).GetArray()) write_delta(w, checked_choice(choice));
    w.EndArray();
    write_usage(w, chunk);
    w.EndObject();
    send(out, written(buffer_));
  }

  // The first chunk of each choice carries the role, as chat streams do; an empty text (the
  // final chunk with its finish_reason) is an empty delta.
  void write_delta(JsonWriter& w, const rapidjson::Value& choice) {
    uint64_t index = index_of(choice);
    bool first = roles_sent_.insert(index).second;
    if (roles_sent_.size() > kMaxChoices) throw apx::InvalidInput("the upstream's stream has too many choices");
    std::string_view text = string_member(choice, "text");
    w.StartObject();
    w.Key("index");
    w.Uint64(index);
    w.Key("delta");
    w.StartObject();
    if (first) {
      w.Key("role");
      w.String("assistant");
    }
    if (first || !text.empty()) {
      w.Key("content");
      write_string(w, text);
    }
    w.EndObject();
    write_finish_reason(w, choice);
    w.EndObject();
  }

  void send(apx::TransformWriter& out, std::string_view json) {
    event_.assign("data: ").append(json).append("\n\n");
    out.write(event_);
  }

  ChatHead head_;
  std::string line_, data_;  // the line being read; the event's data lines
  bool has_data_ = false, done_ = false;
  size_t events_ = 0;
  std::set<uint64_t> roles_sent_;
  rapidjson::StringBuffer buffer_;  // one chunk's JSON, reused
  std::string event_;               // one chunk's SSE bytes, reused
};

// ------------------------------------------------------------------------ adapter ---

class CompletionsBridge final : public apx::TranslatingAdapter {
 public:
  // Everything is computed here and only read afterwards: calls may run on several threads.
  CompletionsBridge(const apx::Host& host, const apx::ProviderConfig& config) : api_key_(config.api_key) {
    const std::string& base = config.base_url;  // the host strips trailing slashes
    bool has_v1 = base.size() >= 3 && base.compare(base.size() - 3, 3, "/v1") == 0;
    std::string api = has_v1 ? base : base + "/v1";
    completions_url_ = api + "/completions";
    models_url_ = config.models_path.empty() ? api + "/models" : base + config.models_path;
    host.debug("provider '" + config.id + "': chat completions served by " + completions_url_);
  }

  void build_request(const apx::UpstreamCall& call, apx::RequestWriter& out) override {
    switch (call.operation) {
      case APX_OP_LIST_MODELS:
      case APX_OP_HEALTH:
        out.method("GET");
        out.url(models_url_);
        authorize(call, out);
        return;
      case APX_OP_CHAT_COMPLETIONS:
        if (call.body.empty()) throw apx::InvalidInput("a chat request needs a JSON body");
        out.method("POST");
        out.url(completions_url_);
        out.body(completion_request(call.body, call.model_id));
        authorize(call, out);
        out.header("Content-Type", "application/json");
        if (call.stream) out.header("Accept", "text/event-stream");
        return;
      default:  // Messages and Responses too: the host translates them to chat for us
        throw apx::Unsupported("completions_bridge serves chat completions only");
    }
  }

  void parse_models(std::string_view body, apx::ModelWriter& out) override {
    rapidjson::Document list = parse_object(body, "the model list");
    const rapidjson::Value* data = member(list, "data");
    if (!data || !data->IsArray()) throw apx::InvalidInput("the model list has no data array");
    for (const auto& entry : data->GetArray()) {
      apx::Model m;
      m.model_id = string_member(entry, "id");
      m.capabilities = "chat";  // what clients get through this adapter
      if (!m.model_id.empty()) out.add(m);
    }
  }

  bool transform_answer(const apx::UpstreamCall& call, int http_status, std::string_view body,
                        apx::TransformWriter& out) override {
    // An error from an OpenAI-compatible server is already in the chat API's envelope.
    if (call.operation != APX_OP_CHAT_COMPLETIONS || http_status < 200 || http_status > 299) return false;
    out.write(chat_answer(body, call.model_id));
    return true;
  }

  std::unique_ptr<apx::StreamTransform> open_stream(const apx::UpstreamCall& call) override {
    if (call.operation != APX_OP_CHAT_COMPLETIONS || !call.stream) return nullptr;
    return std::make_unique<ChatChunkStream>(call.model_id);
  }

 private:
  void authorize(const apx::UpstreamCall& call, apx::RequestWriter& out) const {
    std::string_view key = call.key_or(api_key_);  // header-safe: the host checked it
    if (!key.empty()) out.header("Authorization", "Bearer " + std::string(key));
  }

  std::string api_key_;  // never logged
  std::string completions_url_, models_url_;
};

}  // namespace completions_bridge

APIPROXY_EXPORT_PROVIDER(completions_bridge::CompletionsBridge, "completions_bridge", "1.0.0",
                         "example: chat completions served by a legacy /v1/completions upstream (ABI 1.3 transforms)")
