#include "agent/sip/uas_core.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <utility>
#include <vector>

#include "agent/sip/digest.h"

namespace callsim::agent::sip {
namespace {

constexpr const char* kUasAllow = "INVITE, ACK, BYE, CANCEL, OPTIONS";
// A Warning's text is the peer's bytes in part (a parse error quotes the line): this many
// characters at most, printable ASCII only.
constexpr size_t kMaxWarningChars = 120;
// Lines read from a datagram that did not parse, looking for what a 400 needs.
constexpr size_t kMaxRecoveryLines = 256;

// A Warning header value (RFC 3261 section 20.43) with code 399 and `text` made safe to quote.
std::string Warning(const std::string& host, std::string_view text) {
  std::string out = "399 " + host + " \"";
  for (char c : text.substr(0, kMaxWarningChars)) {
    const auto u = static_cast<unsigned char>(c);
    out += (u < 0x20 || u >= 0x7f || c == '"' || c == '\\') ? '?' : c;
  }
  return out + "\"";
}

bool IsSipUri(std::string_view uri) {
  return uri.size() >= 4 && EqualsNoCase(uri.substr(0, 4), "sip:");
}

bool MaxForwardsIsZero(const SipMessage& request) {
  const std::string* value = request.Header("Max-Forwards");
  if (value == nullptr) return false;
  int hops = -1;
  const auto [ptr, ec] = std::from_chars(value->data(), value->data() + value->size(), hops);
  return ec == std::errc() && ptr == value->data() + value->size() && hops == 0;
}

// A user part safe to write into our Contact: "agent" of sip:agent@host, or "" for anything
// that would need escaping.
std::string ContactUser(const std::string& request_uri) {
  const std::string user = SipUriUser(request_uri);
  const bool plain = std::all_of(user.begin(), user.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-' ||
           c == '+';
  });
  return plain ? user : "";
}

// What a 400 needs from a datagram that did not parse: the header lines a response copies
// (section 8.2.6.2). Read leniently, line by line; nullopt when one is missing or holds control
// bytes, or when the datagram is not a request we may answer (a response, an ACK).
struct Addressable {
  std::vector<std::string> vias;
  std::string from, to, call_id, cseq;
};

std::optional<Addressable> Recover(std::string_view bytes) {
  while (!bytes.empty() && (bytes.front() == '\r' || bytes.front() == '\n')) bytes.remove_prefix(1);
  const std::string_view first = bytes.substr(0, bytes.find('\n'));
  const std::string_view method = first.substr(0, first.find(' '));
  const bool method_like = !method.empty() && std::all_of(method.begin(), method.end(), [](char c) {
    return std::isupper(static_cast<unsigned char>(c));
  });
  // A response is never answered (section 8.1.3.1 would make two ends answer each other), nor
  // an ACK (section 17.1.1.3).
  if (!method_like || method == "ACK") return std::nullopt;
  Addressable a;
  size_t at = first.size() + 1;
  for (size_t lines = 0; at < bytes.size() && lines < kMaxRecoveryLines; ++lines) {
    const size_t lf = bytes.find('\n', at);
    std::string_view line = bytes.substr(at, lf == std::string_view::npos ? lf : lf - at);
    at = lf == std::string_view::npos ? bytes.size() : lf + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) break;  // the end of the headers
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string_view name = FullHeaderName(TrimSpaces(line.substr(0, colon)));
    const std::string_view value = TrimSpaces(line.substr(colon + 1));
    const bool clean = !value.empty() && std::none_of(value.begin(), value.end(), [](char c) {
      const auto u = static_cast<unsigned char>(c);
      return (u < 0x20 && c != '\t') || u == 0x7f;
    });
    if (!clean) continue;
    if (EqualsNoCase(name, "Via")) a.vias.emplace_back(value);
    if (EqualsNoCase(name, "From") && a.from.empty()) a.from = value;
    if (EqualsNoCase(name, "To") && a.to.empty()) a.to = value;
    if (EqualsNoCase(name, "Call-ID") && a.call_id.empty()) a.call_id = value;
    if (EqualsNoCase(name, "CSeq") && a.cseq.empty()) a.cseq = value;
  }
  if (a.vias.empty() || a.from.empty() || a.to.empty() || a.call_id.empty() || a.cseq.empty()) {
    return std::nullopt;
  }
  return a;
}

}  // namespace

