//===- OptionParser.cpp - a small command-line parser without LLVM --------===//

#include "txl/runner/OptionParser.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <sstream>

namespace txl {

namespace {

size_t editDistance(const std::string &a, const std::string &b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j)
    row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      row[j] = std::min(
          {row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
      diagonal = above;
    }
  }
  return row[b.size()];
}

/// `text` wrapped to `width` columns, every line after the first indented
/// by `indent` spaces.
std::string wrap(const std::string &text, size_t indent, size_t width) {
  std::istringstream words(text);
  std::string word, out;
  size_t column = indent;
  bool first = true;
  while (words >> word) {
    if (!first && column + 1 + word.size() > width) {
      out += "\n" + std::string(indent, ' ');
      column = indent;
    } else if (!first) {
      out += ' ';
      ++column;
    }
    out += word;
    column += word.size();
    first = false;
  }
  return out;
}

} // namespace

void OptionParser::section(std::string title) {
  currentSection = std::move(title);
}

void OptionParser::add(Option option) {
  option.section = currentSection;
  options.push_back(std::move(option));
}

void OptionParser::flag(std::string name, bool *target, std::string help) {
  add({std::move(name), "", std::move(help), "", Kind::Flag, target});
}

void OptionParser::text(std::string name, std::string valueName,
                        std::optional<std::string> *target, std::string help) {
  add({std::move(name), std::move(valueName), std::move(help), "", Kind::Text,
       target});
}

void OptionParser::integer(std::string name, std::string valueName,
                           std::optional<int64_t> *target, std::string help) {
  add({std::move(name), std::move(valueName), std::move(help), "",
       Kind::Integer, target});
}

void OptionParser::number(std::string name, std::string valueName,
                          std::optional<double> *target, std::string help) {
  add({std::move(name), std::move(valueName), std::move(help), "", Kind::Number,
       target});
}

void OptionParser::positional(std::string name,
                              std::optional<std::string> *target,
                              std::string help) {
  positionals.push_back({std::move(name), std::move(help), target});
}

OptionParser::Option *OptionParser::find(const std::string &name) {
  for (Option &option : options)
    if (option.name == name)
      return &option;
  return nullptr;
}

Status OptionParser::unknown(const std::string &spelled,
                             const std::string &name) const {
  std::string message = "unknown option '" + spelled + "'";
  const Option *closest = nullptr;
  size_t best = 3; // farther than two edits is no suggestion
  for (const Option &option : options) {
    size_t distance = editDistance(name, option.name);
    if (distance < best)
      best = distance, closest = &option;
  }
  if (closest)
    message += " (did you mean '--" + closest->name + "'?)";
  return Status::error(message + "; see --help");
}

Status OptionParser::assign(Option &option, const std::string &spelled,
                            const std::string &value) {
  switch (option.kind) {
  case Kind::Flag:
    if (value == "true" || value == "1") {
      *static_cast<bool *>(option.target) = true;
    } else if (value == "false" || value == "0") {
      *static_cast<bool *>(option.target) = false;
    } else {
      return Status::error("option '" + spelled +
                           "' takes no value (or =true / =false), found '" +
                           value + "'");
    }
    return Status::ok();
  case Kind::Text:
    *static_cast<std::optional<std::string> *>(option.target) = value;
    return Status::ok();
  case Kind::Integer: {
    errno = 0;
    char *end = nullptr;
    long long parsed = std::strtoll(value.c_str(), &end, 10);
    if (value.empty() || *end || errno == ERANGE)
      return Status::error("option '" + spelled + "' expects an integer, " +
                           "found '" + value + "'");
    *static_cast<std::optional<int64_t> *>(option.target) = parsed;
    return Status::ok();
  }
  case Kind::Number: {
    errno = 0;
    char *end = nullptr;
    double parsed = std::strtod(value.c_str(), &end);
    if (value.empty() || *end || errno == ERANGE || !std::isfinite(parsed))
      return Status::error("option '" + spelled + "' expects a number, " +
                           "found '" + value + "'");
    *static_cast<std::optional<double> *>(option.target) = parsed;
    return Status::ok();
  }
  }
  return Status::ok();
}

Status OptionParser::parse(int argc, const char *const *argv) {
  size_t nextPositional = 0;
  bool onlyPositionals = false;
  for (int i = 1; i < argc; ++i) {
    std::string argument = argv[i];
    if (!onlyPositionals && argument == "--") {
      onlyPositionals = true;
      continue;
    }
    if (onlyPositionals || argument.size() < 2 || argument[0] != '-') {
      if (nextPositional == positionals.size())
        return Status::error("unexpected argument '" + argument +
                             "'; see --help");
      *positionals[nextPositional++].target = argument;
      continue;
    }

    std::string body = argument.substr(argument[1] == '-' ? 2 : 1);
    size_t equals = body.find('=');
    std::string name = body.substr(0, equals);
    std::optional<std::string> value;
    if (equals != std::string::npos)
      value = body.substr(equals + 1);
    if (name == "help" || name == "h") {
      help = true;
      return Status::ok();
    }
    std::string spelled = "--" + name;
    Option *option = find(name);
    if (!option)
      return unknown(spelled, name);
    if (option->seen)
      return Status::error("option '" + spelled + "' is given more than once");
    option->seen = true;
    if (option->kind == Kind::Flag && !value)
      value = "true";
    if (!value) {
      if (i + 1 == argc)
        return Status::error("option '" + spelled + "' needs a value (" +
                             spelled + " " + option->valueName + ")");
      value = argv[++i];
    }
    Status assigned = assign(*option, spelled, *value);
    if (!assigned.isOk())
      return assigned;
  }
  return Status::ok();
}

std::string OptionParser::describe() const {
  constexpr size_t kHelpColumn = 24, kWidth = 80;
  std::string out;
  auto entry = [&](std::string left, const std::string &help) {
    left = "  " + left;
    if (left.size() + 2 > kHelpColumn)
      out += left + "\n" + std::string(kHelpColumn, ' ');
    else
      out += left + std::string(kHelpColumn - left.size(), ' ');
    out += wrap(help, kHelpColumn, kWidth) + "\n";
  };
  if (!positionals.empty()) {
    out += "Arguments:\n";
    for (const Positional &positional : positionals)
      entry(positional.name, positional.help);
  }
  std::string section = "\x01"; // no section title matches
  for (const Option &option : options) {
    if (option.section != section) {
      section = option.section;
      out += (out.empty() ? "" : "\n") + section + ":\n";
    }
    entry("--" + option.name +
              (option.valueName.empty() ? "" : " " + option.valueName),
          option.help);
  }
  out += "\nOther:\n";
  entry("--help", "print this help and exit");
  return out;
}

} // namespace txl
