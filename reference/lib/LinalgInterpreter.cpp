//===- LinalgInterpreter.cpp - runs linalg on tensors, point by point -----===//
//
// Makes the reference executor an oracle for decomposed IR too: a
// linalg.generic is run by visiting every point of its iteration space,
// evaluating the body's scalar ops, and updating the output element at the
// output's index map (reductions accumulate by re-reading it). Float ops round
// to f32, as the IR's types say; this is a checker, not a fast path.
//
//===----------------------------------------------------------------------===//

#include "InterpreterSupport.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>

using namespace mlir;

namespace txl::reference {
namespace {

int64_t evaluate(AffineExpr expr, ArrayRef<int64_t> dims) {
  if (auto dim = dyn_cast<AffineDimExpr>(expr))
    return dims[dim.getPosition()];
  if (auto constant = dyn_cast<AffineConstantExpr>(expr))
    return constant.getValue();
  auto binary = cast<AffineBinaryOpExpr>(expr);
  int64_t lhs = evaluate(binary.getLHS(), dims),
          rhs = evaluate(binary.getRHS(), dims);
  switch (expr.getKind()) {
  case AffineExprKind::Add:
    return lhs + rhs;
  case AffineExprKind::Mul:
    return lhs * rhs;
  case AffineExprKind::Mod:
    return ((lhs % rhs) + rhs) % rhs;
  case AffineExprKind::FloorDiv:
    return lhs / rhs - ((lhs % rhs != 0) && ((lhs < 0) != (rhs < 0)));
  case AffineExprKind::CeilDiv:
    return lhs / rhs + ((lhs % rhs != 0) && ((lhs < 0) == (rhs < 0)));
  default:
    throw ExecutionError("unsupported affine expression");
  }
}

/// Row-major offset of `index` in `shape`, bounds-checked.
int64_t offsetOf(ArrayRef<int64_t> shape, ArrayRef<int64_t> index,
                 const char *what) {
  int64_t offset = 0;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (index[d] < 0 || index[d] >= shape[d])
      throw ExecutionError(std::string(what) + " index " +
                           std::to_string(index[d]) + " out of bounds [0, " +
                           std::to_string(shape[d]) + ") in dimension " +
                           std::to_string(d));
    offset = offset * shape[d] + index[d];
  }
  return offset;
}

/// Reads element `index` of any tensor value as a double.
double element(const RuntimeValue &value, ArrayRef<int64_t> index) {
  if (auto *tokens = std::get_if<TokenTensor>(&value))
    return static_cast<double>(
        tokens->data[offsetOf(tokens->shape, index, "tensor")]);
  ConstTensorRef view = std::holds_alternative<Tensor>(value)
                            ? ConstTensorRef(std::get<Tensor>(value))
                            : std::get<ConstTensorRef>(value);
  return view.data[offsetOf(view.shape, index, "tensor")];
}

double scalarConstant(Attribute attr) {
  if (auto f = dyn_cast<FloatAttr>(attr))
    return f.getValueAsDouble();
  if (auto i = dyn_cast<IntegerAttr>(attr))
    return static_cast<double>(i.getValue().getSExtValue());
  throw ExecutionError("unsupported scalar constant");
}

bool compareFloat(arith::CmpFPredicate predicate, double a, double b) {
  bool unordered = std::isnan(a) || std::isnan(b);
  using P = arith::CmpFPredicate;
  switch (predicate) {
  case P::OEQ:
    return !unordered && a == b;
  case P::ONE:
    return !unordered && a != b;
  case P::OLT:
    return !unordered && a < b;
  case P::OLE:
    return !unordered && a <= b;
  case P::OGT:
    return !unordered && a > b;
  case P::OGE:
    return !unordered && a >= b;
  case P::UEQ:
    return unordered || a == b;
  case P::UNE:
    return unordered || a != b;
  case P::ULT:
    return unordered || a < b;
  case P::ULE:
    return unordered || a <= b;
  case P::UGT:
    return unordered || a > b;
  case P::UGE:
    return unordered || a >= b;
  case P::ORD:
    return !unordered;
  case P::UNO:
    return unordered;
  case P::AlwaysTrue:
    return true;
  case P::AlwaysFalse:
    return false;
  }
  return false;
}

bool compareInt(arith::CmpIPredicate predicate, int64_t a, int64_t b) {
  using P = arith::CmpIPredicate;
  switch (predicate) {
  case P::eq:
    return a == b;
  case P::ne:
    return a != b;
  case P::slt:
    return a < b;
  case P::sle:
    return a <= b;
  case P::sgt:
    return a > b;
  case P::sge:
    return a >= b;
  case P::ult:
    return uint64_t(a) < uint64_t(b);
  case P::ule:
    return uint64_t(a) <= uint64_t(b);
  case P::ugt:
    return uint64_t(a) > uint64_t(b);
  case P::uge:
    return uint64_t(a) >= uint64_t(b);
  }
  return false;
}

/// Evaluates the scalar body of a generic at one point.
class BodyEvaluator {
public:
  BodyEvaluator(Block &body, const ValueMap &outer)
      : body(body), outer(outer) {}

