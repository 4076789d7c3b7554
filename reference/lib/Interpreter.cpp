//===- Interpreter.cpp - executes txl IR with the reference kernels -------===//
//
// One handler per op; values live in a map from SSA value to RuntimeValue.
// After every op the produced shapes are checked against the op's result
// types, so a kernel and the IR can never silently disagree.
//
//===----------------------------------------------------------------------===//

#include "txl/reference/Interpreter.h"

#include "InterpreterSupport.h"
#include "txl/Dialect/TxlOps.h"
#include "txl/reference/Kernels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/raw_ostream.h"

#include <stdexcept>

using namespace mlir;

namespace txl::reference {
namespace {

std::string describe(Operation *op) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << "'" << op->getName() << "' at " << op->getLoc();
  return text;
}

const std::vector<int64_t> &shapeOf(const RuntimeValue &value) {
  return std::visit(
      [](const auto &v) -> const std::vector<int64_t> & { return v.shape; },
      value);
}

/// Checks a run-time shape against a (possibly dynamic) IR type.
void checkShape(Type type, const std::vector<int64_t> &shape,
                const std::string &what) {
  if (!isa<RankedTensorType>(type)) {
    if (!shape.empty())
      throw ExecutionError(what + " must be a scalar");
    return;
  }
  auto tensorType = cast<RankedTensorType>(type);
  bool matches = tensorType.getRank() == static_cast<int64_t>(shape.size());
  for (int64_t i = 0; matches && i < tensorType.getRank(); ++i)
    matches =
        tensorType.isDynamicDim(i) || tensorType.getDimSize(i) == shape[i];
  if (!matches) {
    std::string typeText;
    llvm::raw_string_ostream os(typeText);
    os << type;
    throw ExecutionError(what + " has shape " + shapeString(shape) +
                         ", which contradicts its type " + typeText);
  }
}

/// The last `rows` rows (dimension 1) of a [B, C, D] window.
Tensor lastRows(const Tensor &window, int64_t rows) {
  int64_t batch = window.shape[0], capacity = window.shape[1],
          width = window.shape[2];
  if (rows < 0 || rows > capacity)
    throw ExecutionError("memory_rows " + std::to_string(rows) +
                         " is outside the window's capacity [0, " +
                         std::to_string(capacity) + "]");
  Tensor out({batch, rows, width});
  for (int64_t b = 0; b < batch; ++b)
    std::copy_n(window.data.begin() + (b * capacity + capacity - rows) * width,
                rows * width, out.data.begin() + b * rows * width);
  return out;
}

/// Right-aligns the rows of `memory` ([B, R, D], R <= C) in a zeroed window
/// of C rows.
Tensor rightAligned(const Tensor &memory, int64_t capacity) {
  int64_t batch = memory.shape[0], rows = memory.shape[1],
          width = memory.shape[2];
  Tensor window({batch, capacity, width});
  for (int64_t b = 0; b < batch; ++b)
    std::copy_n(memory.data.begin() + b * rows * width, rows * width,
                window.data.begin() + (b * capacity + capacity - rows) * width);
  return window;
}

class FunctionExecution {
public:
  FunctionExecution(ModuleOp module, const WeightLookup &weights)
      : module(module), weights(weights) {}

  std::vector<RuntimeValue> call(func::FuncOp function,
                                 std::vector<RuntimeValue> arguments) {
    if (function.isExternal())
      throw ExecutionError("function '" + function.getName().str() +
                           "' has no body");
    return runBlock(function.getBody().front(), std::move(arguments),
                    "'" + function.getName().str() + "'");
  }

