//===- ModelOptions.cpp - the model flags txl-tune shares with txlc -------===//

#include "Commands.h"

#include <iostream>

namespace txl::tune {

int fail(const std::string &message) {
  std::cerr << "txl-tune: error: " << message << "\n";
  return 1;
}

const std::set<std::string> &modelValueOptions() {
  static const std::set<std::string> names = {
      "batch",   "tgt-len",        "target", "target-cache",
      "threads", "score-segments", "db"};
  return names;
}

const std::set<std::string> &modelFlagOptions() {
  static const std::set<std::string> names = {"no-kv-cache", "no-hoist",
                                              "keep-mems"};
  return names;
}

StatusOr<std::string> concreteTarget(const Arguments &args) {
  auto info = target::parseTarget(args.get("target", "host"),
                                  args.get("target-cache", ""));
  if (!info.ok())
    return Status::error("--target/--target-cache: " + info.status().message());
  return tuner::targetKey(*info);
}

StatusOr<tuner::ModelKernels> loadModel(mlir::MLIRContext &context,
                                        const Arguments &args,
                                        tuner::ModelSource &source) {
  if (args.positional.size() != 1)
    return Status::error("expected one MODEL (a model directory, config.json "
                         "or .mlir file)");
  source.path = args.positional[0];
  auto batch = args.integer("batch", 1);
  auto tgtLen = args.integer("tgt-len", 0);
  auto segments = args.integer("score-segments", 8);
  for (const Status *s :
       {&batch.status(), &tgtLen.status(), &segments.status()})
    if (!s->isOk())
      return *s;
  if (*batch < 1 || *tgtLen < 0 || *segments < 1)
    return Status::error("--batch and --score-segments must be at least 1, "
                         "--tgt-len positive");
  source.batch = *batch;
  source.tgtLen = *tgtLen;
  source.scoreSegments = *segments;
  source.lowering.target = args.get("target", "host");
  source.lowering.targetCache = args.get("target-cache", "");
  source.lowering.kvCache = !args.has("no-kv-cache");
  source.lowering.hoist = !args.has("no-hoist");
  source.lowering.keepMemories = args.has("keep-mems");
  if (auto knobs = resolveKnobs(source.lowering); !knobs.ok())
    return Status::error("--target/--target-cache: " +
                         knobs.status().message());
  auto module = tuner::buildModel(context, source);
  if (!module.ok())
    return module.status();
  return tuner::extractKernels(std::move(*module), source);
}

} // namespace txl::tune
