// TLS for the provider clients against servers whose certificates the test makes with OpenSSL's
// C API: a CA trusted through SSL_CERT_FILE (set before the client makes its TLS context), a
// server certificate for 127.0.0.1 and localhost; then an untrusted CA and a wrong host name.
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "agent/providers/wire/deepgram_stt.h"
#include "agent/providers/wire/http_client.h"
#include "agent/providers/wire/openai_llm.h"
#include "agent/runtime/realtime_scheduler.h"
#include "tests/agent/providers/wire/wire_test_servers.h"

namespace callsim::agent::wire {
namespace {

using namespace test;  // NOLINT

struct KeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct CertFree {
  void operator()(X509* cert) const { X509_free(cert); }
};
using Key = std::unique_ptr<EVP_PKEY, KeyFree>;
using Cert = std::unique_ptr<X509, CertFree>;

struct Identity {
  Key key;
  Cert cert;
};

void AddExtension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  ASSERT_NE(ext, nullptr) << value;
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

// A P-256 key and a certificate named `common_name`, signed by `issuer` (self-signed without
// one). A CA when `san` is empty; otherwise a server certificate for those subjectAltNames.
Identity MakeIdentity(const char* common_name, const Identity* issuer, const char* san) {
  static long serial = 1000;
  Identity id;
  id.key.reset(EVP_EC_gen("P-256"));
  EXPECT_NE(id.key, nullptr);
  id.cert.reset(X509_new());
  X509* cert = id.cert.get();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), ++serial);
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), 24 * 3600);
  X509_set_pubkey(cert, id.key.get());
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("callsim test"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(common_name), -1, -1, 0);
  X509* issuer_cert = issuer ? issuer->cert.get() : cert;
  X509_set_issuer_name(cert, X509_get_subject_name(issuer_cert));
  if (san == nullptr || *san == '\0') {
    AddExtension(cert, issuer_cert, NID_basic_constraints, "critical,CA:TRUE");
    AddExtension(cert, issuer_cert, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    AddExtension(cert, issuer_cert, NID_basic_constraints, "critical,CA:FALSE");
    AddExtension(cert, issuer_cert, NID_key_usage, "critical,digitalSignature");
    AddExtension(cert, issuer_cert, NID_ext_key_usage, "serverAuth");
    AddExtension(cert, issuer_cert, NID_subject_alt_name, san);
  }
  EXPECT_GT(X509_sign(cert, issuer ? issuer->key.get() : id.key.get(), EVP_sha256()), 0);
  return id;
}

void WritePem(const std::string& path, X509* cert) {
  FILE* file = std::fopen(path.c_str(), "w");
  ASSERT_NE(file, nullptr);
  PEM_write_X509(file, cert);
  std::fclose(file);
}

std::unique_ptr<asio::ssl::context> ServerContext(const Identity& id) {
  auto context = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
  EXPECT_EQ(SSL_CTX_use_certificate(context->native_handle(), id.cert.get()), 1);
  EXPECT_EQ(SSL_CTX_use_PrivateKey(context->native_handle(), id.key.get()), 1);
  return context;
}

