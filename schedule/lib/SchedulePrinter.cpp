//===- SchedulePrinter.cpp - a KernelSchedule as its txl.schedule attribute
//===//
//
// The canonical spelling: every list is an array (even of one), a split
// names its inner loop, a stage or func field at its default is left out,
// and an unroll of a whole loop is just the loop's name.
//
//===----------------------------------------------------------------------===//

#include "txl/schedule/ScheduleAttr.h"

#include "mlir/IR/Builders.h"

using namespace mlir;

namespace txl::schedule {
namespace {

class Printer {
public:
  explicit Printer(MLIRContext *context) : b(context) {}

  DictionaryAttr kernel(const KernelSchedule &schedule) {
    Fields fields;
    SmallVector<Attribute> funcs;
    for (const FuncSchedule &f : schedule.funcs)
      funcs.push_back(func(f, /*isAccumulator=*/false));
    add(fields, "funcs", b.getArrayAttr(funcs));
    if (schedule.vectorWidth)
      add(fields, "vector_width", b.getI64IntegerAttr(*schedule.vectorWidth));
    if (schedule.defaultTail != TailKind::Guard)
      add(fields, "tail", b.getStringAttr(tailKindName(schedule.defaultTail)));
    if (schedule.fastExp)
      add(fields, "fast_exp", b.getBoolAttr(true));
    return b.getDictionaryAttr(fields);
  }

private:
  using Fields = SmallVector<NamedAttribute>;

  void add(Fields &fields, StringRef name, Attribute value) {
    fields.push_back(b.getNamedAttr(name, value));
  }

  Attribute strings(const std::vector<std::string> &names) {
    SmallVector<Attribute> out;
    for (const std::string &name : names)
      out.push_back(b.getStringAttr(name));
    return b.getArrayAttr(out);
  }

  Attribute loopSizes(const std::vector<std::pair<std::string, int64_t>> &m) {
    Fields fields;
    for (const auto &[loop, size] : m)
      add(fields, loop, b.getI64IntegerAttr(size));
    return b.getDictionaryAttr(fields);
  }

  Attribute split(const LoopSplit &s) {
    Fields fields;
    add(fields, "loop", b.getStringAttr(s.loop));
    add(fields, "factor", b.getI64IntegerAttr(s.factor));
    add(fields, "inner",
        b.getStringAttr(s.inner.empty() ? s.loop + "i" : s.inner));
    if (s.tail)
      add(fields, "tail", b.getStringAttr(tailKindName(*s.tail)));
    return b.getDictionaryAttr(fields);
  }

  /// `factorName`: "width" (vectorize) or "factor" (unroll).
  Attribute annotation(const LoopAnnotation &a, StringRef factorName,
                       bool nameAlone) {
    if (nameAlone && a.factor == 0 && !a.tail)
      return b.getStringAttr(a.loop);
    Fields fields;
    add(fields, "loop", b.getStringAttr(a.loop));
    if (a.factor > 0)
      add(fields, factorName, b.getI64IntegerAttr(a.factor));
    if (a.tail)
      add(fields, "tail", b.getStringAttr(tailKindName(*a.tail)));
    return b.getDictionaryAttr(fields);
  }

