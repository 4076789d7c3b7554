//===- TuningLookup.cpp - txl-tuning-lookup: stored schedules onto kernels ===//

#include "txl/tuner/TuningLookup.h"

#include "txl/Dialect/AttrNames.h"
#include "txl/schedule/ScheduleAttr.h"
#include "txl/tuner/ModelKernels.h"
#include "txl/tuner/TuningDatabase.h"

#include "mlir/AsmParser/AsmParser.h"

#include <nlohmann/json.hpp>

#include <map>

namespace txl::tuner {

std::string TuningLookupResult::summary() const {
  std::string text =
      std::to_string(hits) + "/" + std::to_string(kernels) + " kernels hit";
  std::string parts;
  for (const auto &[db, count] : kernelsPerDatabase)
    parts += (parts.empty() ? "" : ", ") + db + ": " + std::to_string(count);
  if (!parts.empty())
    text += " (" + parts + ")";
  return text;
}

std::string TuningLookupResult::json(const TuningLookupOptions &options) const {
  nlohmann::json hitsJson = nlohmann::json::object();
  for (const Hit &hit : hitList)
    hitsJson[hit.workload] = {{"kernel", hit.label},
                              {"record", hit.record},
                              {"database", hit.database}};
  nlohmann::json out = {{"databases", options.databases},
                        {"threads", options.threads},
                        {"kernels", kernels},
                        {"hits", hitsJson}};
  return out.dump();
}

namespace {

struct TuningLookupPass
    : public mlir::PassWrapper<TuningLookupPass,
                               mlir::OperationPass<mlir::ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(TuningLookupPass)
  TuningLookupPass(TuningLookupOptions options, TuningLookupResult *result)
      : options(std::move(options)), result(result) {}
  llvm::StringRef getArgument() const override { return "txl-tuning-lookup"; }

  void runOnOperation() override {
    mlir::ModuleOp module = getOperation();
    TuningLookupResult local;
    TuningLookupResult &found = result ? *result : local;
    found = TuningLookupResult();
    auto info = target::parseTarget(options.target, options.targetCache);
    if (!info.ok()) {
      found.failed = true;
      mlir::emitError(module.getLoc())
          << "txl-tuning-lookup: " << info.status().message();
      return signalPassFailure();
    }
    std::string targetName = targetKey(*info);
    std::vector<std::unique_ptr<TuningDatabase>> dbs;
    for (const std::string &location : options.databases) {
      auto db = TuningDatabase::open(location, /*create=*/false);
      if (!db.ok()) {
        found.failed = true;
        mlir::emitError(module.getLoc())
            << "--tuning-db: " << db.status().message();
        return signalPassFailure();
      }
      dbs.push_back(std::move(*db));
    }
    // One answer per workload: the layers share it.
    struct Answer {
      mlir::Attribute schedule;
      TuningLookupResult::Hit hit;
    };
    std::map<std::string, std::optional<Answer>> answers;
    std::set<std::string> missed, hitWorkloads;
    bool failedQuery = false;
    for (auto &[function, kernel] : kernelsInCallOrder(module)) {
      ++found.kernels;
      WorkloadKey key = workloadKey(kernel);
      auto it = answers.find(key.hash);
      if (it == answers.end()) {
        std::optional<Answer> answer;
        for (size_t d = 0; d < dbs.size() && !answer; ++d) {
          auto best = dbs[d]->best(key.hash, targetName, options.threads);
          if (!best.ok()) {
            mlir::emitError(kernel.getLoc())
                << "txl-tuning-lookup: " << best.status().message();
            failedQuery = true;
            break;
          }
          if (!*best)
            continue;
          const RecordRow &record = (*best)->record;
          mlir::Attribute attr =
              mlir::parseAttribute(record.schedule, &getContext());
          auto dict = llvm::dyn_cast_or_null<mlir::DictionaryAttr>(attr);
          if (!dict || !schedule::parseSchedule(dict).ok()) {
            mlir::emitWarning(kernel.getLoc())
                << "txl-tuning-lookup: " << options.databases[d] << ": record "
                << record.id << " of " << key.label
                << ": its schedule no longer parses; left to the heuristic";
            continue;
          }
          answer = Answer{dict,
                          {key.label, key.hash, record.id, options.databases[d],
                           (*best)->meanRatio}};
        }
        it = answers.emplace(key.hash, answer).first;
      }
      if (!it->second) {
        if (missed.insert(key.hash).second)
          found.misses.push_back(key.label + " (" + function + ", " +
                                 key.hash.substr(0, 12) + ")");
        continue;
      }
      kernel->setAttr(attr::kSchedule, it->second->schedule);
      kernel->setAttr(attr::kTarget,
                      mlir::StringAttr::get(&getContext(), options.target));
      ++found.hits;
      ++found.kernelsPerDatabase[it->second->hit.database];
      if (hitWorkloads.insert(key.hash).second)
        found.hitList.push_back(it->second->hit);
    }
    if (failedQuery) {
      found.failed = true;
      return signalPassFailure();
    }
    if (options.require && found.hits < found.kernels) {
      std::string list;
      for (const std::string &m : found.misses)
        list += "\n  " + m;
      found.failed = true;
      mlir::emitError(module.getLoc())
          << "--tuning-db-require: " << found.kernels - found.hits << " of "
          << found.kernels << " kernels have no record for target "
          << targetName << " at " << options.threads << " thread(s):" << list;
      return signalPassFailure();
    }
  }

  TuningLookupOptions options;
  TuningLookupResult *result;
};

} // namespace

std::unique_ptr<mlir::Pass> createTuningLookupPass(TuningLookupOptions options,
                                                   TuningLookupResult *result) {
  return std::make_unique<TuningLookupPass>(std::move(options), result);
}

} // namespace txl::tuner
