//===- RunMain.h - the command line of txl-run and executables --*- C++ -*-===//
//
// `txl-run MODEL ...` and an executable built by `txlc --emit=exe` are the
// same program around different ways of opening the model: txl-run adds the
// reference executor for model directories (it links MLIR), an executable
// opens the model linked into it (and links no LLVM). Both call runMain.
//
//===----------------------------------------------------------------------===//
#ifndef TXL_RUNNER_RUNMAIN_H
#define TXL_RUNNER_RUNMAIN_H

#include "txl/runner/Backend.h"
#include "txl/runner/RunOptions.h"

#include <functional>
#include <memory>
#include <string>

namespace txl {

struct RunnerHooks {
  /// Opens every message ("txl-run: error: ...") and summary line.
  std::string program = "txl-run";
  /// The first lines of --help (usage and what the program is).
  std::string about;
  /// True: the model is the positional MODEL argument (txl-run). False: it
  /// is linked in (an executable), and there is no MODEL argument.
  bool takesModel = true;
  /// Opens the backend for the parsed, checked options.
  std::function<StatusOr<std::unique_ptr<Backend>>(const RunOptions &)>
      openBackend;
};

/// Parses the flags, opens the backend and runs the mode. Returns the exit
/// code: 0, or 1 after printing "<program>: error: <message>" on stderr.
int runMain(int argc, char **argv, const RunnerHooks &hooks);

} // namespace txl

#endif // TXL_RUNNER_RUNMAIN_H