  /// Returns the yielded values for block arguments `args` at `point`.
  SmallVector<double> run(ArrayRef<double> args, ArrayRef<int64_t> point) {
    scalars.clear();
    for (auto [arg, v] : llvm::zip(body.getArguments(), args))
      scalars[arg] = v;
    for (Operation &op : body) {
      if (auto yield = dyn_cast<linalg::YieldOp>(op)) {
        SmallVector<double> results;
        for (Value v : yield.getValues())
          results.push_back(get(v));
        return results;
      }
      scalars[op.getResult(0)] = evaluateOp(op, point);
    }
    throw ExecutionError("generic body without linalg.yield");
  }

private:
  Block &body;
  const ValueMap &outer;
  llvm::DenseMap<Value, double> scalars;

  double get(Value v) {
    auto it = scalars.find(v);
    if (it != scalars.end())
      return it->second;
    // A scalar captured from outside the generic.
    const RuntimeValue &value = outer.at(v);
    if (auto *index = std::get_if<IndexScalar>(&value))
      return static_cast<double>(index->value);
    return element(value, {});
  }

  static double f32(double v) { return static_cast<float>(v); }

  double evaluateOp(Operation &op, ArrayRef<int64_t> point) {
    auto in = [&](unsigned i) { return get(op.getOperand(i)); };
    auto asInt = [&](unsigned i) { return static_cast<int64_t>(in(i)); };
    return llvm::TypeSwitch<Operation *, double>(&op)
        .Case([&](arith::ConstantOp c) { return scalarConstant(c.getValue()); })
        .Case([&](arith::AddFOp) { return f32(in(0) + in(1)); })
        .Case([&](arith::SubFOp) { return f32(in(0) - in(1)); })
        .Case([&](arith::MulFOp) { return f32(in(0) * in(1)); })
        .Case([&](arith::DivFOp) { return f32(in(0) / in(1)); })
        .Case([&](arith::NegFOp) { return -in(0); })
        .Case<arith::MaximumFOp, arith::MaxNumFOp>(
            [&](auto) { return std::max(in(0), in(1)); })
        .Case<arith::MinimumFOp, arith::MinNumFOp>(
            [&](auto) { return std::min(in(0), in(1)); })
        .Case([&](arith::AddIOp) { return double(asInt(0) + asInt(1)); })
        .Case([&](arith::SubIOp) { return double(asInt(0) - asInt(1)); })
        .Case([&](arith::MulIOp) { return double(asInt(0) * asInt(1)); })
        .Case([&](arith::DivSIOp) { return double(asInt(0) / asInt(1)); })
        .Case([&](arith::RemSIOp) { return double(asInt(0) % asInt(1)); })
        .Case([&](arith::FloorDivSIOp) {
          int64_t a = asInt(0), b = asInt(1), q = a / b;
          return double(a % b != 0 && (a < 0) != (b < 0) ? q - 1 : q);
        })
        .Case([&](arith::MaxSIOp) {
          return double(std::max(asInt(0), asInt(1)));
        })
        .Case([&](arith::MinSIOp) {
          return double(std::min(asInt(0), asInt(1)));
        })
        .Case([&](arith::AndIOp) { return double(asInt(0) & asInt(1)); })
        .Case([&](arith::OrIOp) { return double(asInt(0) | asInt(1)); })
        .Case([&](arith::XOrIOp) { return double(asInt(0) ^ asInt(1)); })
        .Case([&](arith::CmpFOp cmp) {
          return double(compareFloat(cmp.getPredicate(), in(0), in(1)));
        })
        .Case([&](arith::CmpIOp cmp) {
          return double(compareInt(cmp.getPredicate(), asInt(0), asInt(1)));
        })
        .Case([&](arith::SelectOp) { return in(0) != 0 ? in(1) : in(2); })
        .Case<arith::IndexCastOp, arith::ExtSIOp, arith::TruncIOp>(
            [&](auto) { return in(0); })
        .Case([&](arith::SIToFPOp) { return f32(double(asInt(0))); })
        .Case([&](arith::FPToSIOp) { return double(int64_t(in(0))); })
        .Case<arith::ExtFOp, arith::TruncFOp>([&](auto) { return f32(in(0)); })
        .Case([&](math::ExpOp) { return f32(std::exp(in(0))); })
        .Case([&](math::LogOp) { return f32(std::log(in(0))); })
        .Case([&](math::SqrtOp) { return f32(std::sqrt(in(0))); })
        .Case([&](math::RsqrtOp) { return f32(1.0 / std::sqrt(in(0))); })
        .Case([&](math::SinOp) { return f32(std::sin(in(0))); })
        .Case([&](math::CosOp) { return f32(std::cos(in(0))); })
        .Case([&](math::TanhOp) { return f32(std::tanh(in(0))); })
        .Case([&](math::AbsFOp) { return std::fabs(in(0)); })
        .Case([&](linalg::IndexOp index) {
          return double(point[index.getDim()]);
        })
        .Case([&](tensor::ExtractOp extract) {
          SmallVector<int64_t> index;
          for (Value i : extract.getIndices())
            index.push_back(static_cast<int64_t>(get(i)));
          return element(outer.at(extract.getTensor()), index);
        })
        .Default([&](Operation *other) -> double {
          throw ExecutionError("unsupported op in a linalg body: " +
                               other->getName().getStringRef().str());
        });
  }
};

Tensor runGeneric(linalg::GenericOp generic, const ValueMap &values) {
  if (generic.getNumDpsInits() != 1)
    throw ExecutionError("only single-output generics are supported");
  SmallVector<int64_t> ranges = generic.getStaticLoopRanges();
  for (int64_t r : ranges)
    if (ShapedType::isDynamic(r))
      throw ExecutionError("dynamic loop ranges are not supported");
  SmallVector<AffineMap> maps = generic.getIndexingMapsArray();
  OpOperand *init = generic.getDpsInitOperand(0);
  ConstTensorRef initial = refOf(values, init->get());
  Tensor out(
      initial.shape,
      std::vector<float>(initial.data, initial.data + initial.numElements()));

  BodyEvaluator body(generic.getRegion().front(), values);
  size_t numInputs = generic.getNumDpsInputs();
  SmallVector<int64_t> point(ranges.size(), 0);
  SmallVector<double> args(numInputs + 1);
  auto indexAt = [&](AffineMap map) {
    SmallVector<int64_t> index;
    for (AffineExpr e : map.getResults())
      index.push_back(evaluate(e, point));
    return index;
  };
  bool empty = llvm::any_of(ranges, [](int64_t r) { return r == 0; });
  while (!empty) {
    for (size_t i = 0; i < numInputs; ++i) {
      const RuntimeValue &input =
          values.at(generic.getDpsInputOperand(i)->get());
      auto *index = std::get_if<IndexScalar>(&input);
      args[i] = index ? static_cast<double>(index->value)
                      : element(input, indexAt(maps[i]));
    }
    int64_t offset = offsetOf(out.shape, indexAt(maps.back()), "output");
    args[numInputs] = out.data[offset];
    out.data[offset] = static_cast<float>(body.run(args, point)[0]);
    // Next point, last loop fastest.
    int64_t d = static_cast<int64_t>(ranges.size()) - 1;
    for (; d >= 0; --d) {
      if (++point[d] < ranges[d])
        break;
      point[d] = 0;
    }
    if (d < 0)
      break;
  }
  return out;
}

} // namespace

