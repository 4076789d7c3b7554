//===- txl-tune.cpp - schedule search per target, and its database --------===//
//
// txl-tune MODEL --db FILE --budget 10m [...]   tune (docs/TUNING.md)
// txl-tune report MODEL --db FILE [--plot F]    what tuning gained
// txl-tune validate-model MODEL --db FILE --weights W
// txl-tune enqueue / worker                     campaigns on PostgreSQL
// txl-tune db merge|export|import|verify|stats
//
//===----------------------------------------------------------------------===//

#include "Commands.h"

#include <iostream>

namespace {

const char *kUsage =
    R"(txl-tune: searches schedules for a model's kernels on this machine and
keeps every measurement in a tuning database that txlc --tuning-db reads.

  txl-tune MODEL --db FILE [--budget 10m] [options]
      MODEL: a model directory, config.json or .mlir file (as txlc).
      --db FILE|postgresql://...   the tuning database (created if missing)
      --budget D        wall clock for the search, compiles included (90s, 15m, 1h)
      --threads N       threads the kernels are timed at (default 1)
      --kernels REGEX   tune only kernels whose name matches (e.g. 'ffn|attention')
      --seed N          the search's random seed (default 1)
      --batch N --tgt-len N --target T --target-cache S --score-segments N
      --no-kv-cache --no-hoist --keep-mems      as txlc (they change the kernels)
      --memory-length N index scalars when timing (default: the config's mem_len)
      --batch-candidates N  candidates per worker batch (6)   --rounds N (9)
      --freeze-after N  stop a kernel after N candidates without gain (12)
      --compile-timeout S (180)  --run-timeout S (120)  --work-dir DIR (DB.work)
    Ctrl-C stops after the batch in flight; the same command resumes.

  txl-tune report MODEL --db FILE [--plot FILE.svg] [model options]
  txl-tune validate-model MODEL --db FILE --weights model.safetensors [--out DIR]
  txl-tune enqueue MODEL --db postgresql://... --budget 1h [--kernels R] [model options]
      one job per kernel, an equal share of the budget each
  txl-tune worker --db postgresql://... [--lease 120] [--wait S] [--name N]
      claims jobs (FOR UPDATE SKIP LOCKED, leases) until none is left
  txl-tune db merge TARGET.db SOURCE.db...
  txl-tune db export DB [--best-only] [-o FILE.jsonl]
  txl-tune db import DB FILE.jsonl...
  txl-tune db verify DB
  txl-tune db stats DB

See docs/TUNING.md.
)";

} // namespace

int main(int argc, char **argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::cout << kUsage;
    return args.empty() ? 1 : 0;
  }
  std::string command = args[0];
  std::vector<std::string> rest(args.begin() + 1, args.end());
  if (command == "report")
    return txl::tune::runReport(rest);
  if (command == "validate-model")
    return txl::tune::runValidateModel(rest, argv[0]);
  if (command == "db")
    return txl::tune::runDb(rest);
  if (command == "enqueue")
    return txl::tune::runEnqueue(rest);
  if (command == "worker")
    return txl::tune::runWorker(rest, argv[0]);
  if (command == "compile-candidate")
    return txl::tune::runCompileCandidate(rest);
  return txl::tune::runTune(args);
}
