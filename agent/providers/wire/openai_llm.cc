#include "agent/providers/wire/openai_llm.h"

#include <map>
#include <vector>

#include <boost/asio/post.hpp>

#include "agent/providers/wire/http_error.h"
#include "agent/providers/wire/sse.h"

namespace callsim::agent::wire {
namespace {

constexpr size_t kMaxStreamBytes = 16u << 20;
constexpr size_t kMaxEventBytes = 1u << 20;

int IntOr(const nlohmann::json& object, const char* key, int fallback) {
  auto it = object.find(key);
  return it != object.end() && it->is_number_integer() ? it->get<int>() : fallback;
}

uint64_t CountAt(const nlohmann::json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_number_unsigned() ? it->get<uint64_t>() : 0;
}

// One stream's state, shared between its handle and the HTTP call's handlers (which hold it
// weakly: the handle owns it).
class LlmStreamState : public std::enable_shared_from_this<LlmStreamState> {
 public:
  friend HttpHandlers WeakHandlers<LlmStreamState>(const std::shared_ptr<LlmStreamState>& target);

  LlmStreamState(LlmListener listener, std::shared_ptr<OpenAiLlmStats> stats)
      : listener_(std::move(listener)), stats_(std::move(stats)), sse_(kMaxEventBytes) {}

  void SetCall(std::unique_ptr<HttpCall> call) { call_ = std::move(call); }

  HttpHandlers Handlers() { return WeakHandlers(shared_from_this()); }

  void Cancel() {
    if (closed_) return;
    closed_ = true;
    if (call_ && !ended_) call_->Cancel();
  }

  void Fail(const std::string& error) {
    if (!Live()) return;
    ended_ = true;
    if (call_) call_->Cancel();
    ++stats_->errors;
    if (listener_.on_error) listener_.on_error(error);
  }

 private:
  bool Live() const { return !ended_ && !closed_; }

  void OnHead(const HttpHead& head) {
    head_ = head;
    failed_status_ = head.status < 200 || head.status >= 300;
  }

  void OnBody(std::string_view piece) {
    if (!Live()) return;
    if (failed_status_) {
      const size_t room = kMaxErrorBodyBytes - std::min(kMaxErrorBodyBytes, error_body_.size());
      error_body_.append(piece.substr(0, room));
      return;
    }
    events_.clear();
    const bool ok = sse_.Feed(piece, &events_);
    for (const SseEvent& event : events_) {
      Event(event);
      if (!Live()) return;
    }
    if (!ok) Fail("bad event stream: " + sse_.error());
  }

  void OnEnd() {
    if (!Live()) return;
    if (failed_status_) {
      Fail(HttpErrorMessage(head_.status, head_.reason, head_.headers, error_body_));
      return;
    }
    if (finish_reason_.empty()) {
      Fail("stream ended early: the body ended without finish_reason or [DONE]");
      return;
    }
    DeliverToolCall();
    Done();
  }

  void OnError(const std::string& error) {
    if (!Live()) return;
    if (head_.status == 0) {
      Fail(error);
    } else if (failed_status_) {
      Fail(HttpErrorMessage(head_.status, head_.reason, head_.headers, error_body_));
    } else if (!finish_reason_.empty() && error.rfind("connection closed", 0) == 0) {
      // Everything was said; only the end of the body is missing.
      DeliverToolCall();
      Done();
    } else {
      Fail("stream ended early: " + error);
    }
  }

