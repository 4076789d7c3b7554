//===- GemmPlanner.cpp - packed GEMMs and the epilogues they feed ---------===//
//
// GEMMs on packed weights get register tiles. A generic is a packed GEMM
// when it computes out[.., m, n] += a[.., m, k..] * wp[n floordiv P, k..,
// n mod P] (the weight [N, K] packed into P-wide panels [ceil(N/P), K, P],
// zero-padded; see docs/SCHEDULES.md). Its output is tiled in blocks of
// V panels by all rows of a batch entry (or blocks of them); each tile's
// accumulator is zeroed, updated in R x V register tiles (rows and panels
// unrolled, lanes vectorized) with the reduction outermost but blocked so
// that a block's slice of the weight stays in L1, and copied out plus the
// init. Where it is computed depends on its consumers:
//  * a kernel result, or computed at root: the tile loops (panel blocks
//    outermost, in groups whose weight slice stays in L2 while the blocks of
//    rows go by) are fused and run in parallel; in a kernel whose work is
//    counted at run time (skip_when_zero: a scoring tail over its gathered
//    rows), all rows form one block, so only the rows needed are computed;
//  * read only by one element-wise kernel result (bias + ReLU): the GEMM is
//    inlined into it and the accumulator computed at its tiles;
//  * a row epilogue (residual + LayerNorm, a log-softmax): every generic of
//    the kernel is computed per block of rows of the kernel's result, the
//    GEMM tiled inside the block as above, then the epilogue on rows still
//    in cache (cheap element-wise steps inlined, row reductions in vector
//    lanes). Blocks have up to accumulatorRows rows when the weights fit in
//    L2, else all rows of a batch entry (the weight streams once per block).
// The numbers (register tiles, block bytes, tiles for the threads) come
// from GemmKnobs through GemmTiling.h.
//
//===----------------------------------------------------------------------===//

#include "KernelPlan.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;

