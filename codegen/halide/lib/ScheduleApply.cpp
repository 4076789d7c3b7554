//===- ScheduleApply.cpp - a KernelSchedule as Halide directives ----------===//
//
// Each stage's loop nest is tracked by name (outermost first, with constant
// extents where known) while directives are applied, so a schedule that
// names a loop that does not exist fails here with the names that do, not
// deep inside Halide. The default schedule lives here too.
//
//===----------------------------------------------------------------------===//

#include "txl/codegen/halide/KernelTranslator.h"
#include "txl/codegen/halide/Schedule.h"

#include <algorithm>
#include <map>

namespace txl::codegen::halide {
namespace {

Halide::TailStrategy tailStrategy(TailKind kind) {
  switch (kind) {
  case TailKind::Auto:
    return Halide::TailStrategy::Auto;
  case TailKind::Guard:
    return Halide::TailStrategy::GuardWithIf;
  case TailKind::ShiftInwards:
    return Halide::TailStrategy::ShiftInwards;
  case TailKind::RoundUp:
    return Halide::TailStrategy::RoundUp;
  case TailKind::Predicate:
    return Halide::TailStrategy::Predicate;
  }
  return Halide::TailStrategy::GuardWithIf;
}

struct Loop {
  std::string name;
  Halide::VarOrRVar var;
  int64_t extent = -1; // -1: not a known constant
  bool isRVar = false;
  int contiguity = 0;
};

int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

/// One definition of a Func and its loop nest, as directives change it.
class StageScheduler {
public:
  StageScheduler(Halide::Stage stage, std::string what, std::vector<Loop> loops,
                 TailKind defaultTail)
      : stage(std::move(stage)), what(std::move(what)), loops(std::move(loops)),
        defaultTail(defaultTail) {}

  const std::vector<Loop> &nest() const { return loops; }
  Halide::Stage &halideStage() {
    touched = true;
    return stage;
  }
  /// Tells Halide that an update stage left without directives is meant so
  /// (it warns otherwise).
  void finishUpdate() {
    if (!touched)
      stage.unscheduled();
  }

  Status apply(const StageSchedule &schedule, bool gpu) {
    for (const LoopSplit &split : schedule.tile)
      if (Status s = this->split(split); !s.isOk())
        return s;
    if (!schedule.tile.empty()) {
      // Outer loops first, then the tile's inner loops, each in nest order.
      std::vector<std::string> outer, inner;
      for (const Loop &loop : loops) {
        bool isInner = std::any_of(
            schedule.tile.begin(), schedule.tile.end(),
            [&](const LoopSplit &s) { return s.inner == loop.name; });
        (isInner ? inner : outer).push_back(loop.name);
      }
      outer.insert(outer.end(), inner.begin(), inner.end());
      if (Status s = reorder(outer); !s.isOk())
        return s;
    }
    for (const LoopSplit &split : schedule.splits)
      if (Status s = this->split(split); !s.isOk())
        return s;
    if (!schedule.order.empty())
      if (Status s = reorder(schedule.order); !s.isOk())
        return s;
    for (const LoopFuse &fuse : schedule.fuses)
      if (Status s = this->fuse(fuse); !s.isOk())
        return s;
    if (schedule.rfactor)
      if (Status s = rfactor(*schedule.rfactor); !s.isOk())
        return s;
    // Before vectorize and parallel, which Halide refuses on reduction
    // loops of a stage not (yet) marked atomic.
    if (schedule.atomic)
      halideStage().atomic();
    if (schedule.gpuTile) {
      if (!gpu)
        return error("gpu_tile needs a GPU target (e.g. "
                     "host-cuda-cuda_capability_86)");
      if (Status s = gpuTile(*schedule.gpuTile); !s.isOk())
        return s;
    }
    for (const LoopAnnotation &v : schedule.vectorize)
      if (Status s = vectorize(v.loop, v.factor, v.tail); !s.isOk())
        return s;
    for (const LoopAnnotation &u : schedule.unroll)
      if (Status s = unroll(u.loop, u.factor, u.tail); !s.isOk())
        return s;
    for (const std::string &name : schedule.parallel)
      if (Status s = parallel(name); !s.isOk())
        return s;
    return Status::ok();
  }