  /// Runs a function body or a txl.kernel region: binds the block arguments,
  /// runs every op, and returns the terminator's operands.
  std::vector<RuntimeValue> runBlock(Block &block,
                                     std::vector<RuntimeValue> arguments,
                                     const std::string &what) {
    if (arguments.size() != block.getNumArguments())
      throw ExecutionError(
          what + " takes " + std::to_string(block.getNumArguments()) +
          " arguments, got " + std::to_string(arguments.size()));
    ValueMap values;
    for (auto [argument, value] : llvm::zip(block.getArguments(), arguments)) {
      checkShape(argument.getType(), shapeOf(value),
                 "argument #" + std::to_string(argument.getArgNumber()) +
                     " of " + what);
      values.try_emplace(argument, std::move(value));
    }
    for (Operation &op : block) {
      if (op.hasTrait<OpTrait::IsTerminator>()) {
        std::vector<RuntimeValue> results;
        for (Value operand : op.getOperands())
          results.push_back(values.at(operand));
        return results;
      }
      std::vector<RuntimeValue> results;
      try {
        results = execute(&op, values);
      } catch (const std::exception &error) {
        // Kernels report in their own terms; say which op of the IR failed.
        throw ExecutionError(describe(&op) + ": " + error.what());
      }
      for (auto [result, value] : llvm::zip(op.getResults(), results)) {
        checkShape(result.getType(), shapeOf(value),
                   "result #" + std::to_string(result.getResultNumber()));
        values.try_emplace(result, std::move(value));
      }
    }
    throw ExecutionError(what + " ends without a terminator");
  }

private:
  ModuleOp module;
  const WeightLookup &weights;

  static ConstTensorRef ref(const ValueMap &values, Value value) {
    return refOf(values, value);
  }

  static std::vector<ConstTensorRef> refs(const ValueMap &values,
                                          ValueRange range) {
    std::vector<ConstTensorRef> list;
    for (Value value : range)
      list.push_back(ref(values, value));
    return list;
  }

  /// Activations as an owned tensor (copied only if it is a borrowed weight).
  static const Tensor &tensor(const ValueMap &values, Value value,
                              Tensor &scratch) {
    const RuntimeValue &v = values.at(value);
    if (auto *owned = std::get_if<Tensor>(&v))
      return *owned;
    ConstTensorRef borrowed = ref(values, value);
    int64_t count = 1;
    for (int64_t d : borrowed.shape)
      count *= d;
    scratch = Tensor(borrowed.shape,
                     std::vector<float>(borrowed.data, borrowed.data + count));
    return scratch;
  }

  static const TokenTensor &tokens(const ValueMap &values, Value value) {
    if (auto *ids = std::get_if<TokenTensor>(&values.at(value)))
      return *ids;
    throw ExecutionError("expected token ids");
  }

  static int64_t scalar(const ValueMap &values, Value value) {
    return scalarOf(values, value);
  }

  static int64_t staticDim(Value value, int64_t dim) {
    return cast<RankedTensorType>(value.getType()).getDimSize(dim);
  }

  /// The adaptive softmax's full log-probabilities over `vocab` tokens, for
  /// txl.adaptive_logsoftmax and txl.adaptive_nll (same operands).
  template <typename OutputLayerOp>
  static Tensor fullLogProbs(OutputLayerOp op, const ValueMap &values,
                             Tensor &scratch, int64_t vocab) {
    ConstTensorRef noClusters{nullptr, {0}};
    return adaptiveLogSoftmax(
        tensor(values, op.getInput(), scratch), refs(values, op.getWeights()),
        refs(values, op.getBiases()), refs(values, op.getProjections()),
        op.getClusterWeight() ? ref(values, op.getClusterWeight()) : noClusters,
        op.getClusterBias() ? ref(values, op.getClusterBias()) : noClusters,
        std::vector<int64_t>(op.getCutoffs().begin(), op.getCutoffs().end()),
        op.getDivValAttr().getInt(), vocab);
  }

