//===- StepProgram.h - kernel calls over planned memory --------*- C++ -*-===//
//
// The host side's view of a step after txl-lower and txl-outline-kernels:
// a sequence of kernel calls whose tensors each have a place (a
// weight, the tokens, a memory window, an output buffer of the ABI or an
// offset in the scratch arena), and the copies that end the step. Built by
// analyzeStep; consumed by the host code generator (HostCodegen.h) and
// printed by `txlc --emit=plan`-style dumps (describe()).
//
// The places follow runtime/include/txl/runtime/ModelABI.h: weight i is
// `weights[i]` (a slice of it that pointer plus a byte offset), prepared
// tensor i `prepared[i]`, the tokens the `tokens` pointer, state window s
// `states[s]`, the step's hidden states `hidden` and its log-probabilities
// `log_probs`; every other kernel result lives in the scratch arena
// (ArenaPlan.h).
//
// State windows slide (docs/CODEGEN.md, "State windows"): state s is
// `states[s]`, [B, state_capacity, width], and the step's window of it is
// rows [window_start, window_start + mem_len) of every batch row. A
// `txl.window_update` of a state is no kernel: the step appends the
// segment's n rows right after the window (an `append`), and the next
// window starts n rows later. No memory is copied; the caller moves the
// held rows back to the front when the room after the window runs out.
//
// A model may also have a @prepare function (txl-hoist-invariants): kernels
// that read only weights, run once at load into the `prepared` tensors; it
// is planned the same way into prepareCalls, with its own scratch arena.
//
//===----------------------------------------------------------------------===//
#ifndef TXL_CODEGEN_HOST_STEPPROGRAM_H
#define TXL_CODEGEN_HOST_STEPPROGRAM_H

#include "txl/Passes/KernelSymbols.h"
#include "txl/support/Status.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinOps.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace txl::codegen::host {

/// Where a tensor lives during a step.
struct Place {
  enum class Kind {
    Weight,
    Tokens,
    /// A recurrent state window (memory or key/value cache) of the session.
    State,
    /// A tensor computed once at load by txl_model_prepare.
    Prepared,
    Hidden,
    LogProbs,
    /// txl_model_nll's targets [B, T] (i64) and its result nll [B, T].
    Targets,
    Nll,
    Scratch,
    /// A constant tensor of the model (a global of the host object).
    Constant
  };
  Kind kind = Kind::Scratch;
  /// Weight, State, Prepared, Constant: its index.
  int64_t index = 0;
  /// Bytes from the start of the base pointer (arena offset for Scratch).
  int64_t byteOffset = 0;
  std::string describe() const;
};

/// A tensor as a kernel sees it.
struct TensorView {
  Place place;
  /// Row-major static shape.
  std::vector<int64_t> shape;
  /// Halide type: code (0 int, 1 uint, 2 float) and bits.
  uint8_t typeCode = 2;
  uint8_t typeBits = 32;
  /// Row-major strides in elements; empty means dense. A state window's
  /// batch stride is state_capacity rows.
  std::vector<int64_t> strides;
  int64_t numElements() const;
  int64_t bytes() const { return numElements() * (typeBits / 8); }
};

/// One argument of a kernel call.
struct CallArgument {
  /// Loaded: an index computed by an earlier kernel, read (one i64) from
  /// `tensor` when the call is made (txl.adaptive_nll's cluster counts).
  enum class Kind { Tensor, SegmentLength, MemoryRows, Loaded };
  Kind kind = Kind::Tensor;
  TensorView tensor; // for Tensor and Loaded
};

struct KernelCall {
  /// The txl.kernel's name ("attention.core").
  std::string kernelName;
  /// The outlined function's symbol (`txl_k3_attention_core`).
  std::string symbol;
  std::vector<CallArgument> arguments;
  std::vector<TensorView> results;
  /// Only needed for log_probs: skipped when the caller passes NULL.
  bool onlyForLogProbs = false;
  /// The index argument (SegmentLength, MemoryRows or Loaded) whose value 0
  /// means nothing reads the results: the call is skipped then (txl.kernel's
  /// skip_when_zero).
  std::optional<size_t> skipWhenZero;
};

/// A copy at the end of the step.
struct FinalCopy {
  Place from, to;
  int64_t bytes = 0;
  /// Done only when log_probs is not NULL.
  bool onlyForLogProbs = false;
};

/// The end of a step for state `state`: each batch row's first n rows of
/// `from` ([B, T, width], dense) go to the rows after the state's window.
struct StateAppend {
  int64_t state = 0;
  Place from;
  /// width * 4.
  int64_t rowBytes = 0;
};

struct WeightEntry {
  std::string name;
  std::vector<int64_t> shape;
};