  DictionaryAttr stage(const StageSchedule &s) {
    Fields fields;
    if (!s.tile.empty()) {
      Fields sizes;
      for (const LoopSplit &split : s.tile)
        add(sizes, split.loop, b.getI64IntegerAttr(split.factor));
      add(fields, "tile", b.getDictionaryAttr(sizes));
      if (s.tile.front().tail)
        add(fields, "tile_tail",
            b.getStringAttr(tailKindName(*s.tile.front().tail)));
    }
    if (!s.splits.empty()) {
      SmallVector<Attribute> splits;
      for (const LoopSplit &x : s.splits)
        splits.push_back(split(x));
      add(fields, "split", b.getArrayAttr(splits));
    }
    if (!s.fuses.empty()) {
      SmallVector<Attribute> fuses;
      for (const LoopFuse &f : s.fuses)
        fuses.push_back(b.getDictionaryAttr(
            {b.getNamedAttr("outer", b.getStringAttr(f.outer)),
             b.getNamedAttr("inner", b.getStringAttr(f.inner)),
             b.getNamedAttr("into", b.getStringAttr(f.fused))}));
      add(fields, "fuse", b.getArrayAttr(fuses));
    }
    if (!s.order.empty())
      add(fields, "order", strings(s.order));
    if (s.rfactor)
      add(fields, "rfactor",
          b.getDictionaryAttr(
              {b.getNamedAttr("loop", b.getStringAttr(s.rfactor->loop)),
               b.getNamedAttr("width",
                              b.getI64IntegerAttr(s.rfactor->width))}));
    if (s.gpuTile) {
      Fields tile;
      add(tile, "loops", strings(s.gpuTile->loops));
      SmallVector<Attribute> sizes;
      for (int64_t size : s.gpuTile->sizes)
        sizes.push_back(b.getI64IntegerAttr(size));
      add(tile, "sizes", b.getArrayAttr(sizes));
      if (s.gpuTile->tail)
        add(tile, "tail", b.getStringAttr(tailKindName(*s.gpuTile->tail)));
      add(fields, "gpu_tile", b.getDictionaryAttr(tile));
    }
    if (!s.vectorize.empty()) {
      SmallVector<Attribute> items;
      for (const LoopAnnotation &a : s.vectorize)
        items.push_back(annotation(a, "width", /*nameAlone=*/false));
      add(fields, "vectorize", b.getArrayAttr(items));
    }
    if (!s.unroll.empty()) {
      SmallVector<Attribute> items;
      for (const LoopAnnotation &a : s.unroll)
        items.push_back(annotation(a, "factor", /*nameAlone=*/true));
      add(fields, "unroll", b.getArrayAttr(items));
    }
    if (!s.parallel.empty())
      add(fields, "parallel", strings(s.parallel));
    if (s.atomic)
      add(fields, "atomic", b.getBoolAttr(true));
    return b.getDictionaryAttr(fields);
  }

  DictionaryAttr func(const FuncSchedule &f, bool isAccumulator) {
    Fields fields;
    if (!isAccumulator)
      add(fields, "name", b.getStringAttr(f.name));
    switch (f.compute.kind) {
    case ComputeLocation::Kind::Default:
      break;
    case ComputeLocation::Kind::Root:
      add(fields, "compute", b.getStringAttr("root"));
      break;
    case ComputeLocation::Kind::Inline:
      add(fields, "compute", b.getStringAttr("inline"));
      break;
    case ComputeLocation::Kind::At: {
      Fields at;
      if (!f.compute.func.empty())
        add(at, "func", b.getStringAttr(f.compute.func));
      add(at, "loop", b.getStringAttr(f.compute.loop));
      if (f.compute.stage >= 0)
        add(at, "stage", b.getStringAttr(f.compute.stage ? "update" : "pure"));
      add(fields, "compute_at", b.getDictionaryAttr(at));
      break;
    }
    }
    if (!f.storage.empty())
      add(fields, "storage", loopSizes(f.storage));
    if (!f.align.empty())
      add(fields, "align", loopSizes(f.align));
    if (f.pure)
      add(fields, "pure", stage(*f.pure));
    if (f.update)
      add(fields, "update", stage(*f.update));
    if (f.accumulator && !isAccumulator)
      add(fields, "accumulator", func(*f.accumulator, /*isAccumulator=*/true));
    return b.getDictionaryAttr(fields);
  }

  Builder b;
};

} // namespace

DictionaryAttr printSchedule(const KernelSchedule &schedule,
                             MLIRContext *context) {
  return Printer(context).kernel(schedule);
}

} // namespace txl::schedule