UasCore::UasCore(Scheduler& scheduler, UasConfig config, UasEvents events, Send send, Rng rng)
    : scheduler_(scheduler),
      config_(std::move(config)),
      events_(std::move(events)),
      send_(std::move(send)),
      rng_(rng) {}

std::string UasCore::Hex(int digits) {
  std::string out;
  char chunk[17];
  while (static_cast<int>(out.size()) < digits) {
    std::snprintf(chunk, sizeof chunk, "%016llx", static_cast<unsigned long long>(rng_.NextU64()));
    out += chunk;
  }
  out.resize(static_cast<size_t>(digits));
  return out;
}

void UasCore::OnDatagram(std::string_view bytes, const HostPort& from) {
  SipParseResult parsed = ParseSipMessage(bytes);
  if (!parsed.message) {
    OnUnparseable(bytes, parsed.error, from);
  } else if (parsed.message->is_request()) {
    OnRequest(*parsed.message, from);
  } else {
    OnResponse(*parsed.message);
  }
}

void UasCore::OnUnparseable(std::string_view bytes, const std::string& error,
                            const HostPort& from) {
  const std::optional<Addressable> a = Recover(bytes);
  if (!a) {
    ++stats_.unparseable_dropped;
    return;
  }
  ++stats_.bad_requests;
  // Stateless: no transaction can be keyed on a message that did not parse.
  SipMessage r;
  r.status_code = 400;
  r.reason = "Bad Request";
  for (const std::string& via : a->vias) r.headers.push_back({"Via", via});
  r.headers.push_back({"From", a->from});
  r.headers.push_back({"To", a->to + (HeaderParam(a->to, "tag") ? "" : ";tag=" + Hex(16))});
  r.headers.push_back({"Call-ID", a->call_id});
  r.headers.push_back({"CSeq", a->cseq});
  r.headers.push_back({"Warning", Warning(config_.local.host, error)});
  r.headers.push_back({"Server", config_.user_agent});
  send_(SerializeSipMessage(r), from);
}

SipMessage UasCore::Response(const SipMessage& request, int code, const std::string& reason,
                             const std::string& to_tag) const {
  SipMessage r = MakeResponse(request, code, reason, to_tag);
  r.headers.push_back({"Server", config_.user_agent});
  return r;
}

void UasCore::OnRequest(const SipMessage& request, const HostPort& from) {
  ++stats_.requests;
  if (request.method == "ACK") {
    OnAck(request);
    return;
  }
  const std::string branch = TopViaBranch(request);
  if (branch.empty()) {
    // Transactions are keyed on the branch (section 17.2.3); a client without one (RFC 2543)
    // is told so.
    ++stats_.bad_requests;
    SipMessage r = Response(request, 400, "Bad Request", Hex(16));
    r.headers.push_back({"Warning", Warning(config_.local.host, "the top Via has no branch")});
    send_(SerializeSipMessage(r), from);
    return;
  }
  const std::string key = branch + " " + request.method;
  if (auto it = servers_.find(key); it != servers_.end()) {
    // A retransmission: the transaction sends its last response again; after a 2xx, the
    // INVITE's entry does (the transaction itself ended with the 2xx).
    ++stats_.retransmissions_absorbed;
    Server& s = it->second;
    if (s.tx->state() != ServerTransaction::State::kTerminated) {
      s.tx->OnRequest(request);
    } else if (!s.accepted_bytes.empty()) {
      send_(s.accepted_bytes, s.peer);
    }
    return;
  }
  if (transactions() >= config_.max_transactions) {
    ++stats_.transactions_dropped;
    return;
  }
  NewServer(key, request, from);
  if (!IsSipUri(request.request_uri)) {
    SipMessage r = Response(request, 416, "Unsupported URI Scheme", Hex(16));
    Respond(key, r);
  } else if (MaxForwardsIsZero(request)) {
    Respond(key, Response(request, 483, "Too Many Hops", Hex(16)));
  } else if (request.method == "INVITE") {
    OnInvite(key, request, from);
  } else if (request.method == "CANCEL") {
    OnCancel(key, request);
  } else if (request.method == "BYE") {
    OnBye(key, request);
  } else if (request.method == "OPTIONS") {
    ++stats_.options;
    SipMessage r = Response(request, 200, "OK", Hex(16));
    r.headers.push_back({"Allow", kUasAllow});
    r.headers.push_back({"Accept", "application/sdp"});
    r.headers.push_back({"Supported", ""});
    Respond(key, r);
  } else {
    ++stats_.not_allowed;
    SipMessage r = Response(request, 405, "Method Not Allowed", Hex(16));
    r.headers.push_back({"Allow", kUasAllow});
    Respond(key, r);
  }
}

