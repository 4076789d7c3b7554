//===- TxlVerifiers.cpp - shape and attribute rules of the txl ops --------===//
//
// Every relation between operand shapes and attributes that the semantics
// imply is checked here, with a diagnostic that names the operand, the rule
// and what was found. Dynamic dimensions match anything: they are checked
// where they become known (at load or at run time).
//
//===----------------------------------------------------------------------===//

#include "txl/Dialect/AttrNames.h"
#include "txl/Dialect/TxlOps.h"
#include "txl/schedule/ScheduleAttr.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/STLExtras.h"

using namespace mlir;
using namespace txl;

namespace {

constexpr int64_t kAny = ShapedType::kDynamic;

std::string formatDims(ArrayRef<int64_t> dims) {
  std::string text = "[";
  for (auto [i, d] : llvm::enumerate(dims)) {
    if (i)
      text += ", ";
    text += d == kAny ? std::string("?") : std::to_string(d);
  }
  return text + "]";
}

/// Checks that `value` is a tensor of the given shape. `kAny` in `expected`
/// matches any size, and so does a dynamic dimension of `value`. `rule` names
/// the shape in the terms of the model, e.g. "[3 * n_head * d_head, d_model]".
LogicalResult expectShape(Operation *op, Value value, StringRef role,
                          StringRef rule, ArrayRef<int64_t> expected) {
  auto type = cast<RankedTensorType>(value.getType());
  bool matches = type.getRank() == static_cast<int64_t>(expected.size());
  for (int64_t i = 0; matches && i < type.getRank(); ++i)
    matches = expected[i] == kAny || type.isDynamicDim(i) ||
              type.getDimSize(i) == expected[i];
  if (matches)
    return success();
  return op->emitOpError() << role << " must have shape " << rule << " = "
                           << formatDims(expected) << ", found " << type;
}

/// The size of dimension `dim` of a ranked tensor value, or kAny.
int64_t dimOf(Value value, int64_t dim) {
  auto type = cast<RankedTensorType>(value.getType());
  return dim < type.getRank() ? type.getDimSize(dim) : kAny;
}

LogicalResult expectRank(Operation *op, Value value, StringRef role,
                         int64_t rank, StringRef layout) {
  auto type = cast<RankedTensorType>(value.getType());
  if (type.getRank() == rank)
    return success();
  return op->emitOpError() << role << " must be a rank-" << rank << " tensor "
                           << layout << ", found " << type;
}

/// A dimension that must be known at compile time (it sizes weights).
FailureOr<int64_t> staticDim(Operation *op, Value value, StringRef role,
                             int64_t dim, StringRef name) {
  int64_t size = dimOf(value, dim);
  if (size != kAny)
    return size;
  return op->emitOpError() << role << " must have a static " << name
                           << " (dimension " << dim << "), found "
                           << value.getType();
}

/// cutoffs strictly increasing in (0, vocab); returns ends = [0, c..., V].
FailureOr<SmallVector<int64_t>>
clusterEnds(Operation *op, ArrayRef<int64_t> cutoffs, int64_t vocab) {
  SmallVector<int64_t> ends = {0};
  for (int64_t c : cutoffs) {
    if (c <= ends.back())
      return op->emitOpError()
             << "cutoffs must be strictly increasing and positive, found "
             << formatDims(cutoffs);
    if (c >= vocab)
      return op->emitOpError() << "cutoffs must be below the vocabulary size "
                               << vocab << ", found " << formatDims(cutoffs);
    ends.push_back(c);
  }
  ends.push_back(vocab);
  return ends;
}

/// Width of cluster `i` in an adaptive layer: E / div_val^i (at least 1).
FailureOr<int64_t> clusterWidth(Operation *op, int64_t embedWidth,
                                int64_t divVal, size_t cluster) {
  int64_t width = embedWidth;
  for (size_t k = 0; k < cluster; ++k)
    width /= divVal;
  if (width >= 1)
    return width;
  return op->emitOpError() << "cluster " << cluster << " has width "
                           << embedWidth << " / div_val^" << cluster
                           << " = 0; d_embed is too small for div_val "
                           << divVal;
}

LogicalResult expectCount(Operation *op, size_t found, size_t expected,
                          StringRef what, StringRef why) {
  if (found == expected)
    return success();
  return op->emitOpError() << "expects " << expected << " " << what << " ("
                           << why << "), found " << found;
}

} // namespace