namespace txl::tiling {
namespace {

bool usesAnyLoop(AffineExpr expr, ArrayRef<unsigned> loops) {
  return llvm::any_of(loops,
                      [&](unsigned l) { return expr.isFunctionOfDim(l); });
}

/// The product of a GEMM's batch loops (all output loops but m and n).
int64_t batchEntries(const PackedGemm &gemm) {
  int64_t entries = 1;
  for (unsigned l : ArrayRef<unsigned>(gemm.outLoops).drop_back(2))
    entries *= gemm.ranges[l];
  return entries;
}

/// The nest that tiles the output of a GEMM (or of the element-wise generic
/// it is inlined into), whose output loops are `loops` (batch.., m, n): n in
/// P-wide panels (a guarded tail: the last panel may be partial), panels in
/// blocks of tile.panels (shifted inwards at the edge, so that every block
/// has the same width and stays aligned to panels), the panel blocks
/// outermost and fused with the batch loops into `tile`, the lanes
/// vectorized. A tile holds every row of a batch entry, or a block of
/// rowBlock of them (shifted inwards). Where there are several blocks of
/// rows, the panel blocks go in groups (a guarded tail) around them, so that
/// a group's slice of the weight stays in L2 while the blocks of rows go
/// by, and a block of rows stays in L2 while the group's panel blocks go by.
StageSchedule tiledOutputStage(ArrayRef<unsigned> loops, const GemmTiling &t,
                               int64_t panelWidth, int64_t lanes,
                               bool parallel) {
  std::string n = loopName(loops.back()), m = loopName(loops[loops.size() - 2]);
  StageSchedule stage;
  stage.splits = {split(n, panelWidth, n + "i", TailKind::Guard),
                  split(n, t.tile.panels, n + "v", TailKind::ShiftInwards)};
  bool rowBlocks = t.rowBlock < t.rows;
  if (rowBlocks)
    stage.splits.push_back(
        split(m, t.rowBlock, m + "i", TailKind::ShiftInwards));
  SmallVector<std::string> outer = {n};
  for (unsigned l : loops.drop_back(2))
    outer.push_back(loopName(l));
  if (rowBlocks)
    outer.push_back(m);
  if (t.group > 1 && outer.size() > 1) {
    stage.splits.push_back(split(n, t.group, n + "g", TailKind::Guard));
    outer.push_back(n + "g");
  }
  stage.order.assign(outer.begin(), outer.end());
  std::string fused = outer[0];
  for (const std::string &l : ArrayRef<std::string>(outer).drop_front()) {
    stage.fuses.push_back(LoopFuse{fused, l, "tile"});
    fused = "tile";
  }
  stage.order.insert(stage.order.end(),
                     {rowBlocks ? m + "i" : m, n + "v", n + "i"});
  stage.vectorize = {vectorized(n + "i", lanes)};
  if (parallel)
    stage.parallel = {fused};
  return stage;
}

/// The loop of tiledOutputStage's nest that holds one tile.
std::string tileLoop(ArrayRef<unsigned> loops, const GemmTiling &t) {
  return loops.size() > 2 || t.rowBlock < t.rows ? "tile"
                                                 : loopName(loops.back());
}

/// The accumulator of a packed GEMM, computed per tile (all rows by
/// tile.panels panels) at `atLoop` of `at` (empty: the GEMM itself): zeroed,
/// then updated in register tiles of tile.rows rows (a guarded tail) by
/// tile.panels panels, unrolled, the lanes vectorized, with the reduction
/// outermost but blocked: for each block of the reduction (sized so that
/// its slice of the weight stays in L1), every register tile of rows goes
/// by, loading and storing its accumulators once per block.
FuncSchedule accumulatorEntry(const PackedGemm &gemm, RegisterTile tile,
                              const std::string &at, const std::string &atLoop,
                              int64_t lanes, const GemmKnobs &knobs) {
  int64_t panelWidth = gemm.shape.panelWidth;
  std::string n = loopName(gemm.n()), m = loopName(gemm.m());
  LoopSplit panelSplit = split(n, panelWidth, n + "i", TailKind::RoundUp);
  StageSchedule pure, update;
  pure.splits = {panelSplit};
  pure.vectorize = {vectorized(n + "i", lanes)};
  pure.unroll = {unrolled(n)};
  update.unroll = {unrolled(n), unrolled(m + "i")};
  if (lanes < panelWidth) {
    pure.unroll.push_back(unrolled(n + "i")); // the lanes beyond one vector
    update.unroll.push_back(unrolled(n + "i"));
  }
  update.splits = {panelSplit, split(m, tile.rows, m + "i", TailKind::Guard)};
  for (unsigned l : ArrayRef<unsigned>(gemm.outLoops).drop_back(2))
    update.order.push_back(loopName(l));
  // Blocks of the reduction: the outermost reduction loop is split so that
  // a block (its inner part times the inner reduction loops) reads at most
  // maxBlock steps; the register tiles of rows go by inside each block.
  int64_t maxBlock = knobs.l1WeightBytes / (tile.panels * panelWidth * 4);
  std::string first = loopName(gemm.reductions.front());
  int64_t innerSteps = 1;
  for (unsigned r : ArrayRef<unsigned>(gemm.reductions).drop_front())
    innerSteps *= gemm.ranges[r];
  int64_t extent = gemm.ranges[gemm.reductions.front()];
  int64_t perBlock = std::max<int64_t>(1, maxBlock / innerSteps);
  SmallVector<std::string> blockLoops;
  if (perBlock < extent) {
    int64_t blocks = (extent + perBlock - 1) / perBlock;
    int64_t block = (extent + blocks - 1) / blocks;
    update.splits.push_back(split(first, block, first + "i", TailKind::Guard));
    update.order.push_back(first);
    blockLoops.push_back(first + "i");
  } else {
    blockLoops.push_back(first);
  }
  for (unsigned r : ArrayRef<unsigned>(gemm.reductions).drop_front())
    blockLoops.push_back(loopName(r));
  update.order.push_back(m);
  update.order.insert(update.order.end(), blockLoops.begin(), blockLoops.end());
  update.order.insert(update.order.end(), {m + "i", n, n + "i"});
  update.vectorize = {vectorized(n + "i", lanes)};

  FuncSchedule accumulator;
  accumulator.compute = computedAt(at, atLoop);
  accumulator.pure = pure;
  accumulator.update = update;
  return accumulator;
}

/// The lanes of `gemm`'s vectors: the target's width, or its panel's when
/// narrower.
int64_t lanesOf(const PackedGemm &gemm, const PlanContext &context) {
  return panelLanes(gemm.shape.panelWidth, context.width);
}

/// A packed GEMM's entry: its result tiled (computed at root, or at
/// `computeAt`), its accumulator at its tiles.
FuncSchedule gemmEntry(const PackedGemm &gemm, const std::string &key,
                       const GemmTiling &t,
                       std::optional<ComputeLocation> computeAt, bool parallel,
                       const PlanContext &context) {
  int64_t lanes = lanesOf(gemm, context);
  FuncSchedule entry = entryNamed(key, ComputeLocation::Kind::Root);
  if (computeAt)
    entry.compute = *computeAt;
  entry.pure = tiledOutputStage(gemm.outLoops, t, gemm.shape.panelWidth, lanes,
                                parallel);
  entry.accumulator = std::make_shared<FuncSchedule>(accumulatorEntry(
      gemm, t.tile, "", tileLoop(gemm.outLoops, t), lanes, context.knobs.gemm));
  return entry;
}

RegisterTile tileFor(const PackedGemm &gemm, int64_t rows,
                     const PlanContext &context) {
  return chooseRegisterTile(rows, gemm.shape.panels, gemm.shape.panelWidth,
                            context.width, context.knobs.gemm);
}

/// No reduction loops, and a body of at most a few arithmetic ops.
bool isCheapElementwise(linalg::GenericOp generic) {
  if (generic.getNumReductionLoops() != 0 || generic.getNumResults() != 1)
    return false;
  Block &body = generic.getRegion().front();
  if (body.getOperations().size() > 4)
    return false;
  return llvm::all_of(body.without_terminator(), [](Operation &op) {
    return op.getDialect() && op.getDialect()->getNamespace() ==
                                  arith::ArithDialect::getDialectNamespace();
  });
}

class GemmPlanner {
public:
  GemmPlanner(KernelPlan &plan, const PlanContext &context)
      : plan(plan), context(context), knobs(context.knobs.gemm) {}

