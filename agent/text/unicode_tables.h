// The few Unicode properties word normalization needs, for every script: is a code point a
// letter (general category L*) or a combining mark (M*), and its simple case folding. The tables
// are generated from the Unicode database by tools/gen_unicode_tables.py; no locale is consulted,
// so the answers are the same on every machine.
#pragma once

namespace callsim::agent {

bool IsLetter(char32_t cp);
bool IsMark(char32_t cp);
// Unicode simple case folding (CaseFolding.txt, status C and S): 'A' -> 'a', 'Ї' -> 'ї',
// 'Σ' and 'ς' -> 'σ', 'ẞ' -> 'ß'; plus 'İ' (U+0130) -> 'i'. A code point without a folding is
// returned as it is.
char32_t FoldCase(char32_t cp);

}  // namespace callsim::agent