  std::vector<RuntimeValue> execute(Operation *op, const ValueMap &values) {
    Tensor a, b, c;
    return llvm::TypeSwitch<Operation *, std::vector<RuntimeValue>>(op)
        .Case([&](WeightOp weight) -> std::vector<RuntimeValue> {
          std::optional<ConstTensorRef> bound = weights(weight.getName().str());
          if (!bound)
            throw ExecutionError("no tensor is bound to weight '" +
                                 weight.getName().str() + "'");
          checkShape(weight.getType(), bound->shape,
                     "weight '" + weight.getName().str() + "'");
          return {*bound};
        })
        .Case([&](EmbedOp embed) -> std::vector<RuntimeValue> {
          const TokenTensor &ids = tokens(values, embed.getTokens());
          return {adaptiveEmbedding(
              ids.data, ids.shape[0], ids.shape[1],
              refs(values, embed.getTables()),
              refs(values, embed.getProjections()),
              std::vector<int64_t>(embed.getCutoffs().begin(),
                                   embed.getCutoffs().end()),
              embed.getDivValAttr().getInt(), staticDim(embed, 2))};
        })
        .Case([&](PosEmbOp pos) -> std::vector<RuntimeValue> {
          return {positionalEmbedding(staticDim(pos, 0), staticDim(pos, 1),
                                      pos.getClampLenAttr().getInt())};
        })
        .Case([&](RelAttentionOp attn) -> std::vector<RuntimeValue> {
          // Window form: only the last memory_rows rows are the memory.
          if (attn.getMemoryRows())
            b = lastRows(tensor(values, attn.getMemory(), b),
                         scalar(values, attn.getMemoryRows()));
          return {relativeAttention(
              tensor(values, attn.getInput(), a),
              attn.getMemoryRows() ? b : tensor(values, attn.getMemory(), b),
              tensor(values, attn.getPositions(), c),
              ref(values, attn.getQkvWeight()), ref(values, attn.getRWeight()),
              ref(values, attn.getOWeight()), ref(values, attn.getRWBias()),
              ref(values, attn.getRRBias()), attn.getNHeadAttr().getInt(),
              attn.getDHeadAttr().getInt(), attn.getSameLength(),
              attn.getMemLenAttr().getInt())};
        })
        .Case([&](KvProjectionOp projection) -> std::vector<RuntimeValue> {
          auto [keys, projected] =
              keyValueProjection(tensor(values, projection.getInput(), a),
                                 ref(values, projection.getQkvWeight()),
                                 projection.getNHeadAttr().getInt(),
                                 projection.getDHeadAttr().getInt());
          return {std::move(keys), std::move(projected)};
        })
        .Case([&](CachedRelAttentionOp attn) -> std::vector<RuntimeValue> {
          // The caches are windows: their last memory_rows rows are held.
          int64_t held = scalar(values, attn.getMemoryRows());
          Tensor keyCache =
              lastRows(tensor(values, attn.getKeyCache(), a), held);
          Tensor valueCache =
              lastRows(tensor(values, attn.getValueCache(), a), held);
          Tensor keys, segmentValues;
          return {cachedRelativeAttention(
              tensor(values, attn.getInput(), a), keyCache, valueCache,
              tensor(values, attn.getKeys(), keys),
              tensor(values, attn.getValues(), segmentValues),
              tensor(values, attn.getPositions(), c),
              ref(values, attn.getQkvWeight()), ref(values, attn.getRWeight()),
              ref(values, attn.getOWeight()), ref(values, attn.getRWBias()),
              ref(values, attn.getRRBias()), attn.getNHeadAttr().getInt(),
              attn.getDHeadAttr().getInt(), attn.getSameLength(),
              attn.getMemLenAttr().getInt())};
        })
        .Case([&](LayerNormOp norm) -> std::vector<RuntimeValue> {
          return {layerNorm(tensor(values, norm.getInput(), a),
                            ref(values, norm.getWeight()),
                            ref(values, norm.getBias()),
                            norm.getEpsilon().convertToDouble())};
        })
        .Case([&](FfnOp ffn) -> std::vector<RuntimeValue> {
          return {feedForward(
              tensor(values, ffn.getInput(), a), ref(values, ffn.getUpWeight()),
              ref(values, ffn.getUpBias()), ref(values, ffn.getDownWeight()),
              ref(values, ffn.getDownBias()))};
        })
        .Case([&](MemUpdateOp update) -> std::vector<RuntimeValue> {
          return {memoryUpdate(tensor(values, update.getMemory(), a),
                               tensor(values, update.getHidden(), b),
                               update.getMemLenAttr().getInt())};
        })
        .Case([&](WindowUpdateOp update) -> std::vector<RuntimeValue> {
          const Tensor &window = tensor(values, update.getWindow(), a);
          int64_t segmentRows = scalar(values, update.getSegmentRows());
          Tensor memory =
              lastRows(window, scalar(values, update.getMemoryRows()));
          const Tensor &hidden = tensor(values, update.getHidden(), c);
          if (segmentRows < 1 || segmentRows > hidden.shape[1])
            throw ExecutionError("segment_rows " + std::to_string(segmentRows) +
                                 " is outside [1, " +
                                 std::to_string(hidden.shape[1]) + "]");
          // The first segment_rows rows of the segment are its tokens.
          Tensor rows({hidden.shape[0], segmentRows, hidden.shape[2]});
          for (int64_t r = 0; r < hidden.shape[0]; ++r)
            std::copy_n(hidden.data.begin() +
                            r * hidden.shape[1] * hidden.shape[2],
                        segmentRows * hidden.shape[2],
                        rows.data.begin() + r * segmentRows * hidden.shape[2]);
          int64_t capacity = window.shape[1];
          return {rightAligned(memoryUpdate(memory, rows, capacity), capacity)};
        })
        .Case([&](AdaptiveLogSoftmaxOp softmax) -> std::vector<RuntimeValue> {
          return {fullLogProbs(softmax, values, a, staticDim(softmax, 2))};
        })
        .Case([&](AdaptiveNllOp nll) -> std::vector<RuntimeValue> {
          // Independent of the compiled path: the full log-probabilities,
          // read at the targets.
          return {targetNll(
              fullLogProbs(nll, values, a, nll.getVocabSizeAttr().getInt()),
              tokens(values, nll.getTargets()).data)};
        })
        .Case([&](SegmentScanOp scan) { return segmentScan(scan, values); })
        .Case([&](KernelOp kernel) {
          std::vector<RuntimeValue> inputs;
          for (Value input : kernel.getInputs())
            inputs.push_back(values.at(input));
          return runBlock(kernel.getBody().front(), std::move(inputs),
                          "kernel '" + kernel.getName().str() + "'");
        })
        .Case([&](func::CallOp call) -> std::vector<RuntimeValue> {
          std::vector<RuntimeValue> arguments;
          for (Value operand : call.getOperands())
            arguments.push_back(values.at(operand));
          return this->call(lookup(call.getCallee()), std::move(arguments));
        })
        .Case([&](arith::AddFOp addOp) -> std::vector<RuntimeValue> {
          return {add(tensor(values, addOp.getLhs(), a),
                      tensor(values, addOp.getRhs(), b))};
        })
        .Case([&](tensor::EmptyOp empty) -> std::vector<RuntimeValue> {
          if (!empty.getType().hasStaticShape())
            throw ExecutionError("only static tensor.empty is supported");
          std::vector<int64_t> shape(empty.getType().getShape().begin(),
                                     empty.getType().getShape().end());
          return {Tensor(shape)};
        })
        .Case([&](tensor::CastOp cast) -> std::vector<RuntimeValue> {
          return {values.at(cast.getSource())};
        })
        .Default([&](Operation *other) -> std::vector<RuntimeValue> {
          // linalg on tensors (what txl-decompose produces), slices, constants.
          return runStructuredOp(other, values);
        });
  }