//===----------------------------------------------------------------------===//
// txl.weight
//===----------------------------------------------------------------------===//

LogicalResult WeightOp::verify() {
  if (getName().empty())
    return emitOpError("needs a non-empty parameter name");
  if (!getType().hasStaticShape())
    return emitOpError() << "parameter '" << getName()
                         << "' must have a static shape, found " << getType();
  return success();
}

//===----------------------------------------------------------------------===//
// txl.embed
//===----------------------------------------------------------------------===//

LogicalResult EmbedOp::verify() {
  Operation *op = getOperation();
  int64_t vocab = getVocabSizeAttr().getInt();
  int64_t divVal = getDivValAttr().getInt();
  if (vocab < 1)
    return emitOpError() << "vocab_size must be positive, found "
                         << getVocabSizeAttr().getInt();
  if (divVal < 1)
    return emitOpError() << "div_val must be >= 1, found " << divVal;
  auto ends = clusterEnds(op, getCutoffs(), vocab);
  if (failed(ends))
    return failure();
  size_t numClusters = ends->size() - 1;

  if (failed(expectRank(op, getTokens(), "tokens", 2, "[batch, length]")))
    return failure();
  int64_t batch = dimOf(getTokens(), 0), length = dimOf(getTokens(), 1);
  if (failed(
          expectRank(op, getResult(), "result", 3, "[batch, length, d_model]")))
    return failure();
  auto dModel = staticDim(op, getResult(), "result", 2, "d_model");
  if (failed(dModel) ||
      failed(expectShape(op, getResult(), "result", "[batch, length, d_model]",
                         {batch, length, *dModel})))
    return failure();

  if (divVal == 1) {
    if (failed(expectCount(op, getTables().size(), 1, "embedding tables",
                           "div_val == 1 uses one table")))
      return failure();
    Value table = getTables()[0];
    if (failed(expectRank(op, table, "table 0", 2, "[vocab, d_embed]")))
      return failure();
    auto embedWidth = staticDim(op, table, "table 0", 1, "d_embed");
    if (failed(embedWidth) ||
        failed(expectShape(op, table, "table 0", "[vocab_size, d_embed]",
                           {vocab, *embedWidth})))
      return failure();
    size_t expectedProjections = *embedWidth != *dModel ? 1 : 0;
    if (failed(expectCount(op, getProjections().size(), expectedProjections,
                           "projections",
                           "div_val == 1 projects iff d_embed != d_model")))
      return failure();
    if (expectedProjections)
      return expectShape(op, getProjections()[0], "projection 0",
                         "[d_model, d_embed]", {*dModel, *embedWidth});
    return success();
  }

  if (failed(expectCount(op, getTables().size(), numClusters,
                         "embedding tables", "one per cluster")) ||
      failed(expectCount(op, getProjections().size(), numClusters,
                         "projections", "div_val > 1 projects every cluster")))
    return failure();
  auto embedWidth = staticDim(op, getTables()[0], "table 0", 1, "d_embed");
  if (failed(embedWidth))
    return failure();
  for (size_t i = 0; i < numClusters; ++i) {
    auto width = clusterWidth(op, *embedWidth, divVal, i);
    if (failed(width))
      return failure();
    std::string table = "table " + std::to_string(i);
    std::string projection = "projection " + std::to_string(i);
    if (failed(expectShape(op, getTables()[i], table,
                           "[ends[i+1] - ends[i], d_embed / div_val^i]",
                           {(*ends)[i + 1] - (*ends)[i], *width})) ||
        failed(expectShape(op, getProjections()[i], projection,
                           "[d_model, d_embed / div_val^i]",
                           {*dModel, *width})))
      return failure();
  }
  return success();
}

