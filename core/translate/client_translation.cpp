#include "core/translate/client_translation.hpp"

#include "core/translate/anthropic_messages.hpp"
#include "core/translate/openai_responses.hpp"

namespace apiproxy {

namespace {

class MessagesTranslation final : public ClientTranslation {
 public:
  Answer answer(int status, std::string_view chat_body) override {
    auto translated = translate::translate_chat_answer_to_messages(status, chat_body);
    return {translated.status, std::move(translated.body)};
  }
  void stream(std::string_view chat_events, std::string& out) override { stream_.feed(chat_events, out); }
  void finish(std::string& out) override { stream_.finish(out); }

 private:
  translate::ChatStreamToMessages stream_;
};

class ResponsesTranslation final : public ClientTranslation {
 public:
  // A Response repeats some of its request's fields (instructions, tools, ...).
  explicit ResponsesTranslation(translate::ResponsesRequestEcho echo) : echo_(echo), stream_(std::move(echo)) {}
  Answer answer(int status, std::string_view chat_body) override {
    auto translated = translate::translate_chat_answer(status, chat_body, echo_);
    return {translated.status, std::move(translated.body)};
  }
  void stream(std::string_view chat_events, std::string& out) override { stream_.feed(chat_events, out); }
  void finish(std::string& out) override { stream_.finish(out); }

 private:
  translate::ResponsesRequestEcho echo_;
  translate::ChatStreamToResponses stream_;
};

}  // namespace

Result<std::string> translate_request_to_chat(ClientApi api, std::string_view body) {
  switch (api) {
    case ClientApi::AnthropicMessages: return translate::messages_request_to_chat(body);
    case ClientApi::OpenAIResponses: return translate::responses_request_to_chat(body);
    case ClientApi::OpenAIChat: break;
  }
  return std::string(body);
}

std::unique_ptr<ClientTranslation> make_client_translation(ClientApi api, std::string_view client_body) {
  switch (api) {
    case ClientApi::AnthropicMessages: return std::make_unique<MessagesTranslation>();
    case ClientApi::OpenAIResponses: {
      translate::ResponsesRequestEcho echo;
      (void)translate::responses_request_to_chat(client_body, &echo);  // read once already: it translates
      return std::make_unique<ResponsesTranslation>(std::move(echo));
    }
    case ClientApi::OpenAIChat: break;
  }
  return nullptr;
}

}  // namespace apiproxy
