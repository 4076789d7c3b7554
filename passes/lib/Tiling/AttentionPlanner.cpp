//===- AttentionPlanner.cpp - the fused relative attention, per tile ------===//
//
// The fused attention kernel of DecomposeAttention (`attention.core`:
// scores -> mask -> max -> exp -> sum -> values -> normalise, loops
// (b, h, t, j, c) for scores, (b, t, h, c, j) for values, the result
// normalise [B, T, H, Dh]). Computed at root, every stage would stream
// several [B, H, T, K] tensors through memory. Instead the result is cut
// into tiles of (batch, head, AttentionKnobs::queryRows query rows), run in
// parallel (across heads, not inside one), and every stage is computed per
// tile: the tile's block of scores stays in L1/L2 between the stages.
//
//===----------------------------------------------------------------------===//

#include "KernelPlan.h"

#include "txl/Dialect/AttrNames.h"
#include "txl/Dialect/KernelRoles.h"

using namespace mlir;

namespace txl::tiling {
namespace {

namespace role = txl::roles::attention;

class AttentionPlanner {
public:
  AttentionPlanner(KernelPlan &plan, const PlanContext &context)
      : plan(plan), knobs(context.knobs.attention), width(context.width) {}

  bool run() {
    static constexpr const char *kStages[] = {role::kKeyRowsByHead,
                                              role::kKeysByHead,
                                              role::kValuesByHead,
                                              role::kContentQueries,
                                              role::kPositionQueries,
                                              role::kScores,
                                              role::kPositionScores,
                                              role::kMask,
                                              role::kMax,
                                              role::kExp,
                                              role::kSum,
                                              role::kValues,
                                              role::kNormalise};
    for (auto [i, generic] : llvm::enumerate(plan.generics))
      if (auto name = generic->getAttrOfType<StringAttr>(attr::kGenericName))
        index[name.getValue()] = i;
    // Present where distances are clamped (clamp_len).
    bool clamped = index.count(role::kClampedPositionScores) &&
                   plan.keys[index[role::kClampedPositionScores]] ==
                       role::kClampedPositionScores;
    if (plan.generics.size() != std::size(kStages) + (clamped ? 1 : 0) ||
        width <= 1)
      return false;
    for (StringRef stage : kStages)
      if (!index.count(stage) || plan.keys[index[stage]] != stage)
        return false;
    std::optional<unsigned> result = plan.singleResult();
    if (!result || *result != index[role::kNormalise])
      return false;
    // The loop structure this schedule names.
    auto hasLoops = [&](StringRef stage, unsigned loops, unsigned reductions) {
      linalg::GenericOp g = plan.generics[index[stage]];
      return g.getNumLoops() == loops && g.getNumReductionLoops() == reductions;
    };
    if (!hasLoops(role::kKeyRowsByHead, 4, 0) ||
        !hasLoops(role::kKeysByHead, 4, 0) ||
        !hasLoops(role::kValuesByHead, 4, 0) ||
        !hasLoops(role::kContentQueries, 4, 0) ||
        !hasLoops(role::kPositionQueries, 4, 0) ||
        !hasLoops(role::kScores, 5, 1) ||
        !hasLoops(role::kPositionScores, 5, 1) ||
        !hasLoops(role::kMask, 4, 0) || !hasLoops(role::kMax, 4, 1) ||
        !hasLoops(role::kExp, 4, 0) || !hasLoops(role::kSum, 4, 1) ||
        !hasLoops(role::kValues, 5, 1) || !hasLoops(role::kNormalise, 4, 0) ||
        (clamped && !hasLoops(role::kClampedPositionScores, 4, 0)))
      return false;
    planStages(clamped);
    return true;
  }

private:
  FuncSchedule &entry(StringRef stage) {
    FuncSchedule &e = plan.entries[index[stage]];
    e = FuncSchedule();
    e.name = stage.str();
    return e;
  }
  ComputeLocation at(const std::string &loop) {
    return computedAt(role::kNormalise, loop);
  }
  int64_t extentOf(StringRef stage, unsigned loop) {
    return plan.generics[index[stage]].getStaticLoopRanges()[loop];
  }
  static std::vector<std::pair<std::string, int64_t>>
  storage(const std::string &loop, int64_t extent) {
    return {{loop, extent}};
  }