/// A constant tensor hoisted out of a kernel (Halide kernels take only splat
/// constants; the others become arguments that point at host globals).
struct ConstantTensor {
  mlir::DenseElementsAttr value;
};

/// One recurrent state of the step: the kernels see its window
/// [B, mem_len, width]; the session holds [B, state_capacity, width].
struct StateEntry {
  /// "memory" (a layer's hidden memory), "keys" or "values" (its caches).
  std::string role;
  /// The layer: the state's position among the states of its role.
  int64_t layer = 0;
  std::vector<int64_t> shape;
};

/// An arena buffer, for dumps and tests.
struct ArenaBuffer {
  std::string name;
  int64_t byteOffset = 0, bytes = 0, firstUse = 0, lastUse = 0;
};

/// A step compiled for fewer tokens per call than the segment step
/// (ModelABI.h's step variants; StepVariants.h merges one in): its own
/// kernel calls, copies, appends and arena, over the program's weights,
/// prepared tensors, constants and states. Its tokens, hidden and
/// log_probs are [B, tgtLen, ...].
struct StepVariant {
  int64_t tgtLen = 0;
  /// The exported function (`txl_model_step_t1`).
  std::string symbol;
  std::vector<KernelCall> calls;
  std::vector<FinalCopy> copies;
  std::vector<StateAppend> appends;
  std::vector<ArenaBuffer> arena;
  int64_t scratchBytes = 0;
};

struct StepProgram {
  int64_t batch = 0, tgtLen = 0, memLen = 0, numLayers = 0, dModel = 0,
          vocabSize = 0;
  /// Rows per batch row of every state: the window and room to slide it.
  int64_t stateCapacity = 0;
  /// In first-use order (prepare, then step); the order of `weights` in
  /// txl_model_prepare and txl_model_step.
  std::vector<WeightEntry> weights;
  /// The state windows, in the order of `states` in txl_model_step.
  std::vector<StateEntry> states;
  /// What txl_model_prepare computes (named after the kernel and result).
  std::vector<WeightEntry> prepared;
  /// The calls of txl_model_prepare and its scratch arena.
  std::vector<KernelCall> prepareCalls;
  std::vector<ArenaBuffer> prepareArena;
  int64_t prepareScratchBytes = 0;
  std::vector<KernelCall> calls;
  std::vector<FinalCopy> copies;
  /// The calls of txl_model_nll (@nll: the hidden states of
  /// `scoreSegments` steps scored at targets) and its arena; it shares the
  /// step's scratch memory.
  int64_t scoreSegments = 0;
  std::vector<KernelCall> nllCalls;
  std::vector<ArenaBuffer> nllArena;
  int64_t nllScratchBytes = 0;
  /// After the copies: the segment's rows appended to the state windows.
  std::vector<StateAppend> appends;
  std::vector<ConstantTensor> constants;
  std::vector<ArenaBuffer> arena;
  int64_t scratchBytes = 0;
  /// Steps for fewer tokens, by increasing tgtLen (each < tgtLen); they
  /// share the scratch memory (the descriptor's scratch_bytes is the most
  /// any step or @nll needs).
  std::vector<StepVariant> variants;
  /// What the arena would need without reuse.
  int64_t unsharedScratchBytes = 0;
  /// A readable listing of the plan.
  std::string describe() const;
};

/// The rows a session holds per state and batch row: mem_len and as many
/// again (rounded up to whole segments) for the window to slide into, so
/// the held rows move back to the front once every ~mem_len / T steps
/// (0 when mem_len is 0).
int64_t stateCapacityFor(int64_t memLen, int64_t tgtLen);

/// Plans `step`, whose kernels txl-outline-kernels has outlined: each
/// txl.kernel calls its function (named by txl::kernelSymbol), which this
/// reads the call's symbol and arguments from, and whose arguments that are
/// state windows get their strides (`txl.strides`). `step` must be in the
/// form txl-fuse leaves (see docs/CODEGEN.md).
///
/// `prepare`, if given, is planned first, its results become `prepared`
/// and the step's arguments marked `txl.prepared` read them. The step's
/// arguments after (tokens, n, M) are its state windows (`txl.state` gives
/// the role; none means a memory) and prepared tensors.
/// `nll`, when given, is @nll(hidden [B, T, D], targets [B, T] i64) ->
/// nll [B, T], planned into nllCalls.
/// `stateCapacity` (rows per batch row of every state buffer; 0:
/// stateCapacityFor the step's mem_len and T) is given for a step variant,
/// which must address the segment step's buffers.
StatusOr<StepProgram> analyzeStep(mlir::func::FuncOp step,
                                  mlir::func::FuncOp prepare = nullptr,
                                  mlir::func::FuncOp nll = nullptr,
                                  int64_t stateCapacity = 0);

} // namespace txl::codegen::host

#endif // TXL_CODEGEN_HOST_STEPPROGRAM_H
