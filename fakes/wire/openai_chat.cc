#include "fakes/wire/openai_chat.h"

#include <chrono>
#include <map>
#include <optional>
#include <utility>

#include "agent/text/words.h"
#include "fakes/faults/fault_spec.h"
#include "fakes/llm/rule_llm.h"
#include "fakes/wire/exchange.h"
#include "fakes/wire/provider_state.h"

namespace callsim::fakes::wire {
namespace {

using nlohmann::json;

// OpenAI streams a tool call's arguments a few characters at a time.
constexpr size_t kArgumentPieceBytes = 8;

int64_t UnixSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A message's content: a string, null, or an array of parts whose text parts are joined.
bool ContentText(const json& content, std::string* out) {
  out->clear();
  if (content.is_null()) return true;
  if (content.is_string()) {
    *out = content.get<std::string>();
    return true;
  }
  if (!content.is_array()) return false;
  for (const json& part : content) {
    if (!part.is_object()) return false;
    const auto type = part.find("type");
    if (type == part.end() || !type->is_string()) return false;
    if (*type != "text") continue;  // images and audio: nothing a rule can match
    const auto text = part.find("text");
    if (text == part.end() || !text->is_string()) return false;
    if (!out->empty()) out->push_back(' ');
    *out += text->get<std::string>();
  }
  return true;
}

int CountWords(const agent::LlmRequest& request) {
  int words = 0;
  for (const agent::ChatMessage& m : request.messages) {
    words += static_cast<int>(agent::NormalizeWords(m.content).size());
  }
  return words;
}

}  // namespace

bool ParseChatRequest(const json& body, ChatRequest* out, std::string* error, std::string* param) {
  *out = ChatRequest{};
  auto fail = [&](std::string message, std::string field) {
    *error = std::move(message);
    *param = std::move(field);
    return false;
  };
  if (!ReadModel(body, &out->model, error, param)) return false;
  const auto messages = body.find("messages");
  if (messages == body.end() || !messages->is_array() || messages->empty()) {
    return fail("messages must be a non-empty array", "messages");
  }
  if (const auto stream = body.find("stream"); stream != body.end() && !stream->is_null()) {
    if (!stream->is_boolean()) return fail("stream must be a boolean", "stream");
    out->stream = stream->get<bool>();
  }
  if (const auto options = body.find("stream_options");
      options != body.end() && !options->is_null()) {
    if (!options->is_object()) return fail("stream_options must be an object", "stream_options");
    if (const auto usage = options->find("include_usage"); usage != options->end()) {
      if (!usage->is_boolean()) {
        return fail("include_usage must be a boolean", "stream_options.include_usage");
      }
      out->include_usage = usage->get<bool>();
    }
  }
  if (const auto user = body.find("user"); user != body.end() && user->is_string()) {
    out->user = user->get<std::string>();
  }
  std::map<std::string, std::string> call_names;  // tool call id -> the tool's name
  for (size_t i = 0; i < messages->size(); ++i) {
    const json& m = (*messages)[i];
    const std::string where = "messages[" + std::to_string(i) + "]";
    if (!m.is_object()) return fail(where + " must be an object", where);
    const auto role_it = m.find("role");
    if (role_it == m.end() || !role_it->is_string()) {
      return fail(where + ".role must be a string", where + ".role");
    }
    std::string role = role_it->get<std::string>();
    std::string text;
    const auto content = m.find("content");
    if (content != m.end() && !ContentText(*content, &text)) {
      return fail(where + ".content must be a string or an array of content parts",
                  where + ".content");
    }
    if (role == "system" || role == "developer") {
      out->request.messages.push_back({"system", text, {}, {}});
    } else if (role == "user") {
      out->request.messages.push_back({"user", text, {}, {}});
    } else if (role == "assistant") {
      const auto calls = m.find("tool_calls");
      if (calls == m.end() || calls->is_null() || (calls->is_array() && calls->empty())) {
        out->request.messages.push_back({"assistant", text, {}, {}});
        continue;
      }
      if (!calls->is_array()) return fail(where + ".tool_calls must be an array", where);
      if (!text.empty()) out->request.messages.push_back({"assistant", text, {}, {}});
      for (const json& call : *calls) {
        const json* function = call.is_object() && call.contains("function")
                                   ? &call.at("function")
                                   : nullptr;
        if (function == nullptr || !function->is_object() || !call.contains("id") ||
            !call.at("id").is_string() || !function->contains("name") ||
            !function->at("name").is_string()) {
          return fail(where + ".tool_calls entries need an id and a function name",
                      where + ".tool_calls");
        }
        std::string arguments;
        if (const auto args = function->find("arguments"); args != function->end()) {
          arguments = args->is_string() ? args->get<std::string>() : args->dump();
        }
        const std::string id = call.at("id").get<std::string>();
        const std::string name = function->at("name").get<std::string>();
        call_names[id] = name;
        out->request.messages.push_back({"assistant", std::move(arguments), name, id});
      }
    } else if (role == "tool") {
      const auto id = m.find("tool_call_id");
      if (id == m.end() || !id->is_string()) {
        return fail(where + ".tool_call_id must be a string", where + ".tool_call_id");
      }
      const std::string call_id = id->get<std::string>();
      const auto name = call_names.find(call_id);
      out->request.messages.push_back(
          {"tool", text, name == call_names.end() ? std::string() : name->second, call_id});
    } else {
      return fail(where + ".role must be one of system, developer, user, assistant, tool",
                  where + ".role");
    }
  }
  out->prompt_tokens = CountWords(out->request);
  return true;
}

std::string ChunkJson(std::string_view id, int64_t created, std::string_view model,
                      const json& delta, std::string_view finish_reason, const json& usage) {
  json chunk = {{"id", id},
                {"object", "chat.completion.chunk"},
                {"created", created},
                {"model", model},
                {"system_fingerprint", "fp_callsim"}};
  if (!usage.is_null()) {
    chunk["choices"] = json::array();
    chunk["usage"] = usage;
  } else {
    chunk["choices"] = json::array({{{"index", 0},
                                     {"delta", delta},
                                     {"logprobs", nullptr},
                                     {"finish_reason", finish_reason.empty()
                                                           ? json(nullptr)
                                                           : json(finish_reason)}}});
  }
  return chunk.dump();
}

std::vector<std::string> SplitArguments(std::string_view arguments, size_t piece_bytes) {
  std::vector<std::string> pieces;
  piece_bytes = std::max<size_t>(piece_bytes, 4);  // room for any UTF-8 character
  while (!arguments.empty()) {
    size_t n = std::min(piece_bytes, arguments.size());
    // Back off to a character boundary: a continuation byte is 10xxxxxx.
    while (n < arguments.size() && n > 0 &&
           (static_cast<unsigned char>(arguments[n]) & 0xC0) == 0x80) {
      --n;
    }
    pieces.emplace_back(arguments.substr(0, n));
    arguments.remove_prefix(n);
  }
  return pieces;
}

namespace {

// A chat completion: the rule LLM's stream as chunks (or one chat.completion), after the
// request's capacity slot and fate (exchange.h).
class ChatExchange final : public Exchange {
 public:
  ChatExchange(std::shared_ptr<FakeProviders::State> state, ChatRequest chat, agent::Rng rng,
               std::shared_ptr<agent::HttpResponder> responder)
      : Exchange(state, state->chat, state->config.llm_capacity, "callsim fake LLM", std::move(responder)),
        chat_(std::move(chat)),
        rng_(rng),
        id_(AnswerId("chatcmpl-", rng.Fork("id"))),
        created_(UnixSeconds()) {}

