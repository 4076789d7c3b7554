//===- OptionParser.h - a command-line parser without LLVM ------*- C++ -*-===//
//
// txl-run and the executables txlc links share their flags, and the
// executables must not depend on LLVM, so this replaces llvm::cl for them.
// It knows `--flag value`, `--flag=value`, boolean `--flag` (or
// `--flag=true|false`), positional arguments, `--` (only positionals follow)
// and `--help`. A single leading dash works too (`-tokens`), as it did with
// llvm::cl. Every mistake is one message: an unknown flag (with the closest
// known one), a missing value, a flag given twice, a malformed number.
//
//===----------------------------------------------------------------------===//
#ifndef TXL_RUNNER_OPTIONPARSER_H
#define TXL_RUNNER_OPTIONPARSER_H

#include "txl/support/Status.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace txl {

class OptionParser {
public:
  /// Starts a group of flags under `title` in --help.
  void section(std::string title);
  /// `--name` sets `*target` to true.
  void flag(std::string name, bool *target, std::string help);
  /// `--name VALUE`: any text.
  void text(std::string name, std::string valueName,
            std::optional<std::string> *target, std::string help);
  /// `--name N`: a decimal integer (64-bit).
  void integer(std::string name, std::string valueName,
               std::optional<int64_t> *target, std::string help);
  /// `--name X`: a finite decimal number.
  void number(std::string name, std::string valueName,
              std::optional<double> *target, std::string help);
  /// The next positional argument, in the order declared.
  void positional(std::string name, std::optional<std::string> *target,
                  std::string help);

  /// Parses argv[1..argc-1]. Stops at --help (see helpRequested()).
  Status parse(int argc, const char *const *argv);
  bool helpRequested() const { return help; }

  /// The flags and positionals with their help, grouped by section, wrapped
  /// to 80 columns.
  std::string describe() const;

private:
  enum class Kind { Flag, Text, Integer, Number };
  struct Option {
    std::string name, valueName, help, section;
    Kind kind = Kind::Flag;
    void *target = nullptr;
    bool seen = false;
  };
  struct Positional {
    std::string name, help;
    std::optional<std::string> *target;
  };

  void add(Option option);
  Option *find(const std::string &name);
  /// "unknown option '--x'", with the closest known name if one is close.
  Status unknown(const std::string &spelled, const std::string &name) const;
  Status assign(Option &option, const std::string &spelled,
                const std::string &value);

  std::vector<Option> options;
  std::vector<Positional> positionals;
  std::string currentSection;
  bool help = false;
};

} // namespace txl

#endif // TXL_RUNNER_OPTIONPARSER_H
