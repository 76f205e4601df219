#include "fakes/voice/espeak_voice.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <soxr.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <thread>

extern char** environ;

namespace callsim::fakes {
namespace {

constexpr int kHelperRateHz = 22050;
// At most this much of the helper's stderr is kept: its message is one line.
constexpr size_t kMaxStderrBytes = 4096;
constexpr int kMaxPauseMs = 10000;

bool VoiceNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '+' || c == '_';
}

// If `text` starts with "[pause N]" (N a whole number of milliseconds, 0..kMaxPauseMs), sets
// `ms` and `length` and returns true.
bool ParsePause(std::string_view text, int* ms, size_t* length) {
  constexpr std::string_view kOpen = "[pause ";
  if (text.substr(0, kOpen.size()) != kOpen) return false;
  size_t i = kOpen.size();
  int value = 0;
  size_t digits = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9' && digits < 6) {
    value = value * 10 + (text[i] - '0');
    ++i;
    ++digits;
  }
  if (digits == 0 || i >= text.size() || text[i] != ']' || value > kMaxPauseMs) return false;
  *ms = value;
  *length = i + 1;
  return true;
}

// A file descriptor closed when it goes out of scope.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { Close(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  void Reset(int fd) {
    Close();
    fd_ = fd;
  }
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

// Kills (if `kill_first`) and always reaps the child, so no zombie is left whatever happened.
// The child leads its own process group, so anything it started goes with it.
void Reap(pid_t pid, bool kill_first, int* status) {
  if (kill_first) ::kill(-pid, SIGKILL);
  int s = 0;
  while (::waitpid(pid, &s, 0) < 0 && errno == EINTR) {
  }
  if (status != nullptr) *status = s;
}

std::string FirstLine(const std::string& text) {
  std::string line = text.substr(0, text.find('\n'));
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  return line;
}

