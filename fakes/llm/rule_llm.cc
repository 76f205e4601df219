#include "fakes/llm/rule_llm.h"

#include <cctype>
#include <cmath>
#include <optional>
#include <string_view>
#include <utility>

#include "agent/text/words.h"

namespace callsim::fakes {
namespace {

// `phrase` occurs in `text` as whole words (both are normalized: words split by single spaces).
bool ContainsPhrase(std::string_view text, std::string_view phrase) {
  for (size_t pos = text.find(phrase); pos != std::string_view::npos;
       pos = text.find(phrase, pos + 1)) {
    const size_t end = pos + phrase.size();
    const bool starts_word = pos == 0 || text[pos - 1] == ' ';
    const bool ends_word = end == text.size() || text[end] == ' ';
    if (starts_word && ends_word) return true;
  }
  return false;
}

bool ConditionHolds(const LlmCondition& c, std::string_view user_text,
                    std::string_view answered_tool) {
  if (!c.after_tool.empty() && c.after_tool != answered_tool) return false;
  if (!c.contains_any.empty()) {
    bool any = false;
    for (const std::string& p : c.contains_any) any = any || ContainsPhrase(user_text, p);
    if (!any) return false;
  }
  for (const std::string& p : c.contains_all) {
    if (!ContainsPhrase(user_text, p)) return false;
  }
  if (c.matches && !c.matches->Search(user_text)) {
    return false;
  }
  return true;
}

// What one stream still has to deliver. Shared by the stream object and its scheduled task (which
// holds it weakly), so that a listener may destroy the stream from inside a callback.
struct StreamState {
  explicit StreamState(agent::Scheduler& s) : scheduler(s) {}
  agent::Scheduler& scheduler;
  agent::LlmListener listener;
  std::vector<std::string> tokens;
  std::optional<agent::ToolCallRequest> tool_call;
  std::string error;  // non-empty: the only event is on_error
  std::shared_ptr<std::string> last_tool_name;
  CapacityTicket ticket;  // the stream's slot, held until done, error or cancel
  int64_t ttft_us = 0;
  int64_t first_event_us = 0;
  double tokens_per_s = 0;
  size_t next_event = 0;  // tokens first, then the tool call
  agent::TaskId pending = agent::kNoTask;
  bool stopped = false;
};

size_t EventCount(const StreamState& st) { return st.tokens.size() + (st.tool_call ? 1 : 0); }

int64_t EventTimeUs(const StreamState& st, size_t index) {
  if (st.tokens_per_s <= 0) return st.first_event_us;
  // From the first event, not from the previous one, so rounding never accumulates.
  return st.first_event_us + std::llround(static_cast<double>(index) * 1e6 / st.tokens_per_s);
}

void RunEvent(const std::shared_ptr<StreamState>& st);

void ScheduleNext(const std::shared_ptr<StreamState>& st) {
  std::weak_ptr<StreamState> weak = st;
  st->pending = st->scheduler.At(EventTimeUs(*st, st->next_event), [weak] {
    if (std::shared_ptr<StreamState> locked = weak.lock()) RunEvent(locked);
  });
}

// The stream got its slot (or needs none): the first event comes one time to first token later.
void BeginStream(const std::shared_ptr<StreamState>& st) {
  st->first_event_us = st->scheduler.NowUs() + st->ttft_us;
  ScheduleNext(st);
}

// Delivers one event; `st` stays alive through the callback even if the stream is destroyed in it.
void RunEvent(const std::shared_ptr<StreamState>& st) {
  st->pending = agent::kNoTask;
  if (st->stopped) return;
  if (!st->error.empty()) {
    st->stopped = true;
    st->ticket.Release();
    if (st->listener.on_error) st->listener.on_error(st->error);
    return;
  }
  if (st->next_event < EventCount(*st)) {
    const size_t i = st->next_event++;
    if (i < st->tokens.size()) {
      if (st->listener.on_token) st->listener.on_token(st->tokens[i]);
    } else {
      *st->last_tool_name = st->tool_call->name;
      if (st->listener.on_tool_call) st->listener.on_tool_call(*st->tool_call);
    }
    if (st->stopped) return;  // cancelled from inside the callback
    if (st->next_event < EventCount(*st)) {
      ScheduleNext(st);
      return;
    }
  }
  st->stopped = true;
  st->ticket.Release();
  if (st->listener.on_done) st->listener.on_done();
}

// Asks the limiter for a slot; a refusal becomes the stream's only event.
void AcquireSlot(const std::shared_ptr<StreamState>& st, CapacityLimiter& limiter) {
  std::weak_ptr<StreamState> weak = st;
  st->ticket = limiter.Acquire(
      [weak] {
        if (std::shared_ptr<StreamState> locked = weak.lock()) BeginStream(locked);
      },
      [weak](const std::string& error) {
        std::shared_ptr<StreamState> locked = weak.lock();
        if (!locked || locked->stopped) return;
        locked->stopped = true;
        if (locked->listener.on_error) locked->listener.on_error(error);
      });
  if (st->ticket.granted()) BeginStream(st);
}

class RuleLlmStream final : public agent::LlmStream {
 public:
  explicit RuleLlmStream(std::shared_ptr<StreamState> state) : state_(std::move(state)) {}
  ~RuleLlmStream() override { Cancel(); }

