#include "agent/sip/server_transaction.h"

#include <algorithm>
#include <utility>

namespace callsim::agent::sip {
SipMessage MakeResponse(const SipMessage& request, int code, const std::string& reason,
                        const std::string& to_tag) {
  SipMessage r;
  r.status_code = code;
  r.reason = reason;
  for (const std::string& via : request.HeaderValues("Via")) r.headers.push_back({"Via", via});
  if (const std::string* from = request.Header("From")) r.headers.push_back({"From", *from});
  std::string to = request.Header("To") ? *request.Header("To") : "";
  if (code > 100 && !to_tag.empty() && !HeaderParam(to, "tag")) to += ";tag=" + to_tag;
  r.headers.push_back({"To", to});
  for (const char* name : {"Call-ID", "CSeq"}) {
    if (const std::string* v = request.Header(name)) r.headers.push_back({name, *v});
  }
  return r;
}

ServerTransaction::ServerTransaction(Scheduler& scheduler, const SipTimers& timers,
                                     SipMessage request, Send send, OnTimeout on_timeout)
    : scheduler_(scheduler),
      timers_(timers),
      request_(std::move(request)),
      send_(std::move(send)),
      on_timeout_(std::move(on_timeout)) {
  branch_ = TopViaBranch(request_);
  invite_ = request_.method == "INVITE";
  // An INVITE server transaction starts proceeding (section 17.2.1); others start trying.
  state_ = invite_ ? State::kProceeding : State::kTrying;
}

ServerTransaction::~ServerTransaction() { CancelTimers(); }

void ServerTransaction::CancelTimers() {
  scheduler_.Cancel(retransmit_task_);
  scheduler_.Cancel(end_task_);
  retransmit_task_ = end_task_ = kNoTask;
}

bool ServerTransaction::Matches(const SipMessage& request) const {
  if (!request.is_request() || branch_.empty() || TopViaBranch(request) != branch_) return false;
  return request.method == request_.method || (invite_ && request.method == "ACK");
}

void ServerTransaction::SendLast() {
  if (last_response_.empty()) return;
  send_(last_response_);
  ++response_sends_;
}

void ServerTransaction::Respond(const SipMessage& response) {
  if (state_ != State::kTrying && state_ != State::kProceeding) return;
  last_response_ = SerializeSipMessage(response);
  SendLast();
  const int code = response.status_code;
  if (code < 200) {
    state_ = State::kProceeding;
    return;
  }
  if (invite_ && code < 300) {
    state_ = State::kTerminated;
    return;
  }
  state_ = State::kCompleted;
  if (invite_) {
    interval_us_ = timers_.t1_us;
    retransmit_task_ = scheduler_.After(interval_us_, [this] { RetransmitFailure(); });
  }
  end_task_ = scheduler_.After(64 * timers_.t1_us, [this] {
    end_task_ = kNoTask;
    const bool unacked = invite_ && state_ == State::kCompleted;
    CancelTimers();
    state_ = State::kTerminated;
    if (unacked && on_timeout_) on_timeout_();
  });
}

void ServerTransaction::RetransmitFailure() {
  retransmit_task_ = kNoTask;
  if (state_ != State::kCompleted) return;
  SendLast();
  interval_us_ = std::min(interval_us_ * 2, timers_.t2_us);
  retransmit_task_ = scheduler_.After(interval_us_, [this] { RetransmitFailure(); });
}

void ServerTransaction::OnRequest(const SipMessage& request) {
  if (request.method == "ACK") {
    if (!invite_ || state_ != State::kCompleted) return;
    CancelTimers();
    state_ = State::kConfirmed;
    end_task_ = scheduler_.After(timers_.t4_us, [this] {
      end_task_ = kNoTask;
      state_ = State::kTerminated;
    });
    return;
  }
  // A retransmission: the last response again (none yet while trying: the TU has not answered).
  if (state_ == State::kProceeding || state_ == State::kCompleted) SendLast();
}

}  // namespace callsim::agent::sip