  Status split(const LoopSplit &split) {
    int i = find(split.loop);
    if (i < 0)
      return unknownLoop(split.loop);
    if (find(split.inner) >= 0)
      return error("split of '" + split.loop + "': a loop named '" +
                   split.inner + "' exists already");
    Loop outer = loops[i], inner = loops[i];
    inner.name = split.inner;
    inner.var = Halide::VarOrRVar(split.inner, loops[i].isRVar);
    halideStage().split(loops[i].var, outer.var, inner.var,
                        static_cast<int>(split.factor),
                        tailStrategy(split.tail.value_or(defaultTail)));
    outer.extent = outer.extent < 0 ? -1 : ceilDiv(outer.extent, split.factor);
    inner.extent = split.factor;
    loops[i] = outer;
    loops.insert(loops.begin() + i + 1, inner);
    return Status::ok();
  }

  /// See ReductionFactor. Needs the Func (setFunc): the intermediate is
  /// computed at its innermost pure loop of this stage.
  Status rfactor(const ReductionFactor &factor) {
    if (!func.defined())
      return error("rfactor applies to an update stage");
    int i = find(factor.loop);
    if (i < 0)
      return unknownLoop(factor.loop);
    if (!loops[i].isRVar)
      return error("rfactor: '" + factor.loop + "' is not a reduction loop");
    int innerPure = -1;
    for (int k = 0; k < static_cast<int>(loops.size()); ++k)
      if (!loops[k].isRVar)
        innerPure = k;
    if (innerPure < 0)
      return error("rfactor: the stage has no pure loop to compute the "
                   "lanes at");
    LoopSplit split;
    split.loop = factor.loop;
    split.factor = factor.width;
    split.inner = factor.loop + "i";
    split.tail = TailKind::Guard;
    if (Status s = this->split(split); !s.isOk())
      return s;
    Halide::Var lane(factor.loop + "_lane");
    Halide::Func lanes =
        halideStage().rfactor(loops[find(split.inner)].var.rvar, lane);
    lanes.compute_at(Halide::LoopLevel(func, loops[innerPure].var, stageIndex))
        .vectorize(lane, static_cast<int>(factor.width));
    lanes.update(0).vectorize(lane, static_cast<int>(factor.width));
    // The stage now adds up the lanes: what was split is gone.
    loops.erase(loops.begin() + find(split.inner));
    loops.erase(loops.begin() + find(factor.loop));
    return Status::ok();
  }

  /// The Func and stage index, for directives that create Funcs computed
  /// inside this stage (rfactor).
  void setFunc(Halide::Func f, int stage) {
    func = f;
    stageIndex = stage;
  }

  Status fuse(const LoopFuse &fuse) {
    int o = find(fuse.outer), i = find(fuse.inner);
    if (o < 0)
      return unknownLoop(fuse.outer);
    if (i < 0)
      return unknownLoop(fuse.inner);
    if (find(fuse.fused) >= 0 && fuse.fused != fuse.outer &&
        fuse.fused != fuse.inner)
      return error("fuse: a loop named '" + fuse.fused + "' exists already");
    if (i != o + 1)
      return error("fuse: '" + fuse.inner +
                   "' must be the loop immediately inside '" + fuse.outer +
                   "' (order them first)");
    Loop fused = loops[o];
    fused.name = fuse.fused;
    fused.isRVar = loops[o].isRVar || loops[i].isRVar;
    fused.var = Halide::VarOrRVar(fuse.fused, fused.isRVar);
    fused.extent = loops[o].extent < 0 || loops[i].extent < 0
                       ? -1
                       : loops[o].extent * loops[i].extent;
    halideStage().fuse(loops[i].var, loops[o].var, fused.var);
    loops[o] = fused;
    loops.erase(loops.begin() + i);
    return Status::ok();
  }