 private:
  void Admitted() override {
    const FaultSpec& faults = state().config.llm_faults;
    const bool proceed = Fate(faults, rng_.Fork("faults"), faults.drop_max_tokens, &drop_after_);
    if (!proceed) return;
    RuleLlmConfig config = state().config.llm;
    config.capacity = nullptr;
    llm_ = std::make_unique<RuleLlm>(scheduler(), rng_.Fork("llm"), config, state().config.script);
    agent::LlmListener listener;
    // The stream is owned here and destroyed in OnStop: `this` outlives its callbacks.
    listener.on_token = [this](const std::string& token) { OnToken(token); };
    listener.on_tool_call = [this](const agent::ToolCallRequest& call) { OnToolCall(call); };
    listener.on_done = [this] { OnDone(); };
    listener.on_error = [this](const std::string& error) { OnError(error); };
    stream_ = llm_->Start(chat_.request, std::move(listener));
  }

  void OnStop() override {
    stream_.reset();  // RuleLlm allows it inside the stream's own callback
  }

  // Counts a delivered event against a drop: the connection is cut once the stream has delivered
  // drop_after events.
  void MaybeDrop() {
    if (drop_after_ <= 0 || ++events_ < drop_after_) return;
    responder().Abort();
    Stop();
  }

  void Begin() {
    if (!chat_.stream || begun_) return;
    begun_ = true;
    responder().Begin(200, {{"Content-Type", "text/event-stream; charset=utf-8"},
                            {"Cache-Control", "no-cache"},
                            {"x-request-id", id_}});
    // OpenAI's first chunk names the role, with empty content.
    Send(json{{"role", "assistant"}, {"content", ""}, {"refusal", nullptr}}, "");
  }

  void Send(const json& delta, std::string_view finish_reason) {
    responder().Write("data: " + ChunkJson(id_, created_, chat_.model, delta, finish_reason) +
                      "\n\n");
  }

  void OnToken(const std::string& token) {
    completion_tokens_++;
    text_ += token;
    if (chat_.stream) {
      Begin();
      Send(json{{"content", token}}, "");
    }
    MaybeDrop();
  }