class WireTls : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ca_ = new Identity(MakeIdentity("callsim test CA", nullptr, ""));
    good_ = new Identity(MakeIdentity("127.0.0.1", ca_, "IP:127.0.0.1,DNS:localhost"));
    other_ca_ = new Identity(MakeIdentity("someone else's CA", nullptr, ""));
    untrusted_ = new Identity(MakeIdentity("127.0.0.1", other_ca_, "IP:127.0.0.1,DNS:localhost"));
    wrong_host_ = new Identity(MakeIdentity("api.example.com", ca_, "DNS:api.example.com"));
  }
  static void TearDownTestSuite() {
    for (Identity* id : {ca_, good_, other_ca_, untrusted_, wrong_host_}) delete id;
  }

  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("callsim_wire_tls_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    const std::string ca_file = (dir_ / "ca.pem").string();
    WritePem(ca_file, ca_->cert.get());
    if (const char* old = std::getenv("SSL_CERT_FILE")) saved_cert_file_ = old;
    if (const char* old = std::getenv("SSL_CERT_DIR")) saved_cert_dir_ = old;
    // Only the test's CA is trusted (an empty directory instead of the system's).
    setenv("SSL_CERT_FILE", ca_file.c_str(), 1);
    setenv("SSL_CERT_DIR", dir_.string().c_str(), 1);
  }
  void TearDown() override {
    if (saved_cert_file_.empty()) unsetenv("SSL_CERT_FILE");
    else setenv("SSL_CERT_FILE", saved_cert_file_.c_str(), 1);
    if (saved_cert_dir_.empty()) unsetenv("SSL_CERT_DIR");
    else setenv("SSL_CERT_DIR", saved_cert_dir_.c_str(), 1);
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  // One GET through a fresh HttpClient (and so a fresh TLS context); its error, or "" and the
  // body in *body.
  std::string Get(const std::string& url_text, std::string* body = nullptr) {
    HttpClient client(io);
    HttpRequest request;
    request.method = "GET";
    std::string error;
    EXPECT_TRUE(ParseUrl(url_text, &request.url, &error)) << error;
    request.connect_timeout_ms = 2000;
    bool ended = false;
    std::string got;
    HttpHandlers handlers;
    handlers.on_body = [&](std::string_view piece) { got.append(piece); };
    handlers.on_end = [&] { ended = true; };
    handlers.on_error = [&](const std::string& e) {
      error = e;
      ended = true;
    };
    auto call = client.Start(std::move(request), handlers);
    EXPECT_TRUE(RunUntil(io, [&] { return ended; }));
    if (body) *body = got;
    return error;
  }

  static Script Hello() { return Script{{Response(200, "OK", "", "hello over TLS")}}; }

  static inline Identity* ca_ = nullptr;
  static inline Identity* good_ = nullptr;
  static inline Identity* other_ca_ = nullptr;
  static inline Identity* untrusted_ = nullptr;
  static inline Identity* wrong_host_ = nullptr;
  std::filesystem::path dir_;
  std::string saved_cert_file_;
  std::string saved_cert_dir_;
  boost::asio::io_context io;
  RealtimeScheduler scheduler{io};
};

TEST_F(WireTls, TrustedCertificateForTheAddressAndTheName) {
  auto context = ServerContext(*good_);
  ScriptedHttpServer server(io, context.get());
  server.handler = [](const ReceivedRequest&) { return Hello(); };
  std::string body;
  EXPECT_EQ(Get(server.Base("/x"), &body), "");
  EXPECT_EQ(body, "hello over TLS");
  EXPECT_EQ(Get("https://localhost:" + std::to_string(server.port()) + "/x", &body), "");
  EXPECT_EQ(body, "hello over TLS");
  ASSERT_EQ(server.requests.size(), 2u);
  EXPECT_EQ(server.requests[1].Header("Host"), "localhost:" + std::to_string(server.port()));
}

TEST_F(WireTls, StreamedCompletionOverHttps) {
  auto context = ServerContext(*good_);
  ScriptedHttpServer server(io, context.get());
  server.handler = [](const ReceivedRequest&) {
    return Script{{SseHead()},
                  {Chunk(Data(R"({"choices":[{"index":0,"delta":{"content":"Secure"},"finish_reason":null}]})"))},
                  {Chunk(Data(R"({"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]})") +
                         "data: [DONE]\n\n") +
                   LastChunk()}};
  };
  OpenAiLlmConfig config;
  config.endpoint.url = server.Base("/v1");
  config.endpoint.model = "gpt-test";
  OpenAiLlm llm(io, scheduler, config);
  std::vector<std::string> heard;
  LlmListener listener;
  listener.on_token = [&](const std::string& t) { heard.push_back(t); };
  listener.on_done = [&] { heard.push_back("done"); };
  listener.on_error = [&](const std::string& e) { heard.push_back("error:" + e); };
  for (int i = 0; i < 2; ++i) {
    heard.clear();
    auto stream = llm.Start(LlmRequest{{ChatMessage{"user", "hi", "", ""}}}, listener);
    ASSERT_TRUE(RunUntil(io, [&] {
      return !heard.empty() && (heard.back() == "done" || heard.back().rfind("error:", 0) == 0);
    }));
    EXPECT_EQ(heard, std::vector<std::string>({"Secure", "done"}));
    stream.reset();
    ASSERT_TRUE(RunUntil(io, [&] { return llm.http().idle_connections() == 1; }));
  }
  EXPECT_EQ(server.connections_accepted, 1);  // the TLS connection was reused
}

