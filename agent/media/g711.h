// G.711 mu-law (ITU-T G.711, the North American telephone and Twilio format): one byte per 8 kHz
// sample. The bit-exact ITU mapping (bias 0x84, segment search, every bit inverted on the wire), so
// our PCMU interoperates with any other implementation.
#pragma once

#include <cstdint>

namespace callsim::agent {

// 16-bit linear PCM -> mu-law byte. 0 -> 0xFF, 32767 -> 0x80, -32768 -> 0x00.
uint8_t LinearToMulaw(int16_t sample);

// mu-law byte -> 16-bit linear PCM (the segment's midpoint). 0xFF -> 0, 0x80 -> 32124, 0x00 ->
// -32124.
int16_t MulawToLinear(uint8_t code);

}  // namespace callsim::agent