  void run() {
    std::optional<unsigned> result = plan.singleResult();
    if (result && !plan.gemms[*result]) {
      if (planElementwiseEpilogue(*result) || planRowEpilogue(*result))
        return;
    }
    // Every packed GEMM at root, tiled; row reductions over what they
    // produce (a softmax's max and sum) in vector lanes along the row, rows
    // in parallel, rather than across rows (strided reads).
    for (unsigned i = 0; i < plan.generics.size(); ++i) {
      if (!plan.gemms[i]) {
        if (!plan.isInline(i) && plan.generics[i].getNumReductionLoops() != 0)
          reduceRowsInLanes(i);
        continue;
      }
      const PackedGemm &gemm = *plan.gemms[i];
      GemmTiling tiling = planGemmTiling(
          gemm.shape, tileFor(gemm, gemm.shape.rows, context), gemm.shape.rows,
          batchEntries(gemm), /*grouped=*/true, knobs);
      if (plan.kernel.getSkipWhenZero()) {
        // Rows counted at run time (a scoring tail's gathered rows): one
        // block of all of them, so that only the rows asked for are
        // computed (blocks of a fixed size would compute whole blocks).
        tiling.rowBlock = tiling.rows;
        tiling.group = 1;
      }
      rootGathersOf(i);
      plan.entries[i] = gemmEntry(gemm, plan.keys[i], tiling, std::nullopt,
                                  /*parallel=*/true, context);
    }
  }

private:
  /// The inlined generics that GEMM `i` reads and that gather through
  /// tensor.extract (a scoring tail's rows, picked by a slot table) are
  /// computed at root instead: inlined, their index arithmetic would run
  /// for every multiply-add of the GEMM's inner loop.
  void rootGathersOf(unsigned i) {
    for (Value input : plan.generics[i].getDpsInputs()) {
      auto producer = input.getDefiningOp<linalg::GenericOp>();
      std::optional<unsigned> j = plan.indexOf(producer);
      if (!j)
        continue;
      bool gathers = false;
      producer.getRegion().walk([&](tensor::ExtractOp) { gathers = true; });
      if (!plan.isInline(*j) || !gathers ||
          producer.getNumReductionLoops() != 0)
        continue;
      FuncSchedule entry =
          entryNamed(plan.keys[*j], ComputeLocation::Kind::Root);
      std::optional<SmallVector<unsigned>> loops =
          outputLoops(producer.getIndexingMapsArray().back());
      if (loops && !loops->empty() &&
          producer.getStaticLoopRanges()[loops->back()] >= context.width) {
        entry.pure = StageSchedule();
        entry.pure->vectorize = {
            vectorized(loopName(loops->back()), context.width)};
      }
      plan.entries[*j] = entry;
    }
  }

