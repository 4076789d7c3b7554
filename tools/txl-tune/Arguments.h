//===- Arguments.h - txl-tune's command line ---------------------*- C++
//-*-===//
#ifndef TXL_TOOLS_TXLTUNE_ARGUMENTS_H
#define TXL_TOOLS_TXLTUNE_ARGUMENTS_H

#include "txl/support/Status.h"

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace txl::tune {

/// `--name value`, `--name=value`, `--flag` and positionals, checked against
/// the options a command accepts.
struct Arguments {
  std::vector<std::string> positional;
  std::map<std::string, std::vector<std::string>> values;
  std::set<std::string> flags;

  static StatusOr<Arguments> parse(const std::vector<std::string> &argv,
                                   const std::set<std::string> &valueOptions,
                                   const std::set<std::string> &flagOptions);
  bool has(const std::string &name) const {
    return values.count(name) || flags.count(name);
  }
  std::string get(const std::string &name, const std::string &fallback) const;
  StatusOr<int64_t> integer(const std::string &name, int64_t fallback) const;
  StatusOr<double> number(const std::string &name, double fallback) const;
};

/// "15m", "90s", "1h", "600" (seconds).
StatusOr<double> parseDuration(const std::string &text);

} // namespace txl::tune

#endif