//===----------------------------------------------------------------------===//
// txl.pos_emb
//===----------------------------------------------------------------------===//

LogicalResult PosEmbOp::verify() {
  RankedTensorType type = getType();
  if (type.getRank() != 2 || !type.hasStaticShape())
    return emitOpError() << "result must be a static [distances, d_model] "
                            "tensor, found "
                         << type;
  if (type.getDimSize(0) < 1)
    return emitOpError() << "needs at least one distance, found " << type;
  if (type.getDimSize(1) % 2 != 0 || type.getDimSize(1) == 0)
    return emitOpError() << "d_model must be even and positive (sines and "
                            "cosines fill one half each), found "
                         << type.getDimSize(1);
  return success();
}

//===----------------------------------------------------------------------===//
// txl.rel_attention
//===----------------------------------------------------------------------===//

namespace {

/// What every form of relative attention shares: the attributes, the
/// positions (enough distances for `maxKeys` keys; kAny skips the check),
/// the weights and the result type. Returns d_model through `dModelOut`.
LogicalResult verifyAttentionCommon(Operation *op, int64_t heads,
                                    int64_t headWidth, int64_t memLen,
                                    bool sameLength, Value input,
                                    Value positions, Value qkvWeight,
                                    Value rWeight, Value oWeight, Value rwBias,
                                    Value rrBias, Value result,
                                    int64_t maxKeys) {
  if (heads < 1)
    return op->emitOpError() << "n_head must be positive, found " << heads;
  if (headWidth < 1)
    return op->emitOpError() << "d_head must be positive, found " << headWidth;
  if (memLen < 0)
    return op->emitOpError() << "mem_len must be >= 0, found " << memLen;
  if (sameLength && memLen == 0)
    return op->emitOpError("same_length with mem_len = 0 masks every key");
  if (failed(expectRank(op, input, "input", 3, "[batch, length, d_model]")))
    return failure();
  auto dModel = staticDim(op, input, "input", 2, "d_model");
  if (failed(dModel))
    return failure();
  int64_t inner = heads * headWidth;
  if (failed(expectShape(op, positions, "positions", "[distances, d_model]",
                         {kAny, *dModel})))
    return failure();
  int64_t distances = dimOf(positions, 0);
  if (distances != kAny && maxKeys != kAny && distances < maxKeys)
    return op->emitOpError()
           << "positions has " << distances << " distances, but up to "
           << maxKeys << " keys (memory rows + length) are attended";
  if (failed(expectShape(op, qkvWeight, "qkv_weight",
                         "[3 * n_head * d_head, d_model]",
                         {3 * inner, *dModel})) ||
      failed(expectShape(op, rWeight, "r_weight", "[n_head * d_head, d_model]",
                         {inner, *dModel})) ||
      failed(expectShape(op, oWeight, "o_weight", "[d_model, n_head * d_head]",
                         {*dModel, inner})) ||
      failed(expectShape(op, rwBias, "r_w_bias", "[n_head, d_head]",
                         {heads, headWidth})) ||
      failed(expectShape(op, rrBias, "r_r_bias", "[n_head, d_head]",
                         {heads, headWidth})))
    return failure();
  if (input.getType() != result.getType())
    return op->emitOpError()
           << "result type " << result.getType()
           << " must equal the input type " << input.getType();
  return success();
}

} // namespace

