// A simulated one-way network path in virtual time: outage windows, loss (Bernoulli or
// Gilbert-Elliott), delay with jitter, FIFO delivery with optional reordering, and duplication.
// Everything is drawn from the Rng it is given in a fixed order per packet, so a run replays exactly.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agent/runtime/link.h"
#include "agent/runtime/rng.h"
#include "agent/runtime/scheduler.h"
#include "fakes/net/jitter_distribution.h"
#include "fakes/net/loss_model.h"

namespace callsim::fakes {

// Every packet sent at a scheduler time in [start_ms, start_ms + duration_ms) is lost.
struct Outage {
  double start_ms = 0;
  double duration_ms = 0;
};

struct SimLinkConfig {
  double delay_ms = 0;          // one-way base delay
  double jitter_ms = 0;         // the scale of the jitter: see JitterDistribution
  JitterDistribution jitter_distribution = JitterDistribution::kNormal;
  LossConfig loss;
  double reorder = 0;           // P(a packet is held back by reorder_gap_ms, so later ones pass it)
  double reorder_gap_ms = 40;
  double duplicate = 0;         // P(a second copy arrives kDuplicateGapMs after the first)
  std::vector<Outage> outages;  // any order; may overlap
  int max_in_flight = 4096;     // copies on the wire at once; beyond it, drop (overflow_dropped)
};

// Bounds that keep every time in microseconds far from int64 overflow.
inline constexpr double kMaxLinkDelayMs = 60'000;   // delay_ms, jitter_ms, reorder_gap_ms
inline constexpr double kMaxOutageMs = 1e12;        // outage start_ms and duration_ms
inline constexpr int kMaxInFlightLimit = 1 << 20;  // max_in_flight
inline constexpr double kDuplicateGapMs = 1;

// "" when `config` is usable, otherwise a message naming the first bad field by its path in the
// struct, e.g. "loss.loss must be in [0, 1] (got 1.5)" or "outages[2].duration_ms must be ...".
std::string ValidateSimLinkConfig(const SimLinkConfig& config);

// Conservation: sent + duplicated == delivered + lost + outage_dropped + overflow_dropped + in flight.
struct SimLinkStats {
  uint64_t sent = 0;              // Send() calls
  uint64_t delivered = 0;         // copies that reached the far end (receiver set or not)
  uint64_t lost = 0;              // dropped by the loss model
  uint64_t outage_dropped = 0;    // sent inside an outage window
  uint64_t duplicated = 0;        // extra copies made (a copy with no room also counts as overflow)
  uint64_t reordered = 0;         // packets held back by reorder_gap_ms
  uint64_t overflow_dropped = 0;  // copies dropped because max_in_flight copies were on the wire
};

// Per packet, Send() takes exactly six Uniform() draws from the link's Rng, before any decision and
// whatever the packet's fate, in this order:
//   1-2. the loss model (LossModel::Lose: u_loss, u_move),
//   3-4. the jitter, u1 then u2, whatever the distribution and even when jitter_ms is 0:
//        kNormal uses both (Box-Muller: jitter_ms * sqrt(-2 ln(1 - u1)) * cos(2 pi u2), the same
//        values as Rng::Normal); kUniform, kExponential and kPareto use only u1 (inverse CDF:
//        the same values as Rng::Uniform(-j, j), Rng::Exponential(j), Rng::Pareto(1.5 j, 2.5) -
//        1.5 j would give for it),
//   5.   reorder, 6. duplicate.
// So changing one setting (say the loss rate) never shifts the draws behind any other decision:
// sweeps compare like with like. Decisions are then made in this order: outage window, loss,
// room on the wire, delay, reorder, duplicate. The loss model steps for every packet, including
// those sent during an outage.
//
// Delay: delay_ms + the jitter, clamped to its distribution's bounds (see JitterDistribution).
// The path is FIFO: a packet is delivered no earlier than the last in-order packet before it. A
// reordered packet is delivered reorder_gap_ms after its in-order time and does not hold back
// later packets. A duplicate arrives kDuplicateGapMs after its original and does not hold back
// later packets.
//
// Delivery is a task on the Scheduler; the link owns the bytes until then (no allocation per packet
// beyond the scheduler's queue, except a duplicate's copy). Not thread-safe, like the Scheduler.
class SimLink final : public agent::Link {
 public:
  // `config` must pass ValidateSimLinkConfig (CALLSIM_CHECK). `scheduler` must outlive the link.
  SimLink(agent::Scheduler& scheduler, agent::Rng rng, SimLinkConfig config);
  // Cancels every pending delivery, so no task touches the link after it is gone.
  ~SimLink() override;
  SimLink(const SimLink&) = delete;
  SimLink& operator=(const SimLink&) = delete;

  void Send(agent::Packet packet) override;
  // Applies to deliveries from now on, including packets already in flight. A copy that arrives
  // with no receiver set is dropped (it still counts as delivered). The receiver may Send(), call
  // SetReceiver() or destroy the link from inside the call: the link is not touched afterwards.
  void SetReceiver(Receiver receiver) override;

  const SimLinkStats& stats() const { return stats_; }
  int in_flight() const { return in_flight_; }

 private:
  struct Draws {
    double u_reorder;
    double u_duplicate;
    double jitter_ms;
    bool lost;
  };
  // A copy on the wire. `task` is kNoTask when the slot is free.
  struct Slot {
    agent::Packet packet;
    agent::TaskId task = agent::kNoTask;
  };

  Draws Draw();
  double JitterMs(double u1, double u2) const;
  bool InOutage(int64_t now_us);
  int64_t DelayUs(double jitter_ms) const;
  // Puts a copy on the wire for delivery at `when_us`; false (and overflow_dropped) if no room.
  bool Schedule(agent::Packet packet, int64_t when_us);
  void Deliver(uint32_t slot);

  agent::Scheduler& scheduler_;
  agent::Rng rng_;
  SimLinkConfig config_;
  LossModel loss_model_;
  Receiver receiver_;
  SimLinkStats stats_;
  // Outages as [start_us, end_us), sorted by start. Those before next_outage_ have ended
  // (scheduler time never goes back), so the check per packet stays short.
  std::vector<std::pair<int64_t, int64_t>> outages_us_;
  size_t next_outage_ = 0;
  int64_t last_fifo_delivery_us_ = 0;
  std::vector<Slot> slots_;          // grows up to max_in_flight, never shrinks
  std::vector<uint32_t> free_slots_;  // reused last-in first-out: deterministic
  int in_flight_ = 0;
};

}  // namespace callsim::fakes
