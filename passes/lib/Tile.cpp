//===- Tile.cpp - txl-tile: a schedule attribute on every kernel ----------===//
//
// The "decide" half of scheduling (codegen only applies what is written
// here; a tuner may write it instead). The heuristic per generic of a kernel:
//  * an element-wise generic read by one other generic of the kernel is
//    inlined into it (ReLU, scale, mask: no buffer of their own);
//  * everything else is computed at root inside the kernel;
//  * a reduction's update runs its reduction loop outside the innermost
//    parallel loop, which is vectorized by the target's f32 width (guarded
//    tail: the model's widths, 41, 410, 2100, are not multiples of 16), and
//    the outermost parallel loop with work is parallel.
// Schema: docs/SCHEDULES.md.
//
//===----------------------------------------------------------------------===//

#include "txl/Dialect/TxlOps.h"
#include "txl/Passes/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/Builders.h"

namespace txl {
#define GEN_PASS_DEF_TXLTILE
#include "txl/Passes/Passes.h.inc"
} // namespace txl

using namespace mlir;
using namespace txl;

namespace {

/// The f32 vector width of a Halide target string.
int64_t vectorWidthOf(StringRef target) {
  if (target.contains("cuda"))
    return 1; // GPU schedules tile instead (gpu_tile, left to the default)
  if (target.contains("avx512") || target == "host")
    return 16; // "host" on this project's machines is AVX-512
  if (target.contains("avx2") || target.contains("avx"))
    return 8;
  return 4;
}

std::string loopName(unsigned i) { return "d" + std::to_string(i); }

/// One entry of `funcs` for a generic of a kernel.
/// `name` refers to the generic by its txl.name, or by its position (`#i`)
/// where the name is not unique in the kernel.
DictionaryAttr scheduleFor(linalg::GenericOp generic, StringRef name,
                           OpBuilder &b, int64_t width) {
  SmallVector<NamedAttribute> entry;
  entry.push_back(b.getNamedAttr("name", b.getStringAttr(name)));

  SmallVector<utils::IteratorType> iterators = generic.getIteratorTypesArray();
  bool isReduction = llvm::any_of(iterators, [](utils::IteratorType t) {
    return t == utils::IteratorType::reduction;
  });
  Value result = generic.getResult(0);
  unsigned usesInKernel = std::distance(result.use_begin(), result.use_end());
  bool feedsOneGeneric =
      usesInKernel == 1 && isa<linalg::GenericOp>(*result.user_begin());
  if (!isReduction && feedsOneGeneric) {
    entry.push_back(b.getNamedAttr("compute", b.getStringAttr("inline")));
    return b.getDictionaryAttr(entry);
  }
  entry.push_back(b.getNamedAttr("compute", b.getStringAttr("root")));
  if (!isReduction || width <= 1)
    return b.getDictionaryAttr(entry);

  // The update: parallel loops in order, the reductions, then the innermost
  // parallel loop (vectorized).
  SmallVector<unsigned> parallel, reductions;
  for (auto [i, t] : llvm::enumerate(iterators))
    (t == utils::IteratorType::reduction ? reductions : parallel).push_back(i);
  if (parallel.empty())
    return b.getDictionaryAttr(entry);
  unsigned inner = parallel.back();
  SmallVector<Attribute> order;
  for (unsigned i : ArrayRef<unsigned>(parallel).drop_back())
    order.push_back(b.getStringAttr(loopName(i)));
  for (unsigned r : reductions)
    order.push_back(b.getStringAttr(loopName(r)));
  order.push_back(b.getStringAttr(loopName(inner)));
  SmallVector<int64_t> ranges = generic.getStaticLoopRanges();
  SmallVector<NamedAttribute> update = {
      b.getNamedAttr("order", b.getArrayAttr(order))};
  if (ranges[inner] >= width)
    update.push_back(b.getNamedAttr(
        "vectorize",
        b.getArrayAttr({b.getDictionaryAttr(
            {b.getNamedAttr("loop", b.getStringAttr(loopName(inner))),
             b.getNamedAttr("width", b.getI64IntegerAttr(width))})})));
  for (unsigned p : ArrayRef<unsigned>(parallel).drop_back())
    if (ranges[p] > 1) {
      update.push_back(b.getNamedAttr(
          "parallel", b.getArrayAttr({b.getStringAttr(loopName(p))})));
      break;
    }
  entry.push_back(b.getNamedAttr("update", b.getDictionaryAttr(update)));
  return b.getDictionaryAttr(entry);
}

struct TilePass : public txl::impl::TxlTileBase<TilePass> {
  using TxlTileBase::TxlTileBase;

  void runOnOperation() override {
    int64_t width = vectorWidthOf(target);
    OpBuilder b(&getContext());
    getOperation().walk([&](KernelOp kernel) {
      // A schedule already there (from a tuner or a person) wins.
      if (kernel->hasAttr("txl.schedule") && !overwrite)
        return;
      SmallVector<linalg::GenericOp> generics;
      llvm::StringMap<unsigned> nameCount;
      kernel.getBody().walk([&](linalg::GenericOp generic) {
        generics.push_back(generic);
        if (auto name = generic->getAttrOfType<StringAttr>("txl.name"))
          ++nameCount[name.getValue()];
      });
      SmallVector<Attribute> funcs;
      for (auto [position, generic] : llvm::enumerate(generics)) {
        auto name = generic->getAttrOfType<StringAttr>("txl.name");
        std::string key = name && nameCount[name.getValue()] == 1
                              ? name.getValue().str()
                              : "#" + std::to_string(position);
        funcs.push_back(scheduleFor(generic, key, b, width));
      }
      SmallVector<NamedAttribute> schedule = {
          b.getNamedAttr("funcs", b.getArrayAttr(funcs))};
      if (width > 1)
        schedule.push_back(
            b.getNamedAttr("vector_width", b.getI64IntegerAttr(width)));
      kernel->setAttr("txl.schedule", b.getDictionaryAttr(schedule));
      kernel->setAttr("txl.target", b.getStringAttr(target));
    });
  }
};

} // namespace
