#include "fakes/voice/recognition_pool.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "fakes/voice/espeak_voice.h"
#include "fakes/voice/sphinx_recognizer.h"

namespace callsim::fakes {
namespace {

std::shared_ptr<const std::vector<std::string>> Phrases() {
  return std::make_shared<const std::vector<std::string>>(
      std::vector<std::string>{"have a nice day", "let me check that for you"});
}

bool WaitDone(const RecognitionResult& r) {
  for (int i = 0; i < 1000 && !r.done(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  return r.done();
}

TEST(RecognitionPoolTest, DecodesLikeTheThreadsOwnRecogniser) {
  if (!SphinxModelInstalled()) GTEST_SKIP() << "pocketsphinx model missing";
  std::vector<int16_t> speech;
  std::string error;
  ASSERT_TRUE(EspeakSynth::Shared().Synthesize("Let me check that for you. Have a nice day.",
                                               EspeakVoiceSpec{}, &speech, &error))
      << error;
  RecognitionPool pool(2);
  EXPECT_EQ(pool.workers(), 2u);
  auto final = pool.Submit(Phrases(), speech, true);
  auto so_far = pool.Submit(Phrases(), std::vector<int16_t>(speech.begin(), speech.begin() + speech.size() / 2), false);
  ASSERT_NE(final, nullptr);
  ASSERT_NE(so_far, nullptr);
  ASSERT_TRUE(WaitDone(*final));
  ASSERT_TRUE(WaitDone(*so_far));
  EXPECT_EQ(final->error(), "");
  EXPECT_EQ(final->text(), "let me check that for you have a nice day");
  SphinxRecognizer* here = SharedSphinxRecognizer(*Phrases(), &error);
  ASSERT_NE(here, nullptr) << error;
  EXPECT_EQ(final->text(), here->Recognize(speech));
  EXPECT_EQ(so_far->text(),
            here->RecognizeSoFar(std::vector<int16_t>(speech.begin(), speech.begin() + speech.size() / 2)));
}

TEST(RecognitionPoolTest, AFullQueueRefusesAndAnUnusableGrammarSaysWhy) {
  if (!SphinxModelInstalled()) GTEST_SKIP() << "pocketsphinx model missing";
  RecognitionPool pool(1);
  // One worker busy with a minute of audio; the queue fills behind it.
  std::vector<int16_t> minute(60 * 16000, 0);
  std::vector<std::shared_ptr<const RecognitionResult>> accepted;
  size_t refused = 0;
  for (size_t i = 0; i < RecognitionPool::kMaxQueued + 20; ++i) {
    auto r = pool.Submit(Phrases(), i == 0 ? minute : std::vector<int16_t>(1600, 0), true);
    if (r) accepted.push_back(r); else ++refused;
  }
  EXPECT_GE(refused, 19u);  // the worker may have taken the first job off the queue
  EXPECT_LE(accepted.size(), RecognitionPool::kMaxQueued + 1);

  auto bad = std::make_shared<const std::vector<std::string>>(std::vector<std::string>{"zorblax"});
  RecognitionPool other(1);
  auto r = other.Submit(bad, std::vector<int16_t>(1600, 0), true);
  ASSERT_NE(r, nullptr);
  ASSERT_TRUE(WaitDone(*r));
  EXPECT_NE(r->error().find("no usable phrase"), std::string::npos) << r->error();
  EXPECT_EQ(r->text(), "");
  // The destructor drops what is queued and returns after the decode in hand.
}

TEST(RecognitionPoolTest, DoneResultIsDone) {
  auto r = RecognitionResult::Done("have a nice day");
  EXPECT_TRUE(r->done());
  EXPECT_EQ(r->text(), "have a nice day");
}

}  // namespace
}  // namespace callsim::fakes
