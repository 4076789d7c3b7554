//===- ScalarOps.cpp - arith and math ops as Halide expressions -----------===//

#include "ScalarOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>

using namespace mlir;
using Halide::Expr;

namespace txl::codegen::halide::detail {

std::optional<Halide::Type> halideType(Type type) {
  if (type.isIndex())
    return Halide::Int(32);
  if (type.isF32())
    return Halide::Float(32);
  if (type.isF64())
    return Halide::Float(64);
  if (auto integer = dyn_cast<IntegerType>(type)) {
    if (integer.isUnsigned())
      return std::nullopt;
    switch (integer.getWidth()) {
    case 1:
      return Halide::Bool();
    case 8:
    case 16:
    case 32:
    case 64:
      return Halide::Int(integer.getWidth());
    default:
      return std::nullopt;
    }
  }
  return std::nullopt;
}

std::string describeOp(Operation *op) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << "'" << op->getName() << "' at " << op->getLoc();
  return text;
}

namespace {

Status unsupported(Operation *op, const std::string &why) {
  return Status::error("unsupported " + describeOp(op) + ": " + why);
}

Expr constantOf(Attribute value, Halide::Type type) {
  if (auto floatAttr = dyn_cast<FloatAttr>(value))
    return Halide::Internal::make_const(type, floatAttr.getValueAsDouble());
  auto intAttr = cast<IntegerAttr>(value);
  if (type.is_bool())
    return Halide::Internal::make_const(type,
                                        intAttr.getValue().getBoolValue());
  return Halide::Internal::make_const(type, intAttr.getValue().getSExtValue());
}

/// Division rounding toward zero (arith.divsi), from the magnitudes: Halide
/// 14's own div_round_to_zero is wrong for constant divisors (1 / 5 gives
/// -1; tests/unit/codegen/KernelJitTest.cpp). Halide's `/` of two
/// non-negative values is the truncated quotient.
Expr truncatedDiv(const Expr &a, const Expr &b) {
  Expr magnitude = Halide::cast(a.type(), Halide::abs(a) / Halide::abs(b));
  return Halide::select((a < 0) != (b < 0), -magnitude, magnitude);
}

/// Floor division (arith.floordivsi). Halide's `/` on signed integers is
/// Euclidean: it equals floor division for positive divisors and is one too
/// high for negative divisors with a nonzero remainder.
Expr floorDiv(const Expr &a, const Expr &b) {
  Expr quotient = a / b;
  Expr remainder = a % b;
  return Halide::select(b < 0 && remainder != 0, quotient - 1, quotient);
}

Expr compareFloat(arith::CmpFPredicate predicate, const Expr &a,
                  const Expr &b) {
  using P = arith::CmpFPredicate;
  Expr unordered = Halide::is_nan(a) || Halide::is_nan(b);
  switch (predicate) {
  case P::AlwaysFalse:
    return Halide::Internal::const_false();
  case P::AlwaysTrue:
    return Halide::Internal::const_true();
  case P::OEQ:
    return a == b;
  case P::OGT:
    return a > b;
  case P::OGE:
    return a >= b;
  case P::OLT:
    return a < b;
  case P::OLE:
    return a <= b;
  case P::ONE:
    return a < b || a > b;
  case P::ORD:
    return !unordered;
  case P::UEQ:
    return !(a < b || a > b);
  case P::UGT:
    return !(a <= b);
  case P::UGE:
    return !(a < b);
  case P::ULT:
    return !(a >= b);
  case P::ULE:
    return !(a > b);
  case P::UNE:
    return a != b;
  case P::UNO:
    return unordered;
  }
  return Expr();
}

Expr compareInteger(arith::CmpIPredicate predicate, Expr a, Expr b) {
  using P = arith::CmpIPredicate;
  auto asUnsigned = [](const Expr &e) {
    return e.type().is_bool()
               ? e
               : Halide::reinterpret(e.type().with_code(Halide::Type::UInt), e);
  };
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
    return asUnsigned(a) < asUnsigned(b);
  case P::ule:
    return asUnsigned(a) <= asUnsigned(b);
  case P::ugt:
    return asUnsigned(a) > asUnsigned(b);
  case P::uge:
    return asUnsigned(a) >= asUnsigned(b);
  }
  return Expr();
}

/// exp through Halide's fast polynomial, which breaks down (NaN, denormals)
/// for very negative inputs: those give exactly 0 instead.
Expr clampedFastExp(const Expr &x) {
  Expr limit = Halide::Internal::make_const(x.type(), -80.0);
  return Halide::select(x < limit, Halide::Internal::make_zero(x.type()),
                        Halide::fast_exp(Halide::max(x, limit)));
}

} // namespace

bool isScalarOp(Operation *op) {
  if (op->getNumResults() != 1 || op->getNumRegions() != 0)
    return false;
  if (isa<ShapedType>(op->getResult(0).getType()))
    return false;
  return isa<arith::ArithDialect, math::MathDialect>(op->getDialect());
}