  void Cancel() override {
    state_->stopped = true;
    state_->ticket.Release();
    if (state_->pending != agent::kNoTask) {
      state_->scheduler.Cancel(state_->pending);
      state_->pending = agent::kNoTask;
    }
  }

 private:
  std::shared_ptr<StreamState> state_;
};

}  // namespace

const LlmRule* MatchLlmRule(const LlmScript& script, const agent::LlmRequest& request,
                            std::string_view last_tool_name) {
  std::string user_text;
  for (auto it = request.messages.rbegin(); it != request.messages.rend(); ++it) {
    if (it->role == "user") {
      user_text = agent::NormalizeText(it->content);
      break;
    }
  }
  const bool last_is_tool = !request.messages.empty() && request.messages.back().role == "tool";
  std::string_view answered_tool;
  if (last_is_tool) {
    const std::string& named = request.messages.back().tool_name;
    answered_tool = named.empty() ? last_tool_name : std::string_view(named);
  }
  for (const LlmRule& rule : script.rules) {
    // After a tool result only the rules written for it apply: the others answered the user
    // text already, and matching them again would loop on the same tool call.
    if (last_is_tool && (!rule.when || rule.when->after_tool.empty())) continue;
    if (!rule.when || ConditionHolds(*rule.when, user_text, answered_tool)) return &rule;
  }
  return nullptr;
}

std::vector<std::string> SplitLlmTokens(std::string_view say) {
  std::vector<std::string> tokens;
  size_t i = 0;
  while (i < say.size()) {
    while (i < say.size() && std::isspace(static_cast<unsigned char>(say[i]))) ++i;
    const size_t begin = i;
    while (i < say.size() && !std::isspace(static_cast<unsigned char>(say[i]))) ++i;
    if (i == begin) break;
    std::string token = tokens.empty() ? std::string() : std::string(" ");
    token.append(say.substr(begin, i - begin));
    tokens.push_back(std::move(token));
  }
  return tokens;
}

RuleLlm::RuleLlm(agent::Scheduler& scheduler, agent::Rng rng, RuleLlmConfig config,
                 LlmScript script)
    : scheduler_(scheduler), rng_(rng), config_(config), script_(std::move(script)) {}

std::unique_ptr<agent::LlmStream> RuleLlm::Start(const agent::LlmRequest& request,
                                                 agent::LlmListener listener) {
  agent::Rng stream_rng = rng_.Fork("stream/" + std::to_string(++streams_started_));
  auto st = std::make_shared<StreamState>(scheduler_);
  st->listener = std::move(listener);
  st->last_tool_name = last_tool_name_;
  st->tokens_per_s = config_.tokens_per_s;
  st->ttft_us = config_.ttft.DrawUs(stream_rng);
  if (const LlmRule* rule = MatchLlmRule(script_, request, *last_tool_name_)) {
    st->tokens = SplitLlmTokens(rule->say);
    if (rule->tool_call) {
      st->tool_call =
          agent::ToolCallRequest{"call_" + std::to_string(++tool_calls_started_),
                                 rule->tool_call->name, rule->tool_call->arguments_json};
    }
  } else if (request.messages.empty() || request.messages.back().role != "tool") {
    st->error = "no rule matched";
  }  // after a tool result with no rule for it the model has nothing to add: an empty reply
  // Never call back from inside Start: both paths only schedule.
  if (config_.capacity) {
    AcquireSlot(st, *config_.capacity);
  } else {
    BeginStream(st);
  }
  return std::make_unique<RuleLlmStream>(std::move(st));
}

}  // namespace callsim::fakes
