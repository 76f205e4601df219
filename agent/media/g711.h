// G.711 mu-law (ITU-T G.711, the North American telephone and Twilio format): one byte per 8 kHz
// sample. Bit-exact with the ITU-T reference (G.191's ulaw_compress and ulaw_expand on all 65,536
// inputs and 256 codes: bias 0x84, the one's complement of negative samples, every bit inverted on
// the wire), so our PCMU interoperates with any other implementation.
#pragma once

#include <cstdint>

namespace callsim::agent {

// 16-bit linear PCM -> mu-law byte. 0 -> 0xFF, -1 and -4 -> 0x7F, 32767 -> 0x80, -32768 -> 0x00.
uint8_t LinearToMulaw(int16_t sample);

// mu-law byte -> 16-bit linear PCM (the segment's midpoint). 0xFF -> 0, 0x80 -> 32124, 0x00 ->
// -32124.
int16_t MulawToLinear(uint8_t code);

}  // namespace callsim::agent