  /// Generic `i`, a reduction along its rows' last dimension, computed at
  /// root: its update becomes the row reduction's, threads on its last
  /// output loop.
  void reduceRowsInLanes(unsigned i) {
    std::optional<SmallVector<unsigned>> outLoops =
        outputLoops(plan.generics[i].getIndexingMapsArray().back());
    std::string parallelRow =
        outLoops && !outLoops->empty() ? loopName(outLoops->back()) : "";
    if (std::optional<StageSchedule> update =
            planRowReduction(plan.generics[i], parallelRow, context))
      plan.entries[i].update = *update;
  }

  /// The kernel result `e` is element-wise over exactly the output of one
  /// packed GEMM, which nothing else reads, and every other generic is
  /// inlined: the GEMM is inlined into `e`, whose tiles hold its
  /// accumulator.
  bool planElementwiseEpilogue(unsigned e) {
    linalg::GenericOp epilogue = plan.generics[e];
    if (epilogue.getNumReductionLoops() != 0)
      return false;
    std::optional<unsigned> gemmIndex;
    for (unsigned i = 0; i < plan.generics.size(); ++i) {
      if (i == e)
        continue;
      if (plan.gemms[i]) {
        if (gemmIndex)
          return false;
        gemmIndex = i;
      } else if (!plan.isInline(i)) {
        return false;
      }
    }
    if (!gemmIndex)
      return false;
    const PackedGemm &gemm = *plan.gemms[*gemmIndex];
    Value product = plan.generics[*gemmIndex].getResult(0);
    if (!product.hasOneUse() || *product.user_begin() != epilogue)
      return false;
    std::optional<SmallVector<unsigned>> loops =
        outputLoops(epilogue.getIndexingMapsArray().back());
    if (!loops || loops->size() != gemm.outLoops.size() ||
        epilogue.getResult(0).getType() != product.getType())
      return false;
    // `e` reads the GEMM at its own output point.
    for (OpOperand *input : epilogue.getDpsInputOperands())
      if (input->get() == product && epilogue.getMatchingIndexingMap(input) !=
                                         epilogue.getIndexingMapsArray().back())
        return false;
    GemmTiling tiling = planGemmTiling(
        gemm.shape, tileFor(gemm, gemm.shape.rows, context), gemm.shape.rows,
        batchEntries(gemm), /*grouped=*/true, knobs);
    int64_t lanes = lanesOf(gemm, context);
    FuncSchedule result = entryNamed(plan.keys[e], ComputeLocation::Kind::Root);
    result.pure = tiledOutputStage(*loops, tiling, gemm.shape.panelWidth, lanes,
                                   /*parallel=*/true);
    plan.entries[e] = result;
    FuncSchedule inlined =
        entryNamed(plan.keys[*gemmIndex], ComputeLocation::Kind::Inline);
    inlined.accumulator = std::make_shared<FuncSchedule>(
        accumulatorEntry(gemm, tiling.tile, plan.keys[e],
                         tileLoop(*loops, tiling), lanes, knobs));
    plan.entries[*gemmIndex] = inlined;
    return true;
  }

