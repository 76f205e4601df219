#include "fakes/modem/word_modem.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "agent/text/words.h"
#include "fakes/modem/vocabulary.h"
#include "tests/fakes/modem/test_audio.h"

namespace callsim::fakes {
namespace {

using testing::DbfsToRms;
using testing::ToFrames;
using testing::WhiteNoise;

constexpr int kSamplesPerMs = agent::kSampleRateHz / 1000;

const char* const kParagraph =
    "Hi, I want to check on my order, the number is four five six seven. It was supposed to "
    "arrive on Monday but I still don't have it. Can you tell me where it is right now? If it's "
    "lost, I'd like a refund to my card, or maybe you could send a new one by Friday. Also, I "
    "need to reschedule my appointment from the third of June to next week. Thank you so much "
    "for your help, you're very kind. What's the best time to call back if I have more questions "
    "about my account balance and the transfer I made yesterday afternoon?";

std::vector<DecodedWord> Decode(const std::vector<agent::Frame>& frames, ModemDecoder* decoder) {
  std::vector<DecodedWord> words;
  for (const agent::Frame& f : frames) {
    decoder->Push(f);
    for (DecodedWord& w : decoder->TakeWords()) words.push_back(std::move(w));
  }
  return words;
}

std::vector<DecodedWord> Decode(const std::vector<agent::Frame>& frames) {
  ModemDecoder decoder;
  return Decode(frames, &decoder);
}

// Decodes `audio` after `lead_in_frames` of silence (plus `noise` if given) and counts words that
// came back right and at the right place.
int CountCorrect(const ModemAudio& audio, const std::vector<DecodedWord>& got, int lead_in_frames) {
  int correct = 0;
  size_t j = 0;
  for (const WordTiming& truth : audio.words) {
    const int64_t start = truth.start_sample + lead_in_frames * agent::kFrameSamples;
    while (j < got.size() && got[j].start_sample < start - 400) ++j;
    if (j < got.size() && std::llabs(got[j].start_sample - start) < 400 &&
        got[j].vocab_index == truth.vocab_index && got[j].checksum_ok) {
      ++correct;
    }
  }
  return correct;
}

std::vector<agent::Frame> NoisyFrames(const ModemAudio& audio, double snr_db, int lead_in_frames,
                                      uint64_t seed) {
  std::vector<agent::Frame> frames = ToFrames(audio.samples, lead_in_frames);
  frames.resize(frames.size() + 10);  // a tail, as the line stays open after speech
  WhiteNoise noise(seed, DbfsToRms(VoiceProfile{}.level_dbfs) / std::pow(10.0, snr_db / 20));
  for (agent::Frame& f : frames) noise.AddTo(&f);
  return frames;
}

TEST(WordModemTest, CleanRoundTripGivesBackEveryWord) {
  const std::string text = std::string(kParagraph) + " Ask for Kowalski at the xylophonist desk.";
  const ModemAudio audio = EncodeSpeech(text, VoiceProfile{}, nullptr);
  const std::vector<std::string> words = agent::NormalizeWords(text);
  ASSERT_EQ(audio.words.size(), words.size());

  const std::vector<DecodedWord> got = Decode(ToFrames(audio.samples));
  ASSERT_EQ(got.size(), words.size());
  const Vocabulary& vocabulary = Vocabulary::Builtin();
  int unknown = 0;
  for (size_t i = 0; i < words.size(); ++i) {
    const bool known = vocabulary.IndexOf(words[i]) != kUnknownWordIndex;
    unknown += known ? 0 : 1;
    EXPECT_EQ(got[i].word, known ? words[i] : "<unk>") << i;
    EXPECT_EQ(got[i].vocab_index, audio.words[i].vocab_index);
    EXPECT_TRUE(got[i].checksum_ok);
    // The voice falls on the utterance's last word, and only there (sentence ends inside the
    // text keep it level: the speaker goes on).
    const bool last = i + 1 == words.size();
    EXPECT_EQ(audio.words[i].turn_end, last) << i;
    EXPECT_EQ(got[i].turn_end, last) << i;
    EXPECT_DOUBLE_EQ(got[i].snr_db, 60);
    EXPECT_DOUBLE_EQ(got[i].confidence, 1);
    EXPECT_DOUBLE_EQ(got[i].concealed_share, 0);
    // Onsets are found to within one 2.5 ms block, never late.
    EXPECT_LE(got[i].start_sample, audio.words[i].start_sample);
    EXPECT_GT(got[i].start_sample, audio.words[i].start_sample - 40);
  }
  EXPECT_EQ(unknown, 2);  // "kowalski" and "xylophonist"
}

TEST(WordModemTest, ModemSpeechReadsTheSameSamplesInAnySlices) {
  agent::Rng a(7), b(7);
  const ModemAudio whole = EncodeSpeech(kParagraph, VoiceProfile{}, &a);
  ModemSpeech speech(VoiceProfile{}.level_dbfs);
  speech.Append(PlanSpeech(kParagraph, VoiceProfile{}, &b), 0);
  speech.PadTo(speech.size() + 1000);
  ASSERT_EQ(speech.size(), static_cast<int64_t>(whole.samples.size()) + 1000);
  // Slices of odd lengths that start inside bursts, between them, across symbol edges and
  // across the end.
  std::vector<int16_t> read;
  for (int64_t pos = 0, step = 1; pos < speech.size() + 500; pos += step, step = step * 7 % 997 + 1) {
    std::vector<int16_t> slice(static_cast<size_t>(step), int16_t{-1});
    speech.Read(pos, static_cast<int>(step), slice.data());
    read.insert(read.end(), slice.begin(), slice.end());
  }
  ASSERT_GE(read.size(), whole.samples.size() + 1000);
  EXPECT_TRUE(std::equal(whole.samples.begin(), whole.samples.end(), read.begin()));
  for (size_t i = whole.samples.size(); i < read.size(); ++i) ASSERT_EQ(read[i], 0) << i;
}

TEST(WordModemTest, AppendedPlansAreSpokenAtTheirOffsets) {
  const SpeechPlan first = PlanSpeech("four five", VoiceProfile{}, nullptr);
  const SpeechPlan second = PlanSpeech("six", VoiceProfile{}, nullptr);
  ModemSpeech speech(-26);
  speech.Append(first, 0);
  const int64_t gap = 4321;
  speech.Append(second, first.samples + gap);
  EXPECT_EQ(speech.size(), first.samples + gap + second.samples);
  std::vector<int16_t> all(static_cast<size_t>(speech.size()));
  speech.Read(0, static_cast<int>(all.size()), all.data());
  VoiceProfile quiet;
  quiet.level_dbfs = -26;
  const ModemAudio six = EncodeSpeech("six", quiet, nullptr);
  EXPECT_TRUE(std::equal(six.samples.begin(), six.samples.end(),
                         all.begin() + first.samples + gap));
  for (int64_t i = first.samples; i < first.samples + gap; ++i) ASSERT_EQ(all[i], 0);
  const std::vector<DecodedWord> words = Decode(ToFrames(all, 2));
  ASSERT_EQ(words.size(), 3u);
  EXPECT_EQ(words[2].word, "six");
  // One turn: "five" is followed by more speech, so only "six" yields it.
  EXPECT_FALSE(words[1].turn_end);
  EXPECT_TRUE(words[2].turn_end);
  EXPECT_TRUE(words[1].checksum_ok);
}

TEST(WordModemTest, AudioIsBurstsFromFirstToLastWord) {
  const ModemAudio audio = EncodeSpeech("yes, no. maybe twenty-one", VoiceProfile{}, nullptr);
  ASSERT_EQ(audio.words.size(), 5u);
  EXPECT_EQ(audio.words.front().start_sample, 0);
  EXPECT_NE(audio.samples[32], 0);  // the first burst starts at once (after its 2 ms ramp-in)
  EXPECT_EQ(audio.words.back().end_sample, static_cast<int64_t>(audio.samples.size()));
  for (const WordTiming& w : audio.words)
    EXPECT_EQ(w.end_sample - w.start_sample, kWordBurstMs * kSamplesPerMs);
  const auto gap_ms = [&](size_t i) {
    return (audio.words[i + 1].start_sample - audio.words[i].end_sample) / kSamplesPerMs;
  };
  EXPECT_EQ(gap_ms(0), 300);  // comma
  EXPECT_EQ(gap_ms(1), 500);  // full stop
  EXPECT_EQ(gap_ms(2), 140);  // 90% of 400 ms per word, less the 220 ms burst
  EXPECT_EQ(gap_ms(3), 140);  // "twenty-one" runs on
  EXPECT_TRUE(EncodeSpeech(" ... ", VoiceProfile{}, nullptr).samples.empty());
}

TEST(WordModemTest, BurstLevelIsTheVoiceLevel) {
  VoiceProfile voice;
  voice.level_dbfs = -26;
  const ModemAudio audio = EncodeSpeech("order status please", voice, nullptr);
  double sum = 0;
  int64_t n = 0;
  for (const WordTiming& w : audio.words) {
    for (int64_t i = w.start_sample; i < w.end_sample; ++i, ++n)
      sum += double(audio.samples[i]) * audio.samples[i];
  }
  EXPECT_NEAR(10 * std::log10(sum / n / (32768.0 * 32768.0)), -26, 0.3);
}

TEST(WordModemTest, SpeaksAboutOneHundredFiftyWordsPerMinute) {
  const std::string text = std::string(kParagraph) + " " + kParagraph;
  const double words = static_cast<double>(agent::NormalizeWords(text).size());
  const ModemAudio nominal = EncodeSpeech(text, VoiceProfile{}, nullptr);
  const double nominal_wpm = words / (nominal.samples.size() / double(agent::kSampleRateHz) / 60);
  EXPECT_NEAR(nominal_wpm, 150, 15);
  agent::Rng rng(7);
  const ModemAudio varied = EncodeSpeech(text, VoiceProfile{}, &rng);
  const double varied_wpm = words / (varied.samples.size() / double(agent::kSampleRateHz) / 60);
  EXPECT_NEAR(varied_wpm, 150, 15);

  VoiceProfile slow;
  slow.words_per_minute = 100;
  const ModemAudio slower = EncodeSpeech(text, slow, nullptr);
  EXPECT_GT(slower.samples.size(), nominal.samples.size() * 5 / 4);
}

TEST(WordModemTest, VariationIsSeeded) {
  agent::Rng a(11), b(11), c(12);
  const ModemAudio first = EncodeSpeech(kParagraph, VoiceProfile{}, &a);
  const ModemAudio again = EncodeSpeech(kParagraph, VoiceProfile{}, &b);
  const ModemAudio other = EncodeSpeech(kParagraph, VoiceProfile{}, &c);
  EXPECT_EQ(first.samples, again.samples);
  EXPECT_NE(first.samples.size(), other.samples.size());
  // Varied timing still decodes exactly.
  const std::vector<DecodedWord> got = Decode(ToFrames(other.samples));
  EXPECT_EQ(CountCorrect(other, got, 0), static_cast<int>(other.words.size()));
}

TEST(WordModemTest, ExactAtTenDbWhiteNoise) {
  agent::Rng rng(3);
  const ModemAudio audio = EncodeSpeech(kParagraph, VoiceProfile{}, &rng);
  const std::vector<DecodedWord> got = Decode(NoisyFrames(audio, 10, 25, 99));
  ASSERT_EQ(got.size(), audio.words.size());
  EXPECT_EQ(CountCorrect(audio, got, 25), static_cast<int>(audio.words.size()));
  for (const DecodedWord& w : got) {
    EXPECT_NEAR(w.snr_db, 10, 1.5);
    EXPECT_GT(w.confidence, 0.9);
  }
}

TEST(WordModemTest, SurvivesZeroDbWhiteNoiseOnMostWords) {
  agent::Rng rng(4);
  const ModemAudio audio = EncodeSpeech(kParagraph, VoiceProfile{}, &rng);
  const std::vector<DecodedWord> got = Decode(NoisyFrames(audio, 0, 25, 98));
  EXPECT_GE(CountCorrect(audio, got, 25), static_cast<int>(audio.words.size() * 9 / 10));
  EXPECT_LE(got.size(), audio.words.size());  // no insertions
}

TEST(WordModemTest, NoiseAloneYieldsNoWords) {
  // 10 s of noise 10 dB under speech level, then loud 100 ms noise bursts and clicks in silence.
  std::vector<agent::Frame> frames(500);
  WhiteNoise noise(5, DbfsToRms(-30));
  for (agent::Frame& f : frames) noise.AddTo(&f);
  WhiteNoise loud(6, DbfsToRms(-20));
  for (int burst = 0; burst < 20; ++burst) {
    for (int i = 0; i < 20; ++i) frames.emplace_back();
    for (int i = 0; i < 5; ++i) loud.AddTo(&frames.emplace_back());
    frames.emplace_back().samples[100] = 20000;  // a click
  }
  ModemDecoder decoder;
  EXPECT_TRUE(Decode(frames, &decoder).empty());
  EXPECT_EQ(decoder.samples_seen(), static_cast<int64_t>(frames.size()) * agent::kFrameSamples);
}

TEST(WordModemTest, ConcealedFramesAreMeasuredAndSurvived) {
  const ModemAudio audio =
      EncodeSpeech("please confirm my booking for tuesday", VoiceProfile{}, nullptr);
  std::vector<agent::Frame> frames = ToFrames(audio.samples);
  // Lose every 8th frame; concealment repeats the previous frame, as a simple PLC would.
  for (size_t i = 8; i < frames.size(); i += 8) {
    frames[i] = frames[i - 1];
    frames[i].concealed = true;
  }
  const std::vector<DecodedWord> got = Decode(frames);
  EXPECT_EQ(CountCorrect(audio, got, 0), 6);
  double share = 0;
  for (const DecodedWord& w : got) share += w.concealed_share;
  EXPECT_NEAR(share / got.size(), 1.0 / 8, 0.05);
}

TEST(WordModemTest, RandomLossIsMostlySurvived) {
  const std::string text = std::string(kParagraph) + " " + kParagraph + " " + kParagraph;
  agent::Rng rng(8);
  const ModemAudio audio = EncodeSpeech(text, VoiceProfile{}, &rng);
  std::vector<agent::Frame> frames = ToFrames(audio.samples);
  testing::ConcealRandomFrames(&frames, 0.05, 9);
  const std::vector<DecodedWord> got = Decode(frames);
  // Concealed audio never starts a word (a repeated burst tail in a gap would), and a loss at a
  // word's onset rarely misaligns it.
  EXPECT_LE(got.size(), audio.words.size());
  EXPECT_GE(CountCorrect(audio, got, 0), static_cast<int>(audio.words.size() * 97 / 100));
}

TEST(WordModemTest, OneCorruptedSymbolFailsTheCheck) {
  const Vocabulary& vocabulary = Vocabulary::Builtin();
  const int a = vocabulary.IndexOf("order"), b = vocabulary.IndexOf("refund");
  ASSERT_NE(a & 15, b & 15);  // their last digits differ
  std::vector<int16_t> samples = EncodeSpeech("order", VoiceProfile{}, nullptr).samples;
  const std::vector<int16_t> other = EncodeSpeech("refund", VoiceProfile{}, nullptr).samples;
  const int symbol_samples = kWordBurstMs * kSamplesPerMs / 4;
  std::copy_n(other.begin() + 2 * symbol_samples, symbol_samples,
              samples.begin() + 2 * symbol_samples);

  const std::vector<DecodedWord> got = Decode(ToFrames(samples));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_FALSE(got[0].checksum_ok);
  const int heard = (a & ~15) | (b & 15);  // the word the digits name
  EXPECT_EQ(got[0].vocab_index, static_cast<size_t>(heard) < vocabulary.size() ? heard : 0);
}

TEST(WordModemTest, FlushDecodesTheBurstInProgress) {
  const ModemAudio audio = EncodeSpeech("hello there friend", VoiceProfile{}, nullptr);
  const std::vector<agent::Frame> frames = ToFrames(audio.samples);
  // Stop 170 ms into "friend": its three digits are heard, its check symbol is not.
  const int64_t cut = audio.words[2].start_sample + 170 * kSamplesPerMs;
  const size_t cut_frames = static_cast<size_t>(cut / agent::kFrameSamples);
  ModemDecoder decoder;
  std::vector<DecodedWord> got =
      Decode(std::vector<agent::Frame>(frames.begin(), frames.begin() + cut_frames), &decoder);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_TRUE(decoder.in_burst());
  decoder.Flush();
  EXPECT_FALSE(decoder.in_burst());
  std::vector<DecodedWord> flushed = decoder.TakeWords();
  ASSERT_EQ(flushed.size(), 1u);
  EXPECT_EQ(flushed[0].word, "friend");
  EXPECT_FALSE(flushed[0].checksum_ok);
  // The rest of the burst is ignored, not heard as a new word.
  EXPECT_TRUE(Decode(std::vector<agent::Frame>(frames.begin() + cut_frames, frames.end()), &decoder)
                  .empty());
}

}  // namespace
}  // namespace callsim::fakes
