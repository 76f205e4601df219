#include "agent/providers/wire/dialer.h"

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <chrono>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>

namespace callsim::agent::wire {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;

bool IsAddress(const std::string& host) {
  error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

// "certificate verify failed (hostname mismatch)": the handshake's error, and for a failed
// verification the reason OpenSSL recorded.
std::string HandshakeError(error_code ec, TlsStream& stream) {
  std::string text = ec.message();
  const long verify = SSL_get_verify_result(stream.native_handle());
  if (verify != X509_V_OK) {
    text += std::string(" (") + X509_verify_cert_error_string(verify) + ")";
  }
  return text;
}

}  // namespace

TcpStream& Lowest(AnyStream& stream) {
  if (auto* plain = std::get_if<TcpStream>(&stream)) return *plain;
  return std::get<TlsStream>(stream).next_layer();
}

void CloseSocket(AnyStream& stream) {
  std::visit(
      [](auto& s) {
        error_code ignored;
        boost::beast::get_lowest_layer(s).socket().close(ignored);
      },
      stream);
}

std::shared_ptr<Dialer> Dialer::Start(asio::io_context& io, const Url& url,
                                      std::shared_ptr<asio::ssl::context> tls, int timeout_ms,
                                      DoneFn done) {
  std::shared_ptr<Dialer> dialer(new Dialer(io, url, std::move(tls), timeout_ms, std::move(done)));
  dialer->Begin();
  return dialer;
}

Dialer::Dialer(asio::io_context& io, const Url& url, std::shared_ptr<asio::ssl::context> tls,
               int timeout_ms, DoneFn done)
    : io_(io),
      url_(url),
      tls_(std::move(tls)),
      timeout_ms_(timeout_ms),
      done_(std::move(done)),
      resolver_(io),
      deadline_(io) {}

void Dialer::Begin() {
  if (url_.tls() && tls_ == nullptr) {
    asio::post(io_, [self = shared_from_this()] { self->Finish("TLS is not set up"); });
    return;
  }
  if (url_.tls()) {
    stream_ = std::make_unique<AnyStream>(std::in_place_type<TlsStream>, io_, *tls_);
  } else {
    stream_ = std::make_unique<AnyStream>(std::in_place_type<TcpStream>, io_);
  }
  deadline_.expires_after(std::chrono::milliseconds(timeout_ms_));
  deadline_.async_wait([self = shared_from_this()](error_code ec) {
    if (ec || self->finished_) return;
    self->timed_out_ = "connect to " + self->url_.Authority() + " timed out after " +
                       std::to_string(self->timeout_ms_) + " ms";
    self->resolver_.cancel();
    CloseSocket(*self->stream_);
  });
  resolver_.async_resolve(url_.host, std::to_string(url_.port),
                          [self = shared_from_this()](error_code ec,
                                                      const tcp::resolver::results_type& r) {
                            self->OnResolved(ec, r);
                          });
}

void Dialer::Abort() {
  if (finished_) return;
  finished_ = true;
  done_ = nullptr;
  deadline_.cancel();
  resolver_.cancel();
  if (stream_) CloseSocket(*stream_);
}

bool Dialer::Failed(error_code ec, const std::string& step) {
  if (finished_) return true;
  if (!timed_out_.empty()) {
    Finish(timed_out_);
    return true;
  }
  if (ec) {
    Finish(step + ": " + ec.message());
    return true;
  }
  return false;
}

void Dialer::OnResolved(error_code ec, const tcp::resolver::results_type& results) {
  if (Failed(ec, "resolve " + url_.host)) return;
  auto handler = [self = shared_from_this()](error_code ec, const tcp::endpoint&) {
    self->OnConnected(ec);
  };
  Lowest(*stream_).async_connect(results, std::move(handler));
}

void Dialer::OnConnected(error_code ec) {
  if (Failed(ec, "connect to " + url_.Authority())) return;
  error_code ignored;
  Lowest(*stream_).socket().set_option(tcp::no_delay(true), ignored);
  if (!url_.tls()) {
    Finish("");
    return;
  }
  TlsStream& tls = std::get<TlsStream>(*stream_);
  SSL* ssl = tls.native_handle();
  bool ok = true;
  if (IsAddress(url_.host)) {
    ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), url_.host.c_str()) == 1;
  } else {
    ok = SSL_set_tlsext_host_name(ssl, url_.host.c_str()) == 1 &&
         SSL_set1_host(ssl, url_.host.c_str()) == 1;
  }
  if (!ok) {
    Finish("TLS setup for " + url_.host + " failed");
    return;
  }
  tls.async_handshake(asio::ssl::stream_base::client,
                      [self = shared_from_this()](error_code ec) { self->OnHandshake(ec); });
}

void Dialer::OnHandshake(error_code ec) {
  if (finished_) return;
  if (ec && timed_out_.empty()) {
    Finish("TLS handshake with " + url_.Authority() + ": " +
           HandshakeError(ec, std::get<TlsStream>(*stream_)));
    return;
  }
  if (Failed(ec, "TLS handshake with " + url_.Authority())) return;
  Finish("");
}

void Dialer::Finish(const std::string& error) {
  if (finished_) return;
  finished_ = true;
  deadline_.cancel();
  DoneFn done = std::move(done_);
  done_ = nullptr;
  if (!error.empty() && stream_) CloseSocket(*stream_);
  if (done) done(error, error.empty() ? std::move(stream_) : nullptr);
}

}  // namespace callsim::agent::wire
