#include "agent/providers/wire/tls.h"

#include <utility>  // before asio: Boost 1.74's awaitable.hpp uses std::exchange

#include <boost/asio/ssl/context.hpp>

namespace callsim::agent::wire {

std::shared_ptr<boost::asio::ssl::context> NewTlsClientContext(std::string* error) {
  namespace ssl = boost::asio::ssl;
  boost::system::error_code ec;
  auto context = std::make_shared<ssl::context>(ssl::context::tls_client);
  context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                           ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                           ssl::context::no_tlsv1_1,
                       ec);
  if (!ec) context->set_default_verify_paths(ec);
  if (!ec) context->set_verify_mode(ssl::verify_peer, ec);
  if (ec) {
    *error = "TLS setup: " + ec.message();
    return nullptr;
  }
  return context;
}

}  // namespace callsim::agent::wire
