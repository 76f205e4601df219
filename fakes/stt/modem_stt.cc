#include "fakes/stt/modem_stt.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "fakes/modem/vocabulary.h"
#include "fakes/modem/word_modem.h"

namespace callsim::fakes {
namespace {

// Interims are superseded by later ones, so when too many wait, the oldest is dropped: the bound
// keeps a session's memory flat even if its scheduler stalls.
constexpr size_t kMaxPendingInterims = 32;

class ModemSttSession final : public ModemSttWordsSession {
 public:
  ModemSttSession(agent::Scheduler& scheduler, agent::Rng rng, const ModemSttConfig& config,
                  ModemSttWordsListener listener)
      : scheduler_(scheduler),
        rng_(rng),
        config_(config),
        listener_(std::make_shared<const ModemSttWordsListener>(std::move(listener))) {}

  bool in_speech() const override { return decoder_.in_burst(); }
  int64_t samples_seen() const override { return decoder_.samples_seen(); }

  ~ModemSttSession() override {
    for (const Pending& p : pending_) scheduler_.Cancel(p.id);
    // Leave the queue before giving slots back, so no slot is granted to this session.
    waiting_.clear();
    pending_.clear();
  }

  void PushAudio(const agent::Frame& frame) override {
    decoder_.Push(frame);
    if (Recognize(decoder_.TakeWords()) && waiting_.empty()) ScheduleInterim();
  }

  void Finalize() override {
    // A word still being heard goes where most of it is, as a recognizer with lookahead would
    // place it: mostly heard, it is finished now (the rest of its audio is ignored); barely
    // begun, it goes on into the next segment (cutting it would lose the whole word, as the
    // modem cannot decode a burst without its start).
    if (decoder_.burst_progress() >= 0.5) decoder_.Flush();
    Recognize(decoder_.TakeWords());
    std::vector<SttWord> text = std::move(transcript_);
    transcript_.clear();
    const int64_t delay_us = config_.final_latency.DrawUs(rng_);
    if (!config_.capacity) {
      Schedule(delay_us, /*final=*/true, std::move(text));
      return;
    }
    const uint64_t key = next_request_++;
    CapacityTicket ticket = config_.capacity->Acquire(
        [this, key, delay_us, text] { OnGranted(key, delay_us, text); },
        [this, key](const std::string& error) { OnRefused(key, error); });
    if (ticket.granted()) {
      Schedule(delay_us, /*final=*/true, std::move(text), std::move(ticket));
    } else {
      waiting_.push_back({key, std::move(ticket)});
    }
  }

 private:
  struct Pending {
    agent::TaskId id;
    uint64_t seq;  // the task's own key: its id is not known inside the task
    bool final;
    CapacityTicket ticket;  // a final's slot, given back when it is delivered
  };
  // A final waiting for a capacity slot.
  struct Waiting {
    uint64_t key;
    CapacityTicket ticket;
  };

  void OnGranted(uint64_t key, int64_t delay_us, const std::vector<SttWord>& text) {
    auto it = std::find_if(waiting_.begin(), waiting_.end(),
                           [key](const Waiting& w) { return w.key == key; });
    if (it == waiting_.end()) return;
    CapacityTicket ticket = std::move(it->ticket);
    waiting_.erase(it);
    Schedule(delay_us, /*final=*/true, text, std::move(ticket));
  }

  void OnRefused(uint64_t key, const std::string& error) {
    auto it = std::find_if(waiting_.begin(), waiting_.end(),
                           [key](const Waiting& w) { return w.key == key; });
    if (it != waiting_.end()) waiting_.erase(it);
    // The callback may destroy this session: keep the listener alive and touch nothing after.
    const std::shared_ptr<const ModemSttWordsListener> listener = listener_;
    if (listener->on_error) listener->on_error(error);
  }

  // Appends what the recognizer "heard" of each decoded word. Returns true if the transcript grew.
  bool Recognize(const std::vector<DecodedWord>& words) {
    const Vocabulary& vocabulary = Vocabulary::Builtin();
    bool grew = false;
    for (const DecodedWord& w : words) {
      // Always three draws per word, whatever the outcome, so profiles share one random stream.
      const double error_draw = rng_.Uniform();
      const double kind_draw = rng_.Uniform();
      const int other = 1 + static_cast<int>(rng_.UniformInt(vocabulary.size() - 2));
      const double p = config_.profile.ErrorProbability(w.snr_db, w.concealed_share, w.confidence);
      const bool error = error_draw < p;
      if (error && kind_draw < config_.profile.deletion_share) continue;
      int index = w.vocab_index;
      const bool substituted = error || index == kUnknownWordIndex;
      if (substituted) {
        // A substitution (or an unknown word, which a recognizer hears as some other word).
        index = (index != kUnknownWordIndex && other >= index) ? other + 1 : other;
      }
      transcript_.push_back(SttWord{std::string(vocabulary.WordAt(index)), w.start_sample,
                                    w.end_sample, substituted ? w.confidence * 0.5 : w.confidence,
                                    w.checksum_ok, w.turn_end});
      grew = true;
    }
    return grew;
  }