  void OnToolCall(const agent::ToolCallRequest& call) {
    tool_call_ = call;
    // Unique in the conversation, as OpenAI's are ("call_" and 24 characters): the rule LLM counts
    // its calls from 1 per request, and an agent keys confirmations and idempotency by the id.
    tool_call_->id = AnswerId("call_", rng_.Fork("tool_call_id"));
    const std::vector<std::string> pieces =
        SplitArguments(call.arguments_json, kArgumentPieceBytes);
    completion_tokens_ += static_cast<int>(pieces.size()) + 1;
    if (chat_.stream) {
      Begin();
      // The first fragment names the call; the arguments follow a few characters at a time.
      json first = {{"index", 0},
                    {"id", tool_call_->id},
                    {"type", "function"},
                    {"function", {{"name", call.name}, {"arguments", ""}}}};
      Send(json{{"tool_calls", json::array({first})}}, "");
      for (const std::string& piece : pieces) {
        json more = {{"index", 0}, {"function", {{"arguments", piece}}}};
        Send(json{{"tool_calls", json::array({more})}}, "");
      }
    }
    MaybeDrop();
  }

  json Usage() const {
    return {{"prompt_tokens", chat_.prompt_tokens},
            {"completion_tokens", completion_tokens_},
            {"total_tokens", chat_.prompt_tokens + completion_tokens_}};
  }

  void OnDone() {
    if (done()) return;
    const char* finish = tool_call_ ? "tool_calls" : "stop";
    if (!chat_.stream) {
      json message = {{"role", "assistant"},
                      {"content", text_.empty() && tool_call_ ? json(nullptr) : json(text_)},
                      {"refusal", nullptr}};
      if (tool_call_) {
        json function = {{"name", tool_call_->name}, {"arguments", tool_call_->arguments_json}};
        message["tool_calls"] = json::array(
            {{{"id", tool_call_->id}, {"type", "function"}, {"function", function}}});
      }
      json choice = {{"index", 0},
                     {"message", message},
                     {"logprobs", nullptr},
                     {"finish_reason", finish}};
      json body = {{"id", id_},
                   {"object", "chat.completion"},
                   {"created", created_},
                   {"model", chat_.model},
                   {"system_fingerprint", "fp_callsim"},
                   {"choices", json::array({choice})},
                   {"usage", Usage()}};
      return Finish(200, body.dump(), {{"x-request-id", id_}});
    }
    Begin();
    Send(json::object(), finish);
    if (chat_.include_usage) {
      responder().Write("data: " + ChunkJson(id_, created_, chat_.model, nullptr, "", Usage()) +
                        "\n\n");
    }
    responder().Write("data: [DONE]\n\n");
    responder().End();
    Stop();
  }

  // The rule LLM's own errors ("no rule matched", say): before any byte, a 500; mid-stream, an
  // error event as OpenAI sends one.
  void OnError(const std::string& error) {
    if (done()) return;
    const std::string body =
        OpenAiErrorBody("callsim fake LLM: " + error, "server_error", "llm_error");
    if (chat_.stream && begun_) {
      responder().Write("event: error\ndata: " + body + "\n\n");
      responder().End();
      return Stop();
    }
    Finish(500, body, {});
  }

  ChatRequest chat_;
  agent::Rng rng_;
  const std::string id_;
  const int64_t created_;
  std::unique_ptr<RuleLlm> llm_;
  std::unique_ptr<agent::LlmStream> stream_;
  int drop_after_ = 0;
  int events_ = 0;
  bool begun_ = false;
  std::string text_;
  std::optional<agent::ToolCallRequest> tool_call_;
  int completion_tokens_ = 0;
};

}  // namespace

void HandleChat(const std::shared_ptr<FakeProviders::State>& state, agent::HttpRequest request,
                std::shared_ptr<agent::HttpResponder> responder) {
  json body;
  if (!OpenAiRequestBody(state->chat, state->config.api_keys, request, *responder, &body)) return;
  ChatRequest chat;
  std::string error;
  std::string param;
  if (!ParseChatRequest(body, &chat, &error, &param)) {
    return RespondBadRequest(state->chat, *responder, error, param);
  }
  const std::string call = CallOf(request, chat.user);
  agent::Rng rng = RequestRng(state->config.seed, request, call, "llm", request.body);
  std::make_shared<ChatExchange>(state, std::move(chat), rng, responder)
      ->Start(state->llm_capacity.get());
}

void HandleModels(const std::shared_ptr<FakeProviders::State>& state, agent::HttpRequest request,
                  std::shared_ptr<agent::HttpResponder> responder) {
  if (!Authorized(state->config.api_keys, request, "Bearer")) {
    state->chat.unauthorized->Increment();
    return RespondJson(*responder, 401,
                       OpenAiErrorBody("Incorrect API key provided.", "invalid_request_error",
                                       "invalid_api_key"));
  }
  json data = json::array();
  for (const std::string& model : state->config.models) {
    data.push_back({{"id", model}, {"object", "model"}, {"created", 1700000000}, {"owned_by", "callsim"}});
  }
  RespondJson(*responder, 200, json{{"object", "list"}, {"data", data}}.dump());
}

}  // namespace callsim::fakes::wire
