// One SIP client transaction over UDP (RFC 3261 section 17.1): it sends a request, retransmits
// it, passes each distinct response up, and ends. INVITE: timer A retransmits from T1, doubling,
// until a provisional response; timer B (64*T1) gives up while still calling; a 2xx ends the
// transaction (the dialog ACKs it); a 300-699 is ACKed here (section 17.1.1.3) and its
// retransmissions are ACKed again and absorbed for timer D. Other methods: timer E retransmits
// from T1, doubling up to T2 (at T2 once a provisional arrived); timer F (64*T1) gives up; after
// the final response timer K (T4) absorbs retransmissions. Every timer is a Scheduler task, so
// tests run it in virtual time; the transport is a callback that only moves bytes.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "agent/runtime/scheduler.h"
#include "agent/sip/sip_message.h"

namespace callsim::agent::sip {

// RFC 3261 section 17.1.1.1 and table 4, in microseconds.
struct SipTimers {
  int64_t t1_us = 500'000;
  int64_t t2_us = 4'000'000;
  int64_t t4_us = 5'000'000;
  int64_t timer_d_us = 32'000'000;  // at least 32 s over UDP
};

class ClientTransaction {
 public:
  enum class State { kCalling, kTrying, kProceeding, kCompleted, kTerminated };
  using Send = std::function<void(const std::string& bytes)>;
  using OnResponse = std::function<void(const SipMessage& response)>;
  // Timer B or F fired: no final response came. Not called after a final response.
  using OnTimeout = std::function<void()>;

  // `request` must carry a Via with a branch (the transaction's key, section 17.1.3).
  ClientTransaction(Scheduler& scheduler, const SipTimers& timers, SipMessage request, Send send,
                    OnResponse on_response, OnTimeout on_timeout);
  ~ClientTransaction();
  ClientTransaction(const ClientTransaction&) = delete;
  ClientTransaction& operator=(const ClientTransaction&) = delete;

  // Sends the request and starts the timers.
  void Start();
  // A response whose top Via branch and CSeq method match this transaction (Matches).
  void OnReceive(const SipMessage& response);
  // Whether `response` belongs to this transaction (section 17.1.3).
  bool Matches(const SipMessage& response) const;

  State state() const { return state_; }
  const std::string& branch() const { return branch_; }
  bool is_invite() const { return invite_; }
  int sends() const { return sends_; }  // the request's transmissions so far

 private:
  void Retransmit();
  void Terminate();
  void SendAck(const SipMessage& response);
  void CancelTimers();

  Scheduler& scheduler_;
  SipTimers timers_;
  SipMessage request_;
  std::string request_bytes_;
  std::string ack_bytes_;  // the ACK of a non-2xx final response, once sent
  Send send_;
  OnResponse on_response_;
  OnTimeout on_timeout_;
  std::string branch_;
  std::string method_;
  bool invite_ = false;
  State state_ = State::kCalling;
  int64_t interval_us_ = 0;
  int sends_ = 0;
  TaskId retransmit_task_ = kNoTask;
  TaskId timeout_task_ = kNoTask;  // timer B/F, then D/K
};

// The ACK for a non-2xx final response to `invite` (section 17.1.1.3): the INVITE's Request-URI,
// top Via, From, Call-ID and Route, the response's To (with its tag), CSeq number with ACK.
SipMessage MakeAckForFailure(const SipMessage& invite, const SipMessage& response);

}  // namespace callsim::agent::sip
