// The answering side of SIP over UDP (a user agent server core, RFC 3261 sections 8.2, 12-17, a
// subset): many dialogs on one socket. Datagrams come in through OnDatagram and bytes leave
// through a callback, every response to the address the request came from (symmetric, like
// rport); every timer is a Scheduler task, so tests run it in virtual time. An INVITE gets 100
// Trying and is offered to the application (on_invite), optionally after a digest challenge; the
// application answers (the 2xx retransmitted until its ACK) or rejects; CANCEL, BYE, OPTIONS and
// ACK are handled here, other methods get 405, a malformed request 400 when it can be addressed.
// Bounds: max_dialogs (then 503), max_transactions (then new requests are dropped and counted),
// max_unanswered_us (then 500), kMaxNonces digest nonces outstanding (the oldest forgotten), and
// every transaction and dialog is removed when its last timer ends, so dialogs() and
// transactions() return to 0 once calls are over.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "agent/runtime/rng.h"
#include "agent/runtime/scheduler.h"
#include "agent/runtime/scoped_task.h"
#include "agent/sip/client_transaction.h"
#include "agent/sip/dialog.h"
#include "agent/sip/server_transaction.h"
#include "agent/sip/sip_message.h"
#include "agent/sip/sip_uri.h"

namespace callsim::agent::sip {

using SipDialogId = uint64_t;

struct UasConfig {
  SipTimers timers;
  HostPort local;  // for Contact and Via of our own requests (BYE)
  std::string user_agent = "callsim";
  size_t max_dialogs = 2000;  // an INVITE beyond: 503 Service Unavailable with Retry-After: 5
  // Server and client transactions alive (incl. those absorbing retransmissions); a new request
  // beyond: dropped and counted.
  size_t max_transactions = 10000;
  // With password_of: every new INVITE is challenged (401, WWW-Authenticate Digest, qop="auth",
  // a nonce from the Rng) and its answer checked.
  std::string realm;
  std::function<std::optional<std::string>(const std::string& user)> password_of;
  // An INVITE the application neither answered nor rejected: 500 after this.
  int64_t max_unanswered_us = 30'000'000;
};

struct UasEvents {
  // A new call (after auth). The application calls Answer or Reject (now or later).
  std::function<void(SipDialogId id, const SipMessage& invite, const HostPort& from)> on_invite;
  std::function<void(SipDialogId id)> on_confirmed;  // the ACK of our 2xx arrived
  // Exactly once per dialog that on_invite reported: "caller hung up (BYE)", "cancelled (CANCEL)",
  // "no ACK", "hung up" (our Hangup, after its BYE ends), "rejected", "not answered".
  std::function<void(SipDialogId id, const std::string& reason)> on_ended;
};

struct UasStats {
  uint64_t requests = 0;             // every request parsed, retransmissions and ACKs included
  uint64_t responses_ignored = 0;    // responses that match none of our BYEs
  uint64_t bad_requests = 0;         // 400 sent
  uint64_t unparseable_dropped = 0;  // no response possible (or it looked like a response)
  uint64_t invites = 0;  // out-of-dialog INVITEs past the 416/483 checks, challenged included
  uint64_t answered = 0;
  uint64_t rejected = 0;
  uint64_t over_capacity = 0;  // 503 sent
  uint64_t auth_challenges = 0;
  uint64_t auth_failures = 0;  // an Authorization that did not check out
  uint64_t options = 0;
  uint64_t byes_received = 0;
  uint64_t byes_sent = 0;
  uint64_t cancels = 0;
  uint64_t ack_timeouts = 0;
  uint64_t retransmissions_absorbed = 0;
  uint64_t not_allowed = 0;  // 405
  uint64_t no_dialog = 0;    // 481
  uint64_t transactions_dropped = 0;
};

class UasCore {
 public:
  // Must not call back into the core synchronously (deliver datagrams through the Scheduler).
  using Send = std::function<void(const std::string& bytes, const HostPort& to)>;
  static constexpr size_t kMaxNonces = 4096;

  UasCore(Scheduler& scheduler, UasConfig config, UasEvents events, Send send, Rng rng);
  UasCore(const UasCore&) = delete;
  UasCore& operator=(const UasCore&) = delete;