  func::FuncOp lookup(StringRef name) {
    auto function = module.lookupSymbol<func::FuncOp>(name);
    if (!function)
      throw ExecutionError("no function named '" + name.str() + "'");
    return function;
  }

  /// Runs the step on each segment, carrying memories, and concatenates the
  /// per-segment outputs along dimension 1.
  std::vector<RuntimeValue> segmentScan(SegmentScanOp scan,
                                        const ValueMap &values) {
    func::FuncOp step = lookup(scan.getStep());
    const TokenTensor &stream = tokens(values, scan.getTokens());
    int64_t batch = stream.shape[0], length = stream.shape[1];
    int64_t segmentLength = scan.getSegmentLengthAttr().getInt();

    std::vector<RuntimeValue> memories;
    for (Value memory : scan.getInitialMemories())
      memories.push_back(values.at(memory));
    size_t numOutputs = scan.getSegmentOutputs().size();
    std::vector<std::vector<Tensor>> pieces(numOutputs);

    for (int64_t begin = 0; begin < length; begin += segmentLength) {
      int64_t count = std::min(segmentLength, length - begin);
      TokenTensor segment{{batch, count}, {}};
      for (int64_t row = 0; row < batch; ++row)
        segment.data.insert(segment.data.end(),
                            stream.data.begin() + row * length + begin,
                            stream.data.begin() + row * length + begin + count);
      std::vector<RuntimeValue> arguments = {std::move(segment)};
      for (RuntimeValue &memory : memories)
        arguments.push_back(std::move(memory));
      std::vector<RuntimeValue> results = call(step, std::move(arguments));
      for (size_t i = 0; i < numOutputs; ++i)
        pieces[i].push_back(std::get<Tensor>(std::move(results[i])));
      memories.assign(std::make_move_iterator(results.begin() + numOutputs),
                      std::make_move_iterator(results.end()));
    }

    std::vector<RuntimeValue> outputs;
    for (size_t i = 0; i < numOutputs; ++i)
      outputs.push_back(concatenateAlongTime(pieces[i], scan.getResult(i)));
    for (RuntimeValue &memory : memories)
      outputs.push_back(std::move(memory));
    return outputs;
  }