  /// Every generic of the kernel is computed per block of rows of the
  /// kernel result `r` (its outputs share r's leading dimensions), packed
  /// GEMMs tiled inside the block.
  bool planRowEpilogue(unsigned r) {
    linalg::GenericOp anchor = plan.generics[r];
    if (anchor.getNumReductionLoops() != 0)
      return false;
    std::optional<SmallVector<unsigned>> loops =
        outputLoops(anchor.getIndexingMapsArray().back());
    if (!loops || loops->size() < 2)
      return false;
    ArrayRef<int64_t> shape =
        cast<RankedTensorType>(anchor.getResult(0).getType()).getShape();
    ArrayRef<int64_t> prefix = shape.drop_back();
    int64_t rows = prefix.back();
    int64_t maxWeightBytes = 0;
    for (auto [i, generic] : llvm::enumerate(plan.generics)) {
      if (i == r || plan.isInline(i))
        continue;
      auto type = cast<RankedTensorType>(generic.getResult(0).getType());
      if (type.getRank() < static_cast<int64_t>(prefix.size()) ||
          type.getShape().take_front(prefix.size()) != prefix)
        return false;
      if (plan.gemms[i]) {
        if (plan.gemms[i]->shape.rows != rows)
          return false;
        maxWeightBytes =
            std::max(maxWeightBytes, plan.gemms[i]->shape.weightBytes);
      }
    }
    // One register tile height for every GEMM of the block, chosen for the
    // largest weight.
    const PackedGemm *largest = nullptr;
    for (const auto &gemm : plan.gemms)
      if (gemm &&
          (!largest || gemm->shape.weightBytes > largest->shape.weightBytes))
        largest = &*gemm;
    if (!largest)
      return false;
    int64_t tileRows = tileFor(*largest, rows, context).rows;
    int64_t batchEntries = 1;
    for (int64_t extent : prefix.drop_back())
      batchEntries *= extent;
    // Blocks of rows: the rows of a batch entry when the weights do not fit
    // in L2 (each block streams them); otherwise blocks of an accumulator's
    // size (the GEMM inside reuses each slice of the weight across its
    // register tiles). With a single block, threads share the GEMM's tiles
    // and the epilogue's rows inside it.
    int64_t blockRows = rows;
    if (maxWeightBytes <= knobs.l2WeightBytes) {
      auto rowsPerBlock = [&](int64_t perEntry) {
        int64_t block = (rows + perEntry - 1) / perEntry;
        return std::min(rows, (block + tileRows - 1) / tileRows * tileRows);
      };
      int64_t perEntry =
          (rows + knobs.accumulatorRows - 1) / knobs.accumulatorRows;
      blockRows = rowsPerBlock(perEntry);
      // More, smaller blocks where there are fewer than minTiles, if they
      // divide the rows evenly and keep at least minEpilogueBlockRows rows
      // (register tiles reusing each slice of the weight): threads that
      // wake late still find work.
      for (int64_t more = perEntry + 1;
           batchEntries * (rows / blockRows) < knobs.minTiles; ++more) {
        int64_t block = rowsPerBlock(more);
        if (block < std::max<int64_t>(2 * tileRows, knobs.minEpilogueBlockRows))
          break;
        if (rows % block == 0 && block < blockRows)
          blockRows = block;
      }
    }
    int64_t blocks = batchEntries * ((rows + blockRows - 1) / blockRows);
    bool parallelBlocks = blocks >= 2;

    // The anchor: rows in blocks (batch loops fused in), lanes vectorized.
    std::string n = loopName(loops->back()),
                m = loopName((*loops)[loops->size() - 2]);
    std::string rowLoop = m;
    StageSchedule anchorStage;
    anchorStage.splits = {split(m, blockRows, m + "i", TailKind::ShiftInwards)};
    if (loops->size() > 2) {
      std::string fused = loopName((*loops)[0]);
      for (unsigned l : ArrayRef<unsigned>(*loops).drop_front().drop_back()) {
        anchorStage.fuses.push_back(LoopFuse{fused, loopName(l), "rows"});
        fused = "rows";
      }
      rowLoop = "rows";
    }
    if (shape.back() >= context.width)
      anchorStage.vectorize = {vectorized(n, context.width)};
    // Threads share the blocks, or (one block) the rows inside each step.
    anchorStage.parallel = {parallelBlocks ? rowLoop : m + "i"};
    FuncSchedule anchorEntry =
        entryNamed(plan.keys[r], ComputeLocation::Kind::Root);
    anchorEntry.pure = anchorStage;
    plan.entries[r] = anchorEntry;

    ComputeLocation atBlock = computedAt(plan.keys[r], rowLoop);
    for (auto [i, generic] : llvm::enumerate(plan.generics)) {
      if (i == r || plan.isInline(i))
        continue;
      if (plan.gemms[i]) {
        RegisterTile tile = tileFor(*plan.gemms[i], rows, context);
        tile.rows = tileRows;
        // Inside a block: one batch entry's rows, threads only when the
        // blocks do not have them.
        GemmTiling tiling =
            planGemmTiling(plan.gemms[i]->shape, tile, blockRows,
                           /*batchEntries=*/parallelBlocks ? knobs.minTiles : 1,
                           /*grouped=*/false, knobs);
        plan.entries[i] =
            gemmEntry(*plan.gemms[i], plan.keys[i], tiling, atBlock,
                      /*parallel=*/!parallelBlocks, context);
        continue;
      }
      // Cheap element-wise steps (a residual add, a centering) are
      // recomputed by each reader rather than stored: fewer passes over the
      // block.
      if (isCheapElementwise(generic)) {
        plan.entries[i] =
            entryNamed(plan.keys[i], ComputeLocation::Kind::Inline);
        continue;
      }
      // Other generics keep their stage directives, computed in the block;
      // with a single block, their rows in parallel.
      FuncSchedule entry;
      entry.name = plan.keys[i];
      entry.compute = atBlock;
      std::optional<SmallVector<unsigned>> outLoops =
          outputLoops(generic.getIndexingMapsArray().back());
      std::string parallelRow;
      if (!parallelBlocks && outLoops && outLoops->size() >= prefix.size())
        parallelRow = loopName((*outLoops)[prefix.size() - 1]);
      bool reduces = generic.getNumReductionLoops() != 0;
      if (!parallelRow.empty() && !reduces) {
        StageSchedule stage;
        stage.parallel = {parallelRow};
        std::string inner = loopName(outLoops->back());
        if (inner != parallelRow &&
            generic.getStaticLoopRanges()[outLoops->back()] >= context.width)
          stage.vectorize = {vectorized(inner, context.width)};
        entry.pure = stage;
      }
      if (std::optional<StageSchedule> update =
              planRowReduction(generic, parallelRow, context)) {
        entry.update = *update;
      } else if (plan.entries[i].update) {
        // Without the parallel loop: no nested parallelism in a block.
        entry.update = *plan.entries[i].update;
        entry.update->parallel.clear();
      }
      plan.entries[i] = entry;
    }
    return true;
  }

