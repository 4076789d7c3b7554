//===- KernelTranslator.cpp - a linalg kernel as Halide Funcs -------------===//
//
// One walk over the kernel body. Tensor values map to TensorSources (an
// ImageParam, a generic's Func or one element of its Tuple, a splat from
// linalg.fill, or an undefined tensor.empty); scalar values map to Exprs.
// Every check that can fail is done here, before Halide sees anything, so
// errors name the op rather than a Halide internal.
//
//===----------------------------------------------------------------------===//

#include "txl/codegen/halide/KernelTranslator.h"

#include "ScalarOps.h"

#include "txl/Dialect/AttrNames.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/AffineExpr.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <set>

using namespace mlir;
using Halide::Expr;

namespace txl::codegen::halide {

Halide::Type halideTypeOf(ElementKind kind) {
  switch (kind) {
  case ElementKind::F32:
    return Halide::Float(32);
  case ElementKind::I64:
    return Halide::Int(64);
  case ElementKind::I32:
    return Halide::Int(32);
  }
  return Halide::Float(32);
}

namespace {

using detail::describeOp;

std::string typeText(Type type) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << type;
  return text;
}

/// The tensor element types of the contract.
std::optional<ElementKind> elementKindOf(Type type) {
  if (type.isF32())
    return ElementKind::F32;
  if (type.isSignlessInteger(64))
    return ElementKind::I64;
  if (type.isSignlessInteger(32))
    return ElementKind::I32;
  return std::nullopt;
}

/// A kernel tensor argument or result type, checked against the contract.
StatusOr<KernelValueInfo> tensorInfo(Type type, const std::string &what) {
  auto tensorType = dyn_cast<RankedTensorType>(type);
  if (!tensorType)
    return Status::error(what + " has type " + typeText(type) +
                         "; expected a ranked tensor, index or i64");
  if (!tensorType.hasStaticShape())
    return Status::error(what + " has the dynamic shape " + typeText(type) +
                         "; kernels need static shapes");
  std::optional<ElementKind> element =
      elementKindOf(tensorType.getElementType());
  if (!element)
    return Status::error(what + " has element type " +
                         typeText(tensorType.getElementType()) +
                         "; expected f32, i64 or i32");
  KernelValueInfo info;
  info.kind = KernelValueInfo::Kind::Tensor;
  info.element = *element;
  info.shape.assign(tensorType.getShape().begin(), tensorType.getShape().end());
  return info;
}

/// Row-major strides of a shape.
std::vector<int64_t> stridesOf(const std::vector<int64_t> &shape) {
  std::vector<int64_t> strides(shape.size(), 1);
  for (int i = static_cast<int>(shape.size()) - 2; i >= 0; --i)
    strides[i] = strides[i + 1] * shape[i + 1];
  return strides;
}

/// Constrains a buffer to the static shape and row-major strides (dense
/// unless given): the constants let Halide fold all index arithmetic.
void constrainLayout(Halide::OutputImageParam buffer,
                     const std::vector<int64_t> &shape,
                     std::vector<int64_t> strides = {}) {
  if (strides.empty())
    strides = stridesOf(shape);
  int rank = static_cast<int>(shape.size());
  for (int h = 0; h < rank; ++h) {
    int k = rank - 1 - h;
    buffer.dim(h)
        .set_bounds(0, static_cast<int>(shape[k]))
        .set_stride(static_cast<int>(strides[k]));
  }
}

/// Halide dims are reversed MLIR dims.
std::vector<Expr> toHalideOrder(const std::vector<Expr> &rowMajor) {
  return std::vector<Expr>(rowMajor.rbegin(), rowMajor.rend());
}

/// What a tensor value of the kernel is, in Halide terms.
struct TensorSource {
  enum class Kind { Image, Func, TupleElement, Splat, Undefined };
  Kind kind = Kind::Undefined;
  Halide::ImageParam image;
  Halide::Func func;
  unsigned element = 0;
  Expr splat;
  std::vector<int64_t> shape;
  Halide::Type type;
  /// The producing generic, for Func and TupleElement.
  int generic = -1;