  /// `order` is outermost first; its loops are permuted among the positions
  /// they occupy.
  Status reorder(const std::vector<std::string> &order) {
    std::vector<int> positions;
    for (const std::string &name : order) {
      int i = find(name);
      if (i < 0)
        return unknownLoop(name);
      if (std::count(order.begin(), order.end(), name) > 1)
        return error("order names '" + name + "' twice");
      positions.push_back(i);
    }
    std::vector<Halide::VarOrRVar> innermostFirst;
    for (auto it = order.rbegin(); it != order.rend(); ++it)
      innermostFirst.push_back(loops[find(*it)].var);
    if (innermostFirst.size() > 1)
      halideStage().reorder(innermostFirst);
    std::vector<Loop> moved;
    for (const std::string &name : order)
      moved.push_back(loops[find(name)]);
    std::sort(positions.begin(), positions.end());
    for (size_t k = 0; k < positions.size(); ++k)
      loops[positions[k]] = moved[k];
    return Status::ok();
  }

  Status gpuTile(const GpuTile &tile) {
    std::vector<int> indices;
    for (const std::string &name : tile.loops) {
      int i = find(name);
      if (i < 0)
        return unknownLoop(name);
      indices.push_back(i);
    }
    Halide::TailStrategy tail =
        tailStrategy(tile.tail.value_or(TailKind::Guard));
    // Halide wants the innermost loop first.
    std::vector<Loop> inner;
    for (size_t k = 0; k < tile.loops.size(); ++k) {
      Loop thread = loops[indices[k]];
      thread.name = tile.loops[k] + "_t";
      thread.var = Halide::VarOrRVar(thread.name, thread.isRVar);
      thread.extent = tile.sizes[k];
      inner.push_back(thread);
    }
    auto v = [&](size_t k) { return loops[indices[k]].var; };
    auto t = [&](size_t k) { return inner[k].var; };
    auto size = [&](size_t k) { return static_cast<int>(tile.sizes[k]); };
    size_t n = tile.loops.size();
    if (n == 1)
      halideStage().gpu_tile(v(0), v(0), t(0), size(0), tail);
    else if (n == 2)
      halideStage().gpu_tile(v(1), v(0), v(1), v(0), t(1), t(0), size(1),
                             size(0), tail);
    else
      halideStage().gpu_tile(v(2), v(1), v(0), v(2), v(1), v(0), t(2), t(1),
                             t(0), size(2), size(1), size(0), tail);
    // The nest becomes: other loops, blocks, threads.
    std::vector<Loop> rest, blocks;
    for (int i = 0; i < static_cast<int>(loops.size()); ++i) {
      auto k = std::find(indices.begin(), indices.end(), i);
      if (k == indices.end()) {
        rest.push_back(loops[i]);
        continue;
      }
      Loop block = loops[i];
      size_t which = k - indices.begin();
      block.extent =
          block.extent < 0 ? -1 : ceilDiv(block.extent, tile.sizes[which]);
      blocks.push_back(block);
    }
    loops = rest;
    loops.insert(loops.end(), blocks.begin(), blocks.end());
    loops.insert(loops.end(), inner.begin(), inner.end());
    return Status::ok();
  }

  Status vectorize(const std::string &name, int64_t width,
                   std::optional<TailKind> tail) {
    int i = find(name);
    if (i < 0)
      return unknownLoop(name);
    if (width == 0) {
      halideStage().vectorize(loops[i].var);
      loops.erase(loops.begin() + i);
      return Status::ok();
    }
    halideStage().vectorize(loops[i].var, static_cast<int>(width),
                            tailStrategy(tail.value_or(defaultTail)));
    if (loops[i].extent >= 0)
      loops[i].extent = ceilDiv(loops[i].extent, width);
    return Status::ok();
  }

  Status unroll(const std::string &name, int64_t factor,
                std::optional<TailKind> tail) {
    int i = find(name);
    if (i < 0)
      return unknownLoop(name);
    if (factor == 0) {
      halideStage().unroll(loops[i].var);
      loops.erase(loops.begin() + i);
      return Status::ok();
    }
    halideStage().unroll(loops[i].var, static_cast<int>(factor),
                         tailStrategy(tail.value_or(defaultTail)));
    if (loops[i].extent >= 0)
      loops[i].extent = ceilDiv(loops[i].extent, factor);
    return Status::ok();
  }

  Status parallel(const std::string &name) {
    int i = find(name);
    if (i < 0)
      return unknownLoop(name);
    halideStage().parallel(loops[i].var);
    return Status::ok();
  }