LogicalResult RelAttentionOp::verify() {
  Operation *op = getOperation();
  int64_t memLen = getMemLenAttr().getInt();
  if (failed(
          expectRank(op, getInput(), "input", 3, "[batch, length, d_model]")))
    return failure();
  int64_t batch = dimOf(getInput(), 0), length = dimOf(getInput(), 1),
          dModel = dimOf(getInput(), 2);
  if (failed(expectShape(op, getMemory(), "memory",
                         "[batch, memory rows, d_model]",
                         {batch, kAny, dModel})))
    return failure();
  int64_t memoryRows = dimOf(getMemory(), 1);
  if (getMemoryRows()) {
    // Window form: the memory is a fixed-capacity window of mem_len rows.
    if (memoryRows != memLen)
      return emitOpError() << "a memory window with memory_rows must have "
                              "mem_len = "
                           << memLen << " rows, found "
                           << getMemory().getType();
  } else if (memoryRows != kAny && memoryRows > memLen) {
    return emitOpError() << "memory holds " << memoryRows
                         << " rows, more than mem_len = " << memLen;
  }
  int64_t maxKeys = length == kAny
                        ? kAny
                        : (memoryRows == kAny ? memLen : memoryRows) + length;
  return verifyAttentionCommon(
      op, getNHeadAttr().getInt(), getDHeadAttr().getInt(), memLen,
      getSameLength(), getInput(), getPositions(), getQkvWeight(), getRWeight(),
      getOWeight(), getRWBias(), getRRBias(), getResult(), maxKeys);
}

LogicalResult CachedRelAttentionOp::verify() {
  Operation *op = getOperation();
  int64_t memLen = getMemLenAttr().getInt();
  int64_t inner = getNHeadAttr().getInt() * getDHeadAttr().getInt();
  if (failed(
          expectRank(op, getInput(), "input", 3, "[batch, length, d_model]")))
    return failure();
  int64_t batch = dimOf(getInput(), 0), length = dimOf(getInput(), 1);
  for (auto [cache, role] : {std::pair{getKeyCache(), "key_cache"},
                             std::pair{getValueCache(), "value_cache"}})
    if (failed(expectShape(op, cache, role, "[batch, mem_len, n_head * d_head]",
                           {batch, memLen, inner})))
      return failure();
  for (auto [segment, role] :
       {std::pair{getKeys(), "keys"}, std::pair{getValues(), "values"}})
    if (failed(expectShape(op, segment, role,
                           "[batch, length, n_head * d_head]",
                           {batch, length, inner})))
      return failure();
  return verifyAttentionCommon(
      op, getNHeadAttr().getInt(), getDHeadAttr().getInt(), memLen,
      getSameLength(), getInput(), getPositions(), getQkvWeight(), getRWeight(),
      getOWeight(), getRWBias(), getRRBias(), getResult(),
      length == kAny ? kAny : memLen + length);
}

LogicalResult KvProjectionOp::verify() {
  Operation *op = getOperation();
  int64_t heads = getNHeadAttr().getInt(), headWidth = getDHeadAttr().getInt();
  if (heads < 1 || headWidth < 1)
    return emitOpError() << "n_head and d_head must be positive, found "
                         << heads << " and " << headWidth;
  if (failed(
          expectRank(op, getInput(), "input", 3, "[batch, length, d_model]")))
    return failure();
  int64_t inner = heads * headWidth;
  int64_t batch = dimOf(getInput(), 0), length = dimOf(getInput(), 1),
          dModel = dimOf(getInput(), 2);
  if (failed(expectShape(op, getQkvWeight(), "qkv_weight",
                         "[3 * n_head * d_head, d_model]",
                         {3 * inner, dModel})))
    return failure();
  for (auto [result, role] :
       {std::pair{getKeys(), "keys"}, std::pair{getValues(), "values"}})
    if (failed(expectShape(op, result, role, "[batch, length, n_head * d_head]",
                           {batch, length, inner})))
      return failure();
  return success();
}

//===----------------------------------------------------------------------===//
// txl.layer_norm, txl.ffn
//===----------------------------------------------------------------------===//

LogicalResult LayerNormOp::verify() {
  auto type = cast<RankedTensorType>(getInput().getType());
  if (type.getRank() < 1)
    return emitOpError("input must have at least one dimension");
  int64_t width = type.getDimSize(type.getRank() - 1);
  if (failed(expectShape(*this, getWeight(), "weight", "[last dim of input]",
                         {width})) ||
      failed(expectShape(*this, getBias(), "bias", "[last dim of input]",
                         {width})))
    return failure();
  if (!(getEpsilon().convertToDouble() > 0.0))
    return emitOpError() << "epsilon must be positive, found "
                         << getEpsilon().convertToDouble();
  return success();
}

