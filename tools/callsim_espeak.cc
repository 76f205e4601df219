// callsim-espeak: speaks one utterance with libespeak-ng and writes the samples to stdout.
//
//   callsim-espeak --voice en-us+f2 --wpm 160 --pitch 50 < text > samples.s16le
//
// The text (UTF-8, may contain SSML such as <break time="900ms"/>) comes from stdin; the output
// is raw signed 16-bit little-endian mono PCM at espeak-ng's native 22050 Hz. On a bad argument,
// an unknown voice or a synthesis failure it prints one line to stderr and exits non-zero.
//
// Why a process of its own: libespeak-ng keeps internal state between utterances, so a second
// synthesis of the same text in one process can differ from the first, it cannot be re-initialised
// safely, and it is not thread-safe. The first synthesis in a fresh process is always the same,
// so fakes/voice/espeak_voice.cc runs this helper once per utterance it has not cached.
#include <espeak-ng/speak_lib.h>

#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace {

// Text larger than this is refused rather than read without bound.
constexpr size_t kMaxTextBytes = 1 << 20;
// A bound on the audio one run may produce (10 minutes at 22050 Hz); the caller enforces a
// tighter one, this only keeps a runaway synthesis from writing forever.
constexpr int64_t kMaxSamples = int64_t{22050} * 600;

int64_t g_samples_written = 0;
bool g_write_failed = false;
bool g_too_long = false;

[[noreturn]] void Fail(const std::string& message) {
  std::fprintf(stderr, "callsim-espeak: %s\n", message.c_str());
  std::exit(1);
}

bool WriteAll(const void* data, size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = ::write(STDOUT_FILENO, p, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

// Called by libespeak-ng (synchronously, on this thread) with each chunk of samples; the samples
// are written out as they come, so the helper's memory does not grow with the utterance.
int OnSamples(short* wav, int count, espeak_EVENT* events) {
  if (wav == nullptr || count <= 0) return 0;
  if (g_samples_written + count > kMaxSamples) {
    g_too_long = true;
    return 1;  // abort the synthesis
  }
  // espeak-ng's samples are host-order shorts; the output format is little-endian.
  static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "s16le output assumes a little-endian host");
  if (!WriteAll(wav, static_cast<size_t>(count) * sizeof(short))) {
    g_write_failed = true;
    return 1;
  }
  g_samples_written += count;
  return 0;
}

bool ParseInt(std::string_view text, int min, int max, int* out) {
  if (text.empty() || text.size() > 9) return false;
  int value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  if (value < min || value > max) return false;
  *out = value;
  return true;
}

bool ValidVoiceName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '+' || c == '_';
    if (!ok) return false;
  }
  return true;
}

std::string ReadStdin() {
  std::string text;
  char buffer[65536];
  for (;;) {
    ssize_t n = ::read(STDIN_FILENO, buffer, sizeof(buffer));
    if (n < 0) {
      if (errno == EINTR) continue;
      Fail(std::string("reading stdin: ") + std::strerror(errno));
    }
    if (n == 0) break;
    if (text.size() + static_cast<size_t>(n) > kMaxTextBytes) {
      Fail("the text is longer than " + std::to_string(kMaxTextBytes) + " bytes");
    }
    text.append(buffer, static_cast<size_t>(n));
  }
  return text;
}

constexpr const char* kUsage = "usage: callsim-espeak --voice NAME --wpm N --pitch N < text > s16le";

}  // namespace

int main(int argc, char** argv) {
  std::string voice = "en-us+f2";
  int wpm = 160;
  int pitch = 50;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::printf("%s\n", kUsage);
      return 0;
    }
    if (i + 1 >= argc) Fail("missing value after " + std::string(arg) + " (" + kUsage + ")");
    const std::string_view value = argv[++i];
    if (arg == "--voice") {
      if (!ValidVoiceName(value)) {
        Fail("bad voice name '" + std::string(value) + "' (letters, digits, '-', '+', '_' only)");
      }
      voice = value;
    } else if (arg == "--wpm") {
      if (!ParseInt(value, espeakRATE_MINIMUM, espeakRATE_MAXIMUM, &wpm)) {
        Fail("--wpm must be a whole number from " + std::to_string(espeakRATE_MINIMUM) + " to " +
             std::to_string(espeakRATE_MAXIMUM) + ", not '" + std::string(value) + "'");
      }
    } else if (arg == "--pitch") {
      if (!ParseInt(value, 0, 99, &pitch)) {
        Fail("--pitch must be a whole number from 0 to 99, not '" + std::string(value) + "'");
      }
    } else {
      Fail("unknown argument '" + std::string(arg) + "' (" + kUsage + ")");
    }
  }

  const std::string text = ReadStdin();

  // Synchronous output: espeak_Synth returns only after every sample went through OnSamples.
  // DONT_EXIT: a missing data directory is reported here instead of ending the process silently.
  const int rate = espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, nullptr,
                                     espeakINITIALIZE_DONT_EXIT);
  if (rate <= 0) Fail("libespeak-ng failed to initialise (is espeak-ng-data installed?)");
  if (rate != 22050) Fail("libespeak-ng speaks at " + std::to_string(rate) + " Hz, not 22050 Hz");
  espeak_SetSynthCallback(OnSamples);

  if (espeak_SetVoiceByName(voice.c_str()) != EE_OK) {
    Fail("unknown voice '" + voice + "' (espeak-ng --voices lists them; a variant is added as +f2)");
  }
  if (espeak_SetParameter(espeakRATE, wpm, 0) != EE_OK) Fail("libespeak-ng refused --wpm");
  if (espeak_SetParameter(espeakPITCH, pitch, 0) != EE_OK) Fail("libespeak-ng refused --pitch");

  // The whole text, NUL included, in one call; SSML tags are honoured. ENDPAUSE lets the last
  // sound decay into a sentence pause (about 0.3 s) instead of stopping mid-waveform, and makes
  // the output the same as `espeak-ng -m --stdout` gives for the same text and settings.
  const espeak_ERROR result =
      espeak_Synth(text.c_str(), text.size() + 1, 0, POS_CHARACTER, 0,
                   espeakCHARS_UTF8 | espeakSSML | espeakENDPAUSE, nullptr, nullptr);
  if (result != EE_OK) Fail("libespeak-ng failed to synthesise (error " + std::to_string(result) + ")");
  if (espeak_Synchronize() != EE_OK) Fail("libespeak-ng failed to finish the synthesis");
  if (g_write_failed) Fail(std::string("writing stdout: ") + std::strerror(errno));
  if (g_too_long) Fail("the audio is longer than " + std::to_string(kMaxSamples / 22050) + " s");
  if (g_samples_written == 0) Fail("libespeak-ng produced no audio");
  // espeak_Terminate is skipped on purpose: the process ends here, and the library's shutdown
  // adds nothing the exit does not do.
  return 0;
}