  int find(const std::string &name) const {
    for (size_t i = 0; i < loops.size(); ++i)
      if (loops[i].name == name)
        return static_cast<int>(i);
    return -1;
  }

  Status error(const std::string &message) const {
    return Status::error(what + ": " + message);
  }

  Status unknownLoop(const std::string &name) const {
    std::string names;
    for (const Loop &loop : loops)
      names += (names.empty() ? "" : ", ") + loop.name;
    return error("no loop named '" + name + "' (loops, outermost first: " +
                 (names.empty() ? "none" : names) + ")");
  }

private:
  Halide::Stage stage;
  Halide::Func func;
  int stageIndex = 0;
  bool touched = false;
  std::string what;
  std::vector<Loop> loops;
  TailKind defaultTail;
};

/// The default vector width for a loop of `extent` iterations: the target's
/// width, or the largest power of two that fits a short loop; 0 for loops
/// too short to be worth it.
int64_t defaultWidth(int64_t extent, int naturalWidth) {
  if (extent >= 0 && extent < 4)
    return 0;
  int64_t width = naturalWidth;
  while (extent >= 0 && width > extent)
    width /= 2;
  return width >= 2 ? width : 0;
}

/// Default CPU schedule of a stage: vectorize `vectorLoop` (if any) and,
/// with `allowParallel` (the Func is computed at root), run the outermost
/// other loop with more than one iteration in parallel.
Status defaultCpuStage(StageScheduler &stage, const std::string &vectorLoop,
                       int naturalWidth, bool allowParallel) {
  if (!vectorLoop.empty()) {
    int i = stage.find(vectorLoop);
    int64_t width = defaultWidth(stage.nest()[i].extent, naturalWidth);
    if (width > 0)
      if (Status s = stage.vectorize(vectorLoop, width, TailKind::Guard);
          !s.isOk())
        return s;
  }
  for (const Loop &loop : stage.nest()) {
    if (!allowParallel)
      break;
    if (loop.isRVar || loop.name == vectorLoop)
      continue;
    if (loop.extent < 0 || loop.extent >= 2)
      return stage.parallel(loop.name);
  }
  return Status::ok();
}

/// Default GPU schedule of a stage: the two innermost pure loops become a
/// 2-D grid of 32x8 thread blocks (a 1-D one of 64 for a single loop), any
/// outer pure loops are fused into a third block dimension, and reduction
/// loops run serially inside each thread.
Status defaultGpuStage(StageScheduler &stage) {
  std::vector<std::string> pure;
  for (const Loop &loop : stage.nest())
    if (!loop.isRVar)
      pure.push_back(loop.name);
  if (pure.empty()) {
    stage.halideStage().gpu_single_thread();
    return Status::ok();
  }
  GpuTile tile;
  if (pure.size() == 1) {
    tile.loops = {pure[0]};
    tile.sizes = {64};
  } else {
    tile.loops = {pure[pure.size() - 2], pure.back()};
    tile.sizes = {8, 32};
  }
  // Fuse the loops outside the tile into one.
  std::string outer;
  for (size_t i = 0; i + tile.loops.size() < pure.size(); ++i) {
    if (outer.empty()) {
      outer = pure[i];
      continue;
    }
    LoopFuse fuse{outer, pure[i], outer + "_" + pure[i]};
    if (Status s = stage.fuse(fuse); !s.isOk())
      return s;
    outer = fuse.fused;
  }
  if (Status s = stage.gpuTile(tile); !s.isOk())
    return s;
  if (!outer.empty())
    stage.halideStage().gpu_blocks(stage.nest()[stage.find(outer)].var);
  return Status::ok();
}

/// The loops of a generic's pure stage, outermost first.
std::vector<Loop> pureLoops(const TranslatedGeneric &generic) {
  std::vector<Loop> loops;
  for (unsigned l : generic.outputLoops) {
    const GenericLoop &info = generic.loops[l];
    loops.push_back(
        {info.name, generic.vars[l], info.extent, false, info.contiguity});
  }
  return loops;
}

/// The loops of a generic's update stage as Halide first orders them: pure
/// loops outside, reduction loops inside (in linalg order).
std::vector<Loop> updateLoops(const TranslatedGeneric &generic) {
  std::vector<Loop> loops = pureLoops(generic);
  for (size_t l = 0; l < generic.loops.size(); ++l) {
    if (generic.rdomDim[l] < 0)
      continue;
    const GenericLoop &info = generic.loops[l];
    loops.push_back({info.name, generic.rdom[generic.rdomDim[l]], info.extent,
                     true, info.contiguity});
  }
  return loops;
}

/// Which loop the default update schedule vectorizes: the output's
/// innermost loop, moved inside the reduction loops, when it suits the
/// innermost position at least as well as the innermost reduction loop
/// (e.g. `C[i,j] += A[i,k] * B[k,j]`); none when the reduction runs along
/// the operands' contiguous dimension (row sums, dot products).
std::string updateVectorLoop(const TranslatedGeneric &generic,
                             StageScheduler &stage, int naturalWidth) {
  if (generic.outputLoops.empty())
    return "";
  const GenericLoop &x = generic.loops[generic.outputLoops.back()];
  int bestReduction = -1000;
  for (size_t l = 0; l < generic.loops.size(); ++l)
    if (generic.loops[l].reduction)
      bestReduction = std::max(bestReduction, generic.loops[l].contiguity);
  if (x.contiguity < bestReduction || defaultWidth(x.extent, naturalWidth) == 0)
    return "";
  std::vector<std::string> order;
  for (const Loop &loop : stage.nest())
    if (loop.name != x.name)
      order.push_back(loop.name);
  order.push_back(x.name);
  if (!stage.reorder(order).isOk())
    return "";
  return x.name;
}

struct Scheduled {
  Halide::Func func;
  bool isOutput = false;
  bool hasUpdate = false;
  std::vector<std::vector<Loop>> stageNests; // per stage, after scheduling
};

class KernelScheduler {
public:
  KernelScheduler(const KernelSchedule &schedule, TranslatedKernel &kernel,
                  bool gpu, int naturalWidth)
      : schedule(schedule), kernel(kernel), gpu(gpu),
        naturalWidth(naturalWidth) {}

