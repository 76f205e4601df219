#include "agent/pipeline/barge_in_candidate.h"

#include <gtest/gtest.h>

#include "agent/media/frame.h"

namespace callsim::agent {
namespace {

TEST(BargeInCandidateTest, ConfirmedOnceEnoughIsVoiced) {
  BargeInCandidate candidate(/*min_voiced_us=*/200000, /*min_words=*/0);
  EXPECT_FALSE(candidate.Confirmed());  // nothing begun
  candidate.Begin(/*start_us=*/1000000, /*voiced_us=*/140000);
  EXPECT_TRUE(candidate.active());
  EXPECT_FALSE(candidate.Confirmed());
  candidate.AddVoicedFrame();
  candidate.AddVoicedFrame();
  EXPECT_EQ(candidate.speech().voiced_us, 180000);
  EXPECT_FALSE(candidate.Confirmed());
  candidate.AddVoicedFrame();  // 200 ms: exactly the minimum
  EXPECT_TRUE(candidate.Confirmed());
}

TEST(BargeInCandidateTest, MinWordsHoldsBackLongWordlessSpeech) {
  BargeInCandidate candidate(/*min_voiced_us=*/100000, /*min_words=*/2);
  candidate.Begin(0, 500000);
  EXPECT_FALSE(candidate.Confirmed());  // long, but no words yet
  candidate.SetWords(1);
  EXPECT_FALSE(candidate.Confirmed());
  candidate.SetWords(2);
  EXPECT_TRUE(candidate.Confirmed());
}

TEST(BargeInCandidateTest, EndKeepsTheSpeechAndStopsCounting) {
  BargeInCandidate candidate(/*min_voiced_us=*/100000, /*min_words=*/0);
  candidate.Begin(/*start_us=*/3000, /*voiced_us=*/kFrameUs);
  candidate.SetWords(3);
  const BargeInCandidate::Speech speech = candidate.End();
  EXPECT_FALSE(candidate.active());
  EXPECT_FALSE(candidate.Confirmed());
  EXPECT_EQ(speech.start_us, 3000);
  EXPECT_EQ(speech.voiced_us, kFrameUs);
  EXPECT_EQ(speech.words, 3);
  candidate.AddVoicedFrame();  // ended: ignored
  candidate.SetWords(9);
  EXPECT_EQ(candidate.speech().voiced_us, kFrameUs);
  EXPECT_EQ(candidate.speech().words, 3);
  candidate.Begin(/*start_us=*/9000, /*voiced_us=*/0);  // a new one starts from zero words
  EXPECT_EQ(candidate.speech().words, 0);
}

}  // namespace
}  // namespace callsim::agent
