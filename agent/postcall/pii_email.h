// Finds e-mail addresses in a transcript, written ("john.smith@example.com") or spoken the way a
// speech-to-text engine renders them ("john dot smith at example dot com"), and mixed forms
// ("john.smith at example dot com"). A spoken address must end in a common top-level domain
// (com, org, net, io, ...) so that "meet me at the store" never matches; a written one in two or
// more letters.
#pragma once

#include <vector>

#include "agent/postcall/pii_tokens.h"

namespace callsim::agent {

// The addresses in `tokens`, in order. Tokens already marked in `claimed` (tokens.size() long) are
// never part of a match; the tokens of each match are marked there.
std::vector<PiiSpan> FindEmails(const std::vector<PiiToken>& tokens, std::vector<bool>* claimed);

}  // namespace callsim::agent