  void ScheduleInterim() {
    size_t interims = 0;
    for (const Pending& p : pending_) interims += p.final ? 0 : 1;
    if (interims >= kMaxPendingInterims) {
      auto oldest =
          std::find_if(pending_.begin(), pending_.end(), [](const Pending& p) { return !p.final; });
      scheduler_.Cancel(oldest->id);
      pending_.erase(oldest);
    }
    Schedule(config_.interim_latency.DrawUs(rng_), /*final=*/false, transcript_);
  }

  // Delivery times never go backwards, so callbacks arrive in the order they were scheduled (a
  // late interim never overwrites a newer one, nor lands after the final that includes it).
  void Schedule(int64_t delay_us, bool final, std::vector<SttWord> text,
                CapacityTicket ticket = {}) {
    const int64_t due_us = std::max(scheduler_.NowUs() + delay_us, last_due_us_);
    last_due_us_ = due_us;
    const uint64_t seq = next_seq_++;
    const agent::TaskId id = scheduler_.At(
        due_us, [this, seq, final, text = std::move(text)] { Deliver(seq, final, text); });
    pending_.push_back({id, seq, final, std::move(ticket)});
  }

  void Deliver(uint64_t seq, bool final, const std::vector<SttWord>& text) {
    auto it = std::find_if(pending_.begin(), pending_.end(),
                           [seq](const Pending& p) { return p.seq == seq; });
    CapacityTicket slot;
    if (it != pending_.end()) {
      slot = std::move(it->ticket);
      pending_.erase(it);
    }
    // Given back after the erase: it may grant a waiting final of this very session.
    slot.Release();
    // The callback may destroy this session: keep the listener alive and touch nothing after.
    const std::shared_ptr<const ModemSttWordsListener> listener = listener_;
    const auto& callback = final ? listener->on_final : listener->on_interim;
    if (callback) callback(text);
  }

  agent::Scheduler& scheduler_;
  agent::Rng rng_;
  const ModemSttConfig config_;
  const std::shared_ptr<const ModemSttWordsListener> listener_;
  ModemDecoder decoder_;
  std::vector<SttWord> transcript_;  // heard since the last final
  std::vector<Pending> pending_;  // in due order
  std::vector<Waiting> waiting_;  // in request order
  uint64_t next_seq_ = 0;
  uint64_t next_request_ = 0;
  int64_t last_due_us_ = 0;
};

}  // namespace

double SttRobustnessProfile::ErrorProbability(double snr_db, double concealed_share,
                                              double confidence) const {
  const double scale_db = std::max(snr_scale_db, 1e-3);
  const double noise = noise_weight / (1.0 + std::exp((snr_db - snr_mid_db) / scale_db));
  const double p = floor_error + (1.0 - floor_error) * noise +
                   concealed_weight * std::clamp(concealed_share, 0.0, 1.0) +
                   low_confidence_weight * (1.0 - std::clamp(confidence, 0.0, 1.0));
  return std::clamp(p, 0.0, max_error);
}

SttRobustnessProfile SttRobustnessProfile::Default() { return SttRobustnessProfile{}; }

SttRobustnessProfile SttRobustnessProfile::Perfect() {
  SttRobustnessProfile p;
  p.floor_error = 0;
  p.noise_weight = 0;
  p.concealed_weight = 0;
  p.low_confidence_weight = 0;
  return p;
}

ModemStt::ModemStt(agent::Scheduler& scheduler, agent::Rng rng, ModemSttConfig config)
    : scheduler_(scheduler), rng_(rng), config_(std::move(config)) {}

std::unique_ptr<agent::SttSession> ModemStt::Open(agent::SttListener listener) {
  // The words joined by single spaces, as the agent reads a transcript; a word the voice ended
  // its turn on is followed by a period.
  auto text = [](const std::vector<SttWord>& words) {
    std::string joined;
    for (const SttWord& w : words) {
      if (!joined.empty()) joined.push_back(' ');
      joined += w.Punctuated();
    }
    return joined;
  };
  ModemSttWordsListener words;
  if (listener.on_interim) {
    words.on_interim = [on = std::move(listener.on_interim), text](
                           const std::vector<SttWord>& w) { on(text(w)); };
  }
  if (listener.on_final) {
    words.on_final = [on = std::move(listener.on_final), text](const std::vector<SttWord>& w) {
      on(text(w));
    };
  }
  words.on_error = std::move(listener.on_error);
  return OpenWords(std::move(words));
}

std::unique_ptr<ModemSttWordsSession> ModemStt::OpenWords(ModemSttWordsListener listener) {
  agent::Rng session_rng = rng_.Fork("session/" + std::to_string(next_session_++));
  return std::make_unique<ModemSttSession>(scheduler_, session_rng, config_, std::move(listener));
}

}  // namespace callsim::fakes
