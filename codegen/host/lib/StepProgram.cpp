//===- StepProgram.cpp - outline kernels, place every tensor of a step ----===//

#include "txl/codegen/host/StepProgram.h"
#include "txl/codegen/host/ArenaPlan.h"

#include "txl/Dialect/TxlDialect.h"
#include "txl/Dialect/TxlOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/IRMapping.h"

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
  case Kind::Window:
    base = "memories[" + std::to_string(index) + "]";
    break;
  case Kind::Hidden:
    base = "hidden";
    break;
  case Kind::LogProbs:
    base = "log_probs";
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

std::string kernelSymbol(size_t index, llvm::StringRef name) {
  std::string symbol = "txl_k" + std::to_string(index) + "_";
  for (char c : name)
    symbol +=
        (std::isalnum(static_cast<unsigned char>(c)) || c == '_') ? c : '_';
  return symbol;
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
  os << "scratch: " << scratchBytes << " bytes (" << unsharedScratchBytes
     << " without reuse)\n";
  for (const ArenaBuffer &buffer : arena)
    os << "  +" << buffer.byteOffset << " " << buffer.bytes << " bytes, live ["
       << buffer.firstUse << ", " << buffer.lastUse << "]: " << buffer.name
       << "\n";
  os << "calls (" << calls.size() << "):\n";
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
      else
        os << argument.tensor.place.describe()
           << shapeText(argument.tensor.shape);
    }
    os << ") -> (";
    for (size_t r = 0; r < call.results.size(); ++r)
      os << (r ? ", " : "") << call.results[r].place.describe()
         << shapeText(call.results[r].shape);
    os << ")" << (call.onlyForLogProbs ? " [skipped without log_probs]" : "")
       << "\n";
  }
  for (const FinalCopy &copy : copies)
    os << "copy " << copy.bytes << " bytes " << copy.from.describe() << " -> "
       << copy.to.describe()
       << (copy.onlyForLogProbs ? " [only with log_probs]" : "") << "\n";
  return text;
}

