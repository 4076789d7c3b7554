//===- TextInput.cpp - the text modes' vocabulary and input ---------------===//

#include "txl/runner/TextInput.h"

#include <filesystem>
#include <fstream>
#include <iterator>

namespace txl {

namespace {

/// The text modes run one stream: fails unless the backend can run batch 1.
Status checkSingleStream(const Backend &backend) {
  int64_t batch = backend.compiledBatch();
  if (batch == 0 || batch == 1)
    return Status::ok();
  return Status::error(backend.modelName() + " was compiled for batch " +
                       std::to_string(batch) +
                       "; --text and --prompt run one stream and need a "
                       "model compiled for batch 1 (txlc --batch 1)");
}

} // namespace

StatusOr<Tokenizer> loadRunTokenizer(const RunOptions &options,
                                     const Backend &backend) {
  if (Status single = checkSingleStream(backend); !single.isOk())
    return single;
  StatusOr<Tokenizer> tokenizer = Status::error("no vocabulary");
  if (options.vocab) {
    tokenizer = Tokenizer::fromFile(*options.vocab, options.tokenizerKind);
  } else {
    VocabularySource source = backend.vocabulary();
    if (source.text) {
      tokenizer = Tokenizer::fromVocabulary(*source.text, source.name,
                                            options.tokenizerKind);
    } else {
      std::error_code error;
      if (!std::filesystem::exists(source.name, error))
        return Status::error(backend.modelName() +
                             " has no vocabulary: expected " + source.name +
                             " (one token per line), or give --vocab FILE");
      tokenizer = Tokenizer::fromFile(source.name, options.tokenizerKind);
    }
  }
  if (!tokenizer.ok())
    return tokenizer.status();
  Status size = tokenizer->checkSize(backend.vocabSize(), backend.modelName());
  if (!size.isOk())
    return size;
  return tokenizer;
}

StatusOr<std::string> readTextFile(const std::string &path) {
  std::error_code error;
  if (std::filesystem::is_directory(path, error))
    return Status::error(path + ": is a directory, not a text file");
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return Status::error(path + ": cannot open");
  std::string text(std::istreambuf_iterator<char>(in), {});
  if (in.bad())
    return Status::error(path + ": cannot read");
  return text;
}

} // namespace txl