LogicalResult FfnOp::verify() {
  Operation *op = getOperation();
  auto type = cast<RankedTensorType>(getInput().getType());
  if (type.getRank() < 1)
    return emitOpError("input must have at least one dimension");
  int64_t dModel = type.getDimSize(type.getRank() - 1);
  if (failed(
          expectRank(op, getUpWeight(), "up_weight", 2, "[d_inner, d_model]")))
    return failure();
  int64_t dInner = dimOf(getUpWeight(), 0);
  return success(
      succeeded(expectShape(op, getUpWeight(), "up_weight",
                            "[d_inner, d_model]", {dInner, dModel})) &&
      succeeded(
          expectShape(op, getUpBias(), "up_bias", "[d_inner]", {dInner})) &&
      succeeded(expectShape(op, getDownWeight(), "down_weight",
                            "[d_model, d_inner]", {dModel, dInner})) &&
      succeeded(
          expectShape(op, getDownBias(), "down_bias", "[d_model]", {dModel})));
}

//===----------------------------------------------------------------------===//
// txl.mem_update
//===----------------------------------------------------------------------===//

/// What both memory updates require: a non-negative mem_len and a
/// [batch, length, d_model] segment.
static LogicalResult verifyMemoryUpdate(Operation *op, int64_t memLen,
                                        Value hidden) {
  if (memLen < 0)
    return op->emitOpError() << "mem_len must be >= 0, found " << memLen;
  return expectRank(op, hidden, "hidden", 3, "[batch, length, d_model]");
}

LogicalResult MemUpdateOp::verify() {
  Operation *op = getOperation();
  int64_t memLen = getMemLenAttr().getInt();
  if (failed(verifyMemoryUpdate(op, memLen, getHidden())))
    return failure();
  int64_t batch = dimOf(getHidden(), 0), length = dimOf(getHidden(), 1);
  int64_t dModel = dimOf(getHidden(), 2);
  if (failed(expectShape(op, getMemory(), "memory",
                         "[batch, memory rows, d_model]",
                         {batch, kAny, dModel})))
    return failure();
  int64_t rows = dimOf(getMemory(), 1);
  if (rows != kAny && rows > memLen)
    return emitOpError() << "memory holds " << rows
                         << " rows, more than mem_len = " << memLen;
  int64_t newRows = (rows == kAny || length == kAny)
                        ? (memLen == 0 ? 0 : kAny)
                        : std::min(memLen, rows + length);
  return expectShape(op, getResult(), "result",
                     "[batch, min(mem_len, memory rows + length), d_model]",
                     {batch, newRows, dModel});
}

//===----------------------------------------------------------------------===//
// txl.window_update
//===----------------------------------------------------------------------===//

LogicalResult WindowUpdateOp::verify() {
  Operation *op = getOperation();
  int64_t memLen = getMemLenAttr().getInt();
  if (failed(verifyMemoryUpdate(op, memLen, getHidden())))
    return failure();
  int64_t batch = dimOf(getHidden(), 0), dModel = dimOf(getHidden(), 2);
  if (failed(expectShape(op, getWindow(), "window", "[batch, mem_len, d_model]",
                         {batch, memLen, dModel})))
    return failure();
  if (dimOf(getWindow(), 1) == kAny)
    return emitOpError() << "window must have a static capacity of mem_len = "
                         << memLen << " rows, found " << getWindow().getType();
  if (getResult().getType() != getWindow().getType())
    return emitOpError() << "result type " << getResult().getType()
                         << " must equal the window type "
                         << getWindow().getType();
  return success();
}

//===----------------------------------------------------------------------===//
// txl.adaptive_logsoftmax
//===----------------------------------------------------------------------===//