  void Event(const SseEvent& event) {
    if (event.event == "error") {
      const std::string message = ErrorMessageFromBody(event.data);
      Fail("stream error: " + (message.empty() ? std::string("no message") : message));
      return;
    }
    if (event.data == "[DONE]") {
      DeliverToolCall();
      Done();
      return;
    }
    if (event.data.empty()) return;
    const nlohmann::json chunk = nlohmann::json::parse(event.data, nullptr, false);
    if (chunk.is_discarded() || !chunk.is_object()) {
      Fail("bad JSON in stream: " + QuoteBounded(event.data));
      return;
    }
    if (auto error = chunk.find("error"); error != chunk.end() && !error->is_null()) {
      const std::string message = ErrorMessageFromBody(event.data);
      Fail("stream error: " + (message.empty() ? std::string("no message") : message));
      return;
    }
    if (auto usage = chunk.find("usage"); usage != chunk.end() && usage->is_object()) {
      stats_->prompt_tokens += CountAt(*usage, "prompt_tokens");
      stats_->completion_tokens += CountAt(*usage, "completion_tokens");
    }
    auto choices = chunk.find("choices");
    if (choices == chunk.end() || !choices->is_array()) return;
    for (const nlohmann::json& choice : *choices) {
      if (!choice.is_object() || IntOr(choice, "index", 0) != 0) continue;  // n = 1
      Choice(choice);
      if (!Live()) return;
    }
  }

  void Choice(const nlohmann::json& choice) {
    if (auto delta = choice.find("delta"); delta != choice.end() && delta->is_object()) {
      if (auto calls = delta->find("tool_calls"); calls != delta->end() && calls->is_array()) {
        for (const nlohmann::json& fragment : *calls) ToolFragment(fragment);
      }
      const std::string content = JsonStringAt(*delta, "content");
      if (!content.empty()) {
        ++stats_->tokens;
        if (listener_.on_token) listener_.on_token(content);
        if (!Live()) return;
      }
    }
    const std::string reason = JsonStringAt(choice, "finish_reason");
    if (reason.empty()) return;
    finish_reason_ = reason;
    if (reason == "content_filter") {
      Fail("the reply was stopped by the provider's content filter");
    } else if (reason == "tool_calls" || reason == "function_call") {
      DeliverToolCall();
    }
  }

  void ToolFragment(const nlohmann::json& fragment) {
    if (!fragment.is_object()) return;
    const int index = IntOr(fragment, "index", 0);
    if (tool_calls_.size() >= 16 && tool_calls_.find(index) == tool_calls_.end()) return;
    ToolCallRequest& call = tool_calls_[index];
    if (call.id.empty()) call.id = JsonStringAt(fragment, "id");
    if (auto function = fragment.find("function"); function != fragment.end()) {
      if (call.name.empty()) call.name = JsonStringAt(*function, "name");
      call.arguments_json += JsonStringAt(*function, "arguments");
    }
  }

  // The first tool call, once (the agent runs one per reply).
  void DeliverToolCall() {
    if (tool_call_delivered_ || tool_calls_.empty() || !Live()) return;
    tool_call_delivered_ = true;
    ToolCallRequest call = tool_calls_.begin()->second;
    if (call.name.empty()) {
      Fail("tool call without a function name");
      return;
    }
    if (call.id.empty()) call.id = "call_" + std::to_string(tool_calls_.begin()->first);
    if (listener_.on_tool_call) listener_.on_tool_call(call);
  }

  void Done() {
    if (!Live()) return;
    ended_ = true;
    if (call_) call_->Release();  // the rest of the body is read so the connection is reused
    if (listener_.on_done) listener_.on_done();
  }

  LlmListener listener_;
  std::shared_ptr<OpenAiLlmStats> stats_;
  std::unique_ptr<HttpCall> call_;
  SseParser sse_;
  std::vector<SseEvent> events_;
  HttpHead head_;
  bool failed_status_ = false;
  std::string error_body_;
  std::map<int, ToolCallRequest> tool_calls_;
  std::string finish_reason_;
  bool tool_call_delivered_ = false;
  bool ended_ = false;   // on_done or on_error delivered
  bool closed_ = false;  // cancelled or destroyed
};

class OpenAiLlmStream final : public LlmStream {
 public:
  explicit OpenAiLlmStream(std::shared_ptr<LlmStreamState> state) : state_(std::move(state)) {}
  ~OpenAiLlmStream() override { state_->Cancel(); }
  void Cancel() override { state_->Cancel(); }