  Expr at(const std::vector<Expr> &rowMajor) const {
    switch (kind) {
    case Kind::Image:
      return image(toHalideOrder(rowMajor));
    case Kind::Func:
      return func(toHalideOrder(rowMajor));
    case Kind::TupleElement:
      return func(toHalideOrder(rowMajor))[element];
    case Kind::Splat:
      return splat;
    case Kind::Undefined:
      break;
    }
    return Expr();
  }
};

/// A name Halide accepts for a Func (letters, digits, '_'; '.' separates
/// Halide's own name parts).
std::string sanitize(const std::string &name) {
  std::string out;
  for (char c : name)
    out += (std::isalnum(static_cast<unsigned char>(c)) || c == '_') ? c : '_';
  if (out.empty() || std::isdigit(static_cast<unsigned char>(out[0])))
    out = "f_" + out;
  return out;
}

/// The body yields `out + x` (arith.addf, either order) and reads its output
/// block argument nowhere else: a sum that may start from zero.
bool isAdditive(Block &body, unsigned numInputs) {
  BlockArgument out = body.getArgument(numInputs);
  auto yield = dyn_cast<linalg::YieldOp>(body.getTerminator());
  if (!yield || yield.getNumOperands() != 1 || !out.hasOneUse())
    return false;
  auto add = yield.getOperand(0).getDefiningOp<arith::AddFOp>();
  return add && (add.getLhs() == out || add.getRhs() == out);
}

class Translator {
public:
  Translator(func::FuncOp kernel, const TranslateOptions &options)
      : kernel(kernel), options(options) {}

  StatusOr<TranslatedKernel> run();

private:
  Status error(Operation *op, const std::string &message) const {
    return Status::error("kernel '" + kernel.getSymName().str() +
                         "': " + describeOp(op) + ": " + message);
  }
  std::string uniqueName(const std::string &base);
  bool fastExp() const { return options.schedule && options.schedule->fastExp; }

  Status translateArguments();
  Status translateOp(Operation *op);
  Status translateFill(linalg::FillOp op);
  Status translateGeneric(linalg::GenericOp op);
  /// The first contributing iteration of each reduction loop (0, or what
  /// `txl.first_contributing` says).
  StatusOr<std::vector<Expr>> firstContributing(linalg::GenericOp op,
                                                const TranslatedGeneric &generic);
  Status translateReturn(func::ReturnOp op);
  /// A scalar op, linalg.index or tensor.extract, in or out of a body.
  Status translateScalar(Operation *op, const std::vector<Expr> &loopExprs);
  StatusOr<Expr> scalar(Operation *user, Value value) const;
  StatusOr<const TensorSource *> tensor(Operation *user, Value value) const;

