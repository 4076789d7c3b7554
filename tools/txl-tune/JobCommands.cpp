//===- JobCommands.cpp - txl-tune enqueue / worker (PostgreSQL) -----------===//
//
// enqueue: one job per kernel of MODEL (those that run per step), with the
// tuner's arguments and an equal share of --budget each. worker: claims
// jobs until none is left (or --wait more seconds pass without one), runs
// `txl-tune MODEL ... --workload HASH --budget B` for each in a child,
// renewing the lease meanwhile, and marks the job done. See JobQueue.h.
//
//===----------------------------------------------------------------------===//

#include "Commands.h"

#include "txl/tuner/ChildProcess.h"
#include "txl/tuner/JobQueue.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <iostream>
#include <regex>
#include <signal.h>
#include <thread>
#include <unistd.h>

namespace txl::tune {

int runEnqueue(const std::vector<std::string> &argv) {
  std::set<std::string> values = modelValueOptions();
  values.insert({"budget", "kernels", "campaign", "seed"});
  auto args = Arguments::parse(argv, values, modelFlagOptions());
  if (!args.ok())
    return fail(args.status().message());
  if (!args->has("db"))
    return fail("--db postgresql://... is required");
  auto budget = parseDuration(args->get("budget", "10m"));
  if (!budget.ok())
    return fail("--budget: " + budget.status().message());
  auto db = tuner::TuningDatabase::open(args->get("db", ""), true);
  if (!db.ok())
    return fail(db.status().message());
  if (Status s = tuner::createJobTable(**db); !s.isOk())
    return fail(s.message());
  mlir::DialectRegistry registry;
  tuner::registerModelDialects(registry);
  mlir::MLIRContext context(registry);
  context.loadAllAvailableDialects();
  tuner::ModelSource source;
  auto model = loadModel(context, *args, source);
  if (!model.ok())
    return fail(model.status().message());
  std::optional<std::regex> pattern;
  if (args->has("kernels"))
    pattern.emplace(args->get("kernels", ""));
  // The tuner's arguments: the model and the flags that shape its kernels.
  nlohmann::json tuneArgs = nlohmann::json::array({args->positional[0]});
  for (const std::string &name : {"batch", "tgt-len", "target", "target-cache",
                                  "threads", "score-segments", "seed"})
    if (args->has(name))
      tuneArgs.push_back("--" + name + "=" + args->get(name, ""));
  for (const std::string &flag : modelFlagOptions())
    if (args->has(flag))
      tuneArgs.push_back("--" + flag);
  std::vector<const tuner::KernelTask *> chosen;
  for (const tuner::KernelTask &task : model->tasks)
    if (task.weight > 0 &&
        (!pattern || std::regex_search(task.key.label, *pattern)))
      chosen.push_back(&task);
  if (chosen.empty())
    return fail("no kernel to enqueue");
  std::string campaign = args->get("campaign", tuner::newId().substr(0, 12));
  int added = 0;
  for (const tuner::KernelTask *task : chosen) {
    Status s = (*db)->addWorkload({task->key.hash, task->key.label,
                                   task->key.signature, task->key.canonical});
    if (!s.isOk())
      return fail(s.message());
    tuner::Job job;
    job.campaign = campaign;
    job.argv = tuneArgs.dump();
    job.workload = task->key.hash;
    job.label = task->key.label;
    job.budgetSeconds = *budget / double(chosen.size());
    auto ok = tuner::enqueueJob(**db, job, task->weight);
    if (!ok.ok())
      return fail(ok.status().message());
    added += *ok;
  }
  std::cout << "campaign " << campaign << ": " << added << " job(s) added, "
            << chosen.size() - added << " already there\n";
  return 0;
}

int runWorker(const std::vector<std::string> &argv, const char *argv0) {
  auto args = Arguments::parse(argv, {"db", "lease", "wait", "name"}, {});
  if (!args.ok())
    return fail(args.status().message());
  if (!args->has("db"))
    return fail("--db postgresql://... is required");
  auto lease = args->number("lease", 120);
  auto wait = args->number("wait", 0);
  if (!lease.ok() || !wait.ok() || *lease < 1)
    return fail("--lease and --wait are seconds (lease at least 1)");
  std::string url = args->get("db", "");
  auto db = tuner::TuningDatabase::open(url, true);
  if (!db.ok())
    return fail(db.status().message());
  if (Status s = tuner::createJobTable(**db); !s.isOk())
    return fail(s.message());
  char host[256] = "?";
  gethostname(host, sizeof host - 1);
  std::string worker =
      args->get("name", std::string(host) + ":" + std::to_string(getpid()));
  char self[4096];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  std::string tuner = n > 0 ? std::string(self, size_t(n)) : argv0;

  auto idleSince = std::chrono::steady_clock::now();
  int done = 0;
  while (true) {
    auto claimed = tuner::claimJob(**db, worker, *lease);
    if (!claimed.ok())
      return fail(claimed.status().message());
    if (!*claimed) {
      double idle = std::chrono::duration<double>(
                        std::chrono::steady_clock::now() - idleSince)
                        .count();
      if (idle >= *wait)
        break;
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      continue;
    }
    const tuner::Job &job = **claimed;
    std::cerr << "txl-tune worker " << worker << ": job " << job.id << " ("
              << job.label << ", attempt " << job.attempts << ")\n";
    std::vector<std::string> cmd = {tuner};
    for (const auto &a : nlohmann::json::parse(job.argv))
      cmd.push_back(a.get<std::string>());
    char budget[32];
    std::snprintf(budget, sizeof budget, "%.0fs",
                  std::max(1.0, job.budgetSeconds));
    cmd.insert(cmd.end(),
               {"--db", url, "--workload", job.workload, "--budget", budget});
    std::string log = "/tmp/txl-tune-job-" + std::to_string(job.id) + "-" +
                      std::to_string(getpid());
    int pid = tuner::startChild(cmd, {}, log + ".out", log + ".err");
    tuner::ChildResult result;
    bool lost = false;
    auto renewed = std::chrono::steady_clock::now();
    while (pid > 0 && !tuner::childEnded(pid, result)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      if (std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                        renewed)
              .count() < *lease / 3)
        continue;
      renewed = std::chrono::steady_clock::now();
      auto still = tuner::renewLease(**db, job.id, worker, *lease);
      if (!still.ok() || !*still) {
        // Another worker owns it now: stop ours.
        lost = true;
        kill(pid, SIGINT);
      }
    }
    bool ok = pid > 0 && result.exited && result.exitCode == 0;
    if (lost) {
      std::cerr << "txl-tune worker " << worker << ": job " << job.id
                << " lost its lease\n";
      continue;
    }
    auto finished = tuner::finishJob(
        **db, job.id, worker, ok,
        ok ? ""
           : result.describe() + ": " + tuner::tailOfFile(log + ".err", 3));
    if (!finished.ok())
      return fail(finished.status().message());
    done += *finished;
    idleSince = std::chrono::steady_clock::now();
  }
  std::cerr << "txl-tune worker " << worker << ": " << done
            << " job(s) done, none left\n";
  return 0;
}

} // namespace txl::tune
