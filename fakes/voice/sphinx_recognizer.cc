#include "fakes/voice/sphinx_recognizer.h"

#include <pocketsphinx.h>
#include <sphinxbase/err.h>
#include <stdlib.h>  // mkstemp
#include <unistd.h>  // close, write

#include <algorithm>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <set>
#include <system_error>
#include <unordered_map>
#include <utility>

namespace callsim::fakes {
namespace {

constexpr const char* kDigitWords[10] = {"zero", "one", "two",   "three", "four",
                                         "five", "six", "seven", "eight", "nine"};
// The grammar's search name inside the decoder.
constexpr const char* kGrammarSearch = "callsim_phrases";
// The cepstral mean a stretch is normalised by when it has too little contrast to tell its speech
// from its silence (all silence, or a few frames): that of espeak-ng's en-us voices at 16 kHz.
// Below it, such a stretch reads as silence; the model's own starting mean (41.00,-5.29,...) is
// far enough from synthesised speech that whole sentences come out empty.
constexpr float kSpeechCepstralMean[13] = {46.0f, -3.3f, -1.8f, 11.0f, -2.5f, -3.4f, -4.5f,
                                           -6.5f, -3.0f, -4.0f, -1.5f, -3.5f, 0.0f};
// A stretch's speech frames are those whose energy (c0, natural-log units) is above the midpoint of
// its 10th and 90th percentiles; with less than this between them the stretch has no speech to
// measure and the prior above is used.
constexpr float kMinSpeechContrast = 4.0f;
// The dither's amplitude in sample steps (uniform in [-4, 4]: about -82 dBFS).
constexpr int kDitherSteps = 4;
// Grammar mode's search beams, wider than pocketsphinx's defaults (1e-48, 7e-29): with the
// defaults, a telephone line's or Opus's version of a sentence loses its only complete path
// (measured on the six test sentences in two voices, through PCMU and Opus: 5 of 28 came out
// empty). A small grammar keeps the wider search cheap (real-time factor about 0.02 either way).
constexpr const char* kBeam = "1e-80";
constexpr const char* kWordBeam = "1e-60";

bool IsLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// A pronunciation dictionary larger than this is refused rather than read (cmudict: 3.5 MB).
constexpr std::uintmax_t kMaxDictionaryBytes = 64ull << 20;

bool PathExists(const std::string& path, bool directory) {
  std::error_code ec;
  return directory ? std::filesystem::is_directory(path, ec)
                   : std::filesystem::is_regular_file(path, ec);
}

// The decoder's hypothesis as transcript words: fillers such as "<sil>", "<s>", "[NOISE]" and
// "++NOISE++" dropped, alternate-pronunciation marks ("read(2)") removed, lower case.
std::string CleanHypothesis(const char* hyp) {
  std::string out;
  if (hyp == nullptr) return out;
  std::string_view rest(hyp);
  while (!rest.empty()) {
    size_t start = rest.find_first_not_of(" \t\r\n");
    if (start == std::string_view::npos) break;
    rest.remove_prefix(start);
    size_t end = rest.find_first_of(" \t\r\n");
    std::string_view token = rest.substr(0, end);
    rest.remove_prefix(end == std::string_view::npos ? rest.size() : end);
    if (token.front() == '<' || token.front() == '[' || token.front() == '+') continue;
    if (size_t paren = token.find('('); paren != std::string_view::npos && paren > 0 &&
                                        token.back() == ')') {
      token = token.substr(0, paren);
    }
    if (token.empty()) continue;
    if (!out.empty()) out += ' ';
    for (char c : token) out += Lower(c);
  }
  return out;
}


// The dictionary's lines by word: "word PHONES" and its alternates "word(2) PHONES".
using DictionaryLines = std::unordered_map<std::string, std::vector<std::string>>;

bool ReadDictionary(const std::string& path, DictionaryLines* lines, std::string* error) {
  std::error_code ec;
  std::uintmax_t size = std::filesystem::file_size(path, ec);
  if (ec || size > kMaxDictionaryBytes) {
    *error = "dictionary " + path + (ec ? " unreadable" : " larger than 64 MB");
    return false;
  }
  std::ifstream in(path);
  if (!in) {
    *error = "dictionary " + path + " unreadable";
    return false;
  }
  std::string line;
  while (std::getline(in, line)) {
    size_t end = line.find_first_of(" \t");
    if (end == 0 || end == std::string::npos) continue;
    std::string word = line.substr(0, end);
    if (size_t paren = word.find('('); paren != std::string::npos && paren > 0) word.resize(paren);
    (*lines)[word].push_back(line);
  }
  return true;
}

// A dictionary file of the grammar's words only, for the life of one recogniser: the decoder then
// loads in milliseconds instead of parsing 130,000 words, which lets every utterance start from a
// freshly initialised decoder.
class TempDictionary {
 public:
  ~TempDictionary() {
    if (!path_.empty()) std::filesystem::remove(path_, ignored_);
  }
  bool Write(const std::string& text, std::string* error) {
    std::string pattern = (std::filesystem::temp_directory_path(ignored_) /
                           "callsim-sphinx-XXXXXX").string();
    int fd = mkstemp(pattern.data());
    if (fd < 0) {
      *error = "cannot create a temporary dictionary in " + pattern;
      return false;
    }
    path_ = pattern;
    size_t done = 0;
    while (done < text.size()) {
      ssize_t n = ::write(fd, text.data() + done, text.size() - done);
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
    ::close(fd);
    if (done != text.size()) {
      *error = "cannot write the temporary dictionary " + path_;
      return false;
    }
    return true;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::error_code ignored_;
};

}  // namespace

std::vector<std::string> SphinxWords(std::string_view phrase) {
  std::vector<std::string> words;
  std::string word;
  auto flush = [&] {
    // A trailing apostrophe ("dogs'") is a quote mark, not part of the word.
    while (!word.empty() && word.back() == '\'') word.pop_back();
    if (!word.empty()) words.push_back(std::move(word));
    word.clear();
  };
  for (size_t i = 0; i < phrase.size(); ++i) {
    char c = phrase[i];
    bool apostrophe = c == '\'';
    // U+2019 and U+2018 (typographic quotes) as apostrophes; other non-ASCII bytes break words.
    if (static_cast<unsigned char>(c) == 0xE2 && i + 2 < phrase.size() &&
        static_cast<unsigned char>(phrase[i + 1]) == 0x80 &&
        (static_cast<unsigned char>(phrase[i + 2]) == 0x99 ||
         static_cast<unsigned char>(phrase[i + 2]) == 0x98)) {
      apostrophe = true;
      i += 2;
    }
    if (IsLetter(c)) {
      word += Lower(c);
    } else if (apostrophe) {
      // Kept only inside a word: after a letter and before one.
      bool next_letter = i + 1 < phrase.size() && IsLetter(phrase[i + 1]);
      if (!word.empty() && IsLetter(word.back()) && next_letter) {
        word += '\'';
      } else {
        flush();
      }
    } else if (IsDigit(c)) {
      flush();
      words.emplace_back(kDigitWords[c - '0']);
    } else {
      flush();
    }
  }
  flush();
  return words;
}

// Owns the configuration and the decoder; the decoder goes first (it refers to the configuration).
struct SphinxRecognizer::Decoder {
  TempDictionary dictionary;  // grammar mode; outlives the decoder, which rereads it on reinit
  std::string jsgf;           // grammar mode: set again after every reinit
  bool used = false;          // audio has reached the decoder since it was (re)initialised
  cmd_ln_t* config = nullptr;
  ps_decoder_t* ps = nullptr;
  std::vector<int16_t> audio;     // streaming: the utterance so far
  std::vector<int16_t> dithered;  // scratch: the audio being decoded, dithered
  std::vector<mfcc_t> cepstra;    // scratch: its cepstra, frame after frame
  std::vector<mfcc_t*> rows;      // scratch: a pointer to each frame's
  bool SetGrammar() {
    return ps_set_jsgf_string(ps, kGrammarSearch, jsgf.c_str()) == 0 &&
           ps_set_search(ps, kGrammarSearch) == 0;
  }
  // The feature computation normalises nothing: Decode subtracts the stretch's own speech mean
  // (the model's feat.params asks for batch normalisation, which would count silence in).
  void NoNormalisation() {
    if (feat_t* feat = ps_get_feat(ps); feat != nullptr) feat->cmn = CMN_NONE;
  }
  ~Decoder();
};

// pocketsphinx keeps process-wide state: its log file (which a decoder given -logfn replaces and
// closes, under any other thread still writing to it) and the model loading behind ps_init. So
// logging is turned off once for the process, and decoders are made and freed one at a time;
// a decoder then decodes on its own thread (the recognisers are per thread).
std::mutex& DecoderLifecycleMutex() {
  static std::mutex mutex;
  return mutex;
}

void SilencePocketsphinxLog() {
  static std::once_flag once;
  std::call_once(once, [] { err_set_logfp(nullptr); });
}

SphinxRecognizer::Decoder::~Decoder() {
  std::lock_guard<std::mutex> lock(DecoderLifecycleMutex());
  if (ps != nullptr) ps_free(ps);
  if (config != nullptr) cmd_ln_free_r(config);
}

SphinxRecognizer::SphinxRecognizer() = default;

SphinxRecognizer::~SphinxRecognizer() = default;

bool SphinxModelInstalled(const SphinxModelPaths& paths, std::string* missing) {
  std::string list;
  auto check = [&](const std::string& path, bool directory) {
    if (PathExists(path, directory)) return;
    if (!list.empty()) list += ", ";
    list += path.empty() ? std::string("(empty path)") : path;
  };
  check(paths.hmm, true);
  check(paths.dict, false);
  check(paths.lm, false);
  if (missing != nullptr) *missing = list;
  return list.empty();
}

std::unique_ptr<SphinxRecognizer> SphinxRecognizer::Create(const std::vector<std::string>& phrases,
                                                           const SphinxModelPaths& paths,
                                                           std::string* error,
                                                           std::vector<std::string>* skipped) {
  auto fail = [&](std::string message) -> std::unique_ptr<SphinxRecognizer> {
    if (error != nullptr) *error = "pocketsphinx: " + std::move(message);
    return nullptr;
  };
  const bool grammar = !phrases.empty();
  // Checked here because the decoder's own messages go to /dev/null and its failure says nothing.
  if (!PathExists(paths.hmm, true)) return fail("acoustic model directory not found: " + paths.hmm);
  if (!PathExists(paths.dict, false)) return fail("dictionary not found: " + paths.dict);
  if (!grammar && !PathExists(paths.lm, false)) {
    return fail("language model not found: " + paths.lm);
  }

  auto decoder = std::make_unique<Decoder>();
  std::unique_ptr<SphinxRecognizer> recognizer(new SphinxRecognizer());
  recognizer->grammar_mode_ = grammar;
  std::string dict_path = paths.dict;
  if (grammar) {
    DictionaryLines dictionary;
    std::string message;
    if (!ReadDictionary(paths.dict, &dictionary, &message)) return fail(message);
    auto skip = [&](const std::string& phrase, const std::string& reason) {
      if (skipped != nullptr) skipped->push_back(phrase + ": " + reason);
    };
    std::set<std::string> seen;
    std::set<std::string> used_words;
    // Alternatives of <phrase>; JSGF tokens need no quoting: SphinxWords yields [a-z'] only.
    std::string alternatives;
    for (const std::string& phrase : phrases) {
      std::vector<std::string> words = SphinxWords(phrase);
      if (words.empty()) {
        skip(phrase, "no words");
        continue;
      }
      if (words.size() > kSphinxMaxPhraseWords) {
        skip(phrase, "more than " + std::to_string(kSphinxMaxPhraseWords) + " words");
        continue;
      }
      std::string missing;
      std::string joined;
      for (const std::string& w : words) {
        if (dictionary.count(w) == 0) {
          if (!missing.empty()) missing += ", ";
          missing += w;
        }
        if (!joined.empty()) joined += ' ';
        joined += w;
      }
      if (!missing.empty()) {
        skip(phrase, "not in the dictionary: " + missing);
        continue;
      }
      if (seen.count(joined) != 0) continue;  // a duplicate adds nothing to the grammar
      if (recognizer->phrases_.size() >= kSphinxMaxPhrases) {
        skip(phrase, "more than " + std::to_string(kSphinxMaxPhrases) + " phrases");
        continue;
      }
      if (alternatives.size() + joined.size() + 3 > kSphinxMaxGrammarBytes) {
        skip(phrase, "grammar larger than " + std::to_string(kSphinxMaxGrammarBytes) + " bytes");
        continue;
      }
      if (!alternatives.empty()) alternatives += "\n  | ";
      alternatives += joined;
      seen.insert(joined);
      used_words.insert(words.begin(), words.end());
      recognizer->phrases_.push_back(std::move(joined));
    }
    if (recognizer->phrases_.empty()) {
      return fail("no usable phrase among " + std::to_string(phrases.size()) +
                  " (words missing from the dictionary " + paths.dict + "?)");
    }
    std::string small;
    for (const std::string& w : used_words) {
      for (const std::string& line : dictionary.at(w)) small += line + "\n";
    }
    if (!decoder->dictionary.Write(small, &message)) return fail(message);
    dict_path = decoder->dictionary.path();
    // One or more phrases in a row; pauses between and around them are the decoder's own
    // silence and noise models, so no filler words are added (they would invite insertions).
    decoder->jsgf = "#JSGF V1.0;\ngrammar callsim;\npublic <utterance> = <phrase>+;\n<phrase> = " +
                    alternatives + ";\n";
  }

  // -remove_silence no: every frame of the stretch is decoded; the silence models cope.
  // -remove_noise no: spectral noise subtraction adapts its estimate frame by frame, so a long
  // silence drifts (its energy falls by 20 dB over a second) and the search starts hearing words
  // in it; the stretch's own mean and the dither floor do better.
  // Grammar mode configures no search here (the grammar is set on the decoder below), so the
  // general model's 60 MB are never read.
  SilencePocketsphinxLog();
  std::lock_guard<std::mutex> lifecycle(DecoderLifecycleMutex());
  if (grammar) {
    decoder->config = cmd_ln_init(nullptr, ps_args(), TRUE, "-hmm", paths.hmm.c_str(), "-dict",
                                  dict_path.c_str(), "-remove_silence",
                                  "no", "-remove_noise", "no", "-beam", kBeam, "-pbeam", kBeam,
                                  "-wbeam", kWordBeam, nullptr);
  } else {
    decoder->config = cmd_ln_init(nullptr, ps_args(), TRUE, "-hmm", paths.hmm.c_str(), "-dict",
                                  dict_path.c_str(), "-lm", paths.lm.c_str(), "-remove_silence",
                                  "no", "-remove_noise", "no", nullptr);
  }
  if (decoder->config == nullptr) return fail("configuration refused");
  decoder->ps = ps_init(decoder->config);
  if (decoder->ps == nullptr) {
    return fail("decoder did not load (hmm " + paths.hmm + ", dict " + paths.dict +
                (grammar ? std::string() : ", lm " + paths.lm) + ")");
  }
  if (grammar && !decoder->SetGrammar()) {
    return fail("grammar of " + std::to_string(recognizer->phrases_.size()) +
                " phrases refused");
  }
  decoder->NoNormalisation();
  if (fe_get_output_size(ps_get_fe(decoder->ps)) != 13) {
    return fail("the acoustic model's cepstra are not 13 coefficients");
  }
  recognizer->decoder_ = std::move(decoder);
  return recognizer;
}

void SphinxRecognizer::Start() {
  decoder_->audio.clear();
  in_utterance_ = true;
}

void SphinxRecognizer::Feed(const int16_t* samples, size_t count) {
  if (!in_utterance_) Start();
  if (samples == nullptr) return;
  std::vector<int16_t>& audio = decoder_->audio;
  count = std::min(count, kSphinxMaxUtteranceSamples - audio.size());
  audio.insert(audio.end(), samples, samples + count);
}

std::string SphinxRecognizer::Partial() {
  if (!in_utterance_) return "";
  return Decode(decoder_->audio.data(), decoder_->audio.size(), /*final=*/false);
}

std::string SphinxRecognizer::Finish() {
  if (!in_utterance_) return "";
  in_utterance_ = false;
  std::string text = Decode(decoder_->audio.data(), decoder_->audio.size(), /*final=*/true);
  decoder_->audio.clear();
  return text;
}

std::string SphinxRecognizer::Recognize(const std::vector<int16_t>& samples) {
  in_utterance_ = false;
  return Decode(samples.data(), samples.size(), /*final=*/true);
}

std::string SphinxRecognizer::RecognizeSoFar(const std::vector<int16_t>& samples) {
  in_utterance_ = false;
  return Decode(samples.data(), samples.size(), /*final=*/false);
}

std::string SphinxRecognizer::Decode(const int16_t* samples, size_t count, bool final) {
  Decoder& d = *decoder_;
  count = std::min(count, kSphinxMaxUtteranceSamples);
  // A decoder that has heard audio keeps traces of it (the acoustic model's fast-match history,
  // among others) that change later transcripts at the margin. In grammar mode the decoder is
  // initialised afresh instead (about 20 ms with the grammar's own dictionary), so a transcript
  // depends on its utterance's audio alone. The general model would take 0.4 s to reload: there
  // the state carries over (still the same output for the same sequence of utterances).
  if (grammar_mode_ && d.used) {
    if (ps_reinit(d.ps, nullptr) != 0 || !d.SetGrammar()) return "";
    d.NoNormalisation();
    d.used = false;
  }
  d.used = true;

  // Dither, a function of the sample's place in the utterance: a floor under the audio like a
  // recording's, so that digital silence (exact zeros, or a codec's near-zeros) reads as silence.
  // pocketsphinx's own dither draws from a generator shared by every utterance.
  d.dithered.resize(count);
  for (size_t i = 0; i < count; ++i) {
    uint64_t z = i * 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 31)) * 0xBF58476D1CE4E5B9ull;
    const int dither = static_cast<int>((z >> 32) % (2 * kDitherSteps + 1)) - kDitherSteps;
    d.dithered[i] = static_cast<int16_t>(std::clamp(samples[i] + dither, -32768, 32767));
  }