/// The output layer's operands, shared by txl.adaptive_logsoftmax and
/// txl.adaptive_nll: weights, biases, projections and cluster parameters for
/// a vocabulary of `vocab` tokens over inputs of width `dModel`.
namespace {
template <typename OutputLayerOp>
LogicalResult verifyOutputLayer(OutputLayerOp self, int64_t dModel,
                                int64_t vocab) {
  Operation *op = self.getOperation();
  int64_t divVal = self.getDivValAttr().getInt();
  if (divVal < 1)
    return self.emitOpError() << "div_val must be >= 1, found " << divVal;
  auto ends = clusterEnds(op, self.getCutoffs(), vocab);
  if (failed(ends))
    return failure();
  size_t numClusters = ends->size() - 1, tails = numClusters - 1;

  size_t expectedLayers = divVal == 1 ? 1 : numClusters;
  StringRef why =
      divVal == 1 ? "div_val == 1 uses one output layer" : "one per cluster";
  if (failed(expectCount(op, self.getWeights().size(), expectedLayers,
                         "output weights", why)) ||
      failed(expectCount(op, self.getBiases().size(), expectedLayers,
                         "output biases", why)))
    return failure();
  auto embedWidth =
      staticDim(op, self.getWeights()[0], "weight 0", 1, "d_embed");
  if (failed(embedWidth))
    return failure();

  bool projected = !self.getProjections().empty();
  if (projected &&
      failed(expectCount(op, self.getProjections().size(), numClusters,
                         "projections", "none, or one per cluster")))
    return failure();
  if (divVal > 1 && !projected)
    return self.emitOpError("div_val > 1 needs one projection per cluster");

  for (size_t i = 0; i < numClusters; ++i) {
    auto width = divVal == 1 ? FailureOr<int64_t>(*embedWidth)
                             : clusterWidth(op, *embedWidth, divVal, i);
    if (failed(width))
      return failure();
    if (projected &&
        failed(expectShape(op, self.getProjections()[i],
                           "projection " + std::to_string(i),
                           "[d_model, d_embed / div_val^i]", {dModel, *width})))
      return failure();
    if (!projected && *width != dModel)
      return self.emitOpError()
             << "output weights have width " << *width
             << " but there is no projection to d_model = " << dModel;
    if (divVal == 1)
      continue;
    int64_t rows = (*ends)[i + 1] - (*ends)[i];
    if (failed(expectShape(
            op, self.getWeights()[i], "weight " + std::to_string(i),
            "[ends[i+1] - ends[i], d_embed / div_val^i]", {rows, *width})) ||
        failed(expectShape(op, self.getBiases()[i], "bias " + std::to_string(i),
                           "[ends[i+1] - ends[i]]", {rows})))
      return failure();
  }
  if (divVal == 1 &&
      (failed(expectShape(op, self.getWeights()[0], "weight 0",
                          "[vocab, d_embed]", {vocab, *embedWidth})) ||
       failed(
           expectShape(op, self.getBiases()[0], "bias 0", "[vocab]", {vocab}))))
    return failure();

  bool hasClusters = self.getClusterWeight() != nullptr;
  if (hasClusters != (tails > 0))
    return self.emitOpError()
           << "cluster_weight and cluster_bias are needed iff "
              "there are cutoffs; found "
           << self.getCutoffs().size() << " cutoffs and "
           << (hasClusters ? "" : "no ") << "cluster parameters";
  if (hasClusters &&
      (failed(expectShape(op, self.getClusterWeight(), "cluster_weight",
                          "[number of cutoffs, d_embed]",
                          {static_cast<int64_t>(tails), *embedWidth})) ||
       failed(expectShape(op, self.getClusterBias(), "cluster_bias",
                          "[number of cutoffs]",
                          {static_cast<int64_t>(tails)}))))
    return failure();
  return success();
}

} // namespace

