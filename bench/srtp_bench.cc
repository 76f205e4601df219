// SRTP per-packet cost: one 172-byte RTP packet (12-byte header, 160 bytes of PCMU, one 20 ms
// frame) protected by a sending SrtpSession and unprotected by a receiving one, as every packet
// of an SRTP call is (AES_CM_128_HMAC_SHA1_80 over libsrtp2, agent/sip/srtp_session.h).
//   build/callsim_bench --benchmark_filter=Srtp
//
// Each iteration writes the next sequence number into the header, so the receiver's replay
// window accepts every packet; the time per iteration is the time per packet.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "agent/sip/srtp_session.h"

namespace {

using callsim::agent::sip::SrtpSession;

const std::string kKey = std::string(16, '\x5a') + std::string(14, '\xc3');

std::vector<uint8_t> Template() {
  std::vector<uint8_t> p(172);
  p[0] = 0x80;
  p[8] = 0x12, p[9] = 0x34, p[10] = 0xab, p[11] = 0xcd;
  for (size_t i = 12; i < p.size(); ++i) p[i] = static_cast<uint8_t>(i * 31);
  return p;
}

std::unique_ptr<SrtpSession> Make(SrtpSession::Direction d) {
  std::string error;
  auto s = SrtpSession::Create(d, kKey, &error);
  if (s == nullptr) std::abort();
  return s;
}

void BM_SrtpProtectUnprotect(benchmark::State& state) {
  auto tx = Make(SrtpSession::Direction::kSend);
  auto rx = Make(SrtpSession::Direction::kReceive);
  const std::vector<uint8_t> clear = Template();
  std::vector<uint8_t> packet;
  packet.reserve(256);
  uint16_t seq = 0;
  for (auto _ : state) {
    packet = clear;
    ++seq;
    packet[2] = static_cast<uint8_t>(seq >> 8);
    packet[3] = static_cast<uint8_t>(seq);
    if (!tx->ProtectRtp(&packet) || !rx->UnprotectRtp(&packet)) {
      state.SkipWithError("SRTP refused a packet");
      break;
    }
    benchmark::DoNotOptimize(packet.data());
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_SrtpProtect(benchmark::State& state) {
  auto tx = Make(SrtpSession::Direction::kSend);
  const std::vector<uint8_t> clear = Template();
  std::vector<uint8_t> packet;
  packet.reserve(256);
  uint16_t seq = 0;
  for (auto _ : state) {
    packet = clear;
    ++seq;
    packet[2] = static_cast<uint8_t>(seq >> 8);
    packet[3] = static_cast<uint8_t>(seq);
    if (!tx->ProtectRtp(&packet)) {
      state.SkipWithError("SRTP refused a packet");
      break;
    }
    benchmark::DoNotOptimize(packet.data());
  }
  state.SetItemsProcessed(state.iterations());
}

}  // namespace

BENCHMARK(BM_SrtpProtectUnprotect);
BENCHMARK(BM_SrtpProtect);