 private:
  std::shared_ptr<LlmStreamState> state_;
};

std::string ValidateTools(const nlohmann::json& tools) {
  if (!tools.is_array()) return "tools must be a JSON array";
  for (size_t i = 0; i < tools.size(); ++i) {
    const nlohmann::json& tool = tools[i];
    const std::string at = "tools[" + std::to_string(i) + "]";
    if (!tool.is_object() || JsonStringAt(tool, "type") != "function") {
      return at + " is not {\"type\":\"function\",...}";
    }
    auto function = tool.find("function");
    if (function == tool.end() || !function->is_object() || JsonStringAt(*function, "name").empty()) {
      return at + " has no function.name";
    }
  }
  return "";
}

}  // namespace

std::string ValidateConfig(const OpenAiLlmConfig& config) {
  std::string error =
      ValidateEndpoint("OpenAI LLM", config.endpoint, {"http", "https"}, nullptr, true);
  if (error.empty()) {
    if (std::string tools = ValidateTools(config.tools); !tools.empty()) {
      error = "OpenAI LLM: " + tools;
    }
  }
  return error;
}

nlohmann::json OpenAiMessages(const std::vector<ChatMessage>& messages) {
  nlohmann::json out = nlohmann::json::array();
  int made_up_ids = 0;
  std::string last_call_id;
  for (const ChatMessage& message : messages) {
    if (message.role == "assistant" && !message.tool_name.empty()) {
      last_call_id = message.tool_call_id.empty() ? "call_" + std::to_string(++made_up_ids)
                                                  : message.tool_call_id;
      nlohmann::json call = {{"id", last_call_id},
                             {"type", "function"},
                             {"function",
                              {{"name", message.tool_name}, {"arguments", message.content}}}};
      out.push_back({{"role", "assistant"},
                     {"content", nullptr},
                     {"tool_calls", nlohmann::json::array({call})}});
    } else if (message.role == "tool") {
      const std::string id = message.tool_call_id.empty() ? last_call_id : message.tool_call_id;
      out.push_back({{"role", "tool"}, {"tool_call_id", id}, {"content", message.content}});
    } else {
      out.push_back({{"role", message.role}, {"content", message.content}});
    }
  }
  return out;
}

nlohmann::json OpenAiChatRequest(const OpenAiLlmConfig& config, const LlmRequest& request) {
  nlohmann::json body = {{"model", config.endpoint.model},
                         {"messages", OpenAiMessages(request.messages)},
                         {"stream", true},
                         {"stream_options", {{"include_usage", true}}}};
  if (config.tools.is_array() && !config.tools.empty()) {
    body["tools"] = config.tools;
    body["parallel_tool_calls"] = false;
  }
  return body;
}

OpenAiLlm::OpenAiLlm(boost::asio::io_context& io, Scheduler& scheduler, OpenAiLlmConfig config)
    : io_(io),
      scheduler_(scheduler),
      config_(std::move(config)),
      config_error_(ValidateConfig(config_)),
      http_(io, PoolConfigOf(config_.endpoint)) {
  if (config_error_.empty()) {
    ValidateEndpoint("OpenAI LLM", config_.endpoint, {"http", "https"}, &url_, true);
    url_.target = JoinPath(url_.target, "/chat/completions");
  }
}

OpenAiLlm::~OpenAiLlm() = default;

std::unique_ptr<LlmStream> OpenAiLlm::Start(const LlmRequest& request, LlmListener listener) {
  ++stats_->streams;
  auto state = std::make_shared<LlmStreamState>(std::move(listener), stats_);
  if (!config_error_.empty()) {
    boost::asio::post(io_, [weak = std::weak_ptr<LlmStreamState>(state), error = config_error_] {
      if (auto self = weak.lock()) self->Fail(error);
    });
    return std::make_unique<OpenAiLlmStream>(std::move(state));
  }
  HttpRequest http = JsonPost(config_.endpoint, url_, stats_->streams,
                              OpenAiChatRequest(config_, request), kMaxStreamBytes);
  http.headers.emplace_back("Accept", "text/event-stream");
  state->SetCall(http_.Start(std::move(http), state->Handlers()));
  return std::make_unique<OpenAiLlmStream>(std::move(state));
}

}  // namespace callsim::agent::wire
