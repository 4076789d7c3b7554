//===- StepProgram.cpp - place every tensor of an outlined step ----------===//

#include "txl/codegen/host/StepProgram.h"
#include "txl/codegen/host/ArenaPlan.h"

#include "txl/Dialect/AttrNames.h"
#include "txl/Dialect/TxlDialect.h"
#include "txl/Dialect/TxlOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/SymbolTable.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <map>

namespace txl::codegen::host {
namespace {

using mlir::Value;

std::string shapeText(const std::vector<int64_t> &shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    text += (i ? "x" : "") + std::to_string(shape[i]);
  return text + "]";
}

/// The view of a static tensor type, or an error naming `what`.
StatusOr<TensorView> viewOf(mlir::Type type, const std::string &what) {
  auto tensor = mlir::dyn_cast<mlir::RankedTensorType>(type);
  if (!tensor || !tensor.hasStaticShape())
    return Status::error(what + ": not a static-shape tensor");
  TensorView view;
  view.shape.assign(tensor.getShape().begin(), tensor.getShape().end());
  mlir::Type element = tensor.getElementType();
  if (element.isF32()) {
    view.typeCode = 2;
    view.typeBits = 32;
  } else if (element.isInteger(64)) {
    view.typeCode = 0;
    view.typeBits = 64;
  } else if (element.isInteger(32)) {
    view.typeCode = 0;
    view.typeBits = 32;
  } else {
    return Status::error(what + ": unsupported element type");
  }
  return view;
}

std::string opText(mlir::Operation *op) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << op->getName() << " at " << op->getLoc();
  return text;
}

/// Byte offset of a static, unit-stride, contiguous slice of a row-major
/// tensor; an error if the slice is not contiguous.
StatusOr<int64_t> contiguousSliceOffset(mlir::tensor::ExtractSliceOp slice) {
  auto sourceType = slice.getSourceType();
  if (!slice.getOffsets().empty() || !slice.getSizes().empty() ||
      !slice.getStrides().empty() || !sourceType.hasStaticShape())
    return Status::error(opText(slice) + ": a dynamic slice in the step");
  auto shape = sourceType.getShape();
  auto offsets = slice.getStaticOffsets();
  auto sizes = slice.getStaticSizes();
  auto strides = slice.getStaticStrides();
  if (sizes.size() != shape.size())
    return Status::error(opText(slice) + ": a rank-reducing slice");
  // Contiguous: leading unit dimensions, then one partial dimension, then
  // full ones.
  size_t partial = 0;
  while (partial < sizes.size() && sizes[partial] == 1)
    ++partial;
  for (size_t d = partial + 1; d < sizes.size(); ++d)
    if (sizes[d] != shape[d] || offsets[d] != 0)
      return Status::error(opText(slice) +
                           ": a slice that is not one contiguous block");
  int64_t offset = 0, stride = 1;
  for (size_t d = shape.size(); d-- > 0;) {
    if (strides[d] != 1)
      return Status::error(opText(slice) + ": a strided slice");
    offset += offsets[d] * stride;
    stride *= shape[d];
  }
  int64_t bits = sourceType.getElementTypeBitWidth();
  return offset * (bits / 8);
}

void describeCalls(llvm::raw_ostream &os,
                   const std::vector<KernelCall> &calls) {
  for (size_t i = 0; i < calls.size(); ++i) {
    const KernelCall &call = calls[i];
    os << "  " << i << ": " << call.symbol << "(";
    for (size_t a = 0; a < call.arguments.size(); ++a) {
      const CallArgument &argument = call.arguments[a];
      os << (a ? ", " : "");
      if (argument.kind == CallArgument::Kind::SegmentLength)
        os << "n";
      else if (argument.kind == CallArgument::Kind::MemoryRows)
        os << "M";
      else if (argument.kind == CallArgument::Kind::Loaded)
        os << "load i64 " << argument.tensor.place.describe();
      else
        os << argument.tensor.place.describe()
           << shapeText(argument.tensor.shape);
    }
    os << ") -> (";
    for (size_t r = 0; r < call.results.size(); ++r)
      os << (r ? ", " : "") << call.results[r].place.describe()
         << shapeText(call.results[r].shape);
    os << ")" << (call.onlyForLogProbs ? " [skipped without log_probs]" : "");
    if (call.skipWhenZero)
      os << " [skipped when argument " << *call.skipWhenZero << " is 0]";
    os << "\n";
  }
}

} // namespace