TEST_F(WireTls, UntrustedCertificateAuthorityIsRefused) {
  auto context = ServerContext(*untrusted_);
  ScriptedHttpServer server(io, context.get());
  server.handler = [](const ReceivedRequest&) { return Hello(); };
  const std::string error = Get(server.Base("/x"));
  EXPECT_EQ(error.rfind("TLS handshake with 127.0.0.1:" + std::to_string(server.port()) +
                            ": certificate verify failed",
                        0),
            0u)
      << error;
  EXPECT_NE(error.find("(unable to get local issuer certificate)"), std::string::npos) << error;
  EXPECT_TRUE(server.requests.empty());
}

TEST_F(WireTls, CertificateForAnotherHostIsRefused) {
  auto context = ServerContext(*wrong_host_);
  ScriptedHttpServer server(io, context.get());
  server.handler = [](const ReceivedRequest&) { return Hello(); };
  std::string error = Get(server.Base("/x"));
  EXPECT_NE(error.find("certificate verify failed (IP address mismatch)"), std::string::npos)
      << error;
  error = Get("https://localhost:" + std::to_string(server.port()) + "/x");
  EXPECT_NE(error.find("certificate verify failed (hostname mismatch)"), std::string::npos)
      << error;
  EXPECT_TRUE(server.requests.empty());
}

// A wss:// server: TLS, then the upgrade, then it echoes each text message back.
class TlsEchoServer {
 public:
  TlsEchoServer(asio::io_context& io, asio::ssl::context& tls)
      : tls_(tls), acceptor_(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    acceptor_.async_accept([this](error_code ec, tcp::socket socket) {
      if (ec) return;
      ws_ = std::make_unique<Ws>(beast::tcp_stream(std::move(socket)), tls_);
      ws_->next_layer().async_handshake(asio::ssl::stream_base::server, [this](error_code ec) {
        if (ec) return;
        ws_->async_accept([this](error_code ec) {
          if (!ec) Read();
        });
      });
    });
  }
  uint16_t port() const { return acceptor_.local_endpoint().port(); }
  std::vector<std::string> texts;

 private:
  using Ws = websocket::stream<beast::ssl_stream<beast::tcp_stream>>;
  void Read() {
    ws_->async_read(buffer_, [this](error_code ec, size_t) {
      if (ec) return;
      texts.push_back(beast::buffers_to_string(buffer_.data()));
      buffer_.consume(buffer_.size());
      ws_->text(true);
      ws_->async_write(asio::buffer(texts.back()), [this](error_code ec, size_t) {
        if (!ec) Read();
      });
    });
  }
  asio::ssl::context& tls_;
  tcp::acceptor acceptor_;
  std::unique_ptr<Ws> ws_;
  beast::flat_buffer buffer_;
};

TEST_F(WireTls, DeepgramOverWss) {
  auto context = ServerContext(*good_);
  TlsEchoServer server(io, *context);
  DeepgramSttConfig config;
  config.endpoint.url = "https://localhost:" + std::to_string(server.port());
  DeepgramStt stt(io, scheduler, config);
  std::vector<std::string> heard;
  SttListener listener;
  listener.on_final = [&](const std::string& t) { heard.push_back("final:" + t); };
  listener.on_interim = [&](const std::string& t) { heard.push_back("interim:" + t); };
  listener.on_error = [&](const std::string& e) { heard.push_back("error:" + e); };
  auto session = stt.Open(listener);
  // The echo server sends the Finalize back: not a Results message, so nothing is heard; the
  // point is that it went through TLS and the upgrade.
  session->Finalize();
  ASSERT_TRUE(RunUntil(io, [&] { return server.texts.size() == 1; }));
  EXPECT_EQ(server.texts[0], R"({"type":"Finalize"})");
  RunFor(io, 30);
  EXPECT_TRUE(heard.empty());
}

TEST_F(WireTls, DeepgramOverWssWithAnUntrustedCertificate) {
  auto context = ServerContext(*untrusted_);
  TlsEchoServer server(io, *context);
  DeepgramSttConfig config;
  config.endpoint.url = "wss://127.0.0.1:" + std::to_string(server.port());
  DeepgramStt stt(io, scheduler, config);
  std::vector<std::string> heard;
  SttListener listener;
  listener.on_error = [&](const std::string& e) { heard.push_back(e); };
  auto session = stt.Open(listener);
  ASSERT_TRUE(RunUntil(io, [&] { return !heard.empty(); }));
  EXPECT_NE(heard[0].find("certificate verify failed (unable to get local issuer certificate)"),
            std::string::npos)
      << heard[0];
}

}  // namespace
}  // namespace callsim::agent::wire