// Runs the helper once: `ssml` to its stdin, its stdout (s16le at 22050 Hz) into `samples`.
// Sets `started` when a process was started (whether or not it then succeeded).
bool RunHelper(const std::string& path, const std::string& ssml, const std::string& voice, int wpm,
               int pitch, std::vector<int16_t>* samples, bool* started, std::string* error) {
  *started = false;
  auto fail = [&](const std::string& message) {
    if (error != nullptr) *error = message;
    return false;
  };
  if (::access(path.c_str(), X_OK) != 0) {
    return fail("espeak helper '" + path + "' is missing or not executable (" +
                std::strerror(errno) + "); build the callsim-espeak target or set CALLSIM_ESPEAK");
  }

  // stdin is a socket pair rather than a pipe: send() with MSG_NOSIGNAL reports a helper that
  // exited early as EPIPE instead of raising SIGPIPE in this (multi-threaded) process.
  int in_pair[2];
  int out_pipe[2];
  int err_pipe[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in_pair) != 0) {
    return fail(std::string("espeak helper: socketpair: ") + std::strerror(errno));
  }
  Fd in_parent(in_pair[0]);
  Fd in_child(in_pair[1]);
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) {
    return fail(std::string("espeak helper: pipe: ") + std::strerror(errno));
  }
  Fd out_parent(out_pipe[0]);
  Fd out_child(out_pipe[1]);
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    return fail(std::string("espeak helper: pipe: ") + std::strerror(errno));
  }
  Fd err_parent(err_pipe[0]);
  Fd err_child(err_pipe[1]);

  // posix_spawn, never a bare fork: this process has threads. The child gets the three ends on
  // 0, 1 and 2 (dup2 clears their close-on-exec flag) and no other descriptor.
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in_child.get(), STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, out_child.get(), STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err_child.get(), STDERR_FILENO);
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  // Default signal handling and no blocked signals in the child, whatever this process set.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t all;
  sigset_t none;
  sigfillset(&all);
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setsigmask(&attr, &none);
  // A process group of its own: a kill on timeout reaches whatever the helper started too.
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP);

  const std::string wpm_text = std::to_string(wpm);
  const std::string pitch_text = std::to_string(pitch);
  std::vector<char*> argv = {const_cast<char*>(path.c_str()),     const_cast<char*>("--voice"),
                             const_cast<char*>(voice.c_str()),    const_cast<char*>("--wpm"),
                             const_cast<char*>(wpm_text.c_str()), const_cast<char*>("--pitch"),
                             const_cast<char*>(pitch_text.c_str()), nullptr};
  pid_t pid = -1;
  const int spawn_error = ::posix_spawn(&pid, path.c_str(), &actions, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (spawn_error != 0) {
    return fail("espeak helper '" + path + "' could not be started: " + std::strerror(spawn_error));
  }
  *started = true;
  in_child.Close();
  out_child.Close();
  err_child.Close();
  for (int fd : {in_parent.get(), out_parent.get(), err_parent.get()}) {
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  }

  // One poll loop writes the text and reads both outputs, so neither side can block the other
  // on a full pipe; the whole exchange is bounded by the deadline and the audio by max_bytes.
  // The deadline is the wall clock's on purpose: it bounds an outside process, and no result
  // depends on it (the samples come from the text and voice alone, or the line fails).
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(EspeakSynth::kHelperTimeoutMs);
  const size_t max_bytes = size_t{EspeakSynth::kMaxAudioSeconds} * kHelperRateHz * 2;
  std::string audio;
  std::string stderr_text;
  size_t written = 0;
  if (ssml.empty()) in_parent.Close();
  char buffer[65536];
  while (out_parent.get() >= 0 || err_parent.get() >= 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      Reap(pid, true, nullptr);
      return fail("espeak helper timed out after " +
                  std::to_string(EspeakSynth::kHelperTimeoutMs / 1000) + " s and was killed");
    }
    pollfd fds[3];
    int count = 0;
    int in_index = -1, out_index = -1, err_index = -1;
    if (in_parent.get() >= 0) {
      in_index = count;
      fds[count++] = {in_parent.get(), POLLOUT, 0};
    }
    if (out_parent.get() >= 0) {
      out_index = count;
      fds[count++] = {out_parent.get(), POLLIN, 0};
    }
    if (err_parent.get() >= 0) {
      err_index = count;
      fds[count++] = {err_parent.get(), POLLIN, 0};
    }
    const int ready = ::poll(fds, count, static_cast<int>(left.count()));
    if (ready < 0) {
      if (errno == EINTR) continue;
      const std::string reason = std::strerror(errno);
      Reap(pid, true, nullptr);
      return fail("espeak helper: poll: " + reason);
    }
    if (in_index >= 0 && fds[in_index].revents != 0) {
      const ssize_t n = ::send(in_parent.get(), ssml.data() + written, ssml.size() - written,
                               MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) written += static_cast<size_t>(n);
      // Done, or the helper stopped reading (it exited; its status says why): end its stdin.
      if (written == ssml.size() || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        in_parent.Close();
      }
    }
    if (out_index >= 0 && fds[out_index].revents != 0) {
      const ssize_t n = ::read(out_parent.get(), buffer, sizeof(buffer));
      if (n > 0) {
        if (audio.size() + static_cast<size_t>(n) > max_bytes) {
          Reap(pid, true, nullptr);
          return fail("espeak helper produced more than " +
                      std::to_string(EspeakSynth::kMaxAudioSeconds) + " s of audio");
        }
        audio.append(buffer, static_cast<size_t>(n));
      } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        out_parent.Close();
      }
    }
    if (err_index >= 0 && fds[err_index].revents != 0) {
      const ssize_t n = ::read(err_parent.get(), buffer, sizeof(buffer));
      if (n > 0) {
        stderr_text.append(buffer, std::min(static_cast<size_t>(n),
                                            kMaxStderrBytes - std::min(kMaxStderrBytes,
                                                                       stderr_text.size())));
      } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        err_parent.Close();
      }
    }
  }
  in_parent.Close();

  // Both outputs are closed, so the helper is exiting; still, wait for it only until the deadline.
  int status = 0;
  for (;;) {
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) break;
    if (done < 0 && errno != EINTR) {
      return fail(std::string("espeak helper: waitpid: ") + std::strerror(errno));
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      Reap(pid, true, nullptr);
      return fail("espeak helper timed out after " +
                  std::to_string(EspeakSynth::kHelperTimeoutMs / 1000) + " s and was killed");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::string how = WIFEXITED(status) ? "exit status " + std::to_string(WEXITSTATUS(status))
                                        : "signal " + std::to_string(WTERMSIG(status));
    const std::string line = FirstLine(stderr_text);
    return fail("espeak helper failed (" + how + ")" + (line.empty() ? "" : ": " + line));
  }
  if (audio.size() % 2 != 0) {
    return fail("espeak helper wrote an odd number of bytes (" + std::to_string(audio.size()) +
                "), not 16-bit samples");
  }
  if (audio.empty()) return fail("espeak helper produced no audio");
  samples->resize(audio.size() / 2);
  std::memcpy(samples->data(), audio.data(), audio.size());
  return true;
}

