// Packet loss for a simulated link: none, independent (Bernoulli), or bursty (Gilbert-Elliott with
// netem's four parameters p, r, 1-h, 1-k). Every Lose() call consumes exactly two draws whatever the
// model, so changing the loss settings never shifts the draws of anything sharing the stream.
#pragma once

#include <string>

#include "agent/runtime/rng.h"

namespace callsim::fakes {

struct LossConfig {
  enum class Model { kNone, kBernoulli, kGilbertElliott };
  Model model = Model::kNone;
  double loss = 0;       // Bernoulli: loss probability per packet
  double p = 0;          // Gilbert-Elliott: P(good -> bad) per packet (netem's p)
  double r = 1;          // P(bad -> good) per packet (netem's r; tc defaults it to 1 - p, and
                         // so does the scenario loader, but this struct cannot: set it)
  double bad_loss = 1;   // loss probability in the bad state (netem's 1-h)
  double good_loss = 0;  // loss probability in the good state (netem's 1-k)

  // The long-run fraction of packets lost. Gilbert-Elliott: pi_bad = p / (p + r),
  // rate = pi_bad * bad_loss + (1 - pi_bad) * good_loss. kNone gives 0.
  double StationaryLossRate() const;
};

// "" when `config` is usable, otherwise a message naming the first bad field, e.g.
// "loss must be in [0, 1] (got 1.5)". Every probability is checked whatever the model; p + r > 0
// is required for Gilbert-Elliott (otherwise the chain has no stationary rate).
std::string ValidateLossConfig(const LossConfig& config);

// Decides, packet by packet, whether a packet is lost. Gilbert-Elliott starts in the good state.
class LossModel {
 public:
  // `config` must pass ValidateLossConfig.
  explicit LossModel(LossConfig config);

  // True when the next packet is lost. Draws exactly two Uniform() values, in this order:
  //   1. u_loss: the packet is lost when u_loss < the loss probability of the CURRENT state
  //      (Bernoulli: `loss`; kNone: never);
  //   2. u_move: Gilbert-Elliott then moves good -> bad when u_move < p, bad -> good when u_move < r
  //      (unused by the other models).
  // Deciding from the state the packet finds, then moving, is what netem's loss_gilb_ell()
  // effectively does, so a loss burst with bad_loss = 1 lasts 1/r packets on average.
  bool Lose(agent::Rng& rng);

  bool in_bad_state() const { return bad_; }

 private:
  LossConfig config_;
  bool bad_ = false;
};

}  // namespace callsim::fakes