LogicalResult AdaptiveLogSoftmaxOp::verify() {
  Operation *op = getOperation();
  if (failed(
          expectRank(op, getInput(), "input", 3, "[batch, length, d_model]")) ||
      failed(
          expectRank(op, getResult(), "result", 3, "[batch, length, vocab]")))
    return failure();
  auto dModel = staticDim(op, getInput(), "input", 2, "d_model");
  auto vocab = staticDim(op, getResult(), "result", 2, "vocab");
  if (failed(dModel) || failed(vocab) ||
      failed(expectShape(op, getResult(), "result", "[batch, length, vocab]",
                         {dimOf(getInput(), 0), dimOf(getInput(), 1), *vocab})))
    return failure();
  return verifyOutputLayer(*this, *dModel, *vocab);
}

//===----------------------------------------------------------------------===//
// txl.adaptive_nll
//===----------------------------------------------------------------------===//

LogicalResult AdaptiveNllOp::verify() {
  Operation *op = getOperation();
  if (failed(
          expectRank(op, getInput(), "input", 3, "[batch, length, d_model]")) ||
      failed(expectRank(op, getTargets(), "targets", 2, "[batch, length]")) ||
      failed(expectShape(op, getTargets(), "targets", "[batch, length]",
                         {dimOf(getInput(), 0), dimOf(getInput(), 1)})) ||
      failed(expectShape(op, getResult(), "result", "[batch, length]",
                         {dimOf(getInput(), 0), dimOf(getInput(), 1)})))
    return failure();
  auto dModel = staticDim(op, getInput(), "input", 2, "d_model");
  if (failed(dModel))
    return failure();
  int64_t vocab = getVocabSizeAttr().getInt();
  if (vocab < 1)
    return emitOpError() << "vocab_size must be positive, found " << vocab;
  return verifyOutputLayer(*this, *dModel, vocab);
}

//===----------------------------------------------------------------------===//
// txl.kernel
//===----------------------------------------------------------------------===//

LogicalResult KernelOp::verify() {
  Block &body = getBody().front();
  if (body.getNumArguments() != getInputs().size())
    return emitOpError() << "has " << getInputs().size()
                         << " inputs but its body takes "
                         << body.getNumArguments() << " arguments";
  for (auto [i, input, argument] :
       llvm::enumerate(getInputs(), body.getArguments()))
    if (input.getType() != argument.getType())
      return emitOpError() << "input #" << i << " has type " << input.getType()
                           << " but body argument #" << i << " has type "
                           << argument.getType();
  auto yield = cast<YieldOp>(body.getTerminator());
  if (yield.getValues().getTypes() != getResultTypes())
    return emitOpError() << "yields " << yield.getValues().size()
                         << " values whose types differ from its results";
  if (getName().empty())
    return emitOpError("needs a name");
  if (std::optional<uint64_t> skip = getSkipWhenZero()) {
    int64_t input = static_cast<int64_t>(*skip);
    if (input < 0 || input >= static_cast<int64_t>(getInputs().size()) ||
        !getInputs()[input].getType().isIndex())
      return emitOpError() << "skip_when_zero = " << input
                           << " must name an index input";
  }
  // A schedule is checked where it is written, not when codegen reads it:
  // txl-opt rejects a malformed hand-written or tuned one with the path of
  // the field.
  StatusOr<std::optional<schedule::KernelSchedule>> parsed =
      schedule::readKernelSchedule(getOperation());
  if (!parsed.ok())
    return emitOpError() << parsed.status().message();
  if (Attribute target = (*this)->getAttr(attr::kTarget);
      target && !isa<StringAttr>(target))
    return emitOpError() << attr::kTarget
                         << " must be a Halide target string, got " << target;
  return success();
}

//===----------------------------------------------------------------------===//
// txl.segment_scan
//===----------------------------------------------------------------------===//