  // One datagram from `from`. Responses go back to `from` (symmetric response routing).
  void OnDatagram(std::string_view bytes, const HostPort& from);
  // 200 OK with Contact and the body; retransmitted T1 doubling up to T2 until the ACK; 64*T1
  // without ACK: BYE sent, on_ended "no ACK". False if the dialog is unknown or already
  // answered/ended.
  bool Answer(SipDialogId id, const std::string& sdp_answer);
  // A final 300-699 (e.g. 488 Not Acceptable Here); on_ended "rejected". Unknown or answered:
  // nothing.
  void Reject(SipDialogId id, int code, const std::string& reason);
  // The same with a Warning (RFC 3261 section 20.43, code 399) saying why, e.g. the SDP
  // negotiation's error.
  void RejectWithWarning(SipDialogId id, int code, const std::string& reason,
                         const std::string& warning);
  // BYE (MakeInDialogRequest); on_ended "hung up" once the BYE's transaction ends (200 or
  // timeout). Before the answer: Reject(480 Temporarily Unavailable), so on_ended "rejected".
  // Answered but not yet ACKed: the BYE waits for the ACK (section 15), or the 2xx's timeout
  // ends the dialog with "no ACK". `extra` headers go on the BYE (e.g. a Reason, RFC 3326).
  void Hangup(SipDialogId id, std::vector<SipHeader> extra = {});

  size_t dialogs() const { return calls_.size(); }
  size_t transactions() const { return servers_.size() + clients_.size(); }
  const UasStats& stats() const { return stats_; }

 private:
  enum class Phase { kOffered, kAnswered, kConfirmed, kEnding };
  struct Call {
    explicit Call(Scheduler& s) : retransmit(s), ack_timeout(s), unanswered(s) {}
    SipMessage invite;
    HostPort peer;           // where the INVITE came from: responses and 2xx retransmissions
    std::string invite_key;  // its server transaction
    std::string index_key;   // in by_dialog_
    Dialog dialog;
    Phase phase = Phase::kOffered;
    bool hangup_after_ack = false;
    std::vector<SipHeader> bye_headers;  // for our BYE
    std::string ok_bytes;
    int64_t interval_us = 0;
    ScopedTask retransmit;   // the 2xx, until the ACK
    ScopedTask ack_timeout;  // 64*T1 after the 2xx
    ScopedTask unanswered;   // max_unanswered_us after the INVITE
  };
  struct Server {
    explicit Server(Scheduler& s) : removal(s) {}
    std::unique_ptr<ServerTransaction> tx;
    HostPort peer;
    SipDialogId call = 0;        // an INVITE's call, once offered
    std::string accepted_bytes;  // an INVITE's 2xx, for retransmitted INVITEs (RFC 6026)
    ScopedTask removal;
  };
  struct Client {
    explicit Client(Scheduler& s) : removal(s) {}
    std::unique_ptr<ClientTransaction> tx;
    SipDialogId call = 0;  // 0: the dialog already ended (a BYE after no ACK)
    ScopedTask removal;
  };

  void OnRequest(const SipMessage& request, const HostPort& from);
  void OnResponse(const SipMessage& response);
  void OnUnparseable(std::string_view bytes, const std::string& error, const HostPort& from);
  void OnAck(const SipMessage& ack);
  // Each answers the request through the server transaction under `key`.
  void OnInvite(const std::string& key, const SipMessage& invite, const HostPort& from);
  void OnCancel(const std::string& key, const SipMessage& cancel);
  void OnBye(const std::string& key, const SipMessage& bye);
  void NewServer(const std::string& key, const SipMessage& request, const HostPort& from);
  // Responds through the transaction under `key`; after a final response the entry is removed
  // when the transaction ends (timer H, J, or the 2xx's "Accepted" linger of RFC 6026).
  void Respond(const std::string& key, const SipMessage& response);
  SipMessage Response(const SipMessage& request, int code, const std::string& reason,
                      const std::string& to_tag) const;
  std::string Hex(int digits);
  Call* Find(SipDialogId id);
  // The dialog a request names by Call-ID and our (To) tag.
  Call* FindByRequest(const SipMessage& request);
  // A final failure to an offered INVITE, then on_ended(`ended`); false when not offered.
  bool RejectCall(SipDialogId id, int code, const std::string& reason, const std::string& warning,
                  const std::string& ended);
  void Retransmit2xx(SipDialogId id);
  // `owner`: the call whose on_ended waits for this BYE; 0 when it was already reported.
  void SendBye(Call& call, SipDialogId owner);
  void OnByeDone(const std::string& branch);
  // Forgets the call, then reports on_ended (last: the application may call back in).
  void EndCall(SipDialogId id, const std::string& reason);
  bool CheckAuthorization(const SipMessage& invite);

  Scheduler& scheduler_;
  UasConfig config_;
  UasEvents events_;
  Send send_;
  Rng rng_;
  UasStats stats_;
  SipDialogId next_id_ = 1;
  std::map<SipDialogId, Call> calls_;
  std::unordered_map<std::string, SipDialogId> by_dialog_;  // Call-ID + our tag
  // Keyed by top Via branch and method ("z9hG4bK... INVITE"); an ACK and a CANCEL find their
  // INVITE under the INVITE's key.
  std::unordered_map<std::string, Server> servers_;
  std::unordered_map<std::string, Client> clients_;  // our BYEs, by branch
  std::deque<std::string> nonce_order_;              // oldest first, at most kMaxNonces
  std::unordered_set<std::string> nonces_;
};

}  // namespace callsim::agent::sip
