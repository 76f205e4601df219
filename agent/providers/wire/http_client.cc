#include "agent/providers/wire/http_client.h"

#include <utility>  // before asio: Boost 1.74's awaitable.hpp uses std::exchange

#include <algorithm>
#include <array>
#include <chrono>
#include <optional>
#include <vector>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/http/buffer_body.hpp>

#include "agent/providers/wire/dialer.h"
#include "agent/providers/wire/tls.h"

namespace callsim::agent::wire {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using boost::system::error_code;

namespace {

constexpr size_t kPieceBytes = 16 * 1024;
constexpr size_t kMaxHeadBytes = 16 * 1024;
constexpr size_t kMaxDrainBytes = 64 * 1024;

std::string Ms(int ms) { return std::to_string(ms) + " ms"; }

bool IsConnectionEnd(error_code ec) {
  return ec == http::error::partial_message || ec == http::error::end_of_stream ||
         ec == asio::error::eof || ec == asio::error::connection_reset ||
         ec == asio::error::broken_pipe || ec == asio::ssl::error::stream_truncated;
}

}  // namespace

// One connection: the stream, and what it is for (its origin, and the TLS context under it).
struct PooledConnection {
  std::unique_ptr<AnyStream> stream;
  std::string origin;
  std::shared_ptr<asio::ssl::context> tls;
  std::unique_ptr<asio::steady_timer> idle_timer;
  uint64_t id = 0;
};

class HttpPool : public std::enable_shared_from_this<HttpPool> {
 public:
  HttpPool(asio::io_context& io, HttpPoolConfig config) : io_(io), config_(config) {}

  // The most recently pooled idle connection to `origin`, or nullptr.
  std::unique_ptr<PooledConnection> Take(const std::string& origin) {
    for (auto it = idle_.rbegin(); it != idle_.rend(); ++it) {
      if ((*it)->origin != origin) continue;
      std::unique_ptr<PooledConnection> connection = std::move(*it);
      idle_.erase(std::next(it).base());
      connection->idle_timer->cancel();
      ++reused_;
      return connection;
    }
    return nullptr;
  }

  void Give(std::unique_ptr<PooledConnection> connection) {
    if (shut_down_ || config_.max_idle_connections == 0) {
      CloseSocket(*connection->stream);
      return;
    }
    while (idle_.size() >= config_.max_idle_connections) {
      CloseSocket(*idle_.front()->stream);
      idle_.erase(idle_.begin());
    }
    if (!connection->idle_timer) connection->idle_timer = std::make_unique<asio::steady_timer>(io_);
    connection->idle_timer->expires_after(std::chrono::milliseconds(config_.idle_expiry_ms));
    connection->idle_timer->async_wait(
        [weak = weak_from_this(), id = connection->id](error_code ec) {
          if (ec) return;
          if (auto pool = weak.lock()) pool->Expire(id);
        });
    idle_.push_back(std::move(connection));
  }

  void Shutdown() {
    shut_down_ = true;
    for (auto& connection : idle_) {
      connection->idle_timer->cancel();
      CloseSocket(*connection->stream);
    }
    idle_.clear();
  }

  // The client's TLS context, made on first use (so SSL_CERT_FILE is read then).
  std::shared_ptr<asio::ssl::context> Tls(std::string* error) {
    if (!tls_) tls_ = NewTlsClientContext(error);
    return tls_;
  }

  uint64_t NextId() { return ++next_id_; }
  void CountOpened() { ++opened_; }
  size_t idle() const { return idle_.size(); }
  uint64_t opened() const { return opened_; }
  uint64_t reused() const { return reused_; }

 private:
  void Expire(uint64_t id) {
    for (auto it = idle_.begin(); it != idle_.end(); ++it) {
      if ((*it)->id != id) continue;
      CloseSocket(*(*it)->stream);
      idle_.erase(it);
      return;
    }
  }