void UasCore::NewServer(const std::string& key, const SipMessage& request, const HostPort& from) {
  Server& s = servers_.try_emplace(key, scheduler_).first->second;
  s.peer = from;
  s.tx = std::make_unique<ServerTransaction>(
      scheduler_, config_.timers, request,
      [this, from](const std::string& bytes) { send_(bytes, from); });
}

void UasCore::Respond(const std::string& key, const SipMessage& response) {
  const auto it = servers_.find(key);
  if (it == servers_.end()) return;
  Server& s = it->second;
  s.tx->Respond(response);
  if (response.status_code < 200) return;
  if (response.status_code < 300 && s.tx->request().method == "INVITE") {
    s.accepted_bytes = SerializeSipMessage(response);
  }
  // The transaction ends by then on its own timers (H or J, scheduled first, so run first), and
  // a 2xx's entry absorbs retransmitted INVITEs as long (RFC 6026's Accepted state). An ACK of
  // a failure moves this earlier (OnAck).
  s.removal.After(64 * config_.timers.t1_us, [this, key] { servers_.erase(key); });
}

UasCore::Call* UasCore::Find(SipDialogId id) {
  const auto it = calls_.find(id);
  return it == calls_.end() ? nullptr : &it->second;
}

UasCore::Call* UasCore::FindByRequest(const SipMessage& request) {
  const std::string* call_id = request.Header("Call-ID");
  const auto it = by_dialog_.find((call_id ? *call_id : "") + "\n" + TagOf(request, "To"));
  return it == by_dialog_.end() ? nullptr : Find(it->second);
}

void UasCore::OnAck(const SipMessage& ack) {
  // The ACK of a failure: same branch as its INVITE (section 17.1.1.3); the transaction stops
  // retransmitting and absorbs further ACKs for timer I.
  if (const auto it = servers_.find(TopViaBranch(ack) + " INVITE"); it != servers_.end()) {
    Server& s = it->second;
    const ServerTransaction::State before = s.tx->state();
    if (before == ServerTransaction::State::kCompleted ||
        before == ServerTransaction::State::kConfirmed) {
      s.tx->OnRequest(ack);
      if (before == ServerTransaction::State::kCompleted) {
        const std::string key = it->first;
        s.removal.After(config_.timers.t4_us, [this, key] { servers_.erase(key); });
      }
      return;
    }
  }
  // The ACK of a 2xx: its own transaction, matched to the dialog (section 13.3.1.4).
  Call* call = FindByRequest(ack);
  std::string error;
  if (call == nullptr || call->phase != Phase::kAnswered ||
      !AcceptInDialog(call->dialog, ack, &error)) {
    return;  // a late, repeated or stray ACK: nothing ever answers an ACK
  }
  const SipDialogId id = by_dialog_.at(call->index_key);
  call->retransmit.Cancel();
  call->ack_timeout.Cancel();
  call->phase = Phase::kConfirmed;
  if (call->hangup_after_ack) {
    call->phase = Phase::kEnding;
    SendBye(*call, id);
  }
  if (events_.on_confirmed) events_.on_confirmed(id);
}

