//===- OptionParserTest.cpp - the flag parser and txl-run's flag rules ----===//

#include "txl/runner/OptionParser.h"
#include "txl/runner/RunOptions.h"

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <vector>

using namespace txl;

namespace {

/// Parses `arguments` (after the program name) into a fresh parser.
struct Parsed {
  std::optional<std::string> model, name;
  std::optional<int64_t> count;
  std::optional<double> ratio;
  bool verbose = false;
  OptionParser parser;
  Status status = Status::ok();

  explicit Parsed(std::initializer_list<const char *> arguments) {
    parser.positional("MODEL", &model, "the model");
    parser.section("Things");
    parser.text("name", "TEXT", &name, "a name");
    parser.integer("count", "N", &count, "how many");
    parser.number("ratio", "X", &ratio, "how much");
    parser.flag("verbose", &verbose, "say more");
    std::vector<const char *> argv = {"prog"};
    argv.insert(argv.end(), arguments);
    status = parser.parse(argv.size(), argv.data());
  }
};

TEST(OptionParser, ValuesBothWays) {
  Parsed p(
      {"model.so", "--name=a b", "--count", "-3", "--ratio=0.25", "--verbose"});
  ASSERT_TRUE(p.status.isOk()) << p.status.message();
  EXPECT_EQ(p.model, "model.so");
  EXPECT_EQ(p.name, "a b");
  EXPECT_EQ(p.count, -3);
  EXPECT_EQ(p.ratio, 0.25);
  EXPECT_TRUE(p.verbose);
}

TEST(OptionParser, SingleDashAndExplicitBooleans) {
  Parsed p({"-name", "x", "--verbose=false", "m"});
  ASSERT_TRUE(p.status.isOk()) << p.status.message();
  EXPECT_EQ(p.name, "x");
  EXPECT_FALSE(p.verbose);
  EXPECT_EQ(p.model, "m");
}

TEST(OptionParser, ValueMayStartWithADash) {
  Parsed p({"--name", "--count"});
  ASSERT_TRUE(p.status.isOk());
  EXPECT_EQ(p.name, "--count");
  EXPECT_FALSE(p.count);
}

TEST(OptionParser, DoubleDashEndsOptions) {
  Parsed p({"--", "--model-named-like-a-flag"});
  ASSERT_TRUE(p.status.isOk());
  EXPECT_EQ(p.model, "--model-named-like-a-flag");
}

TEST(OptionParser, Help) {
  Parsed p({"--count", "x", "--help"}); // --count fails first
  EXPECT_FALSE(p.status.isOk());
  Parsed q({"--help", "--bogus"});
  ASSERT_TRUE(q.status.isOk());
  EXPECT_TRUE(q.parser.helpRequested());
  std::string help = q.parser.describe();
  EXPECT_NE(help.find("Arguments:\n  MODEL"), std::string::npos) << help;
  EXPECT_NE(help.find("Things:\n  --name TEXT"), std::string::npos) << help;
  EXPECT_NE(help.find("\n  --verbose             say more\n"),
            std::string::npos)
      << help;
  EXPECT_NE(help.find("Other:\n  --help"), std::string::npos);
}

TEST(OptionParser, Errors) {
  EXPECT_EQ(Parsed({"--cuont", "3"}).status.message(),
            "unknown option '--cuont' (did you mean '--count'?); see --help");
  EXPECT_EQ(Parsed({"--zzzzzz"}).status.message(),
            "unknown option '--zzzzzz'; see --help");
  EXPECT_EQ(Parsed({"--name"}).status.message(),
            "option '--name' needs a value (--name TEXT)");
  EXPECT_EQ(Parsed({"--count", "3x"}).status.message(),
            "option '--count' expects an integer, found '3x'");
  EXPECT_EQ(Parsed({"--count="}).status.message(),
            "option '--count' expects an integer, found ''");
  EXPECT_EQ(Parsed({"--count", "99999999999999999999"}).status.message(),
            "option '--count' expects an integer, found "
            "'99999999999999999999'");
  EXPECT_EQ(Parsed({"--ratio", "nan"}).status.message(),
            "option '--ratio' expects a number, found 'nan'");
  EXPECT_EQ(Parsed({"--ratio", "0.5.1"}).status.message(),
            "option '--ratio' expects a number, found '0.5.1'");
  EXPECT_EQ(Parsed({"--verbose=maybe"}).status.message(),
            "option '--verbose' takes no value (or =true / =false), found "
            "'maybe'");
  EXPECT_EQ(Parsed({"--count", "1", "--count", "2"}).status.message(),
            "option '--count' is given more than once");
  EXPECT_EQ(Parsed({"a", "b"}).status.message(),
            "unexpected argument 'b'; see --help");
}

// --- txl-run's rules on top of the parser ----------------------------------

Status checkArguments(std::initializer_list<const char *> arguments,
                      RunOptions *out = nullptr) {
  RunOptions options;
  OptionParser parser;
  declareRunOptions(parser, options, /*takesModel=*/true);
  std::vector<const char *> argv = {"txl-run", "model"};
  argv.insert(argv.end(), arguments);
  Status parsed = parser.parse(argv.size(), argv.data());
  if (!parsed.isOk())
    return parsed;
  Status checked = checkRunOptions(options);
  if (out)
    *out = options;
  return checked;
}

TEST(RunOptions, Modes) {
  RunOptions options;
  ASSERT_TRUE(checkArguments({"--tokens", "t.st"}, &options).isOk());
  EXPECT_EQ(options.mode, RunMode::Tokens);
  ASSERT_TRUE(checkArguments({"--text", "a.txt"}, &options).isOk());
  EXPECT_EQ(options.mode, RunMode::Text);
  ASSERT_TRUE(checkArguments({"--prompt", "In"}, &options).isOk());
  EXPECT_EQ(options.mode, RunMode::Prompt);
  ASSERT_TRUE(checkArguments({"--prompt", "In", "--generate", "5",
                              "--temperature", "0", "--tokenizer", "char"},
                             &options)
                  .isOk());
  EXPECT_EQ(options.mode, RunMode::Generate);
  EXPECT_EQ(options.tokenizerKind, TokenizerKind::Character);
}

TEST(RunOptions, Conflicts) {
  EXPECT_EQ(checkArguments({}).message(),
            "nothing to run: give --tokens FILE, --text FILE or --prompt TEXT "
            "(see --help)");
  EXPECT_EQ(checkArguments({"--tokens", "t", "--text", "a"}).message(),
            "--tokens, --text and --prompt are exclusive: give one of them");
  EXPECT_EQ(checkArguments({"--text", "a", "--out", "o"}).message(),
            "--out is for --tokens (text modes print their results)");
  EXPECT_EQ(checkArguments({"--tokens", "t", "--vocab", "v"}).message(),
            "--vocab is for --text and --prompt (a tokens file holds ids "
            "already)");
  EXPECT_EQ(checkArguments({"--text", "a", "--generate", "3"}).message(),
            "--generate needs --prompt TEXT to continue");
  EXPECT_EQ(checkArguments({"--prompt", "a", "--seed", "3"}).message(),
            "--seed is for generation (--prompt TEXT --generate N)");
  EXPECT_EQ(checkArguments({"--prompt", "a", "--generate", "-1"}).message(),
            "--generate must be >= 0, found -1");
  EXPECT_EQ(
      checkArguments({"--prompt", "a", "--generate", "1", "--top-k", "-1"})
          .message(),
      "--top-k must be >= 0 (0 = all tokens), found -1");
  EXPECT_EQ(checkArguments({"--text", "a", "--tokenizer", "bpe"}).message(),
            "--tokenizer must be auto, char or word, found 'bpe'");
  EXPECT_EQ(checkArguments({"--text", "a", "--tgt-len", "0"}).message(),
            "--tgt-len must be positive, found 0");
}

} // namespace
