//===- GemmKernels.cpp - linalg text of the benchmark's kernels -----------===//
//
// The generics mirror what txl-decompose + txl-fuse produce for the same
// layers (names included: txl-tile keys on structure, not names), with the
// weight operand in the packed layout of docs/SCHEDULES.md.
//
//===----------------------------------------------------------------------===//

#include "GemmKernels.h"

#include <sstream>

namespace txl::bench {
namespace {

std::string tensorType(const std::vector<int64_t> &shape) {
  std::string text = "tensor<";
  for (int64_t d : shape)
    text += std::to_string(d) + "x";
  return text + "f32>";
}

/// Replaces every `{key}` in `text`.
std::string
substitute(std::string text,
           const std::vector<std::pair<std::string, std::string>> &values) {
  for (const auto &[key, value] : values) {
    std::string pattern = "{" + key + "}";
    for (size_t at = text.find(pattern); at != std::string::npos;
         at = text.find(pattern, at + value.size()))
      text.replace(at, pattern.size(), value);
  }
  return text;
}

/// `map` over `rank` loops d0..d<rank-1>.
std::string affineMap(int rank, const std::string &results) {
  std::string dims;
  for (int i = 0; i < rank; ++i)
    dims += (i ? ", d" : "d") + std::to_string(i);
  return "affine_map<(" + dims + ") -> (" + results + ")>";
}

std::string iterators(int parallel, int reduction) {
  std::string text = "[";
  for (int i = 0; i < parallel + reduction; ++i)
    text += std::string(i ? ", " : "") +
            (i < parallel ? "\"parallel\"" : "\"reduction\"");
  return text + "]";
}

/// A row epilogue over y [B, T, N]: residual, then LayerNorm (as
/// DecomposeRows writes it).
std::string layerNorm(const std::string &y, int64_t b, int64_t t, int64_t n) {
  return substitute(R"mlir(
    %ln_e0 = tensor.empty() : {Y}
    %residual = linalg.generic {indexing_maps = [{ID}, {ID}, {ID}], iterator_types = {P3}} ins(%res, {y} : {Y}, {Y}) outs(%ln_e0 : {Y}) attrs = {txl.name = "residual"} {
    ^bb0(%i0: f32, %i1: f32, %o: f32):
      %v = arith.addf %i0, %i1 : f32
      linalg.yield %v : f32
    } -> {Y}
    %zero_r = arith.constant 0.0 : f32
    %ln_e1 = tensor.empty() : {R}
    %ln_z0 = linalg.fill ins(%zero_r : f32) outs(%ln_e1 : {R}) -> {R}
    %sum = linalg.generic {indexing_maps = [{ID}, {ROW}], iterator_types = {PPR}} ins(%residual : {Y}) outs(%ln_z0 : {R}) attrs = {txl.name = "layer_norm.sum"} {
    ^bb0(%i0: f32, %o: f32):
      %v = arith.addf %o, %i0 : f32
      linalg.yield %v : f32
    } -> {R}
    %ln_e2 = tensor.empty() : {Y}
    %center = linalg.generic {indexing_maps = [{ID}, {ROW}, {ID}], iterator_types = {P3}} ins(%residual, %sum : {Y}, {R}) outs(%ln_e2 : {Y}) attrs = {txl.name = "layer_norm.center"} {
    ^bb0(%i0: f32, %i1: f32, %o: f32):
      %cn = arith.constant {NF} : f32
      %mean = arith.divf %i1, %cn : f32
      %v = arith.subf %i0, %mean : f32
      linalg.yield %v : f32
    } -> {Y}
    %ln_e3 = tensor.empty() : {Y}
    %square = linalg.generic {indexing_maps = [{ID}, {ID}], iterator_types = {P3}} ins(%center : {Y}) outs(%ln_e3 : {Y}) attrs = {txl.name = "layer_norm.square"} {
    ^bb0(%i0: f32, %o: f32):
      %v = arith.mulf %i0, %i0 : f32
      linalg.yield %v : f32
    } -> {Y}
    %ln_z1 = linalg.fill ins(%zero_r : f32) outs(%ln_e1 : {R}) -> {R}
    %sum_squares = linalg.generic {indexing_maps = [{ID}, {ROW}], iterator_types = {PPR}} ins(%square : {Y}) outs(%ln_z1 : {R}) attrs = {txl.name = "layer_norm.sum_squares"} {
    ^bb0(%i0: f32, %o: f32):
      %v = arith.addf %o, %i0 : f32
      linalg.yield %v : f32
    } -> {R}
    %ln_e4 = tensor.empty() : {Y}
    %result = linalg.generic {indexing_maps = [{ID}, {ROW}, {COL}, {COL}, {ID}], iterator_types = {P3}} ins(%center, %sum_squares, %gamma, %beta : {Y}, {R}, {V}, {V}) outs(%ln_e4 : {Y}) attrs = {txl.name = "layer_norm"} {
    ^bb0(%c: f32, %ss: f32, %g: f32, %bt: f32, %o: f32):
      %cn = arith.constant {NF} : f32
      %var = arith.divf %ss, %cn : f32
      %eps = arith.constant 9.99999974E-6 : f32
      %ve = arith.addf %var, %eps : f32
      %rs = math.rsqrt %ve : f32
      %v0 = arith.mulf %c, %rs : f32
      %v1 = arith.mulf %v0, %g : f32
      %v2 = arith.addf %v1, %bt : f32
      linalg.yield %v2 : f32
    } -> {Y}
)mlir",
                    {{"y", y},
                     {"Y", tensorType({b, t, n})},
                     {"R", tensorType({b, t})},
                     {"V", tensorType({n})},
                     {"ID", affineMap(3, "d0, d1, d2")},
                     {"ROW", affineMap(3, "d0, d1")},
                     {"COL", affineMap(3, "d2")},
                     {"P3", iterators(3, 0)},
                     {"PPR", iterators(2, 1)},
                     {"NF", std::to_string(n) + ".0"}});
}

/// y = log_softmax(logits) over the last dimension of [B, T, N].
std::string logSoftmax(const std::string &logits, int64_t b, int64_t t,
                       int64_t n) {
  return substitute(R"mlir(
    %ls_min = arith.constant -3.0e+38 : f32
    %ls_zero = arith.constant 0.0 : f32
    %ls_e0 = tensor.empty() : {R}
    %ls_m0 = linalg.fill ins(%ls_min : f32) outs(%ls_e0 : {R}) -> {R}
    %max = linalg.generic {indexing_maps = [{ID}, {ROW}], iterator_types = {PPR}} ins({l} : {Y}) outs(%ls_m0 : {R}) attrs = {txl.name = "lse.max"} {
    ^bb0(%i0: f32, %o: f32):
      %v = arith.maximumf %o, %i0 : f32
      linalg.yield %v : f32
    } -> {R}
    %ls_z0 = linalg.fill ins(%ls_zero : f32) outs(%ls_e0 : {R}) -> {R}
    %sum = linalg.generic {indexing_maps = [{ID}, {ROW}, {ROW}], iterator_types = {PPR}} ins({l}, %max : {Y}, {R}) outs(%ls_z0 : {R}) attrs = {txl.name = "lse.sum"} {
    ^bb0(%i0: f32, %i1: f32, %o: f32):
      %d = arith.subf %i0, %i1 : f32
      %e = math.exp %d : f32
      %v = arith.addf %o, %e : f32
      linalg.yield %v : f32
    } -> {R}
    %ls_e1 = tensor.empty() : {Y}
    %result = linalg.generic {indexing_maps = [{ID}, {ROW}, {ROW}, {ID}], iterator_types = {P3}} ins({l}, %max, %sum : {Y}, {R}, {R}) outs(%ls_e1 : {Y}) attrs = {txl.name = "log_probs"} {
    ^bb0(%i0: f32, %mx: f32, %s: f32, %o: f32):
      %ls = math.log %s : f32
      %lse = arith.addf %mx, %ls : f32
      %v = arith.subf %i0, %lse : f32
      linalg.yield %v : f32
    } -> {Y}
)mlir",
                    {{"l", logits},
                     {"Y", tensorType({b, t, n})},
                     {"R", tensorType({b, t})},
                     {"ID", affineMap(3, "d0, d1, d2")},
                     {"ROW", affineMap(3, "d0, d1")},
                     {"P3", iterators(3, 0)},
                     {"PPR", iterators(2, 1)}});
}

} // namespace

