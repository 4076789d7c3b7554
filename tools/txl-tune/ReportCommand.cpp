//===- ReportCommand.cpp - txl-tune report / validate-model ---------------===//
//
// report: per kernel of MODEL, its share of the step, the heuristic's time
// and spread, the served record's, the speedup and the knobs that changed
// (--plot FILE.svg draws it). validate-model: the model compiled twice by
// txlc (with and without --tuning-db) and both run in one
// bench/model/compare.py process, so the kernels' gain is checked end to end.
//
//===----------------------------------------------------------------------===//

#include "Commands.h"

#include "txl/tuner/ChildProcess.h"
#include "txl/tuner/Report.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <fstream>
#include <iostream>
#include <unistd.h>

namespace txl::tune {

int runReport(const std::vector<std::string> &argv) {
  std::set<std::string> values = modelValueOptions();
  values.insert("plot");
  auto args = Arguments::parse(argv, values, modelFlagOptions());
  if (!args.ok())
    return fail(args.status().message());
  if (!args->has("db"))
    return fail("--db is required");
  auto threads = args->integer("threads", 1);
  if (!threads.ok())
    return fail(threads.status().message());
  auto target = concreteTarget(*args);
  if (!target.ok())
    return fail(target.status().message());
  mlir::DialectRegistry registry;
  tuner::registerModelDialects(registry);
  mlir::MLIRContext context(registry);
  context.loadAllAvailableDialects();
  tuner::ModelSource source;
  auto model = loadModel(context, *args, source);
  if (!model.ok())
    return fail(model.status().message());
  auto db = tuner::TuningDatabase::open(args->get("db", ""), false);
  if (!db.ok())
    return fail(db.status().message());
  auto rows = tuner::buildReport(**db, model->tasks, *target, *threads);
  if (!rows.ok())
    return fail(rows.status().message());
  std::cout << "target " << *target << ", " << *threads << " thread(s), "
            << model->kernelCount << " kernels, " << model->tasks.size()
            << " distinct, " << rows->size() << " with a measured heuristic\n";
  std::cout << tuner::formatReport(*rows);
  if (args->has("plot")) {
    std::string path = args->get("plot", "");
    std::string partial = path + ".partial";
    std::ofstream(partial) << tuner::reportSvg(
        *rows, source.path + " on " + *target + ", " +
                   std::to_string(*threads) + " thread(s)");
    if (std::error_code e = llvm::sys::fs::rename(partial, path))
      return fail(path + ": " + e.message());
  }
  return 0;
}

int runValidateModel(const std::vector<std::string> &argv, const char *argv0) {
  std::set<std::string> values = modelValueOptions();
  values.insert({"weights", "rounds", "out", "compare"});
  auto args = Arguments::parse(argv, values, modelFlagOptions());
  if (!args.ok())
    return fail(args.status().message());
  if (!args->has("db") || !args->has("weights") || args->positional.size() != 1)
    return fail("usage: txl-tune validate-model MODEL --db DB --weights "
                "model.safetensors [--out DIR] [--rounds N] [model flags]");
  char buffer[4096];
  ssize_t n = readlink("/proc/self/exe", buffer, sizeof buffer - 1);
  std::string bin = llvm::sys::path::parent_path(
                        n > 0 ? std::string(buffer, size_t(n)) : argv0)
                        .str();
  std::string txlc = bin + "/txlc";
  std::string compare =
      args->get("compare", bin + "/../../bench/model/compare.py");
#ifdef TXL_SOURCE_DIR
  if (!args->has("compare"))
    compare = std::string(TXL_SOURCE_DIR) + "/bench/model/compare.py";
#endif
  std::string out = args->get("out", "/tmp/txl-tune-validate");
  llvm::sys::fs::create_directories(out);
  std::vector<std::string> common = {txlc, args->positional[0]};
  for (const char *name :
       {"batch", "tgt-len", "target", "target-cache", "score-segments"})
    if (args->has(name))
      common.push_back(std::string("--") + name + "=" + args->get(name, ""));
  for (const char *flag : {"no-kv-cache", "no-hoist", "keep-mems"})
    if (args->has(flag))
      common.push_back(std::string("--") + flag);
  auto compile = [&](const std::string &so, bool tuned) {
    std::vector<std::string> cmd = common;
    cmd.push_back("-o");
    cmd.push_back(so);
    if (tuned) {
      cmd.push_back("--tuning-db=" + args->get("db", ""));
      cmd.push_back("--tuning-threads=" + args->get("threads", "1"));
    }
    tuner::ChildResult r =
        tuner::runChild(cmd, {}, so + ".out", so + ".log", 1800);
    std::cerr << tuner::tailOfFile(so + ".log", 5) << "\n";
    return r.exited && r.exitCode == 0;
  };
  std::string heuristic = out + "/heuristic.so", tuned = out + "/tuned.so";
  if (!compile(heuristic, false) || !compile(tuned, true))
    return fail("txlc failed (logs in " + out + ")");
  // The same outputs first (schedules reorder sums, never what is computed).
  std::string same =
      llvm::sys::path::parent_path(compare).str() + "/same_outputs.py";
  tuner::ChildResult check =
      tuner::runChild({"/usr/bin/python3", same, "--weights",
                       args->get("weights", ""), heuristic, tuned},
                      {"HL_NUM_THREADS=1"}, out + "/same_outputs.txt",
                      out + "/same_outputs.log", 3600);
  {
    std::ifstream in(out + "/same_outputs.txt");
    std::cout << in.rdbuf();
  }
  if (!check.exited || check.exitCode != 0)
    return fail("the tuned model's hidden states differ from the heuristic's "
                "(" +
                check.describe() + "; " + out + "/same_outputs.*)");
  std::vector<std::string> cmd = {"/usr/bin/python3", compare,
                                  "--weights",        args->get("weights", ""),
                                  "--rounds",         args->get("rounds", "3"),
                                  heuristic,          tuned};
  std::string threads = args->get("threads", "1");
  tuner::ChildResult r = tuner::runChild(
      cmd, {"HL_NUM_THREADS=" + threads, "OMP_NUM_THREADS=" + threads},
      out + "/compare.txt", out + "/compare.log", 3600);
  std::ifstream in(out + "/compare.txt");
  std::cout << in.rdbuf();
  if (!r.exited || r.exitCode != 0)
    return fail("compare.py " + r.describe() + ": " +
                tuner::tailOfFile(out + "/compare.log", 5));
  return 0;
}

} // namespace txl::tune