  Status run() {
    if (Status s = checkNames(); !s.isOk())
      return s;
    for (TranslatedGeneric &generic : kernel.generics)
      if (Status s = scheduleGeneric(generic); !s.isOk())
        return s;
    for (const ResultCopy &copy : kernel.copies)
      if (Status s = scheduleCopy(copy); !s.isOk())
        return s;
    // Compute locations last: they refer to loops of other Funcs.
    for (auto &[func, location, owner, what] : pendingAt)
      if (Status s = computeAt(func, location, owner, what); !s.isOk())
        return s;
    return Status::ok();
  }

private:
  Status checkNames() const {
    for (const FuncSchedule &entry : schedule.funcs) {
      bool found = false;
      for (const TranslatedGeneric &generic : kernel.generics)
        found |= entry.name == generic.name ||
                 entry.name == "#" + std::to_string(generic.position);
      if (found)
        continue;
      std::string names;
      for (const TranslatedGeneric &generic : kernel.generics)
        names += (names.empty() ? "" : ", ") + generic.name;
      return Status::error("the schedule names '" + entry.name +
                           "', which is not a generic of this kernel "
                           "(generics: " +
                           (names.empty() ? "none" : names) + ")");
    }
    return Status::ok();
  }

  /// Schedules `func`'s stages (pure: `pure`, update if `generic` has one)
  /// with `entry` or the default.
  Status scheduleStages(Halide::Func func, const TranslatedGeneric &generic,
                        bool withUpdate, const FuncSchedule *entry,
                        const std::string &what) {
    Scheduled &scheduled = funcs[func.name()];
    scheduled.func = func;
    scheduled.hasUpdate = withUpdate;
    if (entry && entry->compute.kind == ComputeLocation::Kind::Inline) {
      // An inlined Func has no loops of its own.
      if (entry->pure || entry->update)
        return Status::error(what + ": an inline Func takes no stage "
                                    "directives");
      return Status::ok();
    }
    // No nested parallelism inside a Func computed within another's loops.
    bool atRoot = !entry || entry->compute.kind != ComputeLocation::Kind::At;

    StageScheduler pure(func, what + " (pure stage)", pureLoops(generic),
                        schedule.defaultTail);
    if (entry && entry->pure) {
      if (Status s = pure.apply(*entry->pure, gpu); !s.isOk())
        return s;
    } else if (gpu) {
      if (Status s = defaultGpuStage(pure); !s.isOk())
        return s;
    } else {
      std::string inner = pure.nest().empty() ? "" : pure.nest().back().name;
      if (Status s = defaultCpuStage(pure, inner, naturalWidth, atRoot);
          !s.isOk())
        return s;
    }
    scheduled.stageNests.push_back(pure.nest());
    if (!withUpdate) {
      if (entry && entry->update)
        return Status::error(what + ": has no reduction loops, so no update "
                                    "stage to schedule");
      return Status::ok();
    }

    StageScheduler update(func.update(0), what + " (update stage)",
                          updateLoops(generic), schedule.defaultTail);
    // -1: Halide matches an explicit index of the last stage against nothing.
    update.setFunc(func, -1);
    if (entry && entry->update) {
      if (Status s = update.apply(*entry->update, gpu); !s.isOk())
        return s;
    } else if (gpu) {
      if (Status s = defaultGpuStage(update); !s.isOk())
        return s;
    } else {
      std::string vectorLoop = updateVectorLoop(generic, update, naturalWidth);
      if (Status s = defaultCpuStage(update, vectorLoop, naturalWidth, atRoot);
          !s.isOk())
        return s;
    }
    update.finishUpdate();
    scheduled.stageNests.push_back(update.nest());
    return Status::ok();
  }