  // The cepstra of the whole stretch: 10 ms frames (the last one padded).
  constexpr size_t kCeps = 13;
  fe_t* fe = ps_get_fe(d.ps);
  const size_t max_frames = count / 160 + 2;
  d.cepstra.assign(max_frames * kCeps, 0);
  d.rows.resize(max_frames);
  for (size_t f = 0; f < max_frames; ++f) d.rows[f] = d.cepstra.data() + f * kCeps;
  int32 frames = static_cast<int32>(max_frames);
  const int16* in = d.dithered.data();
  size_t left = count;
  if (fe_start_utt(fe) < 0 || fe_process_frames(fe, &in, &left, d.rows.data(), &frames, nullptr) < 0) {
    return "";
  }
  int32 last = 0;
  if (frames < static_cast<int32>(max_frames) && fe_end_utt(fe, d.rows[frames], &last) == 0) {
    frames += last;
  }

  // Cepstral mean normalisation over the stretch's speech: its silence, however long, and the
  // channel it came through (an 8 kHz codec drops the top of the spectrum) then do not move the
  // mean the model sees speech against.
  std::vector<float> energy(static_cast<size_t>(frames));
  for (int32 f = 0; f < frames; ++f) energy[static_cast<size_t>(f)] = d.rows[f][0];
  float mean[kCeps];
  std::copy(std::begin(kSpeechCepstralMean), std::end(kSpeechCepstralMean), mean);
  if (frames >= 10) {
    std::sort(energy.begin(), energy.end());
    const float low = energy[energy.size() / 10];
    const float high = energy[energy.size() * 9 / 10];
    if (high - low >= kMinSpeechContrast) {
      const float threshold = (low + high) / 2;
      double sum[kCeps] = {};
      size_t speech = 0;
      for (int32 f = 0; f < frames; ++f) {
        if (d.rows[f][0] < threshold) continue;
        for (size_t c = 0; c < kCeps; ++c) sum[c] += d.rows[f][c];
        ++speech;
      }
      for (size_t c = 0; c < kCeps; ++c) mean[c] = static_cast<float>(sum[c] / speech);
    }
  }
  for (int32 f = 0; f < frames; ++f) {
    for (size_t c = 0; c < kCeps; ++c) d.rows[f][c] -= mean[c];
  }

