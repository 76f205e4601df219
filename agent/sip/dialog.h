// A SIP dialog (RFC 3261 section 12): what both ends of a call remember between requests, the
// Call-ID, the two tags and URIs, each side's CSeq, the peer's target (its Contact) and the route
// set. Requests within the dialog (the 2xx's ACK, BYE, re-INVITE) are built from it, and requests
// that arrive are checked against it (section 12.2.2: the same dialog, a CSeq above the last).
// Plain data and free functions; the transactions carry the messages.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "agent/sip/sip_message.h"

namespace callsim::agent::sip {

struct Dialog {
  std::string call_id;
  std::string local_tag, remote_tag;
  std::string local_uri, remote_uri;  // the From and To URIs as this side sees them
  std::string local_from;             // our From/To header value with our tag, as sent
  std::string remote_to;              // the peer's, with its tag
  std::string remote_target;          // where requests go: the peer's Contact URI
  std::vector<std::string> route_set;
  uint32_t local_cseq = 0;
  uint32_t remote_cseq = 0;           // 0: the peer has sent nothing within the dialog yet
  uint32_t invite_cseq = 0;           // the INVITE's, for the 2xx's ACK
  bool caller = true;
};

// The caller's dialog from a 2xx (or a 1xx with a To tag) to its `invite` (section 12.1.2): the
// remote tag from the To, the target from the Contact, the route set from Record-Route in
// reverse. nullopt with *error when the response has no To tag or no Contact.
std::optional<Dialog> DialogFromResponse(const SipMessage& invite, const SipMessage& response,
                                         std::string* error);

// The callee's dialog from an INVITE it answers with `local_tag` (section 12.1.1): the target
// from the INVITE's Contact, the route set from Record-Route in order. nullopt with *error when
// the INVITE has no From tag or no Contact.
std::optional<Dialog> DialogFromRequest(const SipMessage& invite, const std::string& local_tag,
                                        std::string* error);

// A request within `dialog` (section 12.2.1.1) to the remote target, through the route set, with
// a Via of `via` (e.g. "SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK..."). An ACK reuses the
// INVITE's CSeq number; any other method takes the next local CSeq.
SipMessage MakeInDialogRequest(Dialog& dialog, const std::string& method, const std::string& via);

// Whether `request` belongs to `dialog` (Call-ID and both tags) and comes in order (a CSeq above
// the last one received; an ACK or CANCEL is exempt). On success the remote CSeq is updated.
// False with *error otherwise; the server answers 481 (no such dialog) or 500 (out of order).
bool AcceptInDialog(Dialog& dialog, const SipMessage& request, std::string* error);

}  // namespace callsim::agent::sip