StatusOr<StepProgram> analyzeStep(mlir::func::FuncOp step,
                                  mlir::ModuleOp kernels) {
  StepProgram program;
  std::string where = "@" + step.getSymName().str();
  mlir::Block &body = step.getBody().front();
  unsigned numArgs = body.getNumArguments();
  if (numArgs < 3 || !body.getArgument(1).getType().isIndex() ||
      !body.getArgument(2).getType().isIndex())
    return Status::error(where + ": expected (tokens, n: index, M: index, "
                                 "windows...) arguments; run "
                                 "txl-window-memory first");
  auto ret = mlir::dyn_cast<mlir::func::ReturnOp>(body.getTerminator());
  unsigned numLayers = numArgs - 3;
  if (!ret || ret.getNumOperands() != numLayers + 2)
    return Status::error(where + ": expected (hidden, log_probs, new "
                                 "windows...) results, one window per layer");

  // Shapes of the ABI.
  auto tokens = viewOf(body.getArgument(0).getType(), where + " tokens");
  auto hidden = viewOf(ret.getOperand(0).getType(), where + " hidden");
  auto logProbs = viewOf(ret.getOperand(1).getType(), where + " log_probs");
  if (!tokens.ok())
    return tokens.status();
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
  program.numLayers = numLayers;
  program.dModel = hidden->shape[2];
  program.vocabSize = logProbs->shape[2];
  for (unsigned l = 0; l < numLayers; ++l) {
    auto window = viewOf(body.getArgument(3 + l).getType(),
                         where + " window " + std::to_string(l));
    if (!window.ok())
      return window.status();
    if (window->shape.size() != 3 || window->shape[0] != program.batch ||
        window->shape[2] != program.dModel ||
        (l > 0 && window->shape[1] != program.memLen))
      return Status::error(where + ": window " + std::to_string(l) +
                           " is not [B, mem_len, D]");
    program.memLen = window->shape[1];
  }

  // Walk the step: weights, slices, kernels.
  llvm::DenseMap<Value, Place> places;
  llvm::DenseMap<Value, std::string> weightOf; // value -> weight name
  std::map<std::string, int64_t> weightIndex;
  std::vector<mlir::Operation *> kernelOps;
  places[body.getArgument(0)] = Place{Place::Kind::Tokens, 0, 0};
  for (unsigned l = 0; l < numLayers; ++l)
    places[body.getArgument(3 + l)] = Place{Place::Kind::Window, l, 0};

  // Weights get indices in first-use order; a weight used twice (tied) once.
  auto weightPlace = [&](Value value, int64_t byteOffset,
                         const std::string &name, mlir::RankedTensorType type) {
    auto [it, inserted] =
        weightIndex.insert({name, static_cast<int64_t>(weightIndex.size())});
    if (inserted)
      program.weights.push_back(
          {name, std::vector<int64_t>(type.getShape().begin(),
                                      type.getShape().end())});
    return Place{Place::Kind::Weight, it->second, byteOffset};
  };
  llvm::DenseMap<Value, std::pair<Value, int64_t>> sliceOf; // -> weight, off

  for (mlir::Operation &op : body.without_terminator()) {
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
    if (mlir::isa<mlir::arith::ConstantOp>(op))
      continue;
    if (mlir::isa<KernelOp>(op)) {
      kernelOps.push_back(&op);
      continue;
    }
    return Status::error(opText(&op) +
                         ": unexpected in the step after txl-fuse (only "
                         "txl.weight, tensor.extract_slice, constants and "
                         "txl.kernel may remain)");
  }

  // Which kernels only feed log_probs (decided last kernel first).
  llvm::DenseMap<mlir::Operation *, size_t> kernelPosition;
  for (size_t i = 0; i < kernelOps.size(); ++i)
    kernelPosition[kernelOps[i]] = i;
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
  int64_t end = static_cast<int64_t>(kernelOps.size());
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

  // Every other kernel result goes to the arena.
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
        if (user == ret.getOperation())
          last = end;
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
  ArenaPlan arena = planArena(requests);
  program.scratchBytes = arena.totalBytes;
  program.unsharedScratchBytes = arena.unsharedBytes;
  for (size_t i = 0; i < requests.size(); ++i) {
    places[requestValues[i]] = Place{Place::Kind::Scratch, 0, arena.offsets[i]};
    program.arena.push_back({requests[i].name, arena.offsets[i],
                             requests[i].bytes, requests[i].firstUse,
                             requests[i].lastUse});
  }
  std::sort(program.arena.begin(), program.arena.end(),
            [](const ArenaBuffer &a, const ArenaBuffer &b) {
              return a.byteOffset != b.byteOffset ? a.byteOffset < b.byteOffset
                                                  : a.firstUse < b.firstUse;
            });

  // The place of a tensor operand.
  auto placeOf = [&](Value value, const std::string &what) -> StatusOr<Place> {
    if (auto it = places.find(value); it != places.end())
      return it->second;
    auto type = mlir::cast<mlir::RankedTensorType>(value.getType());
    if (auto it = weightOf.find(value); it != weightOf.end())
      return weightPlace(value, 0, it->second, type);
    if (auto it = sliceOf.find(value); it != sliceOf.end())
      return weightPlace(
          it->second.first, it->second.second, weightOf[it->second.first],
          mlir::cast<mlir::RankedTensorType>(it->second.first.getType()));
    return Status::error(what + ": a tensor with no place in the step");
  };

  // Outline the kernels and build the calls.
  mlir::OpBuilder builder(kernels.getContext());
  builder.setInsertionPointToEnd(kernels.getBody());
  for (size_t i = 0; i < kernelOps.size(); ++i) {
    auto kernel = mlir::cast<KernelOp>(kernelOps[i]);
    KernelCall call;
    call.kernelName = kernel.getName().str();
    call.symbol = kernelSymbol(i, kernel.getName());
    call.onlyForLogProbs = onlyLogProbs[i];
    std::string what = opText(kernel) + " (" + call.symbol + ")";

    mlir::Block &region = kernel.getBody().front();
    llvm::SmallVector<mlir::Type> argumentTypes;
    llvm::SmallVector<unsigned> passed; // kernel inputs that stay arguments
    for (auto [k, input] : llvm::enumerate(kernel.getInputs())) {
      if (input.getDefiningOp<mlir::arith::ConstantOp>())
        continue;
      passed.push_back(k);
      argumentTypes.push_back(input.getType());
      std::string argWhat = what + " input " + std::to_string(k);
      if (input.getType().isIndex()) {
        CallArgument argument;
        if (input == body.getArgument(1))
          argument.kind = CallArgument::Kind::SegmentLength;
        else if (input == body.getArgument(2))
          argument.kind = CallArgument::Kind::MemoryRows;
        else
          return Status::error(argWhat + ": an index that is neither n nor M");
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
      call.arguments.push_back({CallArgument::Kind::Tensor, *view});
    }
    // Non-splat constant tensors become arguments bound to host globals.
    llvm::SmallVector<mlir::arith::ConstantOp> hoisted;
    for (mlir::Operation &op : region)
      if (auto constant = mlir::dyn_cast<mlir::arith::ConstantOp>(op))
        if (auto dense =
                mlir::dyn_cast<mlir::DenseElementsAttr>(constant.getValue()))
          if (!dense.isSplat() &&
              mlir::isa<mlir::RankedTensorType>(constant.getType())) {
            auto view = viewOf(constant.getType(), what + " constant");
            if (!view.ok())
              return view.status();
            view->place =
                Place{Place::Kind::Constant,
                      static_cast<int64_t>(program.constants.size()), 0};
            program.constants.push_back({dense});
            hoisted.push_back(constant);
            argumentTypes.push_back(constant.getType());
            call.arguments.push_back({CallArgument::Kind::Tensor, *view});
          }
    for (auto [r, result] : llvm::enumerate(kernel->getResults())) {
      auto view =
          viewOf(result.getType(), what + " result " + std::to_string(r));
      if (!view.ok())
        return view.status();
      view->place = places[result];
      call.results.push_back(*view);
    }

    auto func = builder.create<mlir::func::FuncOp>(
        kernel.getLoc(), call.symbol,
        builder.getFunctionType(argumentTypes, kernel->getResultTypes()));
    if (mlir::Attribute schedule = kernel->getAttr("txl.schedule"))
      func->setAttr("txl.schedule", schedule);
    mlir::Block *entry = func.addEntryBlock();
    mlir::OpBuilder inner = mlir::OpBuilder::atBlockBegin(entry);
    mlir::IRMapping mapping;
    for (auto [a, k] : llvm::enumerate(passed))
      mapping.map(region.getArgument(k), entry->getArgument(a));
    for (auto [h, constant] : llvm::enumerate(hoisted))
      mapping.map(constant.getResult(), entry->getArgument(passed.size() + h));
    for (auto [k, input] : llvm::enumerate(kernel.getInputs()))
      if (auto constant = input.getDefiningOp<mlir::arith::ConstantOp>())
        mapping.map(region.getArgument(k),
                    inner.clone(*constant)->getResult(0));
    for (mlir::Operation &op : region) {
      if (auto constant = mlir::dyn_cast<mlir::arith::ConstantOp>(op))
        if (llvm::is_contained(hoisted, constant))
          continue;
      if (auto yield = mlir::dyn_cast<YieldOp>(op)) {
        llvm::SmallVector<Value> values;
        for (Value value : yield.getValues())
          values.push_back(mapping.lookupOrDefault(value));
        inner.create<mlir::func::ReturnOp>(yield.getLoc(), values);
        continue;
      }
      inner.clone(op, mapping);
    }
    program.calls.push_back(std::move(call));
  }

  // The copies that end the step.
  auto bytesOf = [&](Value value) {
    auto view = viewOf(value.getType(), "");
    return view.ok() ? view->bytes() : 0;
  };
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
  for (unsigned l = 0; l < numLayers; ++l) {
    Value window = ret.getOperand(2 + l);
    if (window == body.getArgument(3 + l))
      continue; // unchanged (mem_len 0)
    auto from = placeOf(window, where + " new window " + std::to_string(l));
    if (!from.ok())
      return from.status();
    if (from->kind != Place::Kind::Scratch)
      return Status::error(where + ": new window " + std::to_string(l) +
                           " is not computed by a kernel");
    if (bytesOf(window))
      program.copies.push_back(
          {*from, Place{Place::Kind::Window, l, 0}, bytesOf(window), false});
  }
  return program;
}

} // namespace txl::codegen::host
