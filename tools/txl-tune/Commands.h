//===- Commands.h - txl-tune's subcommands -----------------------*- C++
//-*-===//
#ifndef TXL_TOOLS_TXLTUNE_COMMANDS_H
#define TXL_TOOLS_TXLTUNE_COMMANDS_H

#include "Arguments.h"

#include "txl/tuner/ModelKernels.h"

#include "mlir/IR/MLIRContext.h"

#include <set>
#include <string>
#include <vector>

namespace txl::tune {

/// The options that say which model and how it is lowered (txlc's flags).
const std::set<std::string> &modelValueOptions();
const std::set<std::string> &modelFlagOptions();
/// The model built, lowered, outlined and grouped, as txlc would.
StatusOr<tuner::ModelKernels> loadModel(mlir::MLIRContext &context,
                                        const Arguments &args,
                                        tuner::ModelSource &source);
/// The concrete target (the key) for --target/--target-cache.
StatusOr<std::string> concreteTarget(const Arguments &args);

int runTune(const std::vector<std::string> &argv);
int runReport(const std::vector<std::string> &argv);
int runValidateModel(const std::vector<std::string> &argv, const char *argv0);
int runDb(const std::vector<std::string> &argv);
int runCompileCandidate(const std::vector<std::string> &argv);
int runEnqueue(const std::vector<std::string> &argv);
int runWorker(const std::vector<std::string> &argv, const char *argv0);

/// Prints "txl-tune: error: MESSAGE" and returns 1.
int fail(const std::string &message);

} // namespace txl::tune

#endif
