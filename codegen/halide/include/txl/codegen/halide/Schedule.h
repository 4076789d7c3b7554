//===- Schedule.h - a kernel's txl.schedule attribute, parsed ---*- C++ -*-===//
//
// Scheduling is decided elsewhere (the txl-tile pass, a tuner, a person) and
// written on the kernel func as a `txl.schedule` DictionaryAttr; codegen only
// reads it. This header holds the parsed form, the parser and the function
// that applies a schedule to a translated kernel. The attribute's schema, with
// examples, is in docs/SCHEDULES.md.
//
// Loops are named after the generic's linalg loop dimensions: loop `d<i>` is
// iteration dimension i of the linalg.generic. Splitting `d<i>` keeps the name
// for the outer loop and names the inner one `d<i>i` (or as given). Loop lists
// are written outermost first.
//
// Generics without an entry get the default schedule (compute_root, the
// innermost parallel loop vectorized with a guarded tail, the outermost
// parallel loop with more than one iteration parallel; on GPU targets
// gpu_tile), and so does any stage an entry leaves unspecified.
//
//===----------------------------------------------------------------------===//
#ifndef TXL_CODEGEN_HALIDE_SCHEDULE_H
#define TXL_CODEGEN_HALIDE_SCHEDULE_H

#include "txl/support/Status.h"

#include "mlir/IR/BuiltinAttributes.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mlir::func {
class FuncOp;
} // namespace mlir::func

