// TLS for the provider clients, through OpenSSL: one client context per client object, trusting
// the system CA store (boost::asio::ssl::context::set_default_verify_paths, which also honours
// SSL_CERT_FILE and SSL_CERT_DIR, read when the context is made), TLS 1.2 or newer, the peer's
// certificate verified, and its name checked against the host of the URL (a DNS name, or an IP
// address against the certificate's IP entries). SNI carries the host name (never an address).
#pragma once

#include <memory>
#include <string>

namespace boost::asio::ssl {
class context;
}

namespace callsim::agent::wire {

// A new client context, or nullptr with the reason in *error.
std::shared_ptr<boost::asio::ssl::context> NewTlsClientContext(std::string* error);

}  // namespace callsim::agent::wire
