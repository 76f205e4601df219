#include "agent/providers/wire/ws_client.h"

#include <utility>  // before asio: Boost 1.74's awaitable.hpp uses std::exchange

#include <chrono>
#include <deque>
#include <variant>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>

#include "agent/providers/wire/dialer.h"
#include "agent/providers/wire/http_error.h"
#include "agent/runtime/check.h"

namespace callsim::agent::wire {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using boost::system::error_code;

namespace {

using PlainWs = websocket::stream<TcpStream>;
using TlsWs = websocket::stream<TlsStream>;

std::string Ms(int ms) { return std::to_string(ms) + " ms"; }

}  // namespace

// Every handler holds a shared_ptr to the client, so the client lives until its last operation
// has completed. One read is pending while open; at most one write (a message or the close) is.
struct WsClient::Impl {
  enum class State { kIdle, kConnecting, kOpen, kClosed };
  struct Outbound {
    std::string data;
    bool binary = false;
  };

  Impl(WsClient& owner, asio::io_context& io, WsConfig config,
       std::shared_ptr<asio::ssl::context> tls)
      : owner(owner), io(io), config(std::move(config)), tls(std::move(tls)), timer(io) {}

  std::shared_ptr<WsClient> Self() { return owner.shared_from_this(); }

  // Calls f with the WebSocket stream, whichever it is (not before the dialer finished).
  template <class F>
  void WithWs(F&& f) {
    if (auto* plain = std::get_if<PlainWs>(&ws)) {
      f(*plain);
    } else if (auto* secure = std::get_if<TlsWs>(&ws)) {
      f(*secure);
    }
  }

  void Connect(WsHandlers h);
  void OnDialed(const std::string& error, std::unique_ptr<AnyStream> stream);
  void OnUpgraded(error_code ec);
  void ReadNext();
  void OnRead(error_code ec);
  std::string ReadError(error_code ec);
  bool Send(std::string data, bool binary);
  void WriteNext();
  void OnWritten(error_code ec);
  void Close();
  void StartClose();
  void Finish(const std::string& reason);
  void CloseSocket();