  Status computeLocation(Halide::Func func, bool isOutput, bool hasUpdate,
                         const FuncSchedule *entry, const std::string &owner,
                         const std::string &what) {
    ComputeLocation location;
    if (entry)
      location = entry->compute;
    // The pure loop `loop` of `func` for field `field`, or an error.
    auto pureLoop = [&](const std::string &field, const std::string &loop,
                        Halide::Var &var) {
      std::vector<Halide::Var> args = func.args();
      auto found =
          std::find_if(args.begin(), args.end(),
                       [&](const Halide::Var &v) { return v.name() == loop; });
      if (found != args.end()) {
        var = *found;
        return Status::ok();
      }
      std::string names;
      for (const Halide::Var &v : args)
        names += (names.empty() ? "" : ", ") + v.name();
      return Status::error(what + ": " + field + " names loop '" + loop +
                           "', not one of its pure loops (" + names + ")");
    };
    if (entry) {
      Halide::Var var;
      for (const auto &[loop, extent] : entry->storage) {
        if (Status status = pureLoop("storage", loop, var); !status.isOk())
          return status;
        func.bound_storage(var, static_cast<int>(extent));
      }
      for (const auto &[loop, modulus] : entry->align) {
        if (Status status = pureLoop("align", loop, var); !status.isOk())
          return status;
        func.align_bounds(var, static_cast<int>(modulus));
      }
    }
    using Kind = ComputeLocation::Kind;
    if (isOutput && location.kind != Kind::Default &&
        location.kind != Kind::Root)
      return Status::error(what + ": is a result of the kernel, so it is "
                                  "computed at root");
    switch (location.kind) {
    case Kind::Default:
    case Kind::Root:
      func.compute_root();
      return Status::ok();
    case Kind::Inline:
      if (hasUpdate)
        return Status::error(what + ": has reduction loops and cannot be "
                                    "inlined");
      func.compute_inline();
      return Status::ok();
    case Kind::At:
      pendingAt.push_back({func, location, owner, what});
      return Status::ok();
    }
    return Status::ok();
  }