// 22050 Hz -> 16 kHz in one pass, with soxr's HQ recipe on one thread and no dither, so the
// same input always gives the same output.
bool Resample(const std::vector<int16_t>& in, std::vector<int16_t>* out, std::string* error) {
  soxr_io_spec_t io = soxr_io_spec(SOXR_INT16_I, SOXR_INT16_I);
  io.flags |= SOXR_NO_DITHER;
  const soxr_quality_spec_t quality = soxr_quality_spec(SOXR_HQ, 0);
  const soxr_runtime_spec_t runtime = soxr_runtime_spec(1);
  const size_t capacity =
      in.size() * static_cast<size_t>(kEspeakOutputRateHz) / kHelperRateHz + 64;
  std::vector<int16_t> result(capacity);
  size_t made = 0;
  const soxr_error_t soxr_error =
      soxr_oneshot(kHelperRateHz, kEspeakOutputRateHz, 1, in.data(), in.size(), nullptr,
                   result.data(), result.size(), &made, &io, &quality, &runtime);
  if (soxr_error != nullptr) {
    if (error != nullptr) *error = std::string("libsoxr: ") + soxr_strerror(soxr_error);
    return false;
  }
  result.resize(made);
  *out = std::move(result);
  return true;
}

}  // namespace

bool ValidateEspeakVoice(const EspeakVoiceSpec& spec, std::string* error) {
  auto fail = [&](const std::string& message) {
    if (error != nullptr) *error = message;
    return false;
  };
  if (spec.voice.empty() || spec.voice.size() > 64) {
    return fail("espeak voice name '" + spec.voice + "' must have 1 to 64 characters");
  }
  if (!std::all_of(spec.voice.begin(), spec.voice.end(), VoiceNameChar)) {
    return fail("espeak voice name '" + spec.voice +
                "' may contain only letters, digits, '-', '+' and '_'");
  }
  if (!std::isfinite(spec.words_per_minute) || spec.words_per_minute < 80 ||
      spec.words_per_minute > 450) {
    return fail("espeak words_per_minute " + std::to_string(spec.words_per_minute) +
                " is outside 80..450");
  }
  if (spec.pitch < 0 || spec.pitch > 99) {
    return fail("espeak pitch " + std::to_string(spec.pitch) + " is outside 0..99");
  }
  return true;
}

std::string EspeakSsml(std::string_view text) {
  std::string ssml;
  ssml.reserve(text.size() + 16);
  size_t i = 0;
  while (i < text.size()) {
    int ms = 0;
    size_t length = 0;
    if (text[i] == '[' && ParsePause(text.substr(i), &ms, &length)) {
      ssml += "<break time=\"" + std::to_string(ms) + "ms\"/>";
      i += length;
      continue;
    }
    const char c = text[i++];
    switch (c) {
      case '<': ssml += "&lt;"; break;
      case '>': ssml += "&gt;"; break;
      case '&': ssml += "&amp;"; break;
      // A NUL would end the text early in the helper; other control characters mean nothing to
      // a voice.
      default: ssml += (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t') ? ' ' : c;
    }
  }
  return ssml;
}

std::string EspeakHelperPath() {
  if (const char* env = std::getenv("CALLSIM_ESPEAK"); env != nullptr && env[0] != '\0') {
    return env;
  }
  // Beside the running executable: an installed callsim finds its own helper.
  char self[4096];
  const ssize_t n = ::readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n > 0) {
    std::string path(self, static_cast<size_t>(n));
    const size_t slash = path.rfind('/');
    if (slash != std::string::npos) {
      path = path.substr(0, slash + 1) + "callsim-espeak";
      if (::access(path.c_str(), X_OK) == 0) return path;
    }
  }
#ifdef CALLSIM_ESPEAK_HELPER
  return CALLSIM_ESPEAK_HELPER;
#else
  return "callsim-espeak";
#endif
}