  WsClient& owner;
  asio::io_context& io;
  const WsConfig config;
  std::shared_ptr<asio::ssl::context> tls;
  std::shared_ptr<Dialer> dialer;
  std::variant<std::monostate, PlainWs, TlsWs> ws;
  asio::steady_timer timer;  // the connect deadline, then the close deadline
  websocket::response_type upgrade_response;
  beast::flat_buffer read_buffer;
  std::deque<Outbound> outbound;  // the front is on the wire while `writing`
  size_t queued_bytes = 0;
  State state = State::kIdle;
  bool writing = false;
  bool close_requested = false;
  bool close_started = false;
  bool detached = false;
  std::string timed_out;
  uint64_t sent = 0;
  WsHandlers handlers;
};

void WsClient::Impl::Connect(WsHandlers h) {
  CALLSIM_CHECK(state == State::kIdle);
  handlers = std::move(h);
  state = State::kConnecting;
  std::string problem = HeaderProblem(config.headers);
  if (problem.empty() && !config.url.websocket()) {
    problem = "not a WebSocket URL: " + RedactUrl(config.url.ToString());
  }
  if (!problem.empty()) {
    asio::post(io, [this, self = Self(), problem] { Finish(problem); });
    return;
  }
  timer.expires_after(std::chrono::milliseconds(config.connect_timeout_ms));
  timer.async_wait([this, self = Self()](error_code ec) {
    if (ec || state != State::kConnecting) return;
    if (dialer) {
      Finish("connect to " + config.url.Authority() + " timed out after " +
             Ms(config.connect_timeout_ms));
      return;
    }
    timed_out = "upgrade timed out after " + Ms(config.connect_timeout_ms);
    CloseSocket();
  });
  dialer = Dialer::Start(io, config.url, tls, config.connect_timeout_ms,
                         [this, self = Self()](const std::string& error,
                                               std::unique_ptr<AnyStream> stream) {
                           OnDialed(error, std::move(stream));
                         });
}

void WsClient::Impl::OnDialed(const std::string& error, std::unique_ptr<AnyStream> stream) {
  dialer = nullptr;
  if (state != State::kConnecting) return;
  if (!error.empty()) {
    Finish(error);
    return;
  }
  if (auto* plain = std::get_if<TcpStream>(stream.get())) {
    ws.emplace<PlainWs>(std::move(*plain));
  } else {
    ws.emplace<TlsWs>(std::move(std::get<TlsStream>(*stream)));
  }
  WithWs([this](auto& s) {
    s.read_message_max(config.max_message_bytes);
    s.auto_fragment(false);
    websocket::stream_base::timeout timeouts{};
    timeouts.handshake_timeout = std::chrono::milliseconds(config.connect_timeout_ms);
    timeouts.idle_timeout = std::chrono::milliseconds(config.idle_timeout_ms);
    timeouts.keep_alive_pings = true;
    s.set_option(timeouts);
    s.set_option(websocket::stream_base::decorator(
        [headers = config.headers](websocket::request_type& request) {
          request.set(beast::http::field::user_agent, "callsim-agent");
          for (const auto& [name, value] : headers) request.set(name, value);
        }));
    s.async_handshake(upgrade_response, config.url.HostHeader(), config.url.target,
                      [this, self = Self()](error_code ec) { OnUpgraded(ec); });
  });
}

void WsClient::Impl::OnUpgraded(error_code ec) {
  if (state != State::kConnecting) return;
  if (!timed_out.empty()) {
    Finish(timed_out);
    return;
  }
  if (ec == websocket::error::upgrade_declined) {
    std::string reason = "upgrade refused: HTTP " + std::to_string(upgrade_response.result_int());
    std::string message = ErrorMessageFromBody(upgrade_response.body());
    if (message.empty()) message = std::string(upgrade_response.reason());
    if (!message.empty()) reason += ": " + message;
    Finish(reason);
    return;
  }
  if (ec) {
    Finish("upgrade: " + ec.message());
    return;
  }
  timer.cancel();
  state = State::kOpen;
  ReadNext();
  if (!outbound.empty()) WriteNext();
  if (!detached && handlers.on_open) handlers.on_open();
  if (state == State::kOpen && close_requested && !writing && !close_started) StartClose();
}

void WsClient::Impl::ReadNext() {
  WithWs([this](auto& s) {
    s.async_read(read_buffer, [this, self = Self()](error_code ec, size_t) { OnRead(ec); });
  });
}

void WsClient::Impl::OnRead(error_code ec) {
  if (state == State::kClosed) return;
  if (ec) {
    if (!close_started) Finish(ReadError(ec));  // else the close handler reports
    return;
  }
  bool text = true;
  WithWs([&text](auto& s) { text = s.got_text(); });
  if (!detached && handlers.on_message) {
    const auto data = read_buffer.data();
    handlers.on_message(std::string_view(static_cast<const char*>(data.data()), data.size()),
                        !text);
  }
  read_buffer.consume(read_buffer.size());
  if (state == State::kOpen) ReadNext();
}

std::string WsClient::Impl::ReadError(error_code ec) {
  if (ec == websocket::error::message_too_big) return "message too big";
  if (ec == beast::error::timeout) return "no data for " + Ms(config.idle_timeout_ms);
  if (ec != websocket::error::closed) return ec.message();
  websocket::close_reason why;
  WithWs([&why](auto& s) { why = s.reason(); });
  return "closed by peer: " + (why.reason.empty()
                                   ? "code " + std::to_string(why.code)
                                   : std::string(why.reason.data(), why.reason.size()));
}

bool WsClient::Impl::Send(std::string data, bool binary) {
  if ((state != State::kConnecting && state != State::kOpen) || close_requested) return false;
  if (outbound.size() >= config.max_queued_messages ||
      queued_bytes + data.size() > config.max_queued_bytes) {
    return false;
  }
  queued_bytes += data.size();
  outbound.push_back(Outbound{std::move(data), binary});
  if (state == State::kOpen && !writing) WriteNext();
  return true;
}

void WsClient::Impl::WriteNext() {
  writing = true;
  WithWs([this](auto& s) {
    s.binary(outbound.front().binary);
    s.async_write(asio::buffer(outbound.front().data),
                  [this, self = Self()](error_code ec, size_t) { OnWritten(ec); });
  });
}

void WsClient::Impl::OnWritten(error_code ec) {
  writing = false;
  if (state == State::kClosed) {
    outbound.clear();  // Finish() kept the message that was on the wire until now
    queued_bytes = 0;
    return;
  }
  if (ec) {
    Finish(ec == beast::error::timeout ? "no data for " + Ms(config.idle_timeout_ms)
                                       : ec.message());
    return;
  }
  queued_bytes -= outbound.front().data.size();
  outbound.pop_front();
  ++sent;
  if (!outbound.empty()) {
    WriteNext();
  } else if (close_requested && !close_started) {
    StartClose();
  }
}

void WsClient::Impl::Close() {
  if (state == State::kIdle) {
    state = State::kClosed;
    return;
  }
  if (state == State::kConnecting) {
    // on_closed is never called from inside Close().
    close_requested = true;
    asio::post(io, [this, self = Self()] { Finish("closed before the connection opened"); });
    return;
  }
  if (state != State::kOpen || close_requested) return;
  close_requested = true;
  timer.expires_after(std::chrono::milliseconds(config.connect_timeout_ms));
  timer.async_wait([this, self = Self()](error_code ec) {
    if (!ec) Finish("close timed out after " + Ms(config.connect_timeout_ms));
  });
  if (!writing) StartClose();
}

void WsClient::Impl::StartClose() {
  close_started = true;
  WithWs([this](auto& s) {
    s.async_close(websocket::close_code::normal, [this, self = Self()](error_code ec) {
      Finish(ec ? "close: " + ec.message() : "closed");
    });
  });
}

void WsClient::Impl::CloseSocket() {
  error_code ignored;
  WithWs([&ignored](auto& s) { beast::get_lowest_layer(s).socket().close(ignored); });
}

// The end: on_closed once (unless detached), the socket closed (pending operations end with an
// error and find the state kClosed), the unsent messages dropped.
void WsClient::Impl::Finish(const std::string& reason) {
  if (state == State::kClosed) return;
  state = State::kClosed;
  timer.cancel();
  if (dialer) dialer->Abort();
  dialer = nullptr;
  CloseSocket();
  outbound.erase(outbound.begin() + (writing ? 1 : 0), outbound.end());
  if (!detached && handlers.on_closed) {
    detached = true;  // nothing after on_closed
    handlers.on_closed(reason);
  }
  detached = true;
}

std::shared_ptr<WsClient> WsClient::Create(asio::io_context& io, WsConfig config,
                                           std::shared_ptr<asio::ssl::context> tls) {
  CALLSIM_CHECK(config.max_message_bytes > 0 && config.max_queued_messages > 0 &&
                config.connect_timeout_ms > 0 && config.idle_timeout_ms > 0);
  return std::shared_ptr<WsClient>(new WsClient(io, std::move(config), std::move(tls)));
}

WsClient::WsClient(asio::io_context& io, WsConfig config, std::shared_ptr<asio::ssl::context> tls)
    : impl_(std::make_unique<Impl>(*this, io, std::move(config), std::move(tls))) {}

WsClient::~WsClient() = default;

void WsClient::Connect(WsHandlers handlers) { impl_->Connect(std::move(handlers)); }
bool WsClient::SendText(std::string text) { return impl_->Send(std::move(text), false); }
bool WsClient::SendBinary(std::string data) { return impl_->Send(std::move(data), true); }
void WsClient::Close() { impl_->Close(); }
void WsClient::Detach() { impl_->detached = true; }
void WsClient::Abort() {
  impl_->detached = true;
  impl_->Finish("aborted");
}
bool WsClient::open() const { return impl_->state == Impl::State::kOpen; }
size_t WsClient::queued() const { return impl_->outbound.size(); }
uint64_t WsClient::messages_sent() const { return impl_->sent; }

}  // namespace callsim::agent::wire
