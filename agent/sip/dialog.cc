#include "agent/sip/dialog.h"

#include <algorithm>

namespace callsim::agent::sip {
namespace {

std::string Tag(const std::string* value) {
  return value ? HeaderParam(*value, "tag").value_or("") : "";
}

uint32_t CSeqNumber(const SipMessage& m) {
  const std::string* text = m.Header("CSeq");
  const std::optional<CSeq> c = text ? ParseCSeq(*text) : std::nullopt;
  return c ? c->number : 0;
}

}  // namespace

std::optional<Dialog> DialogFromResponse(const SipMessage& invite, const SipMessage& response,
                                         std::string* error) {
  Dialog d;
  d.caller = true;
  d.call_id = invite.Header("Call-ID") ? *invite.Header("Call-ID") : "";
  d.local_tag = Tag(invite.Header("From"));
  d.remote_tag = Tag(response.Header("To"));
  const std::string* contact = response.Header("Contact");
  if (d.remote_tag.empty() || contact == nullptr) {
    *error = d.remote_tag.empty() ? "the response's To has no tag" : "the response has no Contact";
    return std::nullopt;
  }
  d.local_from = *invite.Header("From");
  d.remote_to = *response.Header("To");
  d.local_uri = HeaderUri(d.local_from);
  d.remote_uri = HeaderUri(d.remote_to);
  d.remote_target = HeaderUri(*contact);
  std::vector<std::string> routes = response.HeaderValues("Record-Route");
  std::reverse(routes.begin(), routes.end());
  d.route_set = std::move(routes);
  d.local_cseq = d.invite_cseq = CSeqNumber(invite);
  return d;
}

std::optional<Dialog> DialogFromRequest(const SipMessage& invite, const std::string& local_tag,
                                        std::string* error) {
  Dialog d;
  d.caller = false;
  d.call_id = invite.Header("Call-ID") ? *invite.Header("Call-ID") : "";
  d.remote_tag = Tag(invite.Header("From"));
  const std::string* contact = invite.Header("Contact");
  if (d.remote_tag.empty() || contact == nullptr) {
    *error = d.remote_tag.empty() ? "the INVITE's From has no tag" : "the INVITE has no Contact";
    return std::nullopt;
  }
  d.local_tag = local_tag;
  d.remote_to = *invite.Header("From");
  d.local_from = *invite.Header("To") + (Tag(invite.Header("To")).empty() ? ";tag=" + local_tag : "");
  d.local_uri = HeaderUri(d.local_from);
  d.remote_uri = HeaderUri(d.remote_to);
  d.remote_target = HeaderUri(*contact);
  d.route_set = invite.HeaderValues("Record-Route");
  d.remote_cseq = d.invite_cseq = CSeqNumber(invite);
  return d;
}

SipMessage MakeInDialogRequest(Dialog& d, const std::string& method, const std::string& via) {
  SipMessage m;
  m.method = method;
  m.request_uri = d.remote_target;
  const uint32_t cseq = method == "ACK" ? d.invite_cseq : ++d.local_cseq;
  m.headers = {{"Via", via},
               {"Max-Forwards", "70"},
               {"From", d.local_from},
               {"To", d.remote_to},
               {"Call-ID", d.call_id},
               {"CSeq", std::to_string(cseq) + " " + method}};
  for (const std::string& route : d.route_set) m.headers.push_back({"Route", route});
  return m;
}

bool AcceptInDialog(Dialog& d, const SipMessage& request, std::string* error) {
  const std::string* call_id = request.Header("Call-ID");
  // The peer's From tag is our remote tag, and its To tag ours.
  if (call_id == nullptr || *call_id != d.call_id || Tag(request.Header("From")) != d.remote_tag ||
      Tag(request.Header("To")) != d.local_tag) {
    *error = "no such dialog";
    return false;
  }
  if (request.method == "ACK" || request.method == "CANCEL") return true;
  const uint32_t cseq = CSeqNumber(request);
  if (d.remote_cseq != 0 && cseq <= d.remote_cseq) {
    *error = "CSeq " + std::to_string(cseq) + " is not above the last, " +
             std::to_string(d.remote_cseq);
    return false;
  }
  d.remote_cseq = cseq;
  return true;
}

}  // namespace callsim::agent::sip
