#include "agent/sip/uac_call.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <utility>

namespace callsim::agent::sip {
namespace {

constexpr const char* kUacAllow = "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO";

std::string Quoted(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::optional<CSeq> CSeqOf(const SipMessage& m) {
  const std::string* text = m.Header("CSeq");
  return text ? ParseCSeq(*text) : std::nullopt;
}

// A header line we write ourselves from configuration: a token name and a value without line
// breaks, so no configured value can smuggle in a header of its own.
bool SafeHeader(const std::string& name, const std::string& value) {
  const bool name_ok = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
  return name_ok && value.find_first_of("\r\n") == std::string::npos;
}

}  // namespace

UacCall::UacCall(Scheduler& scheduler, UacConfig config, UacEvents events, Send send)
    : scheduler_(scheduler),
      config_(std::move(config)),
      events_(std::move(events)),
      send_(std::move(send)),
      ringing_timer_(scheduler),
      end_wait_timer_(scheduler),
      linger_timer_(scheduler),
      sweep_task_(scheduler) {}

std::string UacCall::NextVia() {
  return "SIP/2.0/UDP " + FormatHostPort(config_.local) + ";branch=z9hG4bK" +
         config_.branch_prefix + "-" + std::to_string(++branch_counter_) + ";rport";
}

bool UacCall::Start(const std::string& sdp_offer, std::string* error) {
  if (state_ != State::kIdle) {
    *error = "the call was already started";
    return false;
  }
  std::string why;
  std::optional<HostPort> to = ParseSipUriHostPort(config_.request_uri, &why);
  if (!to) {
    *error = "request_uri: " + why;
    return false;
  }
  bool routed = false;
  for (const auto& [name, value] : config_.extra_headers) {
    if (!SafeHeader(name, value)) {
      *error = "extra header \"" + name + "\": the name must be a token and the value one line";
      return false;
    }
    // Loose routing (RFC 3261 section 16.12): the INVITE goes to the first Route.
    if (EqualsNoCase(name, "Route") && !routed) {
      routed = true;
      to = ParseSipUriHostPort(value, &why);
      if (!to) {
        *error = "the Route header: " + why;
        return false;
      }
    }
  }
  invite_destination_ = *to;
  SipMessage invite;
  invite.method = "INVITE";
  invite.request_uri = config_.request_uri;
  const std::string from =
      (config_.display_name.empty() ? "" : Quoted(config_.display_name) + " ") + "<" +
      config_.from_uri + ">;tag=" + config_.from_tag;
  invite.headers = {{"Via", NextVia()},
                    {"Max-Forwards", "70"},
                    {"From", from},
                    {"To", "<" + config_.request_uri + ">"},
                    {"Call-ID", config_.call_id},
                    {"CSeq", "1 INVITE"},
                    {"Contact", "<sip:callsim@" + FormatHostPort(config_.local) + ">"},
                    {"Allow", kUacAllow},
                    {"User-Agent", config_.user_agent}};
  for (const auto& [name, value] : config_.extra_headers) invite.headers.push_back({name, value});
  invite.headers.push_back({"Content-Type", "application/sdp"});
  invite.body = sdp_offer;
  invite_ = invite;
  invite_branch_ = TopViaBranch(invite_);
  state_ = State::kCalling;
  StartClient(std::move(invite), invite_destination_);
  return true;
}

void UacCall::StartClient(SipMessage request, const HostPort& to) {
  const std::string method = request.method;
  const std::string branch = TopViaBranch(request);
  client_txs_.push_back(std::make_unique<ClientTransaction>(
      scheduler_, config_.timers, std::move(request),
      [this, to](const std::string& bytes) {
        // The INVITE transaction also sends the ACK of a failure.
        if (bytes.starts_with("INVITE ")) ++stats_.invites_sent;
        if (bytes.starts_with("ACK ")) ++stats_.acks_sent;
        send_(bytes, to);
      },
      [this, method, branch](const SipMessage& r) { OnClientResponse(method, branch, r); },
      [this, method, branch] { OnClientTimeout(method, branch); }));
  client_txs_.back()->Start();
}

void UacCall::OnClientResponse(const std::string& method, const std::string& branch,
                               const SipMessage& response) {
  // A CANCEL's own answer (200, or 481 when the INVITE was already done) changes nothing: the
  // INVITE's 487 or 2xx decides, or end_wait_timer_ gives up.
  if (method == "INVITE" && branch == invite_branch_) OnInviteResponse(response);
  if (method == "BYE" && branch == bye_branch_) OnByeResponse(response);
}

void UacCall::OnClientTimeout(const std::string& method, const std::string& branch) {
  if (method == "INVITE" && branch == invite_branch_) {
    // Timer B: no response at all, so no CANCEL was possible either.
    if (hangup_requested_) {
      Fail(cancel_code_, cancel_reason_);
    } else {
      Fail(408, "no answer (timer B)");
    }
  } else if (method == "CANCEL" && !dialog_) {
    // Timer F: the peer answers neither the CANCEL nor (so far) the INVITE.
    Fail(cancel_code_, cancel_reason_);
  } else if (method == "BYE" && branch == bye_branch_) {
    Finish();  // timer F: the peer never answered our BYE
  }
}

void UacCall::OnInviteResponse(const SipMessage& response) {
  const int code = response.status_code;
  if (code < 200) {
    if (!provisional_seen_) {
      provisional_seen_ = true;
      // Timer B stopped with this response; this bounds the wait for a final one instead.
      if (!hangup_requested_) {
        ringing_timer_.After(config_.max_ringing_us, [this] { RingingTooLong(); });
      }
    }
    if (hangup_requested_ && !cancel_sent_) SendCancel();
    if (code == 100) return;
    if (state_ == State::kCalling) state_ = State::kRinging;
    if (events_.on_provisional) events_.on_provisional(code, response.reason);
    return;
  }
  ringing_timer_.Cancel();
  if (code < 300) {
    OnInvite2xx(response);
    return;
  }
  // The transaction ACKs this failure and its retransmissions until timer D.
  Linger(scheduler_.NowUs() + config_.timers.timer_d_us);
  if ((code == 401 || code == 407) && config_.credentials && !invite_auth_retried_ &&
      !hangup_requested_) {
    if (std::optional<SipMessage> retry = AuthRetry(invite_, response)) {
      invite_auth_retried_ = true;
      ++stats_.auth_retries;
      invite_ = *retry;
      invite_branch_ = TopViaBranch(invite_);
      provisional_seen_ = false;  // a CANCEL needs a provisional response of this transaction
      StartClient(std::move(*retry), invite_destination_);
      return;
    }
  }
  if (hangup_requested_ && code == 487) {
    Fail(cancel_code_, cancel_reason_);
  } else {
    Fail(code, response.reason);
  }
}

void UacCall::RingingTooLong() {
  cancel_code_ = 408;
  cancel_reason_ = "ringing too long: no final answer " + SecondsText(config_.max_ringing_us) +
                   " after the provisional response";
  hangup_requested_ = true;
  state_ = State::kEnding;
  SendCancel();
}

void UacCall::OnInvite2xx(const SipMessage& ok) {
  std::string error;
  std::optional<Dialog> dialog = DialogFromResponse(invite_, ok, &error);
  if (!dialog) {
    Fail(502, "bad 2xx: " + error);
    return;
  }
  const std::string& next_hop =
      dialog->route_set.empty() ? dialog->remote_target : dialog->route_set.front();
  const std::optional<HostPort> to = ParseSipUriHostPort(next_hop, &error);
  if (!to) {
    Fail(502, "bad 2xx: its Contact or Record-Route: " + error);
    return;
  }
  dialog_ = std::move(dialog);
  dialog_destination_ = *to;
  ack_bytes_ = SerializeSipMessage(MakeInDialogRequest(*dialog_, "ACK", NextVia()));
  SendAck();
  if (hangup_requested_) {
    // The answer crossed our CANCEL (or came before any provisional one): the session exists at
    // the peer, so it is ended at once (RFC 3261 section 15).
    SendBye();
    ReportFailure(cancel_code_, cancel_reason_);
    return;
  }
  state_ = State::kConfirmed;
  outcome_reported_ = true;
  if (events_.on_answered) events_.on_answered(ok);
}

void UacCall::SendAck() {
  ++stats_.acks_sent;
  send_(ack_bytes_, dialog_destination_);
}

std::optional<SipMessage> UacCall::AuthRetry(const SipMessage& request,
                                             const SipMessage& challenge) {
  std::vector<SipHeader> answers;
  // Raw header values: a challenge's parameters are separated by commas, so HeaderValues would
  // split one challenge into pieces.
  for (const SipHeader& h : challenge.headers) {
    const bool www = EqualsNoCase(h.name, "WWW-Authenticate");
    if (!www && !EqualsNoCase(h.name, "Proxy-Authenticate")) continue;
    const std::optional<DigestChallenge> c = ParseDigestChallenge(h.value);
    if (!c) continue;
    answers.push_back({www ? "Authorization" : "Proxy-Authorization",
                       DigestAuthorization(*c, *config_.credentials, request.method,
                                           request.request_uri, config_.cnonce)});
  }
  const std::optional<CSeq> cseq = CSeqOf(request);
  if (answers.empty() || !cseq) return std::nullopt;
  SipMessage retry = request;
  std::erase_if(retry.headers, [](const SipHeader& h) {
    return EqualsNoCase(h.name, "Authorization") || EqualsNoCase(h.name, "Proxy-Authorization");
  });
  retry.SetHeader("Via", NextVia());
  retry.SetHeader("CSeq", std::to_string(cseq->number + 1) + " " + request.method);
  for (SipHeader& h : answers) retry.headers.push_back(std::move(h));
  return retry;
}

void UacCall::SendCancel() {
  cancel_sent_ = true;
  // RFC 3261 section 9.1: the INVITE's Request-URI, top Via (so its branch), From, To, Call-ID,
  // CSeq number and Route.
  SipMessage cancel;
  cancel.method = "CANCEL";
  cancel.request_uri = invite_.request_uri;
  cancel.headers = {{"Via", invite_.HeaderValues("Via").front()},
                    {"Max-Forwards", "70"},
                    {"From", *invite_.Header("From")},
                    {"To", *invite_.Header("To")},
                    {"Call-ID", *invite_.Header("Call-ID")},
                    {"CSeq", std::to_string(CSeqOf(invite_)->number) + " CANCEL"}};
  for (const std::string& route : invite_.HeaderValues("Route")) {
    cancel.headers.push_back({"Route", route});
  }
  cancel.headers.push_back({"User-Agent", config_.user_agent});
  StartClient(std::move(cancel), invite_destination_);
  end_wait_timer_.After(config_.max_bye_wait_us, [this] { Fail(cancel_code_, cancel_reason_); });
}

void UacCall::SendBye() {
  state_ = State::kEnding;
  bye_ = MakeInDialogRequest(*dialog_, "BYE", NextVia());
  bye_.headers.push_back({"User-Agent", config_.user_agent});
  bye_branch_ = TopViaBranch(bye_);
  StartClient(bye_, dialog_destination_);
  end_wait_timer_.After(config_.max_bye_wait_us, [this] { Finish(); });
}

void UacCall::OnByeResponse(const SipMessage& response) {
  const int code = response.status_code;
  if (code < 200) return;
  if ((code == 401 || code == 407) && config_.credentials && !bye_auth_retried_) {
    if (std::optional<SipMessage> retry = AuthRetry(bye_, response)) {
      bye_auth_retried_ = true;
      ++stats_.auth_retries;
      dialog_->local_cseq = CSeqOf(*retry)->number;
      bye_ = std::move(*retry);
      bye_branch_ = TopViaBranch(bye_);
      StartClient(bye_, dialog_destination_);
      return;
    }
  }
  // Any final answer ends the call: 200, or 481 when the peer had already forgotten it.
  Finish();
}

void UacCall::Hangup() {
  switch (state_) {
    case State::kIdle:
      Finish();  // nothing was sent
      return;
    case State::kCalling:
    case State::kRinging:
      hangup_requested_ = true;
      state_ = State::kEnding;
      ringing_timer_.Cancel();
      if (provisional_seen_) SendCancel();
      return;
    case State::kConfirmed:
      hangup_requested_ = true;
      SendBye();
      return;
    case State::kEnding:
    case State::kTerminated:
      return;
  }
}

void UacCall::OnMessage(const SipMessage& message, const HostPort& from) {
  if (state_ == State::kIdle || state_ == State::kTerminated) return;
  if (message.is_request()) {
    OnPeerRequest(message, from);
    ScheduleSweep();
    return;
  }
  ClientTransaction* target = nullptr;
  for (const auto& tx : client_txs_) {
    if (tx->state() != ClientTransaction::State::kTerminated && tx->Matches(message)) {
      target = tx.get();
      break;
    }
  }
  if (target != nullptr) {
    target->OnReceive(message);  // its callbacks may add transactions: not inside the loop
    return;
  }
  // A retransmitted 2xx: its transaction ended with the first one, and the ACK is sent again
  // (RFC 3261 section 13.2.2.4). A 2xx of another dialog (a fork) is not ours to confirm.
  const std::optional<CSeq> cseq = CSeqOf(message);
  if (dialog_ && message.status_code >= 200 && message.status_code < 300 && cseq &&
      cseq->method == "INVITE" && cseq->number == dialog_->invite_cseq &&
      TagOf(message, "To") == dialog_->remote_tag) {
    SendAck();
  }
}

SipMessage UacCall::PeerResponse(const SipMessage& request, int code,
                                 const std::string& reason) const {
  SipMessage r =
      MakeResponse(request, code, reason, dialog_ ? dialog_->local_tag : config_.from_tag);
  r.headers.push_back({"Server", config_.user_agent});
  return r;
}

void UacCall::RespondStatelessly(const SipMessage& request, const HostPort& from, int code,
                                 const std::string& reason) {
  ++stats_.requests_answered;
  send_(SerializeSipMessage(PeerResponse(request, code, reason)), from);
}

void UacCall::OnPeerRequest(const SipMessage& request, const HostPort& from) {
  for (const auto& tx : server_txs_) {
    if (tx->state() != ServerTransaction::State::kTerminated && tx->Matches(request)) {
      tx->OnRequest(request);  // a retransmission: the response again; or a 488's ACK
      if (tx->state() == ServerTransaction::State::kConfirmed) {
        Linger(scheduler_.NowUs() + config_.timers.t4_us);  // timer I
      }
      return;
    }
  }
  // Nothing answers an ACK; the peer has no reason to ACK anything else of ours.
  if (request.method == "ACK") return;
  if (finished_) {
    // The call is over: answered without a transaction, so nothing holds the call open longer.
    RespondStatelessly(request, from, 481, "Call/Transaction Does Not Exist");
    return;
  }
  const auto alive = std::count_if(server_txs_.begin(), server_txs_.end(), [](const auto& tx) {
    return tx->state() != ServerTransaction::State::kTerminated;
  });
  if (static_cast<size_t>(alive) >= kMaxPeerTransactions) {
    ++stats_.requests_dropped;
    return;
  }
  SipMessage response;
  std::string error;
  const bool same_dialog = dialog_ && TagOf(request, "To") == dialog_->local_tag &&
                           TagOf(request, "From") == dialog_->remote_tag;
  bool bye = false;
  if (!same_dialog) {
    response = PeerResponse(request, 481, "Call/Transaction Does Not Exist");
  } else if (!AcceptInDialog(*dialog_, request, &error)) {
    // Section 12.2.2: a CSeq below the last one is out of order.
    response = PeerResponse(request, 500, "Server Internal Error");
    response.headers.push_back({"Warning", "399 " + config_.local.host + " " + Quoted(error)});
  } else if (request.method == "BYE") {
    response = PeerResponse(request, 200, "OK");
    bye = true;
  } else if (request.method == "OPTIONS") {
    response = PeerResponse(request, 200, "OK");
    response.headers.push_back({"Allow", kUacAllow});
    response.headers.push_back({"Accept", "application/sdp"});
  } else if (request.method == "INFO") {
    response = PeerResponse(request, 200, "OK");
  } else if (request.method == "INVITE") {
    // A re-INVITE: callsim keeps the session it has (RFC 3261 section 14.2).
    response = PeerResponse(request, 488, "Not Acceptable Here");
  } else {
    response = PeerResponse(request, 501, "Not Implemented");
  }
  auto tx = std::make_unique<ServerTransaction>(
      scheduler_, config_.timers, request,
      [this, from](const std::string& bytes) { send_(bytes, from); });
  tx->Respond(response);
  ++stats_.requests_answered;
  // Timer J absorbs retransmissions of a non-INVITE; timer H bounds a re-INVITE's 488.
  Linger(scheduler_.NowUs() + 64 * config_.timers.t1_us);
  server_txs_.push_back(std::move(tx));
  if (bye) {
    // While our own BYE is in flight (both hung up at once) the owner already knows.
    const bool report = state_ == State::kConfirmed;
    Finish();
    if (report && events_.on_remote_bye) {
      const std::string* reason = request.Header("Reason");
      events_.on_remote_bye(reason ? *reason : "the peer hung up (BYE)");
    }
  }
}

void UacCall::ReportFailure(int code, const std::string& reason) {
  if (outcome_reported_) return;
  outcome_reported_ = true;
  if (events_.on_failed) events_.on_failed(code, reason);
}

void UacCall::Finish() {
  if (finished_) return;
  finished_ = true;
  state_ = State::kEnding;
  ringing_timer_.Cancel();
  end_wait_timer_.Cancel();
  ScheduleSweep();
}

void UacCall::Linger(int64_t until_us) { linger_until_us_ = std::max(linger_until_us_, until_us); }

void UacCall::ScheduleSweep() {
  // Transactions are never destroyed inside their own callbacks: a Scheduler task of the call
  // does it, and so the owner may destroy the call inside on_terminated.
  sweep_task_.After(0, [this] { Sweep(); });
}

void UacCall::Sweep() {
  if (state_ == State::kTerminated) return;
  std::erase_if(client_txs_, [this](const std::unique_ptr<ClientTransaction>& tx) {
    if (tx->state() == ClientTransaction::State::kTerminated) return true;
    // Once the outcome is known, only an INVITE failure's transaction may still send (the ACK
    // of a retransmitted failure); a pending CANCEL or BYE has nothing left to decide.
    return finished_ && !(tx->is_invite() && tx->state() == ClientTransaction::State::kCompleted);
  });
  std::erase_if(server_txs_, [](const std::unique_ptr<ServerTransaction>& tx) {
    return tx->state() == ServerTransaction::State::kTerminated;
  });
  if (!finished_) return;
  if (client_txs_.empty() && server_txs_.empty()) {
    state_ = State::kTerminated;
    linger_timer_.Cancel();
    // Moved out first: the owner may destroy the call (and so events_) inside it.
    const std::function<void()> terminated = std::move(events_.on_terminated);
    if (terminated) terminated();
    return;
  }
  // Every kept transaction ends by linger_until_us_ on its own timers (scheduled earlier, so
  // run first at that time); clearing them there is the bound should one not have.
  linger_timer_.At(linger_until_us_, [this] {
    client_txs_.clear();
    server_txs_.clear();
    Sweep();
  });
}

}  // namespace callsim::agent::sip