const char *epilogueName(Epilogue epilogue) {
  switch (epilogue) {
  case Epilogue::None:
    return "-";
  case Epilogue::Bias:
    return "+bias";
  case Epilogue::BiasRelu:
    return "+bias+relu";
  case Epilogue::BiasResidualLayerNorm:
    return "+bias+res+LN";
  case Epilogue::ResidualLayerNorm:
    return "+res+LN";
  case Epilogue::BiasLogSoftmax:
    return "+bias+logsoftmax";
  }
  return "?";
}

GemmKernelIR gemmKernelIR(const GemmShape &s) {
  GemmKernelIR ir;
  ir.symbol = s.name;
  for (char &c : ir.symbol)
    if (!std::isalnum(static_cast<unsigned char>(c)))
      c = '_';
  const int64_t p = s.panels();
  const bool hasBias = s.epilogue == Epilogue::Bias ||
                       s.epilogue == Epilogue::BiasRelu ||
                       s.epilogue == Epilogue::BiasResidualLayerNorm ||
                       s.epilogue == Epilogue::BiasLogSoftmax;
  const bool layerNormed = s.epilogue == Epilogue::BiasResidualLayerNorm ||
                           s.epilogue == Epilogue::ResidualLayerNorm;

  // The GEMM's loops and maps.
  std::vector<int64_t> xShape, yShape;
  std::string xMap, wMap, yMap, iters;
  if (s.twoD) {
    // loops m, n, k
    xShape = {s.rows, s.k};
    yShape = {s.rows, s.n};
    xMap = affineMap(3, "d0, d2");
    wMap = affineMap(3, "d1 floordiv 16, d2, d1 mod 16");
    yMap = affineMap(3, "d0, d1");
    iters = iterators(2, 1);
  } else if (s.epilogue == Epilogue::ResidualLayerNorm) {
    // loops b, t, n, head, d
    int64_t dh = s.k / s.heads;
    xShape = {s.batch, s.rows, s.heads, dh};
    yShape = {s.batch, s.rows, s.n};
    xMap = affineMap(5, "d0, d1, d3, d4");
    wMap = affineMap(5, "d2 floordiv 16, d3 * " + std::to_string(dh) +
                            " + d4, d2 mod 16");
    yMap = affineMap(5, "d0, d1, d2");
    iters = iterators(3, 2);
  } else {
    // loops b, t, n, k
    xShape = {s.batch, s.rows, s.k};
    yShape = {s.batch, s.rows, s.n};
    xMap = affineMap(4, "d0, d1, d3");
    wMap = affineMap(4, "d2 floordiv 16, d3, d2 mod 16");
    yMap = affineMap(4, "d0, d1, d2");
    iters = iterators(3, 1);
  }
  ir.arguments.push_back({"x", xShape});
  ir.arguments.push_back({"w", {p, s.k, 16}});
  if (hasBias)
    ir.arguments.push_back({"bias", {s.n}});
  if (layerNormed) {
    ir.arguments.push_back({"res", yShape});
    ir.arguments.push_back({"gamma", {s.n}});
    ir.arguments.push_back({"beta", {s.n}});
  }
  ir.resultShape = yShape;

  std::string y = tensorType(yShape);
  std::string outLoops = s.twoD ? "d0, d1" : "d0, d1, d2";
  std::ostringstream body;
  body << "    %e_init = tensor.empty() : " << y << "\n";
  if (hasBias) {
    int rank = static_cast<int>(yShape.size());
    body << substitute(
        R"mlir(
    %init = linalg.generic {indexing_maps = [{COL}, {ID}], iterator_types = {P}} ins(%bias : {V}) outs(%e_init : {Y}) attrs = {txl.name = "{name}.bias"} {
    ^bb0(%i0: f32, %o: f32):
      linalg.yield %i0 : f32
    } -> {Y}
)mlir",
        {{"COL", affineMap(rank, "d" + std::to_string(rank - 1))},
         {"ID", affineMap(rank, outLoops)},
         {"P", iterators(rank, 0)},
         {"V", tensorType({s.n})},
         {"Y", y},
         {"name", s.name}});
  } else {
    body << "    %zero = arith.constant 0.0 : f32\n"
         << "    %init = linalg.fill ins(%zero : f32) outs(%e_init : " << y
         << ") -> " << y << "\n";
  }
  bool gemmIsResult =
      s.epilogue == Epilogue::None || s.epilogue == Epilogue::Bias;
  body << substitute(R"mlir(
    %{out} = linalg.generic {indexing_maps = [{XM}, {WM}, {YM}], iterator_types = {IT}} ins(%x, %w : {X}, {W}) outs(%init : {Y}) attrs = {txl.name = "{name}"} {
    ^bb0(%a: f32, %bw: f32, %acc: f32):
      %prod = arith.mulf %a, %bw : f32
      %acc_next = arith.addf %acc, %prod : f32
      linalg.yield %acc_next : f32
    } -> {Y}
)mlir",
                     {{"out", gemmIsResult ? "result" : "gemm"},
                      {"XM", xMap},
                      {"WM", wMap},
                      {"YM", yMap},
                      {"IT", iters},
                      {"X", tensorType(xShape)},
                      {"W", tensorType({p, s.k, 16})},
                      {"Y", y},
                      {"name", s.name}});
  switch (s.epilogue) {
  case Epilogue::None:
  case Epilogue::Bias:
    break;
  case Epilogue::BiasRelu:
    body << substitute(R"mlir(
    %e_relu = tensor.empty() : {Y}
    %result = linalg.generic {indexing_maps = [{ID}, {ID}], iterator_types = {P3}} ins(%gemm : {Y}) outs(%e_relu : {Y}) attrs = {txl.name = "relu"} {
    ^bb0(%i0: f32, %o: f32):
      %c0 = arith.constant 0.0 : f32
      %v = arith.maximumf %i0, %c0 : f32
      linalg.yield %v : f32
    } -> {Y}
)mlir",
                       {{"Y", y},
                        {"ID", affineMap(3, "d0, d1, d2")},
                        {"P3", iterators(3, 0)}});
    break;
  case Epilogue::BiasResidualLayerNorm:
  case Epilogue::ResidualLayerNorm:
    body << layerNorm("%gemm", s.batch, s.rows, s.n);
    break;
  case Epilogue::BiasLogSoftmax:
    body << logSoftmax("%gemm", s.batch, s.rows, s.n);
    break;
  }
  ir.body = body.str();
  return ir;
}

