#include "core/translate/client_translation.hpp"

#include <utility>

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
  explicit ResponsesTranslation(const translate::ResponsesRequestEcho& echo) : echo_(echo), stream_(echo) {}
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

class MessagesTranslator final : public ClientTranslator {
 public:
  std::unique_ptr<ClientTranslation> for_attempt() const override { return std::make_unique<MessagesTranslation>(); }
};

class ResponsesTranslator final : public ClientTranslator {
 public:
  explicit ResponsesTranslator(translate::ResponsesRequestEcho echo) : echo_(std::move(echo)) {}
  std::unique_ptr<ClientTranslation> for_attempt() const override {
    return std::make_unique<ResponsesTranslation>(echo_);
  }

 private:
  translate::ResponsesRequestEcho echo_;
};

Result<TranslatedRequest> translate_messages(std::string_view body) {
  auto chat = translate::messages_request_to_chat(body);
  if (!chat) return Error{chat.error()};
  return TranslatedRequest{std::move(chat.value()), std::make_shared<MessagesTranslator>()};
}

Result<TranslatedRequest> translate_responses(std::string_view body) {
  translate::ResponsesRequestEcho echo;
  auto chat = translate::responses_request_to_chat(body, &echo);
  if (!chat) return Error{chat.error()};
  return TranslatedRequest{std::move(chat.value()), std::make_shared<ResponsesTranslator>(std::move(echo))};
}

}  // namespace

Result<TranslatedRequest> translate_request_to_chat(ClientApi api, std::string_view body) {
  switch (api) {
    case ClientApi::AnthropicMessages: return translate_messages(body);
    case ClientApi::OpenAIResponses: return translate_responses(body);
    case ClientApi::OpenAIChat: break;
  }
  return TranslatedRequest{std::string(body), nullptr};
}

}  // namespace apiproxy