LogicalResult SegmentScanOp::verify() {
  int64_t segmentLength = getSegmentLengthAttr().getInt();
  if (segmentLength < 1)
    return emitOpError() << "segment_length must be positive, found "
                         << segmentLength;
  if (failed(expectRank(*this, getTokens(), "tokens", 2, "[batch, length]")))
    return failure();
  size_t numMemories = getInitialMemories().size();
  if (getNumResults() < numMemories)
    return emitOpError() << "has " << getNumResults()
                         << " results, fewer than its " << numMemories
                         << " memories";
  for (auto [i, init, final] :
       llvm::enumerate(getInitialMemories(), getFinalMemories())) {
    if (failed(expectRank(*this, init, "initial memory " + std::to_string(i), 3,
                          "[batch, rows, d_model]")) ||
        failed(expectShape(*this, final, "final memory " + std::to_string(i),
                           "[batch, rows, d_model]",
                           {dimOf(init, 0), kAny, dimOf(init, 2)})))
      return failure();
  }
  return success();
}

LogicalResult
SegmentScanOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  auto step =
      symbolTable.lookupNearestSymbolFrom<func::FuncOp>(*this, getStepAttr());
  if (!step)
    return emitOpError() << "step '" << getStep()
                         << "' does not name a func.func";
  FunctionType type = step.getFunctionType();
  size_t numMemories = getInitialMemories().size();
  if (type.getNumInputs() != 1 + numMemories)
    return emitOpError() << "step '" << getStep() << "' must take tokens and "
                         << numMemories << " memories (" << 1 + numMemories
                         << " arguments), found " << type.getNumInputs();
  if (type.getNumResults() != getNumResults())
    return emitOpError() << "step '" << getStep() << "' must return "
                         << getNumResults()
                         << " values (segment outputs, then memories), found "
                         << type.getNumResults();

  auto stepTokens = dyn_cast<RankedTensorType>(type.getInput(0));
  if (!stepTokens || stepTokens.getRank() != 2 ||
      !stepTokens.getElementType().isInteger(64))
    return emitOpError() << "step's first argument must be a [batch, length] "
                            "i64 token tensor, found "
                         << type.getInput(0);
  int64_t stepLength = stepTokens.getDimSize(1);
  int64_t segmentLength = getSegmentLengthAttr().getInt();
  if (stepLength != kAny && stepLength != segmentLength)
    return emitOpError() << "step takes segments of " << stepLength
                         << " tokens, but segment_length is " << segmentLength;
  int64_t streamLength = dimOf(getTokens(), 1);
  if (stepLength != kAny && streamLength != kAny &&
      streamLength % segmentLength != 0)
    return emitOpError() << "a stream of " << streamLength
                         << " tokens ends in a partial segment, which needs a "
                            "step with a dynamic segment length";

  for (size_t i = 0; i < numMemories; ++i) {
    Type memoryType = type.getInput(1 + i);
    Type returned = type.getResult(getNumResults() - numMemories + i);
    if (memoryType != returned)
      return emitOpError() << "step returns memory " << i << " as " << returned
                           << " but takes it as " << memoryType
                           << "; they must match to be carried";
    if (failed(verifyCompatibleShape(memoryType,
                                     getInitialMemories()[i].getType())))
      return emitOpError() << "initial memory " << i << " has type "
                           << getInitialMemories()[i].getType()
                           << ", incompatible with the step's " << memoryType;
  }
  for (auto [i, output] : llvm::enumerate(getSegmentOutputs())) {
    auto perSegment = dyn_cast<RankedTensorType>(type.getResult(i));
    auto whole = cast<RankedTensorType>(output.getType());
    if (!perSegment || perSegment.getRank() != whole.getRank() ||
        perSegment.getRank() < 2 ||
        perSegment.getElementType() != whole.getElementType())
      return emitOpError() << "segment output " << i << " has type " << whole
                           << ", which cannot concatenate step results of "
                           << type.getResult(i);
    SmallVector<int64_t> expected(perSegment.getShape());
    expected[1] = streamLength;
    if (failed(expectShape(*this, output, "segment output " + std::to_string(i),
                           "the step's result with the stream length",
                           expected)))
      return failure();
  }
  return success();
}