bool UasCore::CheckAuthorization(const SipMessage& invite) {
  if (config_.realm.empty() || !config_.password_of) return true;
  if (const std::string* auth = invite.Header("Authorization")) {
    const std::optional<DigestParams> p = ParseDigestParams(*auth);
    // An unknown nonce (never issued, used already, or forgotten) is challenged afresh.
    if (p && nonces_.count(p->nonce) != 0) {
      if (p->uri == invite.request_uri &&
          CheckDigestAuthorization(*auth, config_.realm, p->nonce, "INVITE", config_.password_of)) {
        nonces_.erase(p->nonce);  // one use each: a replayed INVITE is challenged
        return true;
      }
      ++stats_.auth_failures;
    }
  }
  return false;
}

void UasCore::OnInvite(const std::string& key, const SipMessage& invite, const HostPort& from) {
  if (!TagOf(invite, "To").empty()) {
    // A re-INVITE: callsim keeps the session it has (section 14.2).
    Call* call = FindByRequest(invite);
    std::string error;
    if (call == nullptr) {
      ++stats_.no_dialog;
      Respond(key, Response(invite, 481, "Call/Transaction Does Not Exist", ""));
    } else if (!AcceptInDialog(call->dialog, invite, &error)) {
      SipMessage r = Response(invite, 500, "Server Internal Error", "");
      r.headers.push_back({"Warning", Warning(config_.local.host, error)});
      Respond(key, r);
    } else {
      Respond(key, Response(invite, 488, "Not Acceptable Here", ""));
    }
    return;
  }
  ++stats_.invites;
  const std::string tag = Hex(16);
  std::string error;
  std::optional<Dialog> dialog = DialogFromRequest(invite, tag, &error);
  if (!dialog) {
    ++stats_.bad_requests;
    SipMessage r = Response(invite, 400, "Bad Request", tag);
    r.headers.push_back({"Warning", Warning(config_.local.host, error)});
    Respond(key, r);
    return;
  }
  if (calls_.size() >= config_.max_dialogs) {
    ++stats_.over_capacity;
    SipMessage r = Response(invite, 503, "Service Unavailable", tag);
    r.headers.push_back({"Retry-After", "5"});
    Respond(key, r);
    return;
  }
  if (!CheckAuthorization(invite)) {
    ++stats_.auth_challenges;
    const std::string nonce = Hex(32);
    if (nonce_order_.size() >= kMaxNonces) {
      nonces_.erase(nonce_order_.front());
      nonce_order_.pop_front();
    }
    nonce_order_.push_back(nonce);
    nonces_.insert(nonce);
    SipMessage r = Response(invite, 401, "Unauthorized", tag);
    r.headers.push_back({"WWW-Authenticate", "Digest realm=\"" + config_.realm + "\", nonce=\"" +
                                                 nonce + "\", qop=\"auth\", algorithm=MD5"});
    Respond(key, r);
    return;
  }
  Respond(key, Response(invite, 100, "Trying", ""));
  const SipDialogId id = next_id_++;
  Call& call = calls_.try_emplace(id, scheduler_).first->second;
  call.invite = invite;
  call.peer = from;
  call.invite_key = key;
  call.dialog = std::move(*dialog);
  call.index_key = call.dialog.call_id + "\n" + tag;
  by_dialog_[call.index_key] = id;
  servers_.at(key).call = id;
  call.unanswered.After(config_.max_unanswered_us, [this, id] {
    RejectCall(id, 500, "Server Internal Error",
               "not answered within " + SecondsText(config_.max_unanswered_us), "not answered");
  });
  if (events_.on_invite) events_.on_invite(id, invite, from);
}

