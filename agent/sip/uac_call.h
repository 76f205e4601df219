// One outgoing SIP call over UDP (the caller's user agent core, RFC 3261 sections 8, 9, 12-15, a
// subset): the INVITE with an SDP offer, 100 absorbed, 180/183 reported, the 2xx ACKed (again for
// each retransmission) and the dialog kept, one answer to a 401/407 digest challenge per request,
// CANCEL before the answer and BYE after it, and the peer's in-dialog requests answered (BYE 200,
// OPTIONS 200, INFO 200, re-INVITE 488, others 501). Sans-I/O: bytes leave through a callback and
// parsed messages come in through OnMessage; every timer is a Scheduler task, so tests run it in
// virtual time. Bounds: the ringing time (max_ringing_us, then CANCEL), the wait for the BYE's or
// CANCEL's outcome (max_bye_wait_us), at most kMaxPeerTransactions of the peer's requests in
// flight (more are dropped and counted), and after the outcome only the transactions that may
// still send (an INVITE failure's ACK for timer D, the peer's BYE's 200 for timer J) are kept,
// then on_terminated.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "agent/runtime/scheduler.h"
#include "agent/runtime/scoped_task.h"
#include "agent/sip/client_transaction.h"
#include "agent/sip/dialog.h"
#include "agent/sip/digest.h"
#include "agent/sip/server_transaction.h"
#include "agent/sip/sip_message.h"
#include "agent/sip/sip_uri.h"

namespace callsim::agent::sip {

struct UacConfig {
  SipTimers timers;
  std::string request_uri;   // "sip:agent@127.0.0.1:5060"
  std::string from_uri;      // "sip:callsim@127.0.0.1"
  std::string display_name;  // may be empty
  HostPort local;            // our SIP address, for Via and Contact
  std::string call_id;       // given by the owner (deterministic per call)
  std::string from_tag;
  std::string branch_prefix;  // branches are "z9hG4bK" + branch_prefix + "-" + counter
  // On the INVITE (X-... custom parameters). A Route here makes the INVITE and CANCEL go to it.
  std::vector<std::pair<std::string, std::string>> extra_headers;
  std::optional<DigestCredentials> credentials;  // answers one 401/407 per request
  std::string cnonce;                            // for qop=auth
  std::string user_agent = "callsim";
  // A provisional answer without a final one: CANCEL after this.
  int64_t max_ringing_us = 60'000'000;
  // Our BYE (or CANCEL) unanswered: terminated after this anyway (timer F still bounds the
  // transaction when it is shorter).
  int64_t max_bye_wait_us = 4'000'000;
};

struct UacEvents {
  // Each 1xx above 100 (180, 183; a 183's early SDP is ignored).
  std::function<void(int code, const std::string& reason)> on_provisional;
  // The first 2xx (its body is the SDP answer); the ACK is already sent.
  std::function<void(const SipMessage& ok)> on_answered;
  // Never answered: a final 3xx-6xx (after the auth retry), timer B (408 "no answer (timer B)"),
  // ringing too long (408), a 2xx without To tag or Contact (502 with the reason), or cancelled by
  // us (487 "cancelled", also when a 2xx crossed the CANCEL: it is ACKed and BYEd at once).
  std::function<void(int code, const std::string& reason)> on_failed;
  // The peer hung up (its BYE answered 200) while the call was confirmed.
  std::function<void(const std::string& reason)> on_remote_bye;
  // Nothing more will be sent: the owner may now destroy the call. Called exactly once, from a
  // Scheduler task of the call (never from inside OnMessage or Hangup).
  std::function<void()> on_terminated;
};

class UacCall {
 public:
  // Must not call back into the call synchronously (deliver datagrams through the Scheduler).
  using Send = std::function<void(const std::string& bytes, const HostPort& to)>;
  // kEnding: the outcome is known (or a BYE/CANCEL is in flight); kTerminated: on_terminated ran.
  enum class State { kIdle, kCalling, kRinging, kConfirmed, kEnding, kTerminated };
  // The peer's requests in flight at once (each one a server transaction, alive for timer J).
  static constexpr size_t kMaxPeerTransactions = 16;

  UacCall(Scheduler& scheduler, UacConfig config, UacEvents events, Send send);
  UacCall(const UacCall&) = delete;
  UacCall& operator=(const UacCall&) = delete;