StatusOr<Expr> translateScalarOp(Operation *op, ArrayRef<Expr> operands,
                                 bool fastExp) {
  if (op->getNumResults() != 1)
    return unsupported(op, "expected one result");
  std::optional<Halide::Type> resultType =
      halideType(op->getResult(0).getType());
  if (!resultType) {
    std::string typeText;
    llvm::raw_string_ostream os(typeText);
    os << op->getResult(0).getType();
    return unsupported(op, "result type " + typeText +
                               " (supported: f32, f64, i1, i8-i64, index)");
  }
  Halide::Type type = *resultType;
  auto arg = [&](unsigned i) { return operands[i]; };
  auto isBool = type.is_bool();

  Expr result =
      llvm::TypeSwitch<Operation *, Expr>(op)
          .Case([&](arith::ConstantOp c) -> Expr {
            if (!isa<FloatAttr, IntegerAttr>(c.getValue()))
              return Expr();
            return constantOf(c.getValue(), type);
          })
          // Floating point.
          .Case([&](arith::AddFOp) { return arg(0) + arg(1); })
          .Case([&](arith::SubFOp) { return arg(0) - arg(1); })
          .Case([&](arith::MulFOp) { return arg(0) * arg(1); })
          .Case([&](arith::DivFOp) { return arg(0) / arg(1); })
          .Case([&](arith::NegFOp) { return -arg(0); })
          .Case<arith::MaximumFOp, arith::MaxNumFOp, arith::MaxSIOp>(
              [&](Operation *) { return Halide::max(arg(0), arg(1)); })
          .Case<arith::MinimumFOp, arith::MinNumFOp, arith::MinSIOp>(
              [&](Operation *) { return Halide::min(arg(0), arg(1)); })
          .Case([&](arith::CmpFOp cmp) {
            return compareFloat(cmp.getPredicate(), arg(0), arg(1));
          })
          // Integers.
          .Case([&](arith::CmpIOp cmp) {
            return compareInteger(cmp.getPredicate(), arg(0), arg(1));
          })
          .Case([&](arith::SelectOp) {
            return Halide::select(arg(0), arg(1), arg(2));
          })
          .Case([&](arith::AddIOp) {
            return isBool ? Expr(arg(0) != arg(1)) : arg(0) + arg(1);
          })
          .Case([&](arith::SubIOp) {
            return isBool ? Expr(arg(0) != arg(1)) : arg(0) - arg(1);
          })
          .Case([&](arith::MulIOp) {
            return isBool ? Expr(arg(0) && arg(1)) : arg(0) * arg(1);
          })
          .Case([&](arith::DivSIOp) {
            return truncatedDiv(arg(0), arg(1));
          })
          .Case([&](arith::RemSIOp) {
            return Halide::mod_round_to_zero(arg(0), arg(1));
          })
          .Case([&](arith::FloorDivSIOp) { return floorDiv(arg(0), arg(1)); })
          .Case([&](arith::AndIOp) {
            return isBool ? Expr(arg(0) && arg(1)) : Expr(arg(0) & arg(1));
          })
          .Case([&](arith::OrIOp) {
            return isBool ? Expr(arg(0) || arg(1)) : Expr(arg(0) | arg(1));
          })
          .Case([&](arith::XOrIOp) {
            return isBool ? Expr(arg(0) != arg(1)) : Expr(arg(0) ^ arg(1));
          })
          // Casts.
          .Case<arith::IndexCastOp, arith::SIToFPOp, arith::FPToSIOp,
                arith::ExtFOp, arith::TruncFOp>(
              [&](Operation *) { return Halide::cast(type, arg(0)); })
          .Case([&](arith::ExtSIOp) -> Expr {
            // i1 true sign-extends to -1.
            if (arg(0).type().is_bool())
              return Halide::select(arg(0),
                                    Halide::Internal::make_const(type, -1),
                                    Halide::Internal::make_zero(type));
            return Halide::cast(type, arg(0));
          })
          .Case([&](arith::TruncIOp) -> Expr {
            if (isBool)
              return (arg(0) & Halide::Internal::make_one(arg(0).type())) != 0;
            return Halide::cast(type, arg(0));
          })
          // math.
          .Case([&](math::ExpOp) -> Expr {
            if (fastExp && type == Halide::Float(32))
              return clampedFastExp(arg(0));
            return Halide::exp(arg(0));
          })
          .Case([&](math::LogOp) { return Halide::log(arg(0)); })
          .Case([&](math::SqrtOp) { return Halide::sqrt(arg(0)); })
          .Case([&](math::RsqrtOp) {
            return Halide::Internal::make_one(type) / Halide::sqrt(arg(0));
          })
          .Case([&](math::SinOp) { return Halide::sin(arg(0)); })
          .Case([&](math::CosOp) { return Halide::cos(arg(0)); })
          .Case([&](math::TanhOp) { return Halide::tanh(arg(0)); })
          .Case([&](math::AbsFOp) { return Halide::abs(arg(0)); })
          .Case([&](math::PowFOp) { return Halide::pow(arg(0), arg(1)); })
          .Case([&](math::ErfOp) { return Halide::erf(arg(0)); })
          .Case([&](math::FloorOp) { return Halide::floor(arg(0)); })
          .Case([&](math::CeilOp) { return Halide::ceil(arg(0)); })
          .Case([&](math::FmaOp) { return arg(0) * arg(1) + arg(2); })
          .Default([](Operation *) { return Expr(); });

  if (!result.defined())
    return unsupported(
        op, "not part of the kernel contract (see KernelTranslator.h)");
  if (result.type() != type)
    result = Halide::cast(type, result);
  return result;
}

} // namespace txl::codegen::halide::detail
