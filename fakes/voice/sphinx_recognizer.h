// Offline speech recognition of real (synthesised) speech with pocketsphinx, deterministic for the
// same audio: the caller's ear transcribing an agent's spoken replies, and a fake STT that hears
// real voices rather than the word modem.
//
// Two modes. With phrases, the recogniser only hears a JSGF grammar of those phrases (any sequence
// of one or more of them, so a reply made of several known sentences is covered): under 30 MB
// per recogniser, a real-time factor near 0.02, and exact transcripts of espeak-ng speech. Speech
// the grammar does not cover comes out as something from the grammar or as nothing. Without
// phrases it uses the general English language model: about 100 MB, a real-time factor near 0.3
// and most words wrong on synthesised speech, so it is there for coverage, not for accuracy.
//
// Each utterance is decoded whole: its cepstra are normalised by the mean of its own speech frames
// (the louder half of its energy range), so silence before, between and after the words does not
// move the mean, and neither does the channel (a telephone line's 8 kHz, Opus, a gain stage).
// Decoding is deterministic. In grammar mode a transcript depends on the utterance's audio alone:
// every utterance starts from a freshly initialised decoder, and the dither under the audio is a
// function of each sample's place. In general mode the decoder's state carries over between
// utterances, so the same sequence of utterances gives the same transcripts, but one utterance may
// come out differently after different ones.
//
// Each recogniser owns one pocketsphinx decoder, which is not thread-safe: use one per thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace callsim::fakes {

// Where the model lives; the defaults are Debian 12's pocketsphinx-en-us package.
struct SphinxModelPaths {
  std::string hmm = "/usr/share/pocketsphinx/model/en-us/en-us";  // acoustic model directory
  std::string dict = "/usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict";
  std::string lm = "/usr/share/pocketsphinx/model/en-us/en-us.lm.bin";  // general mode only
};

// Bounds on a grammar: past them phrases are skipped (and reported) rather than growing the
// decoder's search without limit. The grammar's words go to a temporary dictionary file that
// lives as long as the recogniser.
inline constexpr size_t kSphinxMaxPhrases = 2000;
inline constexpr size_t kSphinxMaxPhraseWords = 100;
inline constexpr size_t kSphinxMaxGrammarBytes = 512 * 1024;
// Audio past this length in one utterance is ignored (the decoder keeps history for the whole
// utterance): 10 minutes at 16 kHz.
inline constexpr size_t kSphinxMaxUtteranceSamples = 10 * 60 * 16000;

// Normalises a phrase to the recogniser's words: lower case, digits spelled out one by one
// ("4567" -> "four five six seven", "abc1" -> "abc one"), punctuation and other characters
// dropped as word breaks, apostrophes inside a word kept ("don't"; a typographic ’ counts too).
std::vector<std::string> SphinxWords(std::string_view phrase);

class SphinxRecognizer {
 public:
  // `phrases` non-empty: grammar mode over the phrases' SphinxWords. Duplicate phrases count once;
  // a phrase with words missing from the dictionary, with no words, or past the bounds above is
  // left out and described in *skipped (if non-null) as "<phrase>: <reason>". `phrases` empty:
  // the general language model. Null, with *error (if non-null) saying why, when a model file is
  // missing, the decoder does not load, no phrase is usable or pocketsphinx refuses the grammar.
  static std::unique_ptr<SphinxRecognizer> Create(const std::vector<std::string>& phrases,
                                                  const SphinxModelPaths& paths,
                                                  std::string* error,
                                                  std::vector<std::string>* skipped = nullptr);
  ~SphinxRecognizer();
  SphinxRecognizer(const SphinxRecognizer&) = delete;
  SphinxRecognizer& operator=(const SphinxRecognizer&) = delete;

  // Streaming. Start begins an utterance (abandoning one in progress); Feed takes 16 kHz mono
  // samples in pieces of any size, starting an utterance if none is in progress; Partial is the
  // current best hypothesis (may be empty, and may change); Finish ends the utterance and returns
  // the final hypothesis ("" when no utterance was in progress). Partial and Finish decode the
  // utterance so far from its start (its speech mean needs all of it), so the same audio gives
  // the same transcript however it was fed. Transcripts are lower-case words
  // separated by single spaces, without silence and noise tokens.
  void Start();
  void Feed(const int16_t* samples, size_t count);
  std::string Partial();
  std::string Finish();

  // One shot: Start, Feed all of `samples`, Finish.
  std::string Recognize(const std::vector<int16_t>& samples);
  // One shot, as far as it goes: the best path through `samples` so far (Start, Feed, Partial),
  // which may end inside a phrase where a final result may find none; leaves no utterance open.
  std::string RecognizeSoFar(const std::vector<int16_t>& samples);

  bool grammar_mode() const { return grammar_mode_; }
  // The phrases the grammar accepts, normalised (words joined by single spaces); empty in
  // general mode.
  const std::vector<std::string>& phrases() const { return phrases_; }

 private:
  struct Decoder;
  SphinxRecognizer();
  // Decodes `count` samples as one utterance: the final hypothesis, or (final false) the best
  // path so far.
  std::string Decode(const int16_t* samples, size_t count, bool final);

  std::unique_ptr<Decoder> decoder_;
  bool grammar_mode_ = false;
  std::vector<std::string> phrases_;
  bool in_utterance_ = false;
};

// True when the model files exist (the language model included). Otherwise *missing (if non-null)
// lists the missing paths, separated by ", ".
bool SphinxModelInstalled(const SphinxModelPaths& paths = {}, std::string* missing = nullptr);

// The recogniser of the calling thread for `phrases` (the default model), made on first use and
// kept: at most kMaxSharedSphinxGrammars per thread (each about 27 MB), the oldest dropped first.
// Grammar-mode recognition depends on the utterance's audio alone, so sharing one recogniser among
// the calls of a thread changes no transcript, as long as each use starts and ends its utterance
// before another begins (one Recognize, or Start..Feed..Partial/Finish in one go). Null with
// *error when it cannot be made (and the same error on every later call for these phrases).
inline constexpr size_t kMaxSharedSphinxGrammars = 4;
SphinxRecognizer* SharedSphinxRecognizer(const std::vector<std::string>& phrases,
                                         std::string* error);

}  // namespace callsim::fakes