  mutable func::FuncOp kernel;
  TranslateOptions options;
  TranslatedKernel result;
  llvm::DenseMap<Value, Expr> scalars;
  llvm::DenseMap<Value, TensorSource> tensors;
  std::set<std::string> usedNames;
};

std::string Translator::uniqueName(const std::string &base) {
  std::string name = sanitize(base);
  for (int i = 1; usedNames.count(name); ++i)
    name = sanitize(base) + "_" + std::to_string(i);
  usedNames.insert(name);
  return name;
}

StatusOr<Expr> Translator::scalar(Operation *user, Value value) const {
  auto it = scalars.find(value);
  if (it == scalars.end())
    return error(user, "an operand of type " + typeText(value.getType()) +
                           " is not a scalar the kernel defines");
  return it->second;
}

StatusOr<const TensorSource *> Translator::tensor(Operation *user,
                                                  Value value) const {
  auto it = tensors.find(value);
  if (it == tensors.end())
    return error(user, "tensor operand of type " + typeText(value.getType()) +
                           " does not come from the kernel's arguments, "
                           "tensor.empty, linalg.fill or linalg.generic");
  return &it->second;
}

Status Translator::translateArguments() {
  KernelSignature &signature = result.signature;
  signature.name = kernel.getSymName().str();
  for (BlockArgument arg : kernel.getArguments()) {
    std::string name = "arg" + std::to_string(arg.getArgNumber());
    usedNames.insert(name);
    Type type = arg.getType();
    if (type.isIndex() || type.isSignlessInteger(64)) {
      KernelValueInfo info;
      info.kind = KernelValueInfo::Kind::Scalar;
      info.element = ElementKind::I64;
      info.isIndex = type.isIndex();
      info.name = name;
      signature.arguments.push_back(info);
      Halide::Param<int64_t> param(name);
      result.scalars.push_back(param);
      result.arguments.push_back(param);
      // All index arithmetic is Int(32), Halide's index type.
      scalars[arg] = info.isIndex ? Halide::cast(Halide::Int(32), Expr(param))
                                  : Expr(param);
      continue;
    }
    StatusOr<KernelValueInfo> info =
        tensorInfo(type, "kernel '" + signature.name + "': argument #" +
                             std::to_string(arg.getArgNumber()));
    if (!info.ok())
      return info.status();
    info->name = name;
    signature.arguments.push_back(*info);
    Halide::ImageParam image(halideTypeOf(info->element),
                             static_cast<int>(info->shape.size()), name);
    // `txl.strides`: a window of a longer buffer (a state, StepProgram.h).
    std::vector<int64_t> strides;
    if (auto given = kernel.getArgAttrOfType<mlir::DenseI64ArrayAttr>(
            arg.getArgNumber(), txl::attr::kStrides)) {
      strides.assign(given.asArrayRef().begin(), given.asArrayRef().end());
      if (strides.size() != info->shape.size())
        return Status::error("kernel '" + signature.name + "': argument #" +
                             std::to_string(arg.getArgNumber()) +
                             ": txl.strides has " +
                             std::to_string(strides.size()) +
                             " entries, expected one per dimension");
    }
    constrainLayout(image, info->shape, strides);
    result.images.push_back(image);
    result.arguments.push_back(image);
    TensorSource source;
    source.kind = TensorSource::Kind::Image;
    source.image = image;
    source.shape = info->shape;
    source.type = image.type();
    tensors[arg] = source;
  }
  for (auto [index, type] : llvm::enumerate(kernel.getResultTypes())) {
    StatusOr<KernelValueInfo> info =
        tensorInfo(type, "kernel '" + signature.name + "': result #" +
                             std::to_string(index));
    if (!info.ok())
      return info.status();
    signature.results.push_back(*info);
  }
  return Status::ok();
}

/// Each loop variable of the generic around `op` within its static range.
void pushLoopRanges(
    Operation *op, const std::vector<Expr> &loopExprs,
    Halide::Internal::Scope<Halide::Internal::Interval> &ranges) {
  auto generic = op->getParentOfType<linalg::GenericOp>();
  if (!generic)
    return;
  SmallVector<int64_t> extents = generic.getStaticLoopRanges();
  for (auto [loop, expr] : llvm::enumerate(loopExprs)) {
    const auto *variable = expr.as<Halide::Internal::Variable>();
    if (variable && loop < extents.size() &&
        !ShapedType::isDynamic(extents[loop]))
      ranges.push(variable->name, Halide::Internal::Interval(
                                      0, static_cast<int>(extents[loop] - 1)));
  }
}

Status Translator::translateScalar(Operation *op,
                                   const std::vector<Expr> &loopExprs) {
  if (auto index = dyn_cast<linalg::IndexOp>(op)) {
    if (index.getDim() >= loopExprs.size())
      return error(op, "linalg.index outside a generic or past its loops");
    scalars[index.getResult()] = loopExprs[index.getDim()];
    return Status::ok();
  }
  if (auto extract = dyn_cast<tensor::ExtractOp>(op)) {
    StatusOr<const TensorSource *> source = tensor(op, extract.getTensor());
    if (!source.ok())
      return source.status();
    if ((*source)->kind == TensorSource::Kind::Undefined)
      return error(op, "reads a tensor.empty, whose contents are undefined");
    Halide::Internal::Scope<Halide::Internal::Interval> loopRanges;
    pushLoopRanges(op, loopExprs, loopRanges);
    std::vector<Expr> indices;
    for (auto [k, value] : llvm::enumerate(extract.getIndices())) {
      StatusOr<Expr> index = scalar(op, value);
      if (!index.ok())
        return index.status();
      // The IR promises in-range indices; clamping keeps a bad token id from
      // reading outside the buffer, and gives Halide exact bounds. An index
      // in range for every iteration of the loops is left as it is: the
      // clamp would add nothing but a min and a max, which make Halide split
      // vector loops around where they might bind. Simplified first, as
      // bounds are interval arithmetic on the expression's form (x - (x /
      // c) * c, arith's floor remainder, becomes x % c, within [0, c)).
      int high = static_cast<int>((*source)->shape[k] - 1);
      Expr at =
          Halide::Internal::simplify(Halide::cast(Halide::Int(32), *index));
      Halide::Internal::Interval range =
          Halide::Internal::bounds_of_expr_in_scope(at, loopRanges);
      bool inRange = range.is_bounded() &&
                     Halide::Internal::can_prove(range.min >= 0) &&
                     Halide::Internal::can_prove(range.max <= high);
      indices.push_back(inRange ? at : Halide::clamp(at, 0, high));
    }
    scalars[extract.getResult()] = (*source)->at(indices);
    return Status::ok();
  }
  if (!detail::isScalarOp(op))
    return error(op, "not part of the kernel contract (supported: "
                     "tensor.empty, linalg.fill, linalg.generic, func.return, "
                     "and in bodies linalg.index, linalg.yield, "
                     "tensor.extract, arith and math ops)");
  std::vector<Expr> operands;
  for (Value operand : op->getOperands()) {
    StatusOr<Expr> value = scalar(op, operand);
    if (!value.ok())
      return value.status();
    operands.push_back(*value);
  }
  StatusOr<Expr> value = detail::translateScalarOp(op, operands, fastExp());
  if (!value.ok())
    return Status::error("kernel '" + kernel.getSymName().str() +
                         "': " + value.status().message());
  scalars[op->getResult(0)] = *value;
  return Status::ok();
}

Status Translator::translateFill(linalg::FillOp op) {
  if (op.getNumResults() != 1)
    return error(op, "linalg.fill on buffers");
  StatusOr<KernelValueInfo> info =
      tensorInfo(op.getResult(0).getType(), describeOp(op));
  if (!info.ok())
    return info.status();
  StatusOr<Expr> value = scalar(op, op.getInputs()[0]);
  if (!value.ok())
    return value.status();
  TensorSource source;
  source.kind = TensorSource::Kind::Splat;
  source.type = halideTypeOf(info->element);
  source.splat = Halide::cast(source.type, *value);
  source.shape = info->shape;
  tensors[op.getResult(0)] = source;
  return Status::ok();
}

/// An affine expression as a Halide Expr, its dims and symbols bound to
/// `dims` and `symbols`. floordiv and mod have positive constant divisors
/// (affine maps' rule), where Halide's Euclidean `/` and `%` agree with them.
Expr affineToHalide(AffineExpr e, llvm::ArrayRef<Expr> dims,
                    llvm::ArrayRef<Expr> symbols) {
  switch (e.getKind()) {
  case AffineExprKind::DimId:
    return dims[cast<AffineDimExpr>(e).getPosition()];
  case AffineExprKind::SymbolId:
    return symbols[cast<AffineSymbolExpr>(e).getPosition()];
  case AffineExprKind::Constant:
    return Expr(static_cast<int>(cast<AffineConstantExpr>(e).getValue()));
  default:
    break;
  }
  auto binary = cast<AffineBinaryOpExpr>(e);
  Expr lhs = affineToHalide(binary.getLHS(), dims, symbols);
  Expr rhs = affineToHalide(binary.getRHS(), dims, symbols);
  switch (e.getKind()) {
  case AffineExprKind::Add:
    return lhs + rhs;
  case AffineExprKind::Mul:
    return lhs * rhs;
  case AffineExprKind::FloorDiv:
    return lhs / rhs;
  case AffineExprKind::CeilDiv:
    return (lhs + rhs - 1) / rhs;
  case AffineExprKind::Mod:
    return lhs % rhs;
  default:
    return Expr();
  }
}

/// A reduction marked `txl.first_contributing` (txl-decompose's attention):
/// iterations of that reduction loop before the first contributing one leave
/// the output unchanged, so the RDom starts there, at a runtime bound (the
/// memory rows held). Halide then narrows what the producers computed in the
/// same tile compute too, so the work follows the bound.
StatusOr<std::vector<Expr>>
Translator::firstContributing(linalg::GenericOp op,
                              const TranslatedGeneric &generic) {
  std::vector<Expr> first(generic.loops.size(), Expr(0));
  auto attr = op->getAttrOfType<DictionaryAttr>(txl::attr::kFirstContributing);
  if (!attr)
    return first;
  auto loop = attr.getAs<IntegerAttr>("loop");
  auto input = attr.getAs<IntegerAttr>("input");
  auto at = attr.getAs<AffineMapAttr>("at");
  bool wellFormed =
      loop && input && at && loop.getInt() >= 0 &&
      loop.getInt() < static_cast<int64_t>(generic.loops.size()) &&
      generic.loops[loop.getInt()].reduction && input.getInt() >= 0 &&
      input.getInt() < static_cast<int64_t>(op.getNumDpsInputs()) &&
      !isa<ShapedType>(op.getDpsInputs()[input.getInt()].getType()) &&
      at.getValue().getNumDims() == 0 && at.getValue().getNumSymbols() == 1 &&
      at.getValue().getNumResults() == 1;
  if (!wellFormed)
    return error(op, "malformed txl.first_contributing (expected {loop = "
                     "<reduction loop>, input = <scalar input>, at = "
                     "affine_map<()[s0] -> (...)>})");
  StatusOr<Expr> symbol = scalar(op, op.getDpsInputs()[input.getInt()]);
  if (!symbol.ok())
    return symbol.status();
  Expr at0 = affineToHalide(at.getValue().getResult(0), {}, {*symbol});
  int extent = static_cast<int>(generic.loops[loop.getInt()].extent);
  first[loop.getInt()] = Halide::clamp(at0, 0, extent);
  // `at` = k - s0 (the attention's C - M): the whole range runs when the
  // scalar is k. A condition on the Param itself (not its Int(32) cast)
  // lets Halide substitute it inside the specialization.
  AffineExpr e = at.getValue().getResult(0);
  auto k = dyn_cast<AffineConstantExpr>(simplifyAffineExpr(
      e.replaceSymbols({getAffineConstantExpr(0, op.getContext())}), 0, 0));
  if (k && e == getAffineConstantExpr(k.getValue(), op.getContext()) -
                    getAffineSymbolExpr(0, op.getContext())) {
    Expr param = *symbol;
    if (const auto *cast = param.as<Halide::Internal::Cast>())
      param = cast->value;
    result.fullRangeWhen.push_back(
        param == Halide::cast(param.type(), static_cast<int>(k.getValue())));
  }
  return first;
}

Status Translator::translateGeneric(linalg::GenericOp op) {
  if (!op.hasPureTensorSemantics())
    return error(op, "linalg.generic must work on tensors");
  for (Value operand : op->getOperands()) {
    if (!isa<ShapedType>(operand.getType()))
      continue;
    StatusOr<KernelValueInfo> info =
        tensorInfo(operand.getType(), describeOp(op) + ": an operand");
    if (!info.ok())
      return info.status();
  }
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  for (AffineMap map : maps)
    if (map.getNumSymbols() != 0)
      return error(op, "indexing maps with symbols are not supported");
  if (!op.getShapesToLoopsMap())
    return error(op, "the loop extents cannot be derived from the shapes");
  SmallVector<int64_t> extents = op.getStaticLoopRanges();
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  unsigned numLoops = op.getNumLoops();
  for (int64_t extent : extents)
    if (ShapedType::isDynamic(extent))
      return error(op, "a loop has a dynamic extent");

  unsigned numInputs = op.getNumDpsInputs();
  unsigned numOutputs = op.getNumDpsInits();
  AffineMap outputMap = maps[numInputs];
  for (unsigned k = 1; k < numOutputs; ++k)
    if (maps[numInputs + k] != outputMap)
      return error(op, "all outputs of a generic must share one indexing map");

  TranslatedGeneric generic;
  generic.position = static_cast<unsigned>(result.generics.size());
  auto nameAttr = op->getAttrOfType<StringAttr>(attr::kGenericName);
  generic.name =
      nameAttr ? nameAttr.str() : "#" + std::to_string(generic.position);
  for (unsigned l = 0; l < numLoops; ++l) {
    GenericLoop loop;
    loop.name = "d" + std::to_string(l);
    loop.extent = extents[l];
    loop.reduction = iterators[l] == utils::IteratorType::reduction;
    generic.loops.push_back(loop);
  }

  // The output map must be a permutation of the parallel loops.
  std::vector<bool> inOutput(numLoops, false);
  for (AffineExpr expr : outputMap.getResults()) {
    auto dim = dyn_cast<AffineDimExpr>(expr);
    if (!dim || inOutput[dim.getPosition()] ||
        generic.loops[dim.getPosition()].reduction)
      return error(op, "the output indexing map must be a permutation of the "
                       "parallel loops");
    inOutput[dim.getPosition()] = true;
    generic.outputLoops.push_back(dim.getPosition());
  }
  for (unsigned l = 0; l < numLoops; ++l)
    if (!generic.loops[l].reduction && !inOutput[l])
      return error(op, "parallel loop d" + std::to_string(l) +
                           " does not index the output");

  // Contiguity hints for the default schedule.
  auto scoreAccess = [&](AffineMap map) {
    unsigned rank = map.getNumResults();
    for (unsigned r = 0; r < rank; ++r) {
      AffineExpr expr = map.getResult(r);
      for (unsigned l = 0; l < numLoops; ++l) {
        if (!expr.isFunctionOfDim(l))
          continue;
        bool unitStride = false;
        if (r + 1 == rank) {
          AffineExpr dim = getAffineDimExpr(l, op.getContext());
          unitStride = !(expr - dim).isFunctionOfDim(l) ||
                       !(expr + dim).isFunctionOfDim(l);
        }
        generic.loops[l].contiguity += unitStride ? 1 : -1;
      }
    }
  };
  for (unsigned i = 0; i < numInputs; ++i)
    if (isa<ShapedType>(op.getDpsInputs()[i].getType()))
      scoreAccess(maps[i]);
  scoreAccess(outputMap);

  // Vars, and the RDom (innermost reduction loop = dimension 0).
  std::string funcName = uniqueName(generic.name);
  std::vector<Expr> loopExprs(numLoops);
  generic.vars.resize(numLoops);
  generic.rdomDim.assign(numLoops, -1);
  Halide::Region region;
  for (unsigned l = 0; l < numLoops; ++l) {
    if (generic.loops[l].reduction)
      continue;
    generic.vars[l] = Halide::Var(generic.loops[l].name);
    loopExprs[l] = generic.vars[l];
  }
  StatusOr<std::vector<Expr>> first = firstContributing(op, generic);
  if (!first.ok())
    return first.status();
  for (int l = static_cast<int>(numLoops) - 1; l >= 0; --l) {
    if (!generic.loops[l].reduction)
      continue;
    generic.rdomDim[l] = static_cast<int>(region.size());
    Expr extent = static_cast<int>(generic.loops[l].extent);
    region.push_back(Halide::Range((*first)[l], extent - (*first)[l]));
  }
  generic.hasUpdate = !region.empty();
  if (generic.hasUpdate) {
    generic.rdom = Halide::RDom(region, funcName + "_r");
    for (unsigned l = 0; l < numLoops; ++l)
      if (generic.rdomDim[l] >= 0)
        loopExprs[l] = generic.rdom[generic.rdomDim[l]];
  }

  const FuncSchedule *entry =
      options.schedule ? options.schedule->find(generic.name, generic.position)
                       : nullptr;
  generic.staged = generic.hasUpdate && entry && entry->accumulator;
  generic.func = Halide::Func(funcName);
  generic.accumulator =
      generic.staged ? Halide::Func(funcName + "_acc") : generic.func;

  // Pure variables (Halide order) and the output coordinates (row-major).
  std::vector<Expr> outputCoords;
  for (unsigned loop : generic.outputLoops)
    outputCoords.push_back(generic.vars[loop]);
  std::vector<Halide::Var> pureArgs;
  for (auto it = generic.outputLoops.rbegin(); it != generic.outputLoops.rend();
       ++it)
    pureArgs.push_back(generic.vars[*it]);
  std::vector<Expr> lhs = toHalideOrder(outputCoords);

  Block &body = op.getRegion().front();
  std::vector<Expr> inits;
  std::vector<Halide::Type> outputTypes;
  for (unsigned k = 0; k < numOutputs; ++k) {
    Value init = op.getDpsInits()[k];
    StatusOr<const TensorSource *> source = tensor(op, init);
    if (!source.ok())
      return source.status();
    outputTypes.push_back((*source)->type);
    bool readsInit = !body.getArgument(numInputs + k).use_empty();
    if ((*source)->kind == TensorSource::Kind::Undefined) {
      if (readsInit)
        return error(op, "output #" + std::to_string(k) +
                             " reads a tensor.empty, whose contents are "
                             "undefined");
      inits.push_back(Halide::Internal::make_zero((*source)->type));
      continue;
    }
    inits.push_back((*source)->at(outputCoords));
  }

  // The body's block arguments.
  for (unsigned i = 0; i < numInputs; ++i) {
    BlockArgument arg = body.getArgument(i);
    if (arg.use_empty())
      continue;
    Value operand = op.getDpsInputs()[i];
    if (!isa<ShapedType>(operand.getType())) {
      StatusOr<Expr> value = scalar(op, operand);
      if (!value.ok())
        return value.status();
      scalars[arg] = *value;
      continue;
    }
    StatusOr<const TensorSource *> source = tensor(op, operand);
    if (!source.ok())
      return source.status();
    if ((*source)->kind == TensorSource::Kind::Undefined)
      return error(op, "input #" + std::to_string(i) +
                           " is a tensor.empty, whose contents are undefined");
    std::vector<Expr> coords;
    for (AffineExpr expr : maps[i].getResults())
      coords.push_back(affineToHalide(expr, loopExprs, {}));
    scalars[arg] = (*source)->at(coords);
  }
  // A staged sum (`out + x`, the GEMM) accumulates from zero and adds its
  // init when copied out: the accumulator may then be computed over whole
  // padded tiles (a packed weight's last panel) without reading the init's
  // inputs (a bias) past their extent.
  bool additive =
      generic.staged && numOutputs == 1 && isAdditive(body, numInputs);
  // A reduction's init is defined first: its update refers to itself.
  if (generic.hasUpdate) {
    if (additive)
      generic.accumulator(pureArgs) =
          Halide::Internal::make_zero(outputTypes[0]);
    else if (numOutputs == 1)
      generic.accumulator(pureArgs) = inits[0];
    else
      generic.accumulator(pureArgs) = Halide::Tuple(inits);
  }
  for (unsigned k = 0; k < numOutputs; ++k) {
    BlockArgument arg = body.getArgument(numInputs + k);
    if (!generic.hasUpdate)
      scalars[arg] = inits[k];
    else if (numOutputs == 1)
      scalars[arg] = generic.accumulator(lhs);
    else
      scalars[arg] = generic.accumulator(lhs)[k];
  }

  // The body.
  std::vector<Expr> yielded;
  for (Operation &bodyOp : body) {
    if (auto yield = dyn_cast<linalg::YieldOp>(bodyOp)) {
      for (auto [k, value] : llvm::enumerate(yield.getValues())) {
        StatusOr<Expr> expr = scalar(yield, value);
        if (!expr.ok())
          return expr.status();
        yielded.push_back(Halide::cast(outputTypes[k], *expr));
      }
      break;
    }
    if (bodyOp.getNumRegions() != 0)
      return error(&bodyOp, "ops with regions are not supported in a body");
    Status status = translateScalar(&bodyOp, loopExprs);
    if (!status.isOk())
      return status;
  }
  if (yielded.size() != numOutputs)
    return error(op, "the body must yield one value per output");

  if (!generic.hasUpdate) {
    if (numOutputs == 1)
      generic.func(pureArgs) = yielded[0];
    else
      generic.func(pureArgs) = Halide::Tuple(yielded);
  } else {
    if (numOutputs == 1)
      generic.accumulator(lhs) = yielded[0];
    else
      generic.accumulator(lhs) = Halide::Tuple(yielded);
    if (additive)
      generic.func(pureArgs) = inits[0] + generic.accumulator(pureArgs);
    else if (generic.staged && numOutputs == 1)
      generic.func(pureArgs) = Expr(generic.accumulator(pureArgs));
    else if (generic.staged)
      generic.func(pureArgs) = Halide::Tuple(generic.accumulator(pureArgs));
  }

  for (unsigned k = 0; k < numOutputs; ++k) {
    TensorSource source;
    source.kind = numOutputs == 1 ? TensorSource::Kind::Func
                                  : TensorSource::Kind::TupleElement;
    source.func = generic.func;
    source.element = k;
    source.type = outputTypes[k];
    source.shape.assign(
        cast<RankedTensorType>(op.getResult(k).getType()).getShape().begin(),
        cast<RankedTensorType>(op.getResult(k).getType()).getShape().end());
    source.generic = static_cast<int>(generic.position);
    tensors[op.getResult(k)] = source;
  }
  result.generics.push_back(std::move(generic));
  return Status::ok();
}

Status Translator::translateReturn(func::ReturnOp op) {
  for (auto [k, value] : llvm::enumerate(op.getOperands())) {
    StatusOr<const TensorSource *> sourceOr = tensor(op, value);
    if (!sourceOr.ok())
      return sourceOr.status();
    const TensorSource &source = **sourceOr;
    const KernelValueInfo &info = result.signature.results[k];
    if (source.kind == TensorSource::Kind::Undefined)
      return error(op, "result #" + std::to_string(k) +
                           " is a tensor.empty, whose contents are undefined");
    Halide::Func output;
    if (source.kind == TensorSource::Kind::Func &&
        !result.generics[source.generic].isOutput) {
      result.generics[source.generic].isOutput = true;
      output = source.func;
    } else {
      ResultCopy copy;
      copy.func = Halide::Func(uniqueName("result" + std::to_string(k)));
      copy.shape = info.shape;
      std::vector<Halide::Var> vars;
      std::vector<Expr> coords;
      for (size_t d = 0; d < info.shape.size(); ++d) {
        vars.emplace_back("d" + std::to_string(d));
        coords.push_back(vars.back());
      }
      std::vector<Halide::Var> args(vars.rbegin(), vars.rend());
      copy.func(args) =
          Halide::cast(halideTypeOf(info.element), source.at(coords));
      output = copy.func;
      result.copies.push_back(copy);
    }
    constrainLayout(output.output_buffer(), info.shape);
    // Halide makes repeated Func names unique with '$' ("proj$1"), which
    // its C output spells '_'.
    std::string cName = output.name();
    std::replace(cName.begin(), cName.end(), '$', '_');
    result.signature.results[k].name = cName;
    result.outputs.push_back(output);
  }
  return Status::ok();
}

Status Translator::translateOp(Operation *op) {
  if (auto generic = dyn_cast<linalg::GenericOp>(op))
    return translateGeneric(generic);
  if (auto fill = dyn_cast<linalg::FillOp>(op))
    return translateFill(fill);
  if (auto empty = dyn_cast<tensor::EmptyOp>(op)) {
    StatusOr<KernelValueInfo> info =
        tensorInfo(empty.getType(), describeOp(op));
    if (!info.ok())
      return info.status();
    TensorSource source;
    source.kind = TensorSource::Kind::Undefined;
    source.shape = info->shape;
    source.type = halideTypeOf(info->element);
    tensors[empty.getResult()] = source;
    return Status::ok();
  }
  if (auto ret = dyn_cast<func::ReturnOp>(op))
    return translateReturn(ret);
  if (auto constant = dyn_cast<arith::ConstantOp>(op)) {
    if (auto splat = dyn_cast<SplatElementsAttr>(constant.getValue())) {
      StatusOr<KernelValueInfo> info =
          tensorInfo(constant.getType(), describeOp(op));
      if (!info.ok())
        return info.status();
      TensorSource source;
      source.kind = TensorSource::Kind::Splat;
      source.shape = info->shape;
      source.type = halideTypeOf(info->element);
      Attribute element = splat.getSplatValue<Attribute>();
      if (auto f = dyn_cast<FloatAttr>(element))
        source.splat =
            Halide::Internal::make_const(source.type, f.getValueAsDouble());
      else
        source.splat = Halide::Internal::make_const(
            source.type, cast<IntegerAttr>(element).getValue().getSExtValue());
      tensors[constant.getResult()] = source;
      return Status::ok();
    }
    if (isa<ShapedType>(constant.getType()))
      return error(op, "only splat tensor constants are supported");
  }
  if (op->getNumRegions() != 0)
    return error(op, "not part of the kernel contract (supported: "
                     "tensor.empty, linalg.fill, linalg.generic, func.return)");
  return translateScalar(op, {});
}

StatusOr<TranslatedKernel> Translator::run() {
  if (kernel.isExternal())
    return Status::error("kernel '" + kernel.getSymName().str() +
                         "' has no body");
  if (!kernel.getBody().hasOneBlock())
    return Status::error("kernel '" + kernel.getSymName().str() +
                         "' must have a single block");
  Status status = translateArguments();
  if (!status.isOk())
    return status;
  for (Operation &op : kernel.getBody().front()) {
    status = translateOp(&op);
    if (!status.isOk())
      return status;
  }
  if (result.outputs.size() != result.signature.results.size())
    return Status::error("kernel '" + kernel.getSymName().str() +
                         "' must end with func.return");
  return std::move(result);
}

} // namespace