  void planStages(bool clamped) {
    int64_t queryRows = knobs.queryRows;
    // The keys the reductions start from depend on the memory rows held (a
    // runtime bound: the rows not yet held are skipped), so regions along
    // the keys are known only at run time: storage keeps the static extent
    // (accumulators: their block), so buffers keep a constant size and the
    // accumulators stay in registers.

    // normalise (b=d0, t=d1, h=d2, c=d3): threads take heads; each head goes
    // by in tiles of queryRows query rows.
    {
      FuncSchedule &e = entry(role::kNormalise);
      e.compute.kind = ComputeLocation::Kind::Root;
      StageSchedule pure;
      pure.splits = {split("d1", queryRows, "d1i", TailKind::Guard)};
      pure.order = {"d0", "d2", "d1", "d1i", "d3"};
      pure.fuses = {LoopFuse{"d0", "d2", "head"}};
      pure.vectorize = {vectorized("d3", width)};
      pure.parallel = {"head"};
      e.pure = pure;
    }
    // Vectors along a head's columns: the last one shifted inwards (a plain
    // load and store) where the head has a vector's columns, else guarded.
    TailKind columnTail = extentOf(role::kKeysByHead, 2) >= width
                              ? TailKind::ShiftInwards
                              : TailKind::Guard;
    // The key and value rows of every head (b, h, j, c), gathered once for
    // all heads, row after row: each row of the cache (all heads' columns,
    // contiguous) streams from memory once. Gathered per head instead, every
    // head read its few columns of all rows, and the cache's lines came from
    // memory about once per head (wt103-base: ~4% of a segment more).
    // Threads take blocks of rows.
    // With one query row (a one-token step), every key and value is read
    // once: gathering them first only copies the cache. They are read where
    // used: the keys transposed per head straight from the cache, the
    // values (contiguous along a head's columns) in place.
    bool oneQuery = extentOf(role::kNormalise, 1) == 1;
    for (StringRef stage : {role::kKeyRowsByHead, role::kValuesByHead}) {
      int64_t extent = extentOf(stage, 2);
      FuncSchedule &e = entry(stage);
      if (oneQuery) {
        e.compute.kind = ComputeLocation::Kind::Inline;
        continue;
      }
      e.compute.kind = ComputeLocation::Kind::Root;
      e.storage = storage("d2", extent);
      StageSchedule pure;
      pure.splits = {split("d2", knobs.gatherRows, "d2i", TailKind::Guard)};
      pure.order = {"d0", "d2", "d2i", "d1", "d3"};
      pure.parallel = {"d2"};
      pure.vectorize = {vectorized("d3", width, columnTail)};
      e.pure = pure;
    }
    // The head's keys transposed (b, h, c, j), once per head for all its
    // query tiles. With one query there is nothing to reuse them for: the
    // scores are dot products of the query with each key's contiguous
    // columns in the cache, vectors along the head's columns whose lanes are
    // added up per key (rfactor), instead of a transposition by gathers.
    if (oneQuery) {
      entry(role::kKeysByHead).compute.kind = ComputeLocation::Kind::Inline;
      FuncSchedule &e = entry(role::kScores);
      e.compute = at("d1");
      e.storage = storage("d3", extentOf(role::kScores, 3));
      e.update = StageSchedule();
      e.update->rfactor = schedule::ReductionFactor{"d4", width};
    } else {
      int64_t extent = extentOf(role::kKeysByHead, 3);
      FuncSchedule &e = entry(role::kKeysByHead);
      e.compute = at("head");
      e.storage = storage("d3", extent);
      e.pure = StageSchedule();
      e.pure->vectorize = {vectorized("d3", width)};
    }
    // The tile's queries plus each term's bias (b, h, t, c): the GEMMs below
    // then broadcast a loaded element (an add and a register broadcast per
    // row and column of the head before, in the GEMMs' inner loops).
    for (StringRef stage : {role::kContentQueries, role::kPositionQueries}) {
      FuncSchedule &e = entry(stage);
      e.compute = at("d1");
      e.pure = StageSchedule();
      e.pure->vectorize = {vectorized("d3", width, columnTail)};
    }

    if (!oneQuery)
      scoreGemm(role::kScores, knobs.scoreVectors * width, 1);
    // The positions come in blocks of B distances ([H, N/B, Dh, B],
    // DecomposeAttention): a block of the GEMM is one of them, its region
    // aligned to them, so that each block reads B * Dh contiguous floats,
    // one stream (the rows of a [Dh, N] layout were Dh streams, and the
    // positions come from memory: -1% of a wt103-base segment).
    int64_t positionBlock =
        cast<RankedTensorType>(plan.generics[index[role::kPositionScores]]
                                   .getDpsInputs()[1]
                                   .getType())
            .getDimSize(3);
    if (positionBlock % width == 0)
      scoreGemm(role::kPositionScores, positionBlock, positionBlock);
    else
      scoreGemm(role::kPositionScores, knobs.scoreVectors * width, 1);
    // The clamped columns (DecomposeAttention) read at a run of them: copied
    // in blocks of the positions' layout, aligned to them, so that every
    // vector is one contiguous run of the position scores.
    if (clamped) {
      int64_t extent = extentOf(role::kClampedPositionScores, 3);
      FuncSchedule &e = entry(role::kClampedPositionScores);
      e.compute = at("d1");
      e.storage = storage("d3", extent);
      StageSchedule pure;
      if (positionBlock % width == 0) {
        e.align = storage("d3", positionBlock);
        pure.splits = {split("d3", positionBlock, "d3i", TailKind::RoundUp)};
        pure.vectorize = {vectorized("d3i", width)};
        pure.unroll = {unrolled("d3i")};
      } else {
        pure.vectorize = {vectorized("d3", width)};
      }
      e.pure = pure;
    }
    entry(role::kMask).compute.kind = ComputeLocation::Kind::Inline;
    // Row statistics along the keys (contiguous): partial results in the
    // lanes of a vector.
    for (StringRef stage : {role::kMax, role::kSum}) {
      FuncSchedule &e = entry(stage);
      e.compute = at("d1");
      e.update = StageSchedule();
      e.update->rfactor = schedule::ReductionFactor{"d3", width};
    }
    // exp is read twice (sum, values): stored per tile rather than
    // recomputed.
    {
      int64_t extent = extentOf(role::kExp, 3);
      FuncSchedule &e = entry(role::kExp);
      e.compute = at("d1");
      e.storage = storage("d3", extent);
      e.pure = StageSchedule();
      e.pure->vectorize = {vectorized("d3", width)};
    }
    // values (b, t, h, c; j): a GEMM of the tile's weights by the head's
    // values, contiguous along c; register tiles of valueRows rows by the
    // head's columns rounded up to whole vectors (the values' layout clamps
    // the columns past the head, whose lanes are dropped), j outermost.
    {
      FuncSchedule &e = entry(role::kValues);
      e.compute = at("d1");
      e.pure = StageSchedule();
      e.pure->splits = {split("d3", width, "d3i", TailKind::RoundUp)};
      e.pure->vectorize = {vectorized("d3i", width)};
      e.accumulator = std::make_shared<FuncSchedule>(
          registerTiles("d0", {"d0", "d2"}, "d1", knobs.valueRows, "d3",
                        TailKind::RoundUp, "d4", {}));
    }
  }