void UasCore::OnCancel(const std::string& key, const SipMessage& cancel) {
  ++stats_.cancels;
  // Section 9.2: the CANCEL carries its INVITE's branch.
  const std::string invite_key = TopViaBranch(cancel) + " INVITE";
  const auto it = servers_.find(invite_key);
  if (it == servers_.end()) {
    ++stats_.no_dialog;
    Respond(key, Response(cancel, 481, "Call/Transaction Does Not Exist", Hex(16)));
    return;
  }
  const SipDialogId id = it->second.call;
  Call* call = Find(id);
  Respond(key, Response(cancel, 200, "OK", call ? call->dialog.local_tag : Hex(16)));
  // Answered already (or rejected): the CANCEL changes nothing; the caller sends BYE.
  if (call == nullptr || call->phase != Phase::kOffered) return;
  Respond(invite_key, Response(call->invite, 487, "Request Terminated", call->dialog.local_tag));
  EndCall(id, "cancelled (CANCEL)");
}

void UasCore::OnBye(const std::string& key, const SipMessage& bye) {
  ++stats_.byes_received;
  Call* call = FindByRequest(bye);
  std::string error;
  if (call == nullptr) {
    ++stats_.no_dialog;
    Respond(key, Response(bye, 481, "Call/Transaction Does Not Exist", ""));
    return;
  }
  if (!AcceptInDialog(call->dialog, bye, &error)) {
    SipMessage r = Response(bye, 500, "Server Internal Error", "");
    r.headers.push_back({"Warning", Warning(config_.local.host, error)});
    Respond(key, r);
    return;
  }
  Respond(key, Response(bye, 200, "OK", ""));
  const SipDialogId id = by_dialog_.at(call->index_key);
  if (call->phase == Phase::kOffered) {
    // Section 15.1.2: a BYE before the answer ends the INVITE too.
    Respond(call->invite_key,
            Response(call->invite, 487, "Request Terminated", call->dialog.local_tag));
  }
  EndCall(id, "caller hung up (BYE)");
}

void UasCore::OnResponse(const SipMessage& response) {
  const auto it = clients_.find(TopViaBranch(response));
  if (it == clients_.end() || !it->second.tx->Matches(response)) {
    ++stats_.responses_ignored;
    return;
  }
  it->second.tx->OnReceive(response);
}

bool UasCore::Answer(SipDialogId id, const std::string& sdp_answer) {
  Call* call = Find(id);
  if (call == nullptr || call->phase != Phase::kOffered) return false;
  ++stats_.answered;
  SipMessage ok = Response(call->invite, 200, "OK", call->dialog.local_tag);
  // Section 12.1.1: the Record-Route of the INVITE comes back in the 2xx.
  for (const std::string& rr : call->invite.HeaderValues("Record-Route")) {
    ok.headers.push_back({"Record-Route", rr});
  }
  const std::string user = ContactUser(call->invite.request_uri);
  ok.headers.push_back({"Contact", "<sip:" + (user.empty() ? "" : user + "@") +
                                       FormatHostPort(config_.local) + ">"});
  ok.headers.push_back({"Allow", kUasAllow});
  ok.headers.push_back({"Content-Type", "application/sdp"});
  ok.body = sdp_answer;
  call->ok_bytes = SerializeSipMessage(ok);
  call->phase = Phase::kAnswered;
  call->unanswered.Cancel();
  Respond(call->invite_key, ok);
  // Section 13.3.1.4: the core retransmits the 2xx until the ACK, T1 doubling up to T2, and
  // gives up after 64*T1.
  call->interval_us = config_.timers.t1_us;
  call->retransmit.After(call->interval_us, [this, id] { Retransmit2xx(id); });
  call->ack_timeout.After(64 * config_.timers.t1_us, [this, id] {
    ++stats_.ack_timeouts;
    Call* c = Find(id);
    c->retransmit.Cancel();
    SendBye(*c, 0);
    EndCall(id, "no ACK");
  });
  return true;
}

void UasCore::Retransmit2xx(SipDialogId id) {
  Call* call = Find(id);
  send_(call->ok_bytes, call->peer);
  call->interval_us = std::min(call->interval_us * 2, config_.timers.t2_us);
  call->retransmit.After(call->interval_us, [this, id] { Retransmit2xx(id); });
}