StatusOr<TranslatedKernel> translateKernel(func::FuncOp kernel,
                                           const TranslateOptions &options) {
  try {
    return Translator(kernel, options).run();
  } catch (const Halide::Error &e) {
    return Status::error("kernel '" + kernel.getSymName().str() +
                         "': Halide rejected the translation: " + e.what());
  } catch (const std::exception &e) {
    return Status::error("kernel '" + kernel.getSymName().str() +
                         "': translation failed: " + e.what());
  }
}

StatusOr<Halide::Target>
parseHalideTarget(const std::string &target,
                  const std::vector<Halide::Target::Feature> &features) {
  if (!Halide::Target::validate_target_string(target))
    return Status::error("invalid Halide target '" + target +
                         "' (examples: host, x86-64-linux-avx512, "
                         "host-cuda-cuda_capability_86)");
  try {
    Halide::Target parsed(target);
    for (Halide::Target::Feature feature : features)
      parsed = parsed.with_feature(feature);
    return parsed;
  } catch (const std::exception &e) {
    return Status::error("invalid Halide target '" + target + "': " + e.what());
  }
}

StatusOr<TranslatedKernel> buildScheduledKernel(func::FuncOp kernel,
                                                const Halide::Target &target,
                                                const CodegenOptions &options) {
  KernelSchedule schedule;
  if (options.schedule) {
    schedule = *options.schedule;
  } else if (!options.defaultScheduleOnly) {
    StatusOr<std::optional<KernelSchedule>> fromAttr =
        readKernelSchedule(kernel);
    if (!fromAttr.ok())
      return fromAttr.status();
    if (*fromAttr)
      schedule = **fromAttr;
  }
  TranslateOptions translateOptions;
  translateOptions.schedule = &schedule;
  StatusOr<TranslatedKernel> translated =
      translateKernel(kernel, translateOptions);
  if (!translated.ok())
    return translated.status();
  try {
    int width = schedule.vectorWidth
                    ? static_cast<int>(*schedule.vectorWidth)
                    : target.natural_vector_size(Halide::Float(32));
    Status status =
        applySchedule(schedule, *translated, target.has_gpu_feature(), width);
    if (!status.isOk())
      return Status::error("kernel '" + kernel.getSymName().str() +
                           "': " + status.message());
    // After the schedule: a specialization copies the schedule so far.
    if (!translated->fullRangeWhen.empty()) {
      Expr all = translated->fullRangeWhen.front();
      for (const Expr &c : translated->fullRangeWhen)
        all = all && c;
      for (Halide::Func &out : translated->outputs)
        out.specialize(all);
    }
  } catch (const Halide::Error &e) {
    return Status::error("kernel '" + kernel.getSymName().str() +
                         "': Halide rejected the schedule: " + e.what());
  } catch (const std::exception &e) {
    return Status::error("kernel '" + kernel.getSymName().str() +
                         "': scheduling failed: " + e.what());
  }
  return translated;
}

} // namespace txl::codegen::halide
