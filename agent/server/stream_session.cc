#include "agent/server/stream_session.h"

#include <stdexcept>

namespace callsim::agent {

// A session on a text-only protocol refuses binary messages; the server closes the stream as a
// bad message (a text-only route closes it before, as a binary frame).
void StreamSession::OnBinary(std::string_view /*data*/) {
  throw std::invalid_argument("binary messages are not taken");
}

}  // namespace callsim::agent