bool UasCore::RejectCall(SipDialogId id, int code, const std::string& reason,
                         const std::string& warning, const std::string& ended) {
  Call* call = Find(id);
  if (call == nullptr || call->phase != Phase::kOffered) return false;
  // Only a final failure can end an offered INVITE; anything else is a caller's mistake that
  // must still end it.
  if (code < 300 || code > 699) code = 500;
  SipMessage r = Response(call->invite, code, reason, call->dialog.local_tag);
  if (!warning.empty()) r.headers.push_back({"Warning", Warning(config_.local.host, warning)});
  Respond(call->invite_key, r);
  EndCall(id, ended);
  return true;
}

void UasCore::Reject(SipDialogId id, int code, const std::string& reason) {
  RejectWithWarning(id, code, reason, "");
}

void UasCore::RejectWithWarning(SipDialogId id, int code, const std::string& reason,
                                const std::string& warning) {
  if (RejectCall(id, code, reason, warning, "rejected")) ++stats_.rejected;
}

void UasCore::Hangup(SipDialogId id, std::vector<SipHeader> extra) {
  Call* call = Find(id);
  if (call == nullptr) return;
  if (call->phase != Phase::kEnding && !call->hangup_after_ack) call->bye_headers = std::move(extra);
  switch (call->phase) {
    case Phase::kOffered:
      Reject(id, 480, "Temporarily Unavailable");
      return;
    case Phase::kAnswered:
      call->hangup_after_ack = true;
      return;
    case Phase::kConfirmed:
      call->phase = Phase::kEnding;
      SendBye(*call, id);
      return;
    case Phase::kEnding:
      return;
  }
}

void UasCore::SendBye(Call& call, SipDialogId owner) {
  ++stats_.byes_sent;
  const std::string branch = "z9hG4bK" + Hex(16);
  SipMessage bye = MakeInDialogRequest(
      call.dialog, "BYE",
      "SIP/2.0/UDP " + FormatHostPort(config_.local) + ";branch=" + branch + ";rport");
  bye.headers.push_back({"User-Agent", config_.user_agent});
  for (const SipHeader& h : call.bye_headers) bye.headers.push_back(h);
  // To the caller's Contact (or first Record-Route); where the INVITE came from when that does
  // not parse, since that address reached us.
  std::string error;
  const std::string& next_hop =
      call.dialog.route_set.empty() ? call.dialog.remote_target : call.dialog.route_set.front();
  const HostPort to = ParseSipUriHostPort(next_hop, &error).value_or(call.peer);
  Client& client = clients_.try_emplace(branch, scheduler_).first->second;
  client.call = owner;
  client.tx = std::make_unique<ClientTransaction>(
      scheduler_, config_.timers, std::move(bye),
      [this, to](const std::string& bytes) { send_(bytes, to); },
      [this, branch](const SipMessage& r) {
        if (r.status_code >= 200) OnByeDone(branch);
      },
      [this, branch] { OnByeDone(branch); });
  client.tx->Start();
}

void UasCore::OnByeDone(const std::string& branch) {
  Client& client = clients_.at(branch);
  const SipDialogId id = client.call;
  // After a response the transaction absorbs retransmissions for timer K (T4); after a
  // timeout it is over. Removed from a task, never inside its own callback.
  const bool over = client.tx->state() == ClientTransaction::State::kTerminated;
  client.removal.After(over ? 0 : config_.timers.t4_us, [this, branch] { clients_.erase(branch); });
  Call* call = Find(id);
  if (call != nullptr && call->phase == Phase::kEnding) EndCall(id, "hung up");
}

void UasCore::EndCall(SipDialogId id, const std::string& reason) {
  const auto it = calls_.find(id);
  if (it == calls_.end()) return;
  by_dialog_.erase(it->second.index_key);
  calls_.erase(it);
  if (events_.on_ended) events_.on_ended(id, reason);
}

}  // namespace callsim::agent::sip
