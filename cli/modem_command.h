// `callsim modem say TEXT -o FILE` and `callsim modem hear FILE`: the word modem (the audio
// callsim's fake TTS speaks and its fake STT understands) as files, for agents and tools outside
// callsim: make a caller's line for a third-party STT, or check what a third-party agent said
// through callsim's fake TTS. Formats: wav (16-bit mono), s16le (raw 16-bit little-endian) and
// mulaw (raw G.711), at any rate from 8000 to 48000 Hz.
#pragma once

#include <string>

namespace callsim::cli {

struct ModemFlags {
  std::string text;    // say
  std::string path;    // say: the output; hear: the input ("-": stdin for hear)
  std::string format;  // "", wav, s16le, mulaw ("": from the extension, else wav)
  int rate_hz = 16000;
};

// Exit 0, or 2 with the reason on stderr (bad flags, an unreadable or unwritable file).
int ModemSay(const ModemFlags& flags);
// Prints the decoded words on one line ("<unk>" for a burst that is not a vocabulary word) and,
// on stderr, how many bursts were heard and how many failed their checksum.
int ModemHear(const ModemFlags& flags);

}  // namespace callsim::cli