  Status computeAt(Halide::Func func, const ComputeLocation &location,
                   const std::string &owner, const std::string &what) {
    std::string consumerName = location.func.empty() ? owner : location.func;
    const TranslatedGeneric *consumer = nullptr;
    for (const TranslatedGeneric &generic : kernel.generics)
      if ("#" + std::to_string(generic.position) == consumerName)
        consumer = &generic;
    for (const TranslatedGeneric &generic : kernel.generics)
      if (!consumer && generic.name == consumerName)
        consumer = &generic;
    if (!consumer)
      return Status::error(what + ": compute_at names '" + consumerName +
                           "', which is not a generic of this kernel");
    const Scheduled &scheduled = funcs.at(consumer->func.name());
    int stage = location.stage;
    if (stage < 0)
      stage = static_cast<int>(scheduled.stageNests.size()) - 1;
    if (stage >= static_cast<int>(scheduled.stageNests.size()))
      return Status::error(what + ": compute_at names the update stage of '" +
                           consumerName + "', which has none");
    const std::vector<Loop> &nest = scheduled.stageNests[stage];
    auto loop = std::find_if(nest.begin(), nest.end(), [&](const Loop &l) {
      return l.name == location.loop;
    });
    if (loop == nest.end()) {
      std::string names;
      for (const Loop &l : nest)
        names += (names.empty() ? "" : ", ") + l.name;
      return Status::error(what + ": compute_at: '" + consumerName +
                           "' has no loop named '" + location.loop +
                           "' (loops, outermost first: " + names + ")");
    }
    // Halide matches an explicit stage index of the last stage against
    // nothing; -1 means that stage.
    bool last = stage + 1 == static_cast<int>(scheduled.stageNests.size());
    func.compute_at(
        Halide::LoopLevel(consumer->func, loop->var, last ? -1 : stage));
    return Status::ok();
  }

  Status scheduleGeneric(TranslatedGeneric &generic) {
    const FuncSchedule *entry = schedule.find(generic.name, generic.position);
    std::string what = "schedule of '" + generic.name + "'";
    if (entry && entry->accumulator && !generic.hasUpdate)
      return Status::error(what + ": an accumulator needs reduction loops");
    if (generic.staged) {
      // `func` is a pure copy of the accumulator.
      if (Status s = scheduleStages(generic.func, generic, false, entry, what);
          !s.isOk())
        return s;
      if (Status s = computeLocation(generic.func, generic.isOutput, false,
                                     entry, generic.name, what);
          !s.isOk())
        return s;
      const FuncSchedule *acc = entry->accumulator.get();
      std::string accWhat = "schedule of '" + generic.name + "' accumulator";
      if (Status s =
              scheduleStages(generic.accumulator, generic, true, acc, accWhat);
          !s.isOk())
        return s;
      // The owner by position: generics may share a name.
      return computeLocation(generic.accumulator, false, true, acc,
                             "#" + std::to_string(generic.position), accWhat);
    }
    if (Status s = scheduleStages(generic.func, generic, generic.hasUpdate,
                                  entry, what);
        !s.isOk())
      return s;
    return computeLocation(generic.func, generic.isOutput, generic.hasUpdate,
                           entry, generic.name, what);
  }

  Status scheduleCopy(const ResultCopy &copy) {
    Halide::Func func = copy.func;
    func.compute_root();
    std::vector<Loop> loops;
    std::vector<Halide::Var> args = func.args();
    for (size_t d = 0; d < copy.shape.size(); ++d)
      loops.push_back({"d" + std::to_string(d), args[copy.shape.size() - 1 - d],
                       copy.shape[d], false, 0});
    StageScheduler pure(func, "result copy '" + func.name() + "'", loops,
                        schedule.defaultTail);
    if (gpu)
      return defaultGpuStage(pure);
    return defaultCpuStage(pure, loops.empty() ? "" : loops.back().name,
                           naturalWidth, /*allowParallel=*/true);
  }

  struct PendingAt {
    Halide::Func func;
    ComputeLocation location;
    std::string owner;
    std::string what;
  };

  const KernelSchedule &schedule;
  TranslatedKernel &kernel;
  bool gpu;
  int naturalWidth;
  std::map<std::string, Scheduled> funcs;
  std::vector<PendingAt> pendingAt;
};

} // namespace

Status applySchedule(const KernelSchedule &schedule, TranslatedKernel &kernel,
                     bool gpu, int naturalVectorWidth) {
  return KernelScheduler(schedule, kernel, gpu, naturalVectorWidth).run();
}

} // namespace txl::codegen::halide
