#!/usr/bin/env python3
"""Turns a `callsim run --record` recording into the headerless G.711 mu-law file that SIPp's
rtp_stream action plays as PCMU (tests/sip/uac_pcmu_stream.xml).

    caller_voice.py RECORDING.wav OUT.ulaw END_MS

RECORDING.wav is a call recording (stereo, 16-bit, 16 kHz; the left channel is what the caller's
microphone sent). The left channel's first END_MS milliseconds are low-passed and decimated to
8 kHz, mu-law encoded, and padded with mu-law silence to a whole number of 20 ms packets (SIPp
3.6 wraps a short last packet around to the start of the file). SIPp 3.6 sends the file's bytes
as they are, so it must not have a header. Prints the duration in milliseconds. Standard library
only (audioop is deprecated and gone in Python 3.13).
"""
import struct
import sys
import wave

SAMPLES_PER_PACKET = 160  # 20 ms at 8 kHz, one byte per sample
ULAW_SILENCE = 0xFF

# A half-band low-pass for 16 kHz -> 8 kHz (every other tap is zero; the gain at DC is 1). The word
# modem's tones are DTMF frequencies (697 to 1633 Hz), far below the 4 kHz edge.
HALF_BAND = (-0.0322, 0.0, 0.2822, 0.5, 0.2822, 0.0, -0.0322)


def linear_to_ulaw(sample):
    """G.711 mu-law of one 16-bit sample (the classic Sun g711.c algorithm)."""
    bias, clip = 0x84, 32635
    sign = 0x80 if sample < 0 else 0
    magnitude = min(-sample if sample < 0 else sample, clip) + bias
    exponent, mask = 7, 0x4000
    while exponent > 0 and not magnitude & mask:
        exponent -= 1
        mask >>= 1
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    return ~(sign | (exponent << 4) | mantissa) & 0xFF


def main(argv):
    if len(argv) != 4:
        sys.exit("usage: caller_voice.py RECORDING.wav OUT.ulaw END_MS")
    wav_path, out_path, end_ms = argv[1], argv[2], float(argv[3])
    with wave.open(wav_path, "rb") as w:
        channels, width, rate = w.getnchannels(), w.getsampwidth(), w.getframerate()
        if width != 2 or rate != 16000 or channels < 1:
            sys.exit(f"{wav_path}: expected 16-bit 16 kHz audio, got {channels} channel(s), "
                     f"{8 * width}-bit, {rate} Hz")
        frames = min(w.getnframes(), int(end_ms * rate / 1000))
        raw = w.readframes(frames)
    samples = struct.unpack(f"<{frames * channels}h", raw)[::channels]  # the left channel
    taps, half = HALF_BAND, len(HALF_BAND) // 2
    out = bytearray()
    for centre in range(0, len(samples), 2):
        acc = 0.0
        for k, c in enumerate(taps):
            i = centre + k - half
            if c and 0 <= i < len(samples):
                acc += c * samples[i]
        out.append(linear_to_ulaw(max(-32768, min(32767, int(round(acc))))))
    out.extend([ULAW_SILENCE] * (-len(out) % SAMPLES_PER_PACKET))
    if not out:
        sys.exit(f"{wav_path}: no audio in the first {end_ms} ms")
    with open(out_path, "wb") as f:
        f.write(out)
    print(len(out) // 8)  # milliseconds at 8,000 bytes a second


if __name__ == "__main__":
    main(sys.argv)
