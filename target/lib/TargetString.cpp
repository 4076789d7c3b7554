//===- TargetString.cpp - a Halide target string, split into words --------===//
#include "TargetString.h"

#include "HalideNames.h"

#include <algorithm>

namespace txl::target {

namespace {

std::vector<std::string> splitOnDashes(const std::string &text) {
  std::vector<std::string> words;
  size_t start = 0;
  while (true) {
    size_t dash = text.find('-', start);
    words.push_back(text.substr(start, dash - start));
    if (dash == std::string::npos)
      return words;
    start = dash + 1;
  }
}

bool isBits(const std::string &word) { return word == "32" || word == "64"; }

class TargetStringSplitter {
public:
  explicit TargetStringSplitter(const std::string &target) : target(target) {}

  StatusOr<TargetWords> split() {
    if (target.empty())
      return Status::error("empty target; accepted: host, or "
                           "arch-bits-os[-feature...] such as "
                           "x86-64-linux-avx2");
    std::vector<std::string> words = splitOnDashes(target);
    for (size_t i = 0; i < words.size(); ++i) {
      Status status = take(words[i], i);
      if (!status.isOk())
        return status;
    }
    if (!result.host) {
      if (result.architecture.empty())
        return fail("no architecture; accepted: " + architectures());
      if (result.bits.empty())
        return fail("no bit width after '" + result.architecture +
                    "'; accepted: 32, 64");
      if (result.os.empty())
        return fail("no operating system; accepted: " +
                    joinWords(halideOperatingSystems()));
    }
    std::sort(result.features.begin(), result.features.end());
    result.features.erase(
        std::unique(result.features.begin(), result.features.end()),
        result.features.end());
    return result;
  }

private:
  Status fail(const std::string &why) const {
    return Status::error("target '" + target + "': " + why);
  }

  static std::string architectures() {
    return "host, " + joinWords(halideArchitectures());
  }

  /// Sets one of architecture, bits and OS, once; never after "host", whose
  /// machine already names them (Halide would let the word override).
  Status setOnce(std::string &slot, const std::string &word, const char *role) {
    if (result.host)
      return fail("'" + word + "' after 'host': host already names the " +
                  role);
    if (!slot.empty())
      return fail(std::string(role) + " given twice ('" + slot + "' and '" +
                  word + "')");
    slot = word;
    return Status::ok();
  }

  Status take(const std::string &word, size_t position) {
    if (word.empty())
      return fail("empty word between dashes");
    if (word == "host") {
      if (position != 0)
        return fail("'host' may only come first");
      result.host = true;
      return Status::ok();
    }
    if (isBits(word))
      return setOnce(result.bits, word, "bit width");
    if (isHalideArchitecture(word))
      return setOnce(result.architecture, word, "architecture");
    if (isHalideOperatingSystem(word))
      return setOnce(result.os, word, "operating system");
    if (isHalideFeature(word)) {
      result.features.push_back(word);
      return Status::ok();
    }
    if (word == "trace_all") {
      result.features.insert(
          result.features.end(),
          {"trace_loads", "trace_realizations", "trace_stores"});
      return Status::ok();
    }
    return unknownWord(word, position);
  }

  /// Says what the word was probably meant to be by where it stands.
  Status unknownWord(const std::string &word, size_t position) const {
    if (position == 0)
      return fail("unknown architecture '" + word +
                  "'; accepted: " + architectures());
    if (!result.host && result.os.empty() && position == 2)
      return fail("unknown operating system '" + word +
                  "'; accepted: " + joinWords(halideOperatingSystems()));
    return fail("unknown feature '" + word +
                "'; accepted: " + joinWords(halideFeatures()) + ", trace_all");
  }

  const std::string &target;
  TargetWords result;
};

} // namespace

StatusOr<TargetWords> splitTargetString(const std::string &target) {
  return TargetStringSplitter(target).split();
}

} // namespace txl::target