  if (ps_start_stream(d.ps) != 0 || ps_start_utt(d.ps) != 0) return "";
  ps_process_cep(d.ps, d.rows.data(), frames, FALSE, TRUE);
  int32 score = 0;
  std::string text;
  if (!final) text = CleanHypothesis(ps_get_hyp(d.ps, &score));
  if (ps_end_utt(d.ps) < 0) return final ? "" : text;
  if (final) text = CleanHypothesis(ps_get_hyp(d.ps, &score));
  return text;
}

SphinxRecognizer* SharedSphinxRecognizer(const std::vector<std::string>& phrases,
                                         std::string* error) {
  struct Entry {
    std::unique_ptr<SphinxRecognizer> recognizer;
    std::string error;
  };
  thread_local std::map<std::vector<std::string>, Entry> entries;
  thread_local std::deque<std::vector<std::string>> order;  // oldest first
  auto it = entries.find(phrases);
  if (it == entries.end()) {
    if (entries.size() >= kMaxSharedSphinxGrammars) {
      entries.erase(order.front());
      order.pop_front();
    }
    Entry entry;
    entry.recognizer = SphinxRecognizer::Create(phrases, SphinxModelPaths{}, &entry.error);
    it = entries.emplace(phrases, std::move(entry)).first;
    order.push_back(phrases);
  }
  *error = it->second.error;
  return it->second.recognizer.get();
}

}  // namespace callsim::fakes