  asio::io_context& io_;
  HttpPoolConfig config_;
  std::vector<std::unique_ptr<PooledConnection>> idle_;  // oldest first
  std::shared_ptr<asio::ssl::context> tls_;
  bool shut_down_ = false;
  uint64_t next_id_ = 0;
  uint64_t opened_ = 0;
  uint64_t reused_ = 0;
};

// One request. Every handler holds a shared_ptr to it, so it lives until its last operation has
// completed; the HttpCall handle only flags it.
class HttpCallImpl : public std::enable_shared_from_this<HttpCallImpl> {
 public:
  HttpCallImpl(asio::io_context& io, std::shared_ptr<HttpPool> pool, HttpRequest request,
               HttpHandlers handlers)
      : io_(io),
        pool_(pool),
        request_(std::move(request)),
        handlers_(std::move(handlers)),
        deadline_(io) {}

  void Begin(HttpPool& pool);
  void Cancel();
  void Release();
  // The handle is gone: a released call drains on, any other is cancelled.
  void Dropped() {
    if (!released_) Cancel();
  }
  bool reused() const { return reused_; }

 private:
  void Dial();
  void OnDialed(const std::string& error, std::unique_ptr<AnyStream> stream);
  void Send();
  void OnSent(error_code ec);
  void OnHead(error_code ec);
  void ReadBody();
  void OnBody(error_code ec);
  void Complete();
  // The request failed before the head: retried on a new connection when a pooled one went
  // stale, else reported.
  void EarlyFailure(error_code ec, const std::string& step);
  void Fail(const std::string& error);
  void Arm(int ms, std::string reason);
  void Disarm();
  void CloseConnection() {
    if (connection_) CloseSocket(*connection_->stream);
  }
  bool Quiet() const { return cancelled_ || released_; }

