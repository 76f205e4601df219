// One SIP server transaction over UDP (RFC 3261 section 17.2): it absorbs retransmitted requests
// by sending the last response again, retransmits a failure to an INVITE until the ACK comes, and
// ends. INVITE: a 2xx ends it at once (the dialog retransmits the 2xx until its ACK, section
// 13.3.1.4); a 300-699 is retransmitted on timer G (T1 doubling up to T2) until the ACK, or until
// timer H (64*T1) gives up; the ACK is absorbed for timer I (T4). Other methods: after the final
// response, timer J (64*T1) absorbs retransmissions. Timers are Scheduler tasks; the transport is
// a callback.
#pragma once

#include <functional>
#include <string>

#include "agent/runtime/scheduler.h"
#include "agent/sip/client_transaction.h"
#include "agent/sip/sip_message.h"

namespace callsim::agent::sip {

class ServerTransaction {
 public:
  enum class State { kTrying, kProceeding, kCompleted, kConfirmed, kTerminated };
  using Send = std::function<void(const std::string& bytes)>;
  // Timer H fired: the failure response was never ACKed.
  using OnTimeout = std::function<void()>;

  ServerTransaction(Scheduler& scheduler, const SipTimers& timers, SipMessage request, Send send,
                    OnTimeout on_timeout = {});
  ~ServerTransaction();
  ServerTransaction(const ServerTransaction&) = delete;
  ServerTransaction& operator=(const ServerTransaction&) = delete;

  // The transaction user's response (provisional or final); ignored once a final one was sent.
  void Respond(const SipMessage& response);
  // A request that Matches: a retransmission of the original (the last response is sent again)
  // or, for an INVITE, the ACK of a failure.
  void OnRequest(const SipMessage& request);
  // Whether `request` belongs here (section 17.2.3): the top Via's branch, and the method (an
  // ACK matches its INVITE).
  bool Matches(const SipMessage& request) const;

  State state() const { return state_; }
  const SipMessage& request() const { return request_; }
  int response_sends() const { return response_sends_; }

 private:
  void SendLast();
  void RetransmitFailure();
  void CancelTimers();

  Scheduler& scheduler_;
  SipTimers timers_;
  SipMessage request_;
  Send send_;
  OnTimeout on_timeout_;
  std::string branch_;
  bool invite_ = false;
  State state_;
  std::string last_response_;
  int response_sends_ = 0;
  int64_t interval_us_ = 0;
  TaskId retransmit_task_ = kNoTask;  // timer G
  TaskId end_task_ = kNoTask;         // timer H, I or J
};

// A response to `request` (section 8.2.6.2): its Via headers, From, Call-ID and CSeq copied, its
// To copied with `to_tag` added when the To has no tag yet (and the code is above 100).
SipMessage MakeResponse(const SipMessage& request, int code, const std::string& reason,
                        const std::string& to_tag);

}  // namespace callsim::agent::sip
