#include "agent/sip/client_transaction.h"

#include <algorithm>
#include <utility>

namespace callsim::agent::sip {
SipMessage MakeAckForFailure(const SipMessage& invite, const SipMessage& response) {
  SipMessage ack;
  ack.method = "ACK";
  ack.request_uri = invite.request_uri;
  const std::vector<std::string> vias = invite.HeaderValues("Via");
  ack.headers.push_back({"Via", vias.empty() ? "" : vias.front()});
  for (const char* name : {"From", "Call-ID"}) {
    if (const std::string* v = invite.Header(name)) ack.headers.push_back({name, *v});
  }
  if (const std::string* to = response.Header("To")) ack.headers.push_back({"To", *to});
  const std::optional<CSeq> cseq = ParseCSeq(*invite.Header("CSeq"));
  ack.headers.push_back({"CSeq", std::to_string(cseq ? cseq->number : 1) + " ACK"});
  for (const std::string& route : invite.HeaderValues("Route")) ack.headers.push_back({"Route", route});
  ack.headers.push_back({"Max-Forwards", "70"});
  return ack;
}

ClientTransaction::ClientTransaction(Scheduler& scheduler, const SipTimers& timers,
                                     SipMessage request, Send send, OnResponse on_response,
                                     OnTimeout on_timeout)
    : scheduler_(scheduler),
      timers_(timers),
      request_(std::move(request)),
      send_(std::move(send)),
      on_response_(std::move(on_response)),
      on_timeout_(std::move(on_timeout)) {
  branch_ = TopViaBranch(request_);
  method_ = request_.method;
  invite_ = method_ == "INVITE";
  state_ = invite_ ? State::kCalling : State::kTrying;
  request_bytes_ = SerializeSipMessage(request_);
}

ClientTransaction::~ClientTransaction() { CancelTimers(); }

void ClientTransaction::CancelTimers() {
  scheduler_.Cancel(retransmit_task_);
  scheduler_.Cancel(timeout_task_);
  retransmit_task_ = timeout_task_ = kNoTask;
}

void ClientTransaction::Start() {
  send_(request_bytes_);
  ++sends_;
  interval_us_ = timers_.t1_us;
  retransmit_task_ = scheduler_.After(interval_us_, [this] { Retransmit(); });
  timeout_task_ = scheduler_.After(64 * timers_.t1_us, [this] {
    timeout_task_ = kNoTask;
    Terminate();
    if (on_timeout_) on_timeout_();
  });
}

void ClientTransaction::Retransmit() {
  retransmit_task_ = kNoTask;
  if (state_ != State::kCalling && state_ != State::kTrying && state_ != State::kProceeding) return;
  send_(request_bytes_);
  ++sends_;
  // Timer A doubles without a cap; timer E doubles up to T2 and stays at T2 once proceeding.
  interval_us_ = invite_ ? interval_us_ * 2
                         : (state_ == State::kProceeding ? timers_.t2_us
                                                         : std::min(interval_us_ * 2, timers_.t2_us));
  retransmit_task_ = scheduler_.After(interval_us_, [this] { Retransmit(); });
}

bool ClientTransaction::Matches(const SipMessage& response) const {
  if (response.is_request() || branch_.empty() || TopViaBranch(response) != branch_) return false;
  const std::string* cseq_text = response.Header("CSeq");
  const std::optional<CSeq> cseq = cseq_text ? ParseCSeq(*cseq_text) : std::nullopt;
  return cseq && cseq->method == method_;
}

void ClientTransaction::SendAck(const SipMessage& response) {
  if (ack_bytes_.empty()) ack_bytes_ = SerializeSipMessage(MakeAckForFailure(request_, response));
  send_(ack_bytes_);
}

void ClientTransaction::OnReceive(const SipMessage& response) {
  const int code = response.status_code;
  if (state_ == State::kTerminated || code < 100) return;
  if (state_ == State::kCompleted) {
    if (invite_ && code >= 300) SendAck(response);  // a retransmitted final response: ACK again
    return;
  }
  if (code < 200) {
    // INVITE: no more retransmissions and no timer B (the dialog CANCELs if it must). Others:
    // timer E goes on, at T2 from the next retransmission (section 17.1.2.2), and so does F.
    if (invite_) CancelTimers();
    state_ = State::kProceeding;
    if (on_response_) on_response_(response);
    return;
  }
  CancelTimers();
  if (invite_ && code < 300) {
    state_ = State::kTerminated;  // the 2xx is the dialog's to ACK
  } else {
    state_ = State::kCompleted;
    if (invite_) SendAck(response);
    const int64_t linger = invite_ ? timers_.timer_d_us : timers_.t4_us;
    timeout_task_ = scheduler_.After(linger, [this] {
      timeout_task_ = kNoTask;
      state_ = State::kTerminated;
    });
  }
  if (on_response_) on_response_(response);
}

void ClientTransaction::Terminate() {
  CancelTimers();
  state_ = State::kTerminated;
}

}  // namespace callsim::agent::sip