  KernelPlan &plan;
  const PlanContext &context;
  const GemmKnobs &knobs;
};

} // namespace

std::optional<PackedGemm> matchPackedGemm(linalg::GenericOp op) {
  if (op.getNumDpsInits() != 1 || op.getNumDpsInputs() != 2 ||
      !op.hasPureTensorSemantics())
    return std::nullopt;
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  std::optional<SmallVector<unsigned>> out = outputLoops(maps[2]);
  if (!out || out->size() < 2)
    return std::nullopt;
  PackedGemm gemm;
  gemm.op = op;
  gemm.outLoops = *out;
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  SmallVector<unsigned> parallel;
  for (auto [i, t] : llvm::enumerate(iterators))
    (t == utils::IteratorType::reduction ? gemm.reductions : parallel)
        .push_back(i);
  if (gemm.reductions.empty() || parallel.size() != gemm.outLoops.size())
    return std::nullopt;

  // The body: yield(out + a * b), in any operand order.
  Block &body = op.getRegion().front();
  if (body.getOperations().size() != 3)
    return std::nullopt;
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  auto add = yield.getOperand(0).getDefiningOp<arith::AddFOp>();
  if (!add)
    return std::nullopt;
  Value outArg = body.getArgument(2);
  Value product = add.getLhs() == outArg   ? add.getRhs()
                  : add.getRhs() == outArg ? add.getLhs()
                                           : Value();
  auto mul = product ? product.getDefiningOp<arith::MulFOp>() : nullptr;
  if (!mul)
    return std::nullopt;
  Value in0 = body.getArgument(0), in1 = body.getArgument(1);
  if (!((mul.getLhs() == in0 && mul.getRhs() == in1) ||
        (mul.getLhs() == in1 && mul.getRhs() == in0)))
    return std::nullopt;

  // Which input is the packed weight: it reads n only as its panel and
  // lane (the panel width is its last dimension), and no other parallel
  // loop.
  MLIRContext *context = op.getContext();
  AffineExpr n = getAffineDimExpr(gemm.n(), context);
  std::optional<unsigned> weight;
  for (unsigned i = 0; i < 2; ++i) {
    AffineMap map = maps[i];
    auto type = dyn_cast<RankedTensorType>(op.getDpsInputs()[i].getType());
    if (!type || !type.hasStaticShape() || type.getRank() != 3 ||
        map.getNumResults() != 3)
      continue;
    int64_t panel = type.getDimSize(2);
    if (map.getResult(0) != n.floorDiv(panel) ||
        map.getResult(2) != n % panel ||
        usesAnyLoop(map.getResult(1), parallel))
      continue;
    weight = i;
    gemm.shape.weightBytes = type.getNumElements() * 4;
    gemm.shape.panels = type.getDimSize(0);
    gemm.shape.panelWidth = panel;
  }
  if (!weight)
    return std::nullopt;
  // The other operand must not depend on n.
  AffineMap other = maps[1 - *weight];
  if (llvm::any_of(other.getResults(),
                   [&](AffineExpr e) { return e.isFunctionOfDim(gemm.n()); }))
    return std::nullopt;
  gemm.ranges = op.getStaticLoopRanges();
  int64_t panel = gemm.shape.panelWidth;
  if ((gemm.ranges[gemm.n()] + panel - 1) / panel != gemm.shape.panels)
    return std::nullopt;
  gemm.shape.rows = gemm.ranges[gemm.m()];
  return gemm;
}

void planGemms(KernelPlan &plan, const PlanContext &context) {
  GemmPlanner(plan, context).run();
}

} // namespace txl::tiling