  // Sends the INVITE with `sdp_offer` as body (Content-Type: application/sdp). False with *error
  // if request_uri (or a Route among extra_headers) does not parse, or when already started.
  bool Start(const std::string& sdp_offer, std::string* error);
  // Any message whose Call-ID is ours, from `from` (responses to our requests; requests from the
  // peer: BYE, OPTIONS, re-INVITE, INFO, ACK retransmissions...). Responses to the peer's
  // requests go back to `from`.
  void OnMessage(const SipMessage& message, const HostPort& from);
  // CANCEL while calling/ringing (once a provisional came; before one, it waits for one or for
  // timer B, RFC 3261 section 9.1), BYE once confirmed. Idempotent.
  void Hangup();

  State state() const { return state_; }
  const std::optional<Dialog>& dialog() const { return dialog_; }
  // Client and server transactions still held (0 once terminated).
  size_t transactions() const { return client_txs_.size() + server_txs_.size(); }

  // Counters for tests and the call's events: requests sent (incl. retransmissions), ACKs (of
  // failures and of each 2xx, retransmissions re-ACKed included), auth retries, the peer's
  // requests answered, and the peer's requests dropped beyond kMaxPeerTransactions.
  struct Stats {
    int invites_sent = 0;
    int acks_sent = 0;
    int auth_retries = 0;
    int requests_answered = 0;
    int requests_dropped = 0;
  };
  const Stats& stats() const { return stats_; }

 private:
  std::string NextVia();
  // Starts a client transaction for `request`, sent to `to`.
  void StartClient(SipMessage request, const HostPort& to);
  void OnClientResponse(const std::string& method, const std::string& branch,
                        const SipMessage& response);
  void OnClientTimeout(const std::string& method, const std::string& branch);
  void OnInviteResponse(const SipMessage& response);
  void RingingTooLong();
  void OnInvite2xx(const SipMessage& ok);
  void OnByeResponse(const SipMessage& response);
  // A new request with CSeq+1, a new branch and the answers to `challenge`'s Digest challenges;
  // nullopt when none can be answered.
  std::optional<SipMessage> AuthRetry(const SipMessage& request, const SipMessage& challenge);
  void SendAck();
  void SendCancel();
  void SendBye();
  void OnPeerRequest(const SipMessage& request, const HostPort& from);
  void RespondStatelessly(const SipMessage& request, const HostPort& from, int code,
                          const std::string& reason);
  SipMessage PeerResponse(const SipMessage& request, int code, const std::string& reason) const;
  // on_failed, once per call.
  void ReportFailure(int code, const std::string& reason);
  // The outcome is settled: from now on only transactions that may still send are kept.
  void Finish();
  void Fail(int code, const std::string& reason) {
    Finish();
    ReportFailure(code, reason);
  }
  // A transaction kept after the outcome ends by `until_us` (timer D, H, I or J).
  void Linger(int64_t until_us);
  void ScheduleSweep();
  // Drops transactions that will send nothing more; terminates once none remain.
  void Sweep();

  Scheduler& scheduler_;
  UacConfig config_;
  UacEvents events_;
  Send send_;
  State state_ = State::kIdle;
  Stats stats_;

  SipMessage invite_;  // the latest INVITE (after an auth retry, the retried one)
  HostPort invite_destination_;
  std::string invite_branch_;
  SipMessage bye_;  // the latest BYE
  std::string bye_branch_;
  std::optional<Dialog> dialog_;
  HostPort dialog_destination_;  // the first of the route set, or the remote target
  std::string ack_bytes_;        // the 2xx's ACK, sent again for each retransmitted 2xx
  uint32_t branch_counter_ = 0;

  bool provisional_seen_ = false;  // for the current INVITE: a CANCEL may be sent
  bool hangup_requested_ = false;
  bool cancel_sent_ = false;
  bool invite_auth_retried_ = false;
  bool bye_auth_retried_ = false;
  bool outcome_reported_ = false;  // on_answered or on_failed ran
  bool finished_ = false;          // only lingering transactions remain
  int cancel_code_ = 487;
  std::string cancel_reason_ = "cancelled";

  std::vector<std::unique_ptr<ClientTransaction>> client_txs_;
  std::vector<std::unique_ptr<ServerTransaction>> server_txs_;  // the peer's requests
  int64_t linger_until_us_ = 0;
  ScopedTask ringing_timer_;
  ScopedTask end_wait_timer_;
  ScopedTask linger_timer_;
  ScopedTask sweep_task_;
};

}  // namespace callsim::agent::sip
