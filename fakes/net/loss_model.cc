#include "fakes/net/loss_model.h"

#include <cstdio>
#include <utility>

#include "agent/runtime/check.h"

namespace callsim::fakes {
namespace {

// "" when 0 <= value <= 1 (NaN fails), otherwise "<field> must be in [0, 1] (got <value>)".
std::string CheckProbability(const char* field, double value) {
  if (value >= 0 && value <= 1) return "";
  char buf[128];
  std::snprintf(buf, sizeof buf, "%s must be in [0, 1] (got %g)", field, value);
  return buf;
}

}  // namespace

double LossConfig::StationaryLossRate() const {
  switch (model) {
    case Model::kNone:
      return 0;
    case Model::kBernoulli:
      return loss;
    case Model::kGilbertElliott: {
      if (p + r <= 0) return good_loss;  // invalid config; the chain never leaves the good state
      const double pi_bad = p / (p + r);
      return pi_bad * bad_loss + (1 - pi_bad) * good_loss;
    }
  }
  return 0;
}

std::string ValidateLossConfig(const LossConfig& config) {
  const std::pair<const char*, double> probabilities[] = {
      {"loss", config.loss},         {"p", config.p},
      {"r", config.r},               {"bad_loss", config.bad_loss},
      {"good_loss", config.good_loss},
  };
  for (const auto& [field, value] : probabilities) {
    std::string error = CheckProbability(field, value);
    if (!error.empty()) return error;
  }
  if (config.model == LossConfig::Model::kGilbertElliott && !(config.p + config.r > 0)) {
    return "p + r must be > 0 for the Gilbert-Elliott model (got p = 0 and r = 0)";
  }
  return "";
}

LossModel::LossModel(LossConfig config) : config_(config) {
  CALLSIM_CHECK(ValidateLossConfig(config_).empty());
}

bool LossModel::Lose(agent::Rng& rng) {
  const double u_loss = rng.Uniform();
  const double u_move = rng.Uniform();
  switch (config_.model) {
    case LossConfig::Model::kNone:
      return false;
    case LossConfig::Model::kBernoulli:
      return u_loss < config_.loss;
    case LossConfig::Model::kGilbertElliott: {
      const bool lost = u_loss < (bad_ ? config_.bad_loss : config_.good_loss);
      bad_ = bad_ ? !(u_move < config_.r) : u_move < config_.p;
      return lost;
    }
  }
  return false;
}

}  // namespace callsim::fakes