std::string Place::describe() const {
  std::string base;
  switch (kind) {
  case Kind::Weight:
    base = "weights[" + std::to_string(index) + "]";
    break;
  case Kind::Tokens:
    base = "tokens";
    break;
  case Kind::State:
    base = "states[" + std::to_string(index) + "]";
    break;
  case Kind::Prepared:
    base = "prepared[" + std::to_string(index) + "]";
    break;
  case Kind::Hidden:
    base = "hidden";
    break;
  case Kind::LogProbs:
    base = "log_probs";
    break;
  case Kind::Targets:
    base = "targets";
    break;
  case Kind::Nll:
    base = "nll";
    break;
  case Kind::Scratch:
    base = "scratch";
    break;
  case Kind::Constant:
    base = "constant[" + std::to_string(index) + "]";
    break;
  }
  if (byteOffset || kind == Kind::Scratch)
    base += "+" + std::to_string(byteOffset);
  return base;
}

int64_t TensorView::numElements() const {
  int64_t count = 1;
  for (int64_t size : shape)
    count *= size;
  return count;
}

std::string StepProgram::describe() const {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << "step: B=" << batch << " T=" << tgtLen << " mem_len=" << memLen
     << " L=" << numLayers << " D=" << dModel << " V=" << vocabSize << "\n";
  os << "weights (" << weights.size() << "):\n";
  for (size_t i = 0; i < weights.size(); ++i)
    os << "  [" << i << "] " << weights[i].name << " "
       << shapeText(weights[i].shape) << "\n";
  os << "states (" << states.size() << ", " << stateCapacity
     << " rows each per batch row, the window mem_len of them):\n";
  for (size_t i = 0; i < states.size(); ++i)
    os << "  [" << i << "] " << states[i].role << " of layer "
       << states[i].layer << " " << shapeText(states[i].shape) << "\n";
  if (!prepareCalls.empty()) {
    os << "prepared at load (" << prepared.size() << "), prepare scratch "
       << prepareScratchBytes << " bytes:\n";
    for (size_t i = 0; i < prepared.size(); ++i)
      os << "  [" << i << "] " << prepared[i].name << " "
         << shapeText(prepared[i].shape) << "\n";
    os << "prepare calls (" << prepareCalls.size() << "):\n";
    describeCalls(os, prepareCalls);
  }
  os << "scratch: " << scratchBytes << " bytes (" << unsharedScratchBytes
     << " without reuse)\n";
  for (const ArenaBuffer &buffer : arena)
    os << "  +" << buffer.byteOffset << " " << buffer.bytes << " bytes, live ["
       << buffer.firstUse << ", " << buffer.lastUse << "]: " << buffer.name
       << "\n";
  os << "calls (" << calls.size() << "):\n";
  describeCalls(os, calls);
  for (const FinalCopy &copy : copies)
    os << "copy " << copy.bytes << " bytes " << copy.from.describe() << " -> "
       << copy.to.describe()
       << (copy.onlyForLogProbs ? " [only with log_probs]" : "") << "\n";
  for (const StateAppend &append : appends)
    os << "append n rows of " << append.rowBytes << " bytes "
       << append.from.describe() << " -> states[" << append.state
       << "] after the window\n";
  for (const StepVariant &variant : variants) {
    os << "step variant " << variant.symbol << ": T=" << variant.tgtLen
       << ", scratch " << variant.scratchBytes << " bytes\n";
    os << "  calls (" << variant.calls.size() << "):\n";
    describeCalls(os, variant.calls);
    for (const FinalCopy &copy : variant.copies)
      os << "  copy " << copy.bytes << " bytes " << copy.from.describe()
         << " -> " << copy.to.describe()
         << (copy.onlyForLogProbs ? " [only with log_probs]" : "") << "\n";
    for (const StateAppend &append : variant.appends)
      os << "  append n rows of " << append.rowBytes << " bytes "
         << append.from.describe() << " -> states[" << append.state
         << "] after the window\n";
  }
  if (!nllCalls.empty()) {
    os << "nll: " << scoreSegments << " segment(s) per call, scratch "
       << nllScratchBytes << " bytes\n";
    os << "nll calls (" << nllCalls.size() << "):\n";
    describeCalls(os, nllCalls);
  }
  return text;
}

int64_t stateCapacityFor(int64_t memLen, int64_t tgtLen) {
  if (memLen == 0 || tgtLen <= 0)
    return memLen;
  return memLen + (memLen + tgtLen - 1) / tgtLen * tgtLen;
}