  /// Concatenates [B, t_s, ...] pieces into [B, sum t_s, ...].
  static Tensor concatenateAlongTime(const std::vector<Tensor> &pieces,
                                     Value result) {
    auto type = cast<RankedTensorType>(result.getType());
    std::vector<int64_t> shape(type.getShape().begin(), type.getShape().end());
    if (pieces.empty()) {
      shape[1] = 0;
      for (int64_t &d : shape)
        if (d == ShapedType::kDynamic)
          throw ExecutionError("cannot size an empty scan output");
      return Tensor(shape);
    }
    shape = pieces.front().shape;
    int64_t batch = shape[0], rowWidth = 1;
    for (size_t d = 2; d < shape.size(); ++d)
      rowWidth *= shape[d];
    shape[1] = 0;
    for (const Tensor &piece : pieces)
      shape[1] += piece.shape[1];
    Tensor whole(shape);
    int64_t offset = 0;
    for (const Tensor &piece : pieces) {
      int64_t rows = piece.shape[1];
      for (int64_t b = 0; b < batch; ++b)
        std::copy_n(piece.data.begin() + b * rows * rowWidth, rows * rowWidth,
                    whole.data.begin() + (b * shape[1] + offset) * rowWidth);
      offset += rows;
    }
    return whole;
  }
};

} // namespace

Interpreter::Interpreter(ModuleOp module, WeightLookup weights)
    : module(module), weights(std::move(weights)) {}

StatusOr<std::vector<RuntimeValue>>
Interpreter::run(const std::string &name, std::vector<RuntimeValue> arguments) {
  auto function = module.lookupSymbol<func::FuncOp>(name);
  if (!function)
    return Status::error("reference executor: no function named '" + name +
                         "'");
  FunctionExecution execution(module, weights);
  try {
    return execution.call(function, std::move(arguments));
  } catch (const std::exception &error) {
    return Status::error(std::string("reference executor: ") + error.what());
  }
}

} // namespace txl::reference
