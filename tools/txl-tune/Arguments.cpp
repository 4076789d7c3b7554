//===- Arguments.cpp - txl-tune's command line ----------------------------===//

#include "Arguments.h"

#include <cstdlib>

namespace txl::tune {

StatusOr<Arguments> Arguments::parse(const std::vector<std::string> &argv,
                                     const std::set<std::string> &valueOptions,
                                     const std::set<std::string> &flagOptions) {
  Arguments args;
  for (size_t i = 0; i < argv.size(); ++i) {
    // -o is the one short option (an output path).
    const std::string a = argv[i] == "-o" ? std::string("--o") : argv[i];
    if (a.size() < 3 || a.compare(0, 2, "--") != 0) {
      args.positional.push_back(a);
      continue;
    }
    std::string name = a.substr(2), value;
    bool inlineValue = false;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      inlineValue = true;
    }
    if (flagOptions.count(name)) {
      if (inlineValue)
        return Status::error("--" + name + " takes no value");
      args.flags.insert(name);
      continue;
    }
    if (!valueOptions.count(name))
      return Status::error("unknown option --" + name + " (txl-tune --help)");
    if (!inlineValue) {
      if (i + 1 >= argv.size())
        return Status::error("--" + name + " needs a value");
      value = argv[++i];
    }
    args.values[name].push_back(value);
  }
  return args;
}

std::string Arguments::get(const std::string &name,
                           const std::string &fallback) const {
  auto it = values.find(name);
  return it == values.end() ? fallback : it->second.back();
}

StatusOr<int64_t> Arguments::integer(const std::string &name,
                                     int64_t fallback) const {
  auto it = values.find(name);
  if (it == values.end())
    return fallback;
  const std::string &text = it->second.back();
  char *end = nullptr;
  long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end)
    return Status::error("--" + name + ": not an integer: '" + text + "'");
  return int64_t(v);
}

StatusOr<double> Arguments::number(const std::string &name,
                                   double fallback) const {
  auto it = values.find(name);
  if (it == values.end())
    return fallback;
  const std::string &text = it->second.back();
  char *end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (text.empty() || *end)
    return Status::error("--" + name + ": not a number: '" + text + "'");
  return v;
}

StatusOr<double> parseDuration(const std::string &text) {
  char *end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  std::string unit = end ? end : "";
  double scale = unit == "" || unit == "s" ? 1
                 : unit == "m"             ? 60
                 : unit == "h"             ? 3600
                                           : -1;
  if (text.empty() || end == text.c_str() || scale < 0 || v <= 0)
    return Status::error("not a duration: '" + text +
                         "' (e.g. 90s, 15m, 1h, or seconds)");
  return v * scale;
}

} // namespace txl::tune