std::string GemmKernelIR::stepModule() const {
  std::string params, blockArgs, operands, types;
  for (size_t i = 0; i < arguments.size(); ++i) {
    std::string t = tensorType(arguments[i].shape);
    std::string sep = i ? ", " : "";
    params += sep + "%step_" + arguments[i].name + ": " + t;
    blockArgs += sep + "%" + arguments[i].name + ": " + t;
    operands += sep + "%step_" + arguments[i].name;
    types += sep + t;
  }
  std::string r = tensorType(resultShape);
  return "func.func @step(" + params + ") -> " + r +
         " {\n  %r = txl.kernel \"" + symbol + "\"(" + operands + ") : (" +
         types + ") -> " + r + " {\n  ^bb0(" + blockArgs + "):\n" + body +
         "    txl.yield %result : " + r + "\n  }\n  return %r : " + r + "\n}\n";
}

std::string GemmKernelIR::kernelModule() const {
  std::string params;
  for (size_t i = 0; i < arguments.size(); ++i)
    params += std::string(i ? ", " : "") + "%" + arguments[i].name + ": " +
              tensorType(arguments[i].shape);
  std::string r = tensorType(resultShape);
  return "func.func @" + symbol + "(" + params + ") -> " + r + " {\n" + body +
         "    return %result : " + r + "\n}\n";
}

int64_t elementCount(const std::vector<int64_t> &shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

void packPanels(const float *w, const GemmShape &s, float *wp) {
  for (int64_t p = 0; p < s.panels(); ++p)
    for (int64_t k = 0; k < s.k; ++k)
      for (int64_t j = 0; j < 16; ++j)
        wp[(p * s.k + k) * 16 + j] =
            16 * p + j < s.n ? w[(16 * p + j) * s.k + k] : 0.0f;
}

} // namespace txl::bench