namespace {

/// Plans @prepare and @step into one StepProgram: shared weight indices,
/// one arena per function.
class Planner {
public:
  Planner(StepProgram &program, mlir::MLIRContext *context,
          int64_t stateCapacity)
      : program(program), builder(context), stateCapacity(stateCapacity) {}

  Status planPrepare(mlir::func::FuncOp prepare);
  Status planStep(mlir::func::FuncOp step);
  Status planNll(mlir::func::FuncOp nll);

  /// Places argument `a` of `function` when it is a prepared tensor
  /// (`txl.prepared`): true if it is, false if it is something else.
  StatusOr<bool> placePrepared(mlir::func::FuncOp function, unsigned a);

private:
  /// Records the weights, weight slices and kernels of `body`.
  Status collect(mlir::Block &body);
  /// A weight's place; weights get indices in first-use order, a weight
  /// used twice (tied) once.
  Place weightPlace(int64_t byteOffset, const std::string &name,
                    mlir::RankedTensorType type);
  StatusOr<Place> placeOf(Value value, const std::string &what);
  /// Puts every kernel result without a place in an arena; returns its size.
  StatusOr<int64_t> planArena(mlir::Operation *ret,
                              std::vector<ArenaBuffer> &buffers,
                              int64_t *unsharedBytes);
  /// Builds the calls of the outlined kernels, and gives their functions
  /// the strides of the state windows they read. `n` and `m` are the step's
  /// index arguments (null in @prepare).
  Status buildCalls(const std::vector<bool> &onlyLogProbs, Value n, Value m,
                    std::vector<KernelCall> &calls);

