//===- VocabularyFuzzer.cpp - vocab.txt, the tokenizers, detokenizing -----===//
//
// Input: byte 0 picks the tokenizer kind (auto, char, word); then a
// vocabulary file's text up to the first NUL; the rest is a text to encode.
// An accepted vocabulary encodes the text (or refuses it), every id is in
// range, and decoding and streaming detokenization run over the ids.
//
//===----------------------------------------------------------------------===//

#include "txl/runner/Tokenizer.h"

#include <cstdint>
#include <cstdlib>
#include <string_view>

using namespace txl;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0)
    return 0;
  const TokenizerKind kinds[] = {TokenizerKind::Auto, TokenizerKind::Character,
                                 TokenizerKind::Word};
  TokenizerKind kind = kinds[data[0] % 3];
  std::string_view rest(reinterpret_cast<const char *>(data) + 1, size - 1);
  size_t nul = rest.find('\0');
  std::string_view vocab = rest.substr(0, nul);
  std::string_view text =
      nul == std::string_view::npos ? std::string_view() : rest.substr(nul + 1);

  auto tokenizer = Tokenizer::fromVocabulary(vocab, "vocab.txt", kind);
  if (!tokenizer.ok())
    return 0;
  (void)tokenizer->checkSize(tokenizer->size(), "fuzz-model");
  int64_t unknowns = 0;
  auto ids = tokenizer->encode(text, "text", &unknowns);
  if (!ids.ok())
    return 0;
  for (int64_t id : *ids)
    if (id < 0 || id >= tokenizer->size())
      std::abort();
  (void)tokenizer->decode(*ids);
  Detokenizer detokenizer(*tokenizer, text.substr(0, text.size() / 2));
  for (int64_t id : *ids)
    (void)detokenizer.next(id);
  return 0;
}
