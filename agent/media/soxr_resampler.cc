#include "agent/media/soxr_resampler.h"

#include <soxr.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <tuple>

namespace callsim::agent {
namespace {

// Blocks fed through a throwaway stream to find the start-up silence a block size needs. libsoxr's
// output bursts repeat with a period of lcm(its block, ours); for 16k<->48k in 20 ms blocks that
// is under 100 blocks, and the deficit peaks within the first period.
constexpr int kProbeBlocks = 200;
// A bound on the drain loop in Process: libsoxr takes a block's input in one or two calls.
constexpr int kMaxDrainCalls = 16;

soxr* NewState(int in_rate_hz, int out_rate_hz, SoxrQuality quality, std::string* error) {
  soxr_io_spec_t io = soxr_io_spec(SOXR_INT16_I, SOXR_INT16_I);
  io.flags |= SOXR_NO_DITHER;  // dither draws from a time-seeded generator: not deterministic
  const bool low = quality == SoxrQuality::kLowLatency;
  soxr_quality_spec_t q = soxr_quality_spec(low ? SOXR_LQ : SOXR_HQ, 0);
  soxr_runtime_spec_t runtime = soxr_runtime_spec(1);  // one thread
  // Smaller DFTs mean smaller bursts, so less start-up silence (9.3 ms instead of 20 ms for LQ).
  if (low) runtime.log2_min_dft_size = 8;
  soxr_error_t soxr_error = nullptr;
  soxr* state = soxr_create(in_rate_hz, out_rate_hz, 1, &soxr_error, &io, &q, &runtime);
  if (state == nullptr || soxr_error != nullptr) {
    if (error != nullptr) *error = std::string("libsoxr: ") + soxr_strerror(soxr_error);
    if (state != nullptr) soxr_delete(state);
    return nullptr;
  }
  return state;
}

struct Startup {
  int deficit_samples = 0;  // the most output a stream ever owes behind the block schedule
  int max_burst_samples = 0;
};

Startup Probe(soxr* state, int in_block, int out_block) {
  std::vector<int16_t> in(in_block, 0);
  std::vector<int16_t> out(16 * out_block + 16384);
  Startup startup;
  int64_t surplus = 0;
  for (int b = 0; b < kProbeBlocks; ++b) {
    size_t used = 0;
    size_t made = 0;
    soxr_process(state, in.data(), in.size(), &used, out.data(), out.size(), &made);
    surplus += static_cast<int64_t>(made) - out_block;
    startup.deficit_samples = std::max<int>(startup.deficit_samples, static_cast<int>(-surplus));
    startup.max_burst_samples = std::max<int>(startup.max_burst_samples, static_cast<int>(made));
  }
  return startup;
}

// Probing costs a few milliseconds, and its answer depends only on the settings, so it is
// measured once per process for each setting (a handful: the codecs use two).
Startup CachedStartup(int in_rate_hz, int out_rate_hz, int in_block, int out_block,
                      SoxrQuality quality) {
  using Key = std::tuple<int, int, int, SoxrQuality>;
  static std::mutex mutex;
  static std::vector<std::pair<Key, Startup>> cache;
  const Key key{in_rate_hz, out_rate_hz, in_block, quality};
  std::lock_guard<std::mutex> lock(mutex);
  for (const auto& [k, startup] : cache) {
    if (k == key) return startup;
  }
  Startup startup;
  if (soxr* probe = NewState(in_rate_hz, out_rate_hz, quality, nullptr)) {
    startup = Probe(probe, in_block, out_block);
    soxr_delete(probe);
  }
  cache.emplace_back(key, startup);
  return startup;
}

}  // namespace

std::unique_ptr<SoxrResampler> SoxrResampler::Create(int in_rate_hz, int out_rate_hz,
                                                     int in_block_samples, SoxrQuality quality,
                                                     std::string* error) {
  if (in_rate_hz <= 0 || out_rate_hz <= 0 || in_block_samples <= 0 ||
      int64_t{in_block_samples} * out_rate_hz % in_rate_hz != 0) {
    if (error != nullptr) {
      *error = "resampler: a block of " + std::to_string(in_block_samples) + " samples at " +
               std::to_string(in_rate_hz) + " Hz is not a whole number of samples at " +
               std::to_string(out_rate_hz) + " Hz";
    }
    return nullptr;
  }
  const int out_block = static_cast<int>(int64_t{in_block_samples} * out_rate_hz / in_rate_hz);
  soxr* state = NewState(in_rate_hz, out_rate_hz, quality, error);
  if (state == nullptr) return nullptr;
  const Startup startup =
      CachedStartup(in_rate_hz, out_rate_hz, in_block_samples, out_block, quality);
  std::unique_ptr<SoxrResampler> resampler(
      new SoxrResampler(state, in_block_samples, out_block, startup.deficit_samples));
  // Room for the start-up silence, a burst, and a block left over.
  resampler->fifo_.assign(startup.deficit_samples + startup.max_burst_samples + 2 * out_block, 0);
  resampler->fifo_size_ = startup.deficit_samples;
  return resampler;
}

SoxrResampler::SoxrResampler(soxr* state, int in_block_samples, int out_block_samples,
                             int latency_samples)
    : state_(state),
      in_block_samples_(in_block_samples),
      out_block_samples_(out_block_samples),
      latency_samples_(latency_samples),
      initial_latency_samples_(latency_samples) {}

SoxrResampler::~SoxrResampler() { soxr_delete(state_); }

void SoxrResampler::Reset() {
  soxr_clear(state_);
  latency_samples_ = initial_latency_samples_;
  std::fill(fifo_.begin(), fifo_.begin() + latency_samples_, 0);
  fifo_size_ = latency_samples_;
}

void SoxrResampler::Feed(std::span<const int16_t> in) {
  const int16_t* next = in.data();
  size_t left = in.size();
  for (int call = 0; call < kMaxDrainCalls; ++call) {
    if (fifo_size_ == fifo_.size()) fifo_.resize(2 * fifo_.size());  // a burst beyond the probe's
    size_t used = 0;
    size_t made = 0;
    const size_t room = fifo_.size() - fifo_size_;
    if (soxr_process(state_, next, left, &used, fifo_.data() + fifo_size_, room, &made) != nullptr) {
      return;  // libsoxr failed; the block comes out short and counts as an underrun
    }
    fifo_size_ += made;
    next += used;
    left -= used;
    // Done when the input is in and the output did not fill the room (nothing more waiting).
    if (left == 0 && made < room) return;
    if (used == 0 && made == 0) return;
  }
}

bool SoxrResampler::Process(std::span<const int16_t> in, std::span<int16_t> out) {
  if (in.size() != static_cast<size_t>(in_block_samples_) ||
      out.size() != static_cast<size_t>(out_block_samples_)) {
    return false;
  }
  Feed(in);
  const size_t take = std::min(fifo_size_, out.size());
  std::copy_n(fifo_.begin(), take, out.begin());
  if (take < out.size()) {
    std::fill(out.begin() + take, out.end(), 0);
    ++underruns_;
    latency_samples_ += static_cast<int>(out.size() - take);
  }
  std::memmove(fifo_.data(), fifo_.data() + take, (fifo_size_ - take) * sizeof(int16_t));
  fifo_size_ -= take;
  return true;
}

}  // namespace callsim::agent