  asio::io_context& io_;
  std::weak_ptr<HttpPool> pool_;
  HttpRequest request_;
  HttpHandlers handlers_;
  http::request<http::string_body> wire_request_;
  std::shared_ptr<asio::ssl::context> tls_;
  std::shared_ptr<Dialer> dialer_;
  std::unique_ptr<PooledConnection> connection_;
  beast::flat_buffer buffer_;
  std::optional<http::response_parser<http::buffer_body>> parser_;
  std::array<char, kPieceBytes> piece_{};
  asio::steady_timer deadline_;
  uint64_t deadline_generation_ = 0;
  std::string timed_out_;  // the deadline passed: why
  bool cancelled_ = false;
  bool released_ = false;
  bool finished_ = false;
  bool head_seen_ = false;
  bool reused_ = false;
  bool retried_ = false;
  size_t drained_bytes_ = 0;
};

void HttpCallImpl::Begin(HttpPool& pool) {
  std::string problem = HeaderProblem(request_.headers);
  const auto verb = http::string_to_verb(request_.method);
  if (problem.empty() && verb == http::verb::unknown) {
    problem = "unknown HTTP method \"" + request_.method + "\"";
  }
  if (problem.empty() && request_.url.websocket()) {
    problem = "not an HTTP URL: " + RedactUrl(request_.url.ToString());
  }
  if (problem.empty() && request_.url.tls()) {
    tls_ = pool.Tls(&problem);
  }
  if (!problem.empty()) {
    asio::post(io_, [self = shared_from_this(), problem] { self->Fail(problem); });
    return;
  }
  wire_request_ = http::request<http::string_body>(verb, request_.url.target, 11);
  wire_request_.set(http::field::host, request_.url.HostHeader());
  wire_request_.set(http::field::user_agent, "callsim-agent");
  for (const auto& [name, value] : request_.headers) wire_request_.set(name, value);
  if (!request_.body.empty() && wire_request_.find(http::field::content_type) == wire_request_.end()) {
    wire_request_.set(http::field::content_type, "application/json");
  }
  wire_request_.body() = std::move(request_.body);
  wire_request_.prepare_payload();
  connection_ = pool.Take(request_.url.Origin());
  if (connection_) {
    reused_ = true;
    asio::post(io_, [self = shared_from_this()] {
      if (!self->cancelled_) self->Send();
    });
    return;
  }
  Dial();
}

void HttpCallImpl::Dial() {
  dialer_ = Dialer::Start(
      io_, request_.url, tls_, request_.connect_timeout_ms,
      [self = shared_from_this()](const std::string& error, std::unique_ptr<AnyStream> stream) {
        self->OnDialed(error, std::move(stream));
      });
}

void HttpCallImpl::OnDialed(const std::string& error, std::unique_ptr<AnyStream> stream) {
  dialer_ = nullptr;
  if (cancelled_) return;
  if (!error.empty()) {
    Fail(error);
    return;
  }
  connection_ = std::make_unique<PooledConnection>();
  connection_->stream = std::move(stream);
  connection_->origin = request_.url.Origin();
  connection_->tls = tls_;
  if (auto pool = pool_.lock()) {
    connection_->id = pool->NextId();
    pool->CountOpened();
  }
  Send();
}

void HttpCallImpl::Send() {
  parser_.emplace();
  parser_->header_limit(kMaxHeadBytes);
  parser_->body_limit(request_.max_body_bytes);
  buffer_.clear();
  Arm(request_.response_timeout_ms, "no response within " + Ms(request_.response_timeout_ms));
  std::visit(
      [this](auto& stream) {
        http::async_write(stream, wire_request_,
                          [self = shared_from_this()](error_code ec, size_t) { self->OnSent(ec); });
      },
      *connection_->stream);
}

void HttpCallImpl::OnSent(error_code ec) {
  if (cancelled_) return;
  if (ec || !timed_out_.empty()) {
    EarlyFailure(ec, "send request to " + request_.url.Authority());
    return;
  }
  // The head is read on its own: Boost 1.74's parser, reading eagerly, drops the body_limit
  // error for a Content-Length over the limit when the body arrives with the head.
  std::visit(
      [this](auto& stream) {
        http::async_read_header(stream, buffer_, *parser_,
                                [self = shared_from_this()](error_code ec, size_t) {
                                  self->OnHead(ec);
                                });
      },
      *connection_->stream);
}

void HttpCallImpl::OnHead(error_code ec) {
  if (cancelled_) return;
  if (ec == http::error::header_limit) {
    Fail("response head over " + std::to_string(kMaxHeadBytes) + " bytes");
    return;
  }
  if (ec == http::error::body_limit) {  // a Content-Length over the bound
    Fail("response body over " + std::to_string(request_.max_body_bytes) + " bytes");
    return;
  }
  if (ec || !timed_out_.empty()) {
    EarlyFailure(ec, "read response from " + request_.url.Authority());
    return;
  }
  Disarm();
  head_seen_ = true;
  if (!Quiet() && handlers_.on_head) {
    const auto& message = parser_->get();
    HttpHead head;
    head.status = static_cast<int>(message.result_int());
    head.reason = std::string(message.reason());
    for (const auto& field : message) {
      head.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    handlers_.on_head(head);
    if (cancelled_) return;
  }
  ReadBody();
}

void HttpCallImpl::ReadBody() {
  if (parser_->is_done()) {
    Complete();
    return;
  }
  if (!released_) {
    Arm(request_.idle_timeout_ms, "no data for " + Ms(request_.idle_timeout_ms));
  }
  auto& body = parser_->get().body();
  body.data = piece_.data();
  body.size = piece_.size();
  std::visit(
      [this](auto& stream) {
        http::async_read_some(stream, buffer_, *parser_,
                              [self = shared_from_this()](error_code ec, size_t) {
                                self->OnBody(ec);
                              });
      },
      *connection_->stream);
}

void HttpCallImpl::OnBody(error_code ec) {
  if (cancelled_) return;
  if (ec == http::error::need_buffer) ec = {};
  const size_t got = piece_.size() - parser_->get().body().size;
  if (got > 0) {
    if (released_) {
      drained_bytes_ += got;
      if (drained_bytes_ > kMaxDrainBytes) {
        Cancel();
        return;
      }
    } else if (handlers_.on_body) {
      handlers_.on_body(std::string_view(piece_.data(), got));
      if (cancelled_) return;
    }
  }
  if (!timed_out_.empty()) {
    Fail(timed_out_);
    return;
  }
  if (ec == http::error::body_limit) {
    Fail("response body over " + std::to_string(request_.max_body_bytes) + " bytes");
    return;
  }
  if (ec) {
    Fail(IsConnectionEnd(ec) ? "connection closed before the response ended (" + ec.message() + ")"
                             : "read response body: " + ec.message());
    return;
  }
  if (parser_->is_done()) {
    Complete();
  } else {
    ReadBody();
  }
}

void HttpCallImpl::Complete() {
  finished_ = true;
  Disarm();
  if (!Quiet() && handlers_.on_end) {
    handlers_.on_end();
  }
  const bool reusable = !cancelled_ && parser_->keep_alive() && buffer_.size() == 0 &&
                        wire_request_.keep_alive();
  auto pool = pool_.lock();
  if (reusable && pool) {
    pool->Give(std::move(connection_));
  } else {
    CloseConnection();
  }
}

void HttpCallImpl::EarlyFailure(error_code ec, const std::string& step) {
  if (!timed_out_.empty()) {
    Fail(timed_out_);
    return;
  }
  auto pool = pool_.lock();
  if (reused_ && !retried_ && !parser_->got_some() && pool) {
    // The server closed the pooled connection while it was idle: one new connection.
    Disarm();
    CloseConnection();
    connection_.reset();
    retried_ = true;
    reused_ = false;
    Dial();
    return;
  }
  if (ec == http::error::end_of_stream || ec == asio::error::eof) {
    Fail(step + ": connection closed before the response");
  } else {
    Fail(step + ": " + ec.message());
  }
}

void HttpCallImpl::Fail(const std::string& error) {
  if (finished_ || cancelled_) return;
  finished_ = true;
  Disarm();
  CloseConnection();
  if (!Quiet() && handlers_.on_error) handlers_.on_error(error);
}

void HttpCallImpl::Cancel() {
  if (cancelled_) return;
  cancelled_ = true;
  Disarm();
  if (dialer_) dialer_->Abort();
  dialer_ = nullptr;
  if (!finished_) CloseConnection();
  finished_ = true;
}

void HttpCallImpl::Release() {
  if (cancelled_ || released_) return;
  if (!head_seen_) {
    Cancel();
    return;
  }
  released_ = true;
  if (!finished_) {
    Arm(request_.idle_timeout_ms, "no data for " + Ms(request_.idle_timeout_ms));
  }
}

void HttpCallImpl::Arm(int ms, std::string reason) {
  const uint64_t generation = ++deadline_generation_;
  deadline_.expires_after(std::chrono::milliseconds(ms));
  deadline_.async_wait([self = shared_from_this(), generation, reason = std::move(reason)](
                           error_code ec) {
    if (ec || generation != self->deadline_generation_ || self->finished_) return;
    self->timed_out_ = reason;
    self->CloseConnection();  // the pending operation ends and reports the reason
  });
}

void HttpCallImpl::Disarm() {
  ++deadline_generation_;
  deadline_.cancel();
}

HttpCall::HttpCall(std::shared_ptr<HttpCallImpl> impl) : impl_(std::move(impl)) {}
HttpCall::~HttpCall() { impl_->Dropped(); }
void HttpCall::Cancel() { impl_->Cancel(); }
void HttpCall::Release() { impl_->Release(); }
bool HttpCall::reused_connection() const { return impl_->reused(); }

HttpClient::HttpClient(asio::io_context& io, HttpPoolConfig pool)
    : io_(io), pool_(std::make_shared<HttpPool>(io, pool)) {}

HttpClient::~HttpClient() { pool_->Shutdown(); }

std::unique_ptr<HttpCall> HttpClient::Start(HttpRequest request, HttpHandlers handlers) {
  auto impl = std::make_shared<HttpCallImpl>(io_, pool_, std::move(request), std::move(handlers));
  impl->Begin(*pool_);
  return std::make_unique<HttpCall>(std::move(impl));
}

size_t HttpClient::idle_connections() const { return pool_->idle(); }
uint64_t HttpClient::connections_opened() const { return pool_->opened(); }
uint64_t HttpClient::requests_on_reused_connections() const { return pool_->reused(); }

}  // namespace callsim::agent::wire