EspeakSynth& EspeakSynth::Shared() {
  // Never destroyed: threads may still synthesise while static destructors run.
  static EspeakSynth* const shared = new EspeakSynth(kDefaultCacheBytes);
  return *shared;
}

EspeakSynth::EspeakSynth(size_t cache_bytes) : cache_bytes_(cache_bytes) {}

bool EspeakSynth::Synthesize(std::string_view text, const EspeakVoiceSpec& spec,
                             std::vector<int16_t>* out, std::string* error) {
  if (!ValidateEspeakVoice(spec, error)) return false;
  const std::string ssml = EspeakSsml(text);
  if (ssml.size() > kMaxTextBytes) {
    if (error != nullptr) {
      *error = "text for espeak is " + std::to_string(ssml.size()) + " bytes, more than " +
               std::to_string(kMaxTextBytes);
    }
    return false;
  }
  const int wpm = static_cast<int>(std::lround(spec.words_per_minute));
  // The voice name cannot contain '\n' (validated), so the fields cannot run into each other.
  const std::string key = spec.voice + '\n' + std::to_string(wpm) + '\n' +
                          std::to_string(spec.pitch) + '\n' + ssml;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = index_.find(key);
    if (it != index_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second);
      ++stats_.hits;
      *out = *it->second->samples;
      return true;
    }
    ++stats_.misses;
  }

  // Outside the lock: a helper run takes tens of milliseconds or more.
  std::vector<int16_t> native;
  bool started = false;
  const bool ran =
      RunHelper(EspeakHelperPath(), ssml, spec.voice, wpm, spec.pitch, &native, &started, error);
  if (started) {
    std::lock_guard<std::mutex> lock(mutex_);
    ++stats_.helper_runs;
  }
  if (!ran) return false;
  auto samples = std::make_shared<std::vector<int16_t>>();
  if (!Resample(native, samples.get(), error)) return false;
  *out = *samples;
  Insert(key, std::move(samples));
  return true;
}

void EspeakSynth::Insert(const std::string& key,
                         std::shared_ptr<const std::vector<int16_t>> samples) {
  const size_t bytes = samples->size() * sizeof(int16_t);
  if (bytes > cache_bytes_) return;  // would evict everything and still not fit
  std::lock_guard<std::mutex> lock(mutex_);
  if (auto it = index_.find(key); it != index_.end()) {
    // Another thread synthesised the same line meanwhile (the same samples): keep its entry.
    lru_.splice(lru_.begin(), lru_, it->second);
    return;
  }
  while (!lru_.empty() && stats_.cached_bytes + bytes > cache_bytes_) {
    const Entry& last = lru_.back();
    stats_.cached_bytes -= last.samples->size() * sizeof(int16_t);
    index_.erase(last.key);
    lru_.pop_back();
  }
  lru_.push_front(Entry{key, std::move(samples)});
  index_.emplace(key, lru_.begin());
  stats_.cached_bytes += bytes;
}

EspeakSynth::Stats EspeakSynth::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

void TrimEspeakSilence(std::vector<int16_t>* samples) {
  auto loud = [](int16_t v) { return std::abs(static_cast<int>(v)) > kEspeakSilenceLevel; };
  const auto first = std::find_if(samples->begin(), samples->end(), loud);
  if (first == samples->end()) {
    samples->clear();
    return;
  }
  const auto last = std::find_if(samples->rbegin(), samples->rend(), loud).base();
  samples->erase(last, samples->end());
  samples->erase(samples->begin(), first);
}

}  // namespace callsim::fakes