  StepProgram &program;
  /// The rows of every state buffer; 0: stateCapacityFor the step.
  int64_t stateCapacity;
  mlir::Builder builder;
  std::map<std::string, int64_t> weightIndex;
  // Per function.
  llvm::DenseMap<Value, Place> places;
  llvm::DenseMap<Value, std::string> weightOf;
  llvm::DenseMap<Value, std::pair<Value, int64_t>> sliceOf;
  std::vector<mlir::Operation *> kernelOps;
  llvm::DenseMap<mlir::Operation *, size_t> kernelPosition;
  /// Index values read out of a kernel result between kernels: the tensor
  /// and the element.
  llvm::DenseMap<Value, std::pair<Value, int64_t>> loaded;
};

Status Planner::collect(mlir::Block &body) {
  places.clear();
  weightOf.clear();
  sliceOf.clear();
  kernelOps.clear();
  kernelPosition.clear();
  loaded.clear();
  for (mlir::Operation &op : body.without_terminator()) {
    // An index read from a kernel's i64 result (at constant indices), for
    // a later kernel: the host loads it when it makes that call.
    if (auto extract = mlir::dyn_cast<mlir::tensor::ExtractOp>(op)) {
      auto type =
          mlir::cast<mlir::RankedTensorType>(extract.getTensor().getType());
      int64_t element = 0;
      for (auto [d, index] : llvm::enumerate(extract.getIndices())) {
        auto constant = index.getDefiningOp<mlir::arith::ConstantIndexOp>();
        if (!constant)
          return Status::error(opText(&op) + ": indices must be constants");
        element = element * type.getDimSize(d) + constant.value();
      }
      if (!type.getElementType().isSignlessInteger(64) ||
          !extract.getTensor().getDefiningOp<KernelOp>())
        return Status::error(opText(&op) +
                             ": only an i64 element of a kernel result may "
                             "be read between kernels");
      loaded[extract.getResult()] = {extract.getTensor(), element};
      continue;
    }
    if (auto cast = mlir::dyn_cast<mlir::arith::IndexCastOp>(op)) {
      auto it = loaded.find(cast.getIn());
      if (it == loaded.end())
        return Status::error(opText(&op) + ": casts only a loaded index");
      loaded[cast.getResult()] = it->second;
      continue;
    }
    if (auto weight = mlir::dyn_cast<WeightOp>(op)) {
      weightOf[weight.getResult()] = weight.getName().str();
      continue;
    }
    if (auto slice = mlir::dyn_cast<mlir::tensor::ExtractSliceOp>(op)) {
      auto offset = contiguousSliceOffset(slice);
      if (!offset.ok())
        return offset.status();
      Value source = slice.getSource();
      int64_t base = 0;
      if (auto it = sliceOf.find(source); it != sliceOf.end()) {
        base = it->second.second;
        source = it->second.first;
      }
      if (!weightOf.count(source))
        return Status::error(opText(&op) +
                             ": only slices of weights are supported in "
                             "the step");
      sliceOf[slice.getResult()] = {source, base + *offset};
      continue;
    }
    // The host appends rows to a state window (planStep checks the form).
    if (mlir::isa<mlir::arith::ConstantOp, WindowUpdateOp>(op))
      continue;
    if (mlir::isa<KernelOp>(op)) {
      kernelPosition[&op] = kernelOps.size();
      kernelOps.push_back(&op);
      continue;
    }
    return Status::error(opText(&op) +
                         ": unexpected after txl-fuse (only txl.weight, "
                         "tensor.extract_slice, constants, txl.kernel and "
                         "txl.window_update may remain)");
  }
  return Status::ok();
}

Place Planner::weightPlace(int64_t byteOffset, const std::string &name,
                           mlir::RankedTensorType type) {
  auto [it, inserted] =
      weightIndex.insert({name, static_cast<int64_t>(weightIndex.size())});
  if (inserted)
    program.weights.push_back(
        {name,
         std::vector<int64_t>(type.getShape().begin(), type.getShape().end())});
  return Place{Place::Kind::Weight, it->second, byteOffset};
}

StatusOr<Place> Planner::placeOf(Value value, const std::string &what) {
  if (auto it = places.find(value); it != places.end())
    return it->second;
  if (auto it = weightOf.find(value); it != weightOf.end())
    return weightPlace(0, it->second,
                       mlir::cast<mlir::RankedTensorType>(value.getType()));
  if (auto it = sliceOf.find(value); it != sliceOf.end())
    return weightPlace(
        it->second.second, weightOf[it->second.first],
        mlir::cast<mlir::RankedTensorType>(it->second.first.getType()));
  return Status::error(what + ": a tensor with no place");
}

StatusOr<int64_t> Planner::planArena(mlir::Operation *ret,
                                     std::vector<ArenaBuffer> &buffers,
                                     int64_t *unsharedBytes) {
  int64_t end = static_cast<int64_t>(kernelOps.size());
  std::vector<ArenaRequest> requests;
  std::vector<Value> requestValues;
  for (size_t i = 0; i < kernelOps.size(); ++i) {
    auto kernel = mlir::cast<KernelOp>(kernelOps[i]);
    for (auto [r, result] : llvm::enumerate(kernel->getResults())) {
      if (places.count(result))
        continue;
      auto view = viewOf(result.getType(),
                         opText(kernel) + " result " + std::to_string(r));
      if (!view.ok())
        return view.status();
      int64_t last = static_cast<int64_t>(i);
      for (mlir::Operation *user : result.getUsers()) {
        if (user == ret || mlir::isa<WindowUpdateOp>(user) ||
            mlir::isa<mlir::tensor::ExtractOp>(user))
          last = end; // the appends follow the last kernel; loads (a few
                      // bytes) stay until then too
        else if (auto it = kernelPosition.find(user);
                 it != kernelPosition.end())
          last = std::max<int64_t>(last, it->second);
        else
          return Status::error(opText(user) + ": uses a kernel result; "
                                              "only kernels may");
      }
      requests.push_back(
          {view->bytes(), static_cast<int64_t>(i), last,
           kernelSymbol(i, kernel.getName()) + "#" + std::to_string(r)});
      requestValues.push_back(result);
    }
  }
  ArenaPlan arena = txl::codegen::host::planArena(requests);
  if (unsharedBytes)
    *unsharedBytes = arena.unsharedBytes;
  for (size_t i = 0; i < requests.size(); ++i) {
    places[requestValues[i]] = Place{Place::Kind::Scratch, 0, arena.offsets[i]};
    buffers.push_back({requests[i].name, arena.offsets[i], requests[i].bytes,
                       requests[i].firstUse, requests[i].lastUse});
  }
  std::sort(buffers.begin(), buffers.end(),
            [](const ArenaBuffer &a, const ArenaBuffer &b) {
              return a.byteOffset != b.byteOffset ? a.byteOffset < b.byteOffset
                                                  : a.firstUse < b.firstUse;
            });
  return arena.totalBytes;
}

/// The call txl-outline-kernels leaves in `kernel`, or an error.
StatusOr<mlir::func::CallOp> outlinedCall(KernelOp kernel,
                                          const std::string &what) {
  mlir::Block &body = kernel.getBody().front();
  auto yield = mlir::cast<YieldOp>(body.getTerminator());
  auto call = yield->getPrevNode()
                  ? mlir::dyn_cast<mlir::func::CallOp>(yield->getPrevNode())
                  : nullptr;
  if (!call || yield.getValues() != mlir::ValueRange(call.getResults()))
    return Status::error(what + ": not outlined (run txl-outline-kernels "
                                "first)");
  return call;
}

Status Planner::buildCalls(const std::vector<bool> &onlyLogProbs, Value n,
                           Value m, std::vector<KernelCall> &calls) {
  for (size_t i = 0; i < kernelOps.size(); ++i) {
    auto kernel = mlir::cast<KernelOp>(kernelOps[i]);
    std::string what = opText(kernel);
    auto outlined = outlinedCall(kernel, what);
    if (!outlined.ok())
      return outlined.status();
    mlir::func::CallOp callOp = *outlined;
    auto func = mlir::SymbolTable::lookupNearestSymbolFrom<mlir::func::FuncOp>(
        kernel, callOp.getCalleeAttr());
    if (!func)
      return Status::error(what + ": calls @" + callOp.getCallee().str() +
                           ", which is not a function of the module");
    KernelCall call;
    call.kernelName = kernel.getName().str();
    call.symbol = callOp.getCallee().str();
    call.onlyForLogProbs = onlyLogProbs[i];
    what += " (" + call.symbol + ")";

    // The call's operands: kernel inputs (block arguments), then constant
    // tensors, which become arguments bound to host globals.
    for (auto [a, operand] : llvm::enumerate(callOp.getOperands())) {
      auto block = mlir::dyn_cast<mlir::BlockArgument>(operand);
      if (!block) {
        auto constant = operand.getDefiningOp<mlir::arith::ConstantOp>();
        auto dense =
            constant
                ? mlir::dyn_cast<mlir::DenseElementsAttr>(constant.getValue())
                : nullptr;
        if (!dense)
          return Status::error(what + ": argument " + std::to_string(a) +
                               " is neither an input nor a constant");
        auto view = viewOf(constant.getType(), what + " constant");
        if (!view.ok())
          return view.status();
        view->place = Place{Place::Kind::Constant,
                            static_cast<int64_t>(program.constants.size()), 0};
        program.constants.push_back({dense});
        call.arguments.push_back({CallArgument::Kind::Tensor, *view});
        continue;
      }
      unsigned k = block.getArgNumber();
      Value input = kernel.getInputs()[k];
      std::string argWhat = what + " input " + std::to_string(k);
      if (input.getType().isIndex()) {
        CallArgument argument;
        if (n && input == n)
          argument.kind = CallArgument::Kind::SegmentLength;
        else if (m && input == m)
          argument.kind = CallArgument::Kind::MemoryRows;
        else if (auto it = loaded.find(input); it != loaded.end()) {
          auto place = placeOf(it->second.first, argWhat);
          if (!place.ok())
            return place.status();
          argument.kind = CallArgument::Kind::Loaded;
          argument.tensor.place = *place;
          argument.tensor.place.byteOffset += it->second.second * 8;
          argument.tensor.shape = {1};
          argument.tensor.typeCode = 0;
          argument.tensor.typeBits = 64;
        } else
          return Status::error(argWhat + ": an index that is neither n, M "
                                         "nor read from a kernel result");
        call.arguments.push_back(argument);
        continue;
      }
      auto view = viewOf(input.getType(), argWhat);
      if (!view.ok())
        return view.status();
      auto place = placeOf(input, argWhat);
      if (!place.ok())
        return place.status();
      view->place = *place;
      if (place->kind == Place::Kind::State) {
        // The window of a longer buffer: the kernel is compiled for its
        // strides.
        view->strides = {program.stateCapacity * view->shape[2], view->shape[2],
                         1};
        func.setArgAttr(a, attr::kStrides,
                        builder.getDenseI64ArrayAttr(view->strides));
      }
      call.arguments.push_back({CallArgument::Kind::Tensor, *view});
    }
    // A kernel whose results nothing reads when an index is 0 (a scoring
    // tail without rows) is called only when it is not.
    if (std::optional<uint64_t> skip = kernel.getSkipWhenZero()) {
      mlir::ValueRange operands = callOp.getOperands();
      auto at = llvm::find(operands, kernel.getBody().getArgument(*skip));
      if (at == operands.end())
        return Status::error(what + ": skip_when_zero names input " +
                             std::to_string(*skip) +
                             ", which is not an argument of the call");
      call.skipWhenZero = at - operands.begin();
    }
    for (auto [r, result] : llvm::enumerate(kernel->getResults())) {
      auto view =
          viewOf(result.getType(), what + " result " + std::to_string(r));
      if (!view.ok())
        return view.status();
      view->place = places[result];
      call.results.push_back(*view);
    }
    calls.push_back(std::move(call));
  }
  return Status::ok();
}

int64_t bytesOf(Value value) {
  auto view = viewOf(value.getType(), "");
  return view.ok() ? view->bytes() : 0;
}

Status Planner::planPrepare(mlir::func::FuncOp prepare) {
  std::string where = "@" + prepare.getSymName().str();
  mlir::Block &body = prepare.getBody().front();
  if (body.getNumArguments() != 0)
    return Status::error(where + ": expected no arguments");
  if (Status status = collect(body); !status.isOk())
    return status;
  auto ret = mlir::cast<mlir::func::ReturnOp>(body.getTerminator());
  // A returned kernel result is computed straight into its prepared tensor.
  for (auto [i, value] : llvm::enumerate(ret.getOperands())) {
    auto view = viewOf(value.getType(), where + " result " + std::to_string(i));
    if (!view.ok())
      return view.status();
    std::string name = "prepared_" + std::to_string(i);
    if (auto kernel = value.getDefiningOp<KernelOp>())
      name += "_" + kernel.getName().str();
    program.prepared.push_back({name, view->shape});
    if (!value.getDefiningOp<KernelOp>() || places.count(value))
      return Status::error(where + ": result " + std::to_string(i) +
                           " must be a kernel result returned once");
    places[value] = Place{Place::Kind::Prepared, static_cast<int64_t>(i), 0};
  }
  auto bytes = planArena(ret, program.prepareArena, nullptr);
  if (!bytes.ok())
    return bytes.status();
  program.prepareScratchBytes = *bytes;
  return buildCalls(std::vector<bool>(kernelOps.size(), false), nullptr,
                    nullptr, program.prepareCalls);
}

Status Planner::planStep(mlir::func::FuncOp step) {
  std::string where = "@" + step.getSymName().str();
  mlir::Block &body = step.getBody().front();
  unsigned numArgs = body.getNumArguments();
  if (numArgs < 3 || !body.getArgument(1).getType().isIndex() ||
      !body.getArgument(2).getType().isIndex())
    return Status::error(where + ": expected (tokens, n: index, M: index, "
                                 "states...) arguments; run "
                                 "txl-window-memory first");
  auto ret = mlir::dyn_cast<mlir::func::ReturnOp>(body.getTerminator());

  // Shapes of the ABI.
  auto tokens = viewOf(body.getArgument(0).getType(), where + " tokens");
  if (!tokens.ok())
    return tokens.status();
  if (!ret || ret.getNumOperands() < 2)
    return Status::error(where + ": expected (hidden, log_probs, new "
                                 "states...) results");
  auto hidden = viewOf(ret.getOperand(0).getType(), where + " hidden");
  auto logProbs = viewOf(ret.getOperand(1).getType(), where + " log_probs");
  if (!hidden.ok())
    return hidden.status();
  if (!logProbs.ok())
    return logProbs.status();
  if (tokens->shape.size() != 2 || tokens->typeBits != 64 ||
      hidden->shape.size() != 3 || logProbs->shape.size() != 3)
    return Status::error(where + ": expected tokens [B, T] i64, hidden "
                                 "[B, T, D] and log_probs [B, T, V]");
  program.batch = tokens->shape[0];
  program.tgtLen = tokens->shape[1];
  program.dModel = hidden->shape[2];
  program.vocabSize = logProbs->shape[2];

  if (Status status = collect(body); !status.isOk())
    return status;
  places[body.getArgument(0)] = Place{Place::Kind::Tokens, 0, 0};

  // The arguments after (tokens, n, M): state windows and prepared tensors.
  std::vector<unsigned> stateArguments;
  std::map<std::string, int64_t> layersOfRole;
  for (unsigned a = 3; a < numArgs; ++a) {
    Value argument = body.getArgument(a);
    auto prepared = placePrepared(step, a);
    if (!prepared.ok())
      return prepared.status();
    if (*prepared)
      continue;
    auto role = step.getArgAttrOfType<mlir::StringAttr>(a, attr::kState);
    std::string roleName = role ? role.str() : "memory";
    auto window = viewOf(argument.getType(),
                         where + " state argument #" + std::to_string(a));
    if (!window.ok())
      return window.status();
    if (window->shape.size() != 3 || window->shape[0] != program.batch ||
        (!stateArguments.empty() && window->shape[1] != program.memLen))
      return Status::error(where + ": state argument #" + std::to_string(a) +
                           " is not [B, mem_len, width]");
    program.memLen = window->shape[1];
    places[argument] = Place{Place::Kind::State,
                             static_cast<int64_t>(stateArguments.size()), 0};
    program.states.push_back(
        {roleName, layersOfRole[roleName]++, window->shape});
    stateArguments.push_back(a);
  }
  for (auto &[role, count] : layersOfRole)
    program.numLayers = std::max(program.numLayers, count);
  program.stateCapacity =
      stateCapacity ? stateCapacity
                    : stateCapacityFor(program.memLen, program.tgtLen);
  if (program.memLen && program.stateCapacity < program.memLen + program.tgtLen)
    return Status::error(where + ": a state capacity of " +
                         std::to_string(program.stateCapacity) +
                         " rows has no room for a step after the window");
  if (ret.getNumOperands() != 2 + stateArguments.size())
    return Status::error(where + ": expected (hidden, log_probs, new "
                                 "states...) results, one per state");

  // Which kernels only feed log_probs (decided last kernel first).
  std::vector<bool> onlyLogProbs(kernelOps.size(), false);
  for (size_t i = kernelOps.size(); i-- > 0;) {
    bool only = true;
    for (Value result : kernelOps[i]->getResults())
      for (mlir::OpOperand &use : result.getUses()) {
        mlir::Operation *user = use.getOwner();
        if (user == ret.getOperation()) {
          if (use.getOperandNumber() != 1)
            only = false;
        } else if (auto it = kernelPosition.find(user);
                   it == kernelPosition.end() || !onlyLogProbs[it->second]) {
          only = false;
        }
      }
    onlyLogProbs[i] = only;
  }

  // Places of returned values that need no copy.
  auto definingKernel = [&](Value value) -> mlir::Operation * {
    mlir::Operation *def = value.getDefiningOp();
    return def && kernelPosition.count(def) ? def : nullptr;
  };
  Value hiddenValue = ret.getOperand(0), logProbsValue = ret.getOperand(1);
  bool hiddenInPlace = definingKernel(hiddenValue) != nullptr;
  if (hiddenInPlace)
    places[hiddenValue] = Place{Place::Kind::Hidden, 0, 0};
  bool logProbsInPlace = false;
  if (mlir::Operation *def = definingKernel(logProbsValue))
    if (onlyLogProbs[kernelPosition[def]] && logProbsValue != hiddenValue) {
      logProbsInPlace = true;
      places[logProbsValue] = Place{Place::Kind::LogProbs, 0, 0};
    }

  auto bytes = planArena(ret, program.arena, &program.unsharedScratchBytes);
  if (!bytes.ok())
    return bytes.status();
  program.scratchBytes = *bytes;
  if (Status status = buildCalls(onlyLogProbs, body.getArgument(1),
                                 body.getArgument(2), program.calls);
      !status.isOk())
    return status;

  // The copies that end the step.
  if (!hiddenInPlace) {
    auto from = placeOf(hiddenValue, where + " hidden");
    if (!from.ok())
      return from.status();
    program.copies.push_back(
        {*from, Place{Place::Kind::Hidden, 0, 0}, bytesOf(hiddenValue), false});
  }
  if (!logProbsInPlace) {
    auto from = placeOf(logProbsValue, where + " log_probs");
    if (!from.ok())
      return from.status();
    program.copies.push_back({*from, Place{Place::Kind::LogProbs, 0, 0},
                              bytesOf(logProbsValue), true});
  }
  // Each new state is its window slid by n rows: the rows are appended.
  for (auto [s, a] : llvm::enumerate(stateArguments)) {
    Value window = ret.getOperand(2 + s);
    if (window == body.getArgument(a))
      continue; // unchanged
    std::string what = where + " new state " + std::to_string(s);
    auto update = window.getDefiningOp<WindowUpdateOp>();
    if (!update || update.getWindow() != body.getArgument(a) ||
        update.getMemoryRows() != body.getArgument(2) ||
        update.getSegmentRows() != body.getArgument(1) || !window.hasOneUse())
      return Status::error(what + ": expected txl.window_update of state " +
                           std::to_string(s) +
                           "[M] with this segment's n "
                           "rows, returned once and used nowhere else");
    if (program.memLen == 0)
      continue; // nothing is kept
    auto rows = viewOf(update.getHidden().getType(), what + " rows");
    if (!rows.ok())
      return rows.status();
    if (rows->shape.size() != 3 || rows->shape[0] != program.batch ||
        rows->shape[1] != program.tgtLen ||
        rows->shape[2] != program.states[s].shape[2])
      return Status::error(what + ": appended rows are not [B, T, width]");
    auto from = placeOf(update.getHidden(), what);
    if (!from.ok())
      return from.status();
    program.appends.push_back(
        {static_cast<int64_t>(s), *from, rows->shape[2] * 4});
  }
  return Status::ok();
}

StatusOr<bool> Planner::placePrepared(mlir::func::FuncOp function, unsigned a) {
  auto index = function.getArgAttrOfType<mlir::IntegerAttr>(a, attr::kPrepared);
  if (!index)
    return false;
  Value argument = function.getArgument(a);
  int64_t i = index.getInt();
  if (i < 0 || i >= static_cast<int64_t>(program.prepared.size()) ||
      program.prepared[i].shape !=
          std::vector<int64_t>(
              mlir::cast<mlir::RankedTensorType>(argument.getType())
                  .getShape()))
    return Status::error(
        "@" + function.getSymName().str() + ": argument #" + std::to_string(a) +
        " does not match prepared tensor " + std::to_string(i));
  places[argument] = Place{Place::Kind::Prepared, i, 0};
  return true;
}

Status Planner::planNll(mlir::func::FuncOp nll) {
  std::string where = "@" + nll.getSymName().str();
  mlir::Block &body = nll.getBody().front();
  auto ret = mlir::dyn_cast<mlir::func::ReturnOp>(body.getTerminator());
  if (body.getNumArguments() < 2 || !ret || ret.getNumOperands() != 1)
    return Status::error(where + ": expected (hidden, targets, prepared "
                                 "tensors...) -> nll");
  auto hidden = viewOf(body.getArgument(0).getType(), where + " hidden");
  auto targets = viewOf(body.getArgument(1).getType(), where + " targets");
  auto scored = viewOf(ret.getOperand(0).getType(), where + " nll");
  if (!hidden.ok() || !targets.ok() || !scored.ok())
    return !hidden.ok() ? hidden.status()
                        : (!targets.ok() ? targets.status() : scored.status());
  // S segments' hidden states: batch entries k * B + b.
  int64_t entries = hidden->shape.empty() ? 0 : hidden->shape[0];
  std::vector<int64_t> rows = {entries, program.tgtLen};
  if (entries < program.batch || entries % program.batch != 0 ||
      hidden->shape !=
          std::vector<int64_t>{entries, program.tgtLen, program.dModel} ||
      targets->shape != rows || targets->typeBits != 64 ||
      scored->shape != rows)
    return Status::error(where + ": expected hidden [S*B, T, D], targets "
                                 "[S*B, T] i64 and nll [S*B, T] of the "
                                 "step's B, T and D");
  program.scoreSegments = entries / program.batch;
  if (Status status = collect(body); !status.isOk())
    return status;
  places[body.getArgument(0)] = Place{Place::Kind::Hidden, 0, 0};
  places[body.getArgument(1)] = Place{Place::Kind::Targets, 0, 0};
  for (unsigned a = 2; a < body.getNumArguments(); ++a) {
    auto prepared = placePrepared(nll, a);
    if (!prepared.ok())
      return prepared.status();
    if (!*prepared)
      return Status::error(where + ": argument #" + std::to_string(a) +
                           " is not a prepared tensor (txl.prepared)");
  }
  Value result = ret.getOperand(0);
  auto kernel = result.getDefiningOp<KernelOp>();
  if (!kernel || !result.hasOneUse())
    return Status::error(where + ": nll must be a kernel result, returned "
                                 "once and used nowhere else");
  places[result] = Place{Place::Kind::Nll, 0, 0};
  auto bytes = planArena(ret, program.nllArena, nullptr);
  if (!bytes.ok())
    return bytes.status();
  program.nllScratchBytes = *bytes;
  return buildCalls(std::vector<bool>(kernelOps.size(), false), nullptr,
                    nullptr, program.nllCalls);
}

} // namespace

StatusOr<StepProgram> analyzeStep(mlir::func::FuncOp step,
                                  mlir::func::FuncOp prepare,
                                  mlir::func::FuncOp nll,
                                  int64_t stateCapacity) {
  StepProgram program;
  Planner planner(program, step.getContext(), stateCapacity);
  if (prepare)
    if (Status status = planner.planPrepare(prepare); !status.isOk())
      return status;
  if (Status status = planner.planStep(step); !status.isOk())
    return status;
  if (nll)
    if (Status status = planner.planNll(nll); !status.isOk())
      return status;
  return program;
}

} // namespace txl::codegen::host
