// The seam between a WebSocket connection and the call behind it. The server (http_server.h) owns
// the socket, the bounds and the timeouts; a StreamSession owns the call: it reads each complete
// text message and writes messages back through StreamIo. Both run on the connection's worker
// thread, so a session never locks and never sees two calls at once.
//
// Lifetime: the server creates the session when the upgrade succeeds, calls OnText for every text
// message in order, and calls OnClosed exactly once when the connection is gone for any reason
// (the peer closed it, an error, a bound, an idle timeout, server shutdown, or the session's own
// Close). After OnClosed the server destroys the session and calls nothing else on it; the
// session must not use its StreamIo after OnClosed returns.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agent/runtime/scheduler.h"

namespace callsim::agent {

struct StreamIo {
  // The worker thread's scheduler (real time): every timer of the call goes here.
  Scheduler* scheduler = nullptr;
  // Queues one text message for the peer. False when the connection is closing or its outbound
  // queue is full (a peer that does not read): the server then closes the connection ("slow
  // reader") and OnClosed follows on a later turn, never inside send_text.
  std::function<bool(std::string text)> send_text;
  // Closes the connection once the queued messages are written (a normal WebSocket close with
  // `reason`, at most 123 bytes). OnClosed follows on a later turn, never inside close.
  std::function<void(std::string reason)> close;
  // The request the stream was opened with: the path with its query string, its headers (names
  // as sent) and the peer.
  std::string target;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string peer;
};

class StreamSession {
 public:
  virtual ~StreamSession() = default;
  // One complete text message (at most the server's message bound). Throwing refuses it: the
  // server closes the stream ("bad message", counted as bad_message).
  virtual void OnText(std::string_view text) = 0;
  // One complete binary message, on a stream whose route takes them (StreamRoute::binary).
  // Throwing refuses it, as for OnText. The default refuses every one.
  virtual void OnBinary(std::string_view data);
  // The connection is gone; `reason` says why ("peer closed", "idle timeout", "slow reader",
  // "binary frame", "message too big", "server shutdown", "closed by session: ...", or the
  // socket error). Called once.
  virtual void OnClosed(const std::string& reason) = 0;
};

// Makes the session for a new stream on its worker's thread; the StreamIo it is given already
// works. Returns null to refuse it (the server closes the connection with "refused").
using StreamSessionFactory = std::function<std::unique_ptr<StreamSession>(StreamIo io)>;

}  // namespace callsim::agent
