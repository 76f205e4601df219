// What `callsim run --target` (and `sweep --target`) build for one run: the WireEngine, the
// token source and, for `--target self`, the reference agent served in this process on a
// loopback port (one worker, a random API key whose tokens the calls fetch from /v1/token as any
// client would, and the agent's events relayed to the callers); its callers then leave the agent
// a core unless --workers says otherwise.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "harness/run/runner.h"
#include "harness/wire/event_relay.h"
#include "harness/wire/serve.h"
#include "harness/wire/wire_engine.h"

namespace callsim::harness {

struct TargetFlags {
  std::string target;               // "self", ws://host:port/path or sip:user@host:port
  std::string protocol;             // "twilio" or "sip"; "" from the target (self: twilio)
  bool srtp = false;                // SIP: offer RTP/SAVP with an SDES key
  std::string sip_auth_env;         // SIP: the variable holding USER:PASSWORD for digest auth
  std::string token_url;            // http://host:port/v1/token
  std::string api_key_env;          // the environment variable holding the API key
  std::vector<std::string> headers; // "Name: value"
  // Threads: with a target, caller threads (0: one per core; self: one core less); in virtual
  // time, the run's workers (RunOptions::workers; 0: one per core).
  int workers = 0;
  // Virtual time: every call on the run's one clock instead of lanes (RunOptions::call_lanes).
  bool no_lanes = false;
};

// Whether the flags make SIP calls.
bool IsSipTarget(const TargetFlags& flags);

// Checks the flags alone (before anything is read): false with a message in *error.
bool CheckTargetFlags(const TargetFlags& flags, std::string* error);

class WireSetup {
 public:
  // For one run of `plan`; false with the reason in *error (nothing started).
  static std::unique_ptr<WireSetup> Make(const TargetFlags& flags, const RunPlan& plan,
                                         uint64_t seed, std::string* error);
  ~WireSetup();

  RunEngine& engine() { return *engine_; }

 private:
  WireSetup() = default;
  EventRelay relay_;
  std::unique_ptr<Server> self_;
  std::unique_ptr<WireEngine> engine_;
};

}  // namespace callsim::harness
