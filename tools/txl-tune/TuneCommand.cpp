//===- TuneCommand.cpp - txl-tune MODEL --db FILE --budget 10m
//-------------===//
//
// Builds the model's kernels as txlc would, then runs the search
// (txl/tuner/Search.h) with the real planner (txl-tile) and measurer (a
// compile child and a worker process), storing every measurement in the
// database as it is made. Ctrl-C stops after the batch in flight (its
// finished measurements are already stored) and prints the report; running
// the same command again resumes: measured schedules are skipped and the
// budget counts what earlier sessions of that command spent.
//
//===----------------------------------------------------------------------===//

#include "Commands.h"

#include "txl/models/ModelConfig.h"
#include "txl/tuner/ContentHash.h"
#include "txl/tuner/DatabaseStore.h"
#include "txl/tuner/KernelMeasurer.h"
#include "txl/tuner/KernelPlanner.h"
#include "txl/tuner/Report.h"
#include "txl/tuner/TuningDatabase.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <regex>
#include <unistd.h>

namespace txl::tune {
namespace {

std::atomic<bool> interrupted{false};

void onInterrupt(int) {
  interrupted.store(true);
  // A second Ctrl-C ends at once (what is stored stays stored).
  std::signal(SIGINT, SIG_DFL);
}

class WallClock : public tuner::Clock {
public:
  double now() override {
    return std::chrono::duration<double>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
};

std::string clockText(double seconds) {
  int s = int(std::max(0.0, seconds));
  char text[16];
  std::snprintf(text, sizeof text, "%02d:%02d", s / 60, s % 60);
  return text;
}

std::string selfPath() {
  char buffer[4096];
  ssize_t n = readlink("/proc/self/exe", buffer, sizeof buffer - 1);
  return n > 0 ? std::string(buffer, size_t(n)) : "txl-tune";
}

tuner::MachineRow thisMachine(const std::string &targetName,
                              const std::string &targetCache) {
  tuner::MachineRow m;
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("model name", 0) == 0) {
      m.cpu = line.substr(line.find(':') + 2);
      break;
    }
  auto info = target::parseTarget("host", targetCache);
  if (info.ok()) {
    m.caches = "l1d=" + std::to_string(info->caches.l1d) +
               ",l2=" + std::to_string(info->caches.l2) +
               ",l3=" + std::to_string(info->caches.l3);
    m.cores = info->cores;
  }
  m.id = tuner::contentHash(m.cpu + "\n" + m.caches + "\n" +
                            std::to_string(m.cores) + "\n" + targetName);
  return m;
}

} // namespace

int runTune(const std::vector<std::string> &argv) {
  std::set<std::string> values = modelValueOptions();
  values.insert({"budget", "kernels", "seed", "work-dir", "batch-candidates",
                 "rounds", "memory-length", "compile-timeout", "run-timeout",
                 "freeze-after", "workload"});
  auto args = Arguments::parse(argv, values, modelFlagOptions());
  if (!args.ok())
    return fail(args.status().message());
  if (!args->has("db"))
    return fail("--db FILE (or postgresql://...) is required");
  auto budget = parseDuration(args->get("budget", "10m"));
  if (!budget.ok())
    return fail("--budget: " + budget.status().message());
  auto seed = args->integer("seed", 1);
  auto threads = args->integer("threads", 1);
  auto batchCandidates = args->integer("batch-candidates", 6);
  auto rounds = args->integer("rounds", 9);
  auto freezeAfter = args->integer("freeze-after", 12);
  auto memoryLength = args->integer("memory-length", -1);
  auto compileTimeout = args->number("compile-timeout", 180);
  auto runTimeout = args->number("run-timeout", 120);
  for (const Status *s :
       {&seed.status(), &threads.status(), &batchCandidates.status(),
        &rounds.status(), &freezeAfter.status(), &memoryLength.status(),
        &compileTimeout.status(), &runTimeout.status()})
    if (!s->isOk())
      return fail(s->message());
  if (*threads < 1 || *batchCandidates < 1 || *rounds < 3)
    return fail("--threads and --batch-candidates must be at least 1, "
                "--rounds at least 3");
  std::optional<std::regex> pattern;
  if (args->has("kernels")) {
    try {
      pattern.emplace(args->get("kernels", ""));
    } catch (const std::regex_error &e) {
      return fail("--kernels: not a regular expression: " +
                  args->get("kernels", ""));
    }
  }
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

  // The memory length: every index scalar of a step kernel is the number
  // of valid memory rows; time at a full memory (the steady state).
  int64_t scalarValue = *memoryLength;
  if (scalarValue < 0) {
    std::string path = source.path;
    if (llvm::sys::fs::is_directory(path))
      path += "/config.json";
    scalarValue = 0;
    if (!llvm::StringRef(path).ends_with(".mlir")) {
      std::ifstream in(path);
      std::string text((std::istreambuf_iterator<char>(in)), {});
      if (auto config = ModelConfig::fromJsonString(text, path); config.ok())
        scalarValue = config->mem_len;
    }
  }

  auto db = tuner::TuningDatabase::open(args->get("db", ""), /*create=*/true);
  if (!db.ok())
    return fail(db.status().message());

  // The tasks.
  std::vector<std::unique_ptr<tuner::KernelPlanner>> planners;
  std::vector<tuner::SearchTask> tasks;
  std::vector<mlir::func::FuncOp> kernels;
  std::vector<tuner::KernelTask> chosen;
  for (tuner::KernelTask &task : model->tasks) {
    if (pattern && !std::regex_search(task.key.label, *pattern))
      continue;
    if (args->has("workload") && task.key.hash != args->get("workload", ""))
      continue;
    auto planner = tuner::KernelPlanner::create(
        task.kernel, source.lowering.target, source.lowering.targetCache);
    if (!planner.ok())
      return fail(planner.status().message());
    Status status =
        (*db)->addWorkload({task.key.hash, task.key.label, task.key.signature,
                            task.key.canonical});
    if (!status.isOk())
      return fail(status.message());
    tuner::SearchTask searchTask;
    searchTask.key = task.key.hash;
    searchTask.label = task.key.label;
    searchTask.weight = task.weight;
    searchTask.planner = planner->get();
    planners.push_back(std::move(*planner));
    tasks.push_back(searchTask);
    kernels.push_back(task.outlined);
    chosen.push_back(task);
  }
  if (tasks.empty())
    return fail(args->has("workload")
                    ? "no kernel of the model has --workload " +
                          args->get("workload", "")
                    : "no kernel matches --kernels '" +
                          args->get("kernels", "") + "'");

  // The session; the same command (argv) resumes its budget.
  std::string command;
  for (const std::string &a : argv)
    command += a + '\0';
  tuner::MachineRow machine = thisMachine(*target, source.lowering.targetCache);
  tuner::SessionRow session;
  session.id = tuner::newId();
  session.started = tuner::utcNow();
  for (const std::string &a : argv)
    session.argv += (session.argv.empty() ? "" : " ") + a;
  session.commandHash = tuner::contentHash(command);
  session.budgetSeconds = *budget;
  session.seed = *seed;
  session.machine = machine.id;
  session.halideVersion = tuner::halideVersion();
  session.txlVersion = tuner::txlVersion();
  auto spent = (*db)->spentBy(session.commandHash);
  if (!spent.ok())
    return fail(spent.status().message());
  for (Status s : {(*db)->addMachine(machine), (*db)->addSession(session)})
    if (!s.isOk())
      return fail(s.message());

  std::string workDir = args->get("work-dir", "");
  if (workDir.empty()) {
    std::string db = args->get("db", "");
    workDir = tuner::isPostgresUrl(db) ? "/tmp/txl-tune-work" : db + ".work";
  }
  tuner::MeasureOptions measure;
  measure.target = source.lowering.target;
  measure.threads = int(*threads);
  measure.tunerPath = selfPath();
  measure.workerPath =
      (llvm::sys::path::parent_path(measure.tunerPath) + "/txl-tune-worker")
          .str();
  measure.workDir = workDir;
  measure.compileTimeout = *compileTimeout;
  measure.runTimeout = *runTimeout;
  measure.rounds = int(*rounds);
  measure.scalarValue = scalarValue;
  measure.seed = uint64_t(*seed);
  measure.stop = &interrupted;
  if (auto info = target::parseTarget("host", source.lowering.targetCache);
      info.ok() && info->caches.l3 > 0)
    measure.coldBytes = 2 * info->caches.l3;
  tuner::KernelMeasurer measurer(kernels, measure);
  if (Status s = measurer.prepare(); !s.isOk())
    return fail(s.message());

  std::cerr << "txl-tune: " << model->kernelCount << " kernels, "
            << model->tasks.size() << " distinct, tuning " << tasks.size()
            << " on " << *target << " at " << *threads << " thread(s); budget "
            << clockText(*budget);
  if (*spent > 0)
    std::cerr << ", " << clockText(*spent) << " spent by earlier sessions of "
              << "this command (resuming)";
  std::cerr << "\n";

  std::signal(SIGINT, onInterrupt);
  tuner::DatabaseStore store(**db, session.id, *target, *threads, &interrupted);
  tuner::SearchOptions options;
  options.budgetSeconds = *budget;
  options.spentBefore = *spent;
  options.seed = uint64_t(*seed);
  options.batchSize = int(*batchCandidates);
  options.freezeAfter = int(*freezeAfter);
  options.stop = &interrupted;
  WallClock clock;
  tuner::Search search(tasks, measurer, store, clock, options);
  bool tty = isatty(2);
  auto results = search.run([&](const tuner::SearchProgress &p) {
    const tuner::TaskProgress &task = p.perTask[p.task];
    char line[256];
    std::snprintf(line, sizeof line,
                  "[%s/%s] task %zu/%zu %-18s cand %-4d best %.3fx%s  ETA %s",
                  clockText(p.elapsed).c_str(), clockText(p.budget).c_str(),
                  p.task + 1, p.tasks, task.label.c_str(), p.candidates,
                  1 / task.bestRatio, task.frozen ? " (frozen)" : "",
                  clockText(p.budget - p.elapsed).c_str());
    std::cerr << (tty ? "\r\033[K" : "") << line << (tty ? "" : "\n")
              << std::flush;
  });
  if (tty)
    std::cerr << "\n";
  std::signal(SIGINT, SIG_DFL);
  if (!store.error().isOk())
    return fail("the database: " + store.error().message());
  if (interrupted)
    std::cerr << "txl-tune: interrupted; every finished measurement is in "
              << args->get("db", "") << " (the same command resumes)\n";

  auto report = tuner::buildReport(**db, chosen, *target, *threads);
  if (!report.ok())
    return fail(report.status().message());
  std::cout << tuner::formatReport(*report);
  return 0;
}

} // namespace txl::tune
