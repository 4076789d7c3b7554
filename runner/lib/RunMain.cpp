//===- RunMain.cpp - the command line of txl-run and of txlc's executables ===//

#include "txl/runner/RunMain.h"
#include "txl/runner/Modes.h"
#include "txl/runner/OptionParser.h"

#include <cstdio>
#include <new>

namespace txl {

namespace {

int fail(const RunnerHooks &hooks, const std::string &message) {
  std::fflush(stdout);
  std::fprintf(stderr, "%s: error: %s\n", hooks.program.c_str(),
               message.c_str());
  return 1;
}

/// Opens the model and runs the mode the options chose.
int run(const RunnerHooks &hooks, RunOptions &options) {
  auto backend = hooks.openBackend(options);
  if (!backend.ok())
    return fail(hooks, backend.status().message());
  RunContext context{hooks.program, options, **backend};
  Status result = Status::ok();
  switch (options.mode) {
  case RunMode::Tokens:
    result = runTokenFile(context);
    break;
  case RunMode::Text:
  case RunMode::Prompt:
    result = scoreText(context);
    break;
  case RunMode::Generate:
    result = generateText(context);
    break;
  }
  if (!result.isOk())
    return fail(hooks, result.message());
  return 0;
}

} // namespace

int runMain(int argc, char **argv, const RunnerHooks &hooks) {
  RunOptions options;
  OptionParser parser;
  declareRunOptions(parser, options, hooks.takesModel);
  Status parsed = parser.parse(argc, argv);
  if (!parsed.isOk())
    return fail(hooks, parsed.message());
  if (parser.helpRequested()) {
    std::printf("%s\n%s", hooks.about.c_str(), parser.describe().c_str());
    return 0;
  }
  if (hooks.takesModel && !options.model)
    return fail(hooks, "no MODEL given (a model directory or a compiled "
                       "model.so); see --help");
  Status checked = checkRunOptions(options);
  if (!checked.isOk())
    return fail(hooks, checked.message());

  // Inputs within docs/RUN.md's limits may still not fit this machine.
  try {
    return run(hooks, options);
  } catch (const std::bad_alloc &) {
    return fail(hooks, "out of memory: the model or the input is too large "
                       "for this machine (see docs/RUN.md, \"Limits\")");
  }
}

} // namespace txl