std::vector<RuntimeValue> runStructuredOp(Operation *op,
                                          const ValueMap &values) {
  return llvm::TypeSwitch<Operation *, std::vector<RuntimeValue>>(op)
      .Case([&](arith::ConstantOp constant) -> std::vector<RuntimeValue> {
        if (auto dense = dyn_cast<DenseElementsAttr>(constant.getValue())) {
          auto type = cast<RankedTensorType>(dense.getType());
          std::vector<float> data;
          for (APFloat v : dense.getValues<APFloat>())
            data.push_back(v.convertToFloat());
          return {Tensor(std::vector<int64_t>(type.getShape().begin(),
                                              type.getShape().end()),
                         std::move(data))};
        }
        if (constant.getType().isIndex())
          return {
              IndexScalar{cast<IntegerAttr>(constant.getValue()).getInt(), {}}};
        // A float scalar is a rank-0 tensor.
        return {Tensor({}, {float(scalarConstant(constant.getValue()))})};
      })
      .Case([&](linalg::FillOp fill) -> std::vector<RuntimeValue> {
        ConstTensorRef target = refOf(values, fill.getDpsInitOperand(0)->get());
        double value =
            element(values.at(fill.getDpsInputOperand(0)->get()), {});
        return {Tensor(target.shape,
                       std::vector<float>(target.numElements(), float(value)))};
      })
      .Case([&](tensor::ExtractSliceOp slice) -> std::vector<RuntimeValue> {
        ConstTensorRef source = refOf(values, slice.getSource());
        if (!slice.hasUnitStride() || !slice.getType().hasStaticShape() ||
            ShapedType::isDynamicShape(slice.getStaticOffsets()))
          throw ExecutionError("only static unit-stride slices are supported");
        std::vector<int64_t> shape(slice.getType().getShape().begin(),
                                   slice.getType().getShape().end());
        Tensor out(shape);
        ArrayRef<int64_t> offsets = slice.getStaticOffsets();
        std::vector<int64_t> index(shape.size(), 0);
        for (int64_t i = 0; i < out.numElements(); ++i) {
          int64_t rest = i;
          for (int64_t d = shape.size() - 1; d >= 0; --d) {
            index[d] = rest % shape[d] + offsets[d];
            rest /= shape[d];
          }
          out.data[i] =
              source.data[offsetOf(source.shape, index, "slice source")];
        }
        return {out};
      })
      .Case([&](linalg::GenericOp generic) -> std::vector<RuntimeValue> {
        return {runGeneric(generic, values)};
      })
      // An integer read out of a tensor between kernels (txl.adaptive_nll's
      // cluster counts): an index scalar.
      .Case([&](tensor::ExtractOp extract) -> std::vector<RuntimeValue> {
        if (!extract.getType().isIntOrIndex())
          throw ExecutionError("only integer tensor.extract is supported "
                               "outside a generic");
        std::vector<int64_t> index;
        for (Value i : extract.getIndices())
          index.push_back(scalarOf(values, i));
        return {IndexScalar{static_cast<int64_t>(
                                element(values.at(extract.getTensor()), index)),
                            {}}};
      })
      .Case([&](arith::IndexCastOp cast) -> std::vector<RuntimeValue> {
        return {IndexScalar{scalarOf(values, cast.getIn()), {}}};
      })
      .Default([&](Operation *) -> std::vector<RuntimeValue> {
        throw ExecutionError("the reference executor does not run this op");
      });
}

} // namespace txl::reference