namespace txl::codegen::halide {

/// The name of the kernel func's schedule attribute.
inline constexpr const char *kScheduleAttrName = "txl.schedule";
/// The attribute that names a linalg.generic (schedules refer to it).
inline constexpr const char *kGenericNameAttrName = "txl.name";

/// How a split loop handles extents that are not multiples of the factor
/// (Halide's TailStrategy). `Guard` is always legal; `ShiftInwards` only for
/// pure definitions whose extent is at least the factor; `RoundUp`
/// over-computes and is only safe for intermediates.
enum class TailKind { Auto, Guard, ShiftInwards, RoundUp, Predicate };

/// `split = [{loop = "d1", factor = 64, inner = "d1i", tail = "guard"}]`.
struct LoopSplit {
  std::string loop;
  int64_t factor = 0;
  std::string inner; // defaults to loop + "i"
  std::optional<TailKind> tail;
};

/// `fuse = [{outer = "d0", inner = "d1", into = "d01"}]`.
struct LoopFuse {
  std::string outer, inner, fused;
};

/// An entry of `vectorize` or `unroll`: `{loop = "d2i", width = 16}` /
/// `{loop = "d1", factor = 4}`. A factor of 0 means the whole loop (its
/// extent must then be a constant).
struct LoopAnnotation {
  std::string loop;
  int64_t factor = 0;
  std::optional<TailKind> tail;
};

/// `gpu_tile = {loops = ["d1", "d2"], sizes = [16, 16]}`: the loops (at most
/// three, outermost first) become GPU blocks x threads of the given sizes.
struct GpuTile {
  std::vector<std::string> loops;
  std::vector<int64_t> sizes;
  std::optional<TailKind> tail;
};

/// `rfactor = {loop = "d2", width = 16}` on an update: the reduction loop is
/// split by `width` (a guarded tail) and its inner part factored out
/// (Halide's rfactor) into an intermediate of `width` lanes, computed at the
/// stage's innermost pure loop with its lanes vectorized; the stage then
/// adds up the lanes. A row sum this way keeps its partial sums in a vector
/// register, instead of a chain of scalar adds or atomic updates.
struct ReductionFactor {
  std::string loop;
  int64_t width = 0;
};

/// Directives for one definition (the pure init, or the reduction update) of
/// a Func. Applied in this order: tile, split, reorder, fuse, rfactor,
/// atomic, gpu_tile, vectorize, unroll, parallel (reorder first, so that the
/// loops a fuse joins can be made adjacent: `fuse` puts the fused loop where
/// its outer loop was; atomic before the directives Halide checks against
/// it).
struct StageSchedule {
  /// `tile = {d1 = 8, d2 = 64}`: split each named loop, then order all outer
  /// loops before all inner ones (keeping their relative order).
  std::vector<LoopSplit> tile;
  std::vector<LoopSplit> splits;
  std::vector<LoopFuse> fuses;
  /// Outermost first; a subset is reordered among the positions it occupies.
  std::vector<std::string> order;
  std::optional<ReductionFactor> rfactor;
  std::optional<GpuTile> gpuTile;
  std::vector<LoopAnnotation> vectorize;
  std::vector<LoopAnnotation> unroll;
  std::vector<std::string> parallel;
  /// Stage::atomic(): lets Halide vectorize or parallelize a reduction loop of
  /// an associative update.
  bool atomic = false;
};

/// Where a Func is computed.
struct ComputeLocation {
  enum class Kind { Default, Root, Inline, At };
  Kind kind = Kind::Default;
  /// For `At`: the consumer (a generic's name; for an accumulator it defaults
  /// to the generic that owns it), the loop of that consumer, and which of its
  /// stages (0 pure, 1 update, -1 its last).
  std::string func;
  std::string loop;
  int stage = -1;
};

/// The schedule of one generic (or of its accumulator).
struct FuncSchedule {
  /// The generic's `txl.name`, or `#<i>` for the i-th generic of the kernel.
  std::string name;
  ComputeLocation compute;
  /// Unset: the default schedule for that stage. Set but empty: no directives.
  std::optional<StageSchedule> pure;
  std::optional<StageSchedule> update;
  /// Fixed storage extents per pure loop (`storage = {d3 = 64}`): the
  /// allocation keeps this size even where the computed region is smaller
  /// or known only at run time (a constant-size buffer stays on the stack
  /// and its elements in registers). A region larger than this is a runtime
  /// error.
  std::vector<std::pair<std::string, int64_t>> storage;
  /// Regions aligned per pure loop (`align = {d3 = 48}`): the computed
  /// region along the loop starts at a multiple of the modulus and spans a
  /// whole number of them (Halide `align_bounds`), so that blocks of that
  /// width line up with a layout blocked the same way.
  std::vector<std::pair<std::string, int64_t>> align;
  /// Computes the generic's reduction into a separate Func (its
  /// accumulator), typically `compute = "at"` a tile of the generic, which
  /// then only copies it out (the register-tile pattern of a GEMM).
  std::shared_ptr<const FuncSchedule> accumulator;
};

/// A whole kernel's schedule.
struct KernelSchedule {
  std::vector<FuncSchedule> funcs;
  /// Vector width of the default schedule; unset: the target's natural width
  /// for f32 (16 with AVX-512, 8 with AVX2).
  std::optional<int64_t> vectorWidth;
  /// Tail strategy of splits that name none.
  TailKind defaultTail = TailKind::Guard;
  /// Use Halide's fast_exp (its input clamped at -80, below which the result
  /// is 0) for math.exp on f32.
  bool fastExp = false;

  /// The entry for a generic named `name` at position `position`, if any.
  const FuncSchedule *find(const std::string &name, unsigned position) const;
};

/// Parses and checks a `txl.schedule` attribute. Errors name the field.
StatusOr<KernelSchedule> parseSchedule(mlir::DictionaryAttr attr);

/// The kernel's `txl.schedule` parsed, or nullopt when it has none.
StatusOr<std::optional<KernelSchedule>>
readKernelSchedule(mlir::func::FuncOp kernel);

/// The spelling of a tail strategy in the attribute ("guard", ...).
const char *tailKindName(TailKind kind);

struct TranslatedKernel;

/// Applies `schedule` (or the default one for everything it does not name) to
/// a translated kernel's Funcs, for a CPU target or, with `gpu`, a GPU one.
/// `naturalVectorWidth` is the target's f32 vector width.
Status applySchedule(const KernelSchedule &schedule, TranslatedKernel &kernel,
                     bool gpu, int naturalVectorWidth);

} // namespace txl::codegen::halide

#endif // TXL_CODEGEN_HALIDE_SCHEDULE_H