  /// scores (b, h, t, j; c) and position_scores (b, h, t, n; c): GEMMs of
  /// the tile's queries by the head's keys, contiguous along j, and by its
  /// positions, contiguous along the distances n. Blocks of a few vectors
  /// along j (n) for all the tile's rows; inside, register tiles of as many
  /// rows as the accumulator registers allow by those vectors, the head
  /// dimension c outermost.
  /// The keys held number at least T: with T >= block, every region along
  /// the keys holds a whole block, and blocks shifted inwards keep the
  /// accumulator's extent constant (a guarded tail would make it dynamic).
  /// A region aligned to the blocks is whole blocks, so the last one needs
  /// no shifting: rounded up. Halide's bound for such a region still reaches
  /// up to two blocks past it, which DecomposeAttention's layout leaves room
  /// for (positionBlocks).
  void scoreGemm(StringRef stage, int64_t block, int64_t alignTo) {
    TailKind blockTail = alignTo == block ? TailKind::RoundUp
                         : extentOf(role::kScores, 2) >= block
                             ? TailKind::ShiftInwards
                             : TailKind::Guard;
    int64_t rows = std::clamp<int64_t>(
        knobs.scoreAccumulators / (block / width), 1, knobs.queryRows);
    int64_t extent = extentOf(stage, 3);
    FuncSchedule &e = entry(stage);
    e.compute = at("d1");
    e.storage = storage("d3", extent);
    if (alignTo > 1)
      e.align = storage("d3", alignTo);
    StageSchedule pure;
    pure.splits = {split("d3", block, "d3i", blockTail)};
    pure.order = {"d0", "d1", "d3", "d2", "d3i"};
    pure.vectorize = {vectorized("d3i", width)};
    e.pure = pure;
    e.accumulator = std::make_shared<FuncSchedule>(
        registerTiles("d3", {"d0", "d1"}, "d2", rows, "d3", TailKind::Guard,
                      "d4", storage("d3", block)));
  }

  /// An attention GEMM's accumulator, computed at its owner's loop `atLoop`:
  /// register tiles of `rows` rows (loop `row`) by vectors along `column`
  /// (tail `columnTail`), unrolled, with the reduction loop outside each
  /// tile and the loops `outer` outside everything.
  FuncSchedule
  registerTiles(const std::string &atLoop, std::vector<std::string> outer,
                const std::string &row, int64_t rows, const std::string &column,
                TailKind columnTail, const std::string &reduction,
                std::vector<std::pair<std::string, int64_t>> storage) {
    FuncSchedule accumulator;
    accumulator.compute = computedAt("", atLoop);
    accumulator.storage = std::move(storage);
    accumulator.pure = StageSchedule();
    accumulator.pure->vectorize = {vectorized(column, width)};
    StageSchedule update;
    update.splits = {split(row, rows, row + "i", TailKind::Guard),
                     split(column, width, column + "i", columnTail)};
    update.order = std::move(outer);
    update.order.insert(update.order.end(),
                        {row, reduction, row + "i", column, column + "i"});
    update.vectorize = {vectorized(column + "i", width)};
    update.unroll = {unrolled(row + "i"), unrolled(column)};
    accumulator.update = update;
    return accumulator;
  }

  KernelPlan &plan;
  const AttentionKnobs &knobs;
  int64_t width;
  llvm::StringMap<unsigned> index;
};

} // namespace

bool planAttention(KernelPlan &plan, const PlanContext &context) {
  return AttentionPlanner(plan, context).run();
}

} // namespace txl::tiling
