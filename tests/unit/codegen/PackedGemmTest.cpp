//===- PackedGemmTest.cpp - GEMMs on packed weights, scheduled by txl-tile ===//
//
// The kernels of bench/gemm (GemmKernels.h: the model's GEMM kernels with
// the weight packed into 16-wide panels, [ceil(N/16), K, 16]) at awkward
// sizes (N and K not multiples of 16, rows not a multiple of the register
// tile, more rows than one accumulator, reductions longer than one block),
// scheduled by txl-tile's heuristic, JIT-run and compared with plain C++.
//
//===----------------------------------------------------------------------===//

#include "GemmKernels.h"
#include "KernelTestSupport.h"
#include "Kernels.h"

#include "txl/Dialect/AttrNames.h"
#include "txl/Dialect/TxlDialect.h"
#include "txl/Dialect/TxlOps.h"
#include "txl/Passes/Passes.h"
#include "txl/codegen/halide/Schedule.h"
#include "txl/target/TargetInfo.h"

#include "mlir/Pass/PassManager.h"

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

namespace txl::codegen::halide::test {
namespace {

using bench::Epilogue;
using bench::GemmKernelIR;
using bench::GemmShape;

GemmShape shape(int64_t batch, int64_t rows, int64_t n, int64_t k,
                Epilogue epilogue, bool twoD = false, int64_t heads = 1) {
  GemmShape s;
  s.name = "gemm";
  s.batch = batch;
  s.rows = rows;
  s.n = n;
  s.k = k;
  s.epilogue = epilogue;
  s.twoD = twoD;
  s.heads = heads;
  return s;
}

/// A kernel of `s`, with the schedule txl-tile writes for `target`.
struct ScheduledKernel {
  std::unique_ptr<mlir::MLIRContext> context;
  mlir::OwningOpRef<mlir::ModuleOp> module;
  GemmKernelIR ir;
  mlir::DictionaryAttr schedule;

  mlir::func::FuncOp kernel() {
    return *module->getOps<mlir::func::FuncOp>().begin();
  }
};

ScheduledKernel schedule(const GemmShape &s,
                         const std::string &target = "host") {
  ScheduledKernel out;
  mlir::DialectRegistry registry;
  registerKernelDialects(registry);
  registry.insert<txl::TxlDialect>();
  out.context = std::make_unique<mlir::MLIRContext>(registry);
  out.context->loadAllAvailableDialects();
  out.ir = bench::gemmKernelIR(s);
  mlir::OwningOpRef<mlir::ModuleOp> step =
      mlir::parseSourceString<mlir::ModuleOp>(out.ir.stepModule(),
                                              out.context.get());
  EXPECT_TRUE(step) << out.ir.stepModule();
  if (!step)
    return out;
  mlir::PassManager pm(out.context.get());
  txl::TxlTileOptions options;
  options.target = target;
  pm.addPass(txl::createTxlTile(options));
  EXPECT_TRUE(mlir::succeeded(pm.run(*step)));
  step->walk([&](txl::KernelOp kernel) {
    out.schedule =
        kernel->getAttrOfType<mlir::DictionaryAttr>(txl::attr::kSchedule);
  });
  out.module = mlir::parseSourceString<mlir::ModuleOp>(out.ir.kernelModule(),
                                                       out.context.get());
  EXPECT_TRUE(out.module) << out.ir.kernelModule();
  if (out.module && out.schedule)
    out.kernel()->setAttr(txl::attr::kSchedule, out.schedule);
  return out;
}

std::string text(mlir::Attribute attr) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << attr;
  return s;
}

/// Inputs of a kernel (by argument name), and the weight unpacked.
struct GemmData {
  std::vector<HostTensor> inputs;
  std::vector<float> w; // [N, K]
  std::map<std::string, std::vector<float>> byName;
};

GemmData makeData(const GemmShape &s, const GemmKernelIR &ir) {
  GemmData data;
  data.w = randomFloats(s.n * s.k, 7, -0.5f, 0.5f);
  uint32_t seed = 11;
  for (const bench::KernelArgument &a : ir.arguments) {
    std::vector<float> values;
    if (a.name == "w") {
      values.resize(bench::elementCount(a.shape));
      bench::packPanels(data.w.data(), s, values.data());
    } else if (a.name == "gamma") {
      values = randomFloats(bench::elementCount(a.shape), seed++, 0.5f, 1.5f);
    } else {
      values = randomFloats(bench::elementCount(a.shape), seed++);
    }
    data.byName[a.name] = values;
    data.inputs.push_back(HostTensor::ofF32(a.shape, values));
  }
  return data;
}

/// The layer in double precision, row-major [M, N].
std::vector<double> reference(const GemmShape &s, const GemmData &data) {
  const std::vector<float> &x = data.byName.at("x");
  auto get = [&](const char *name) -> const std::vector<float> * {
    auto it = data.byName.find(name);
    return it == data.byName.end() ? nullptr : &it->second;
  };
  const std::vector<float> *bias = get("bias"), *res = get("res"),
                           *gamma = get("gamma"), *beta = get("beta");
  std::vector<double> y(s.m() * s.n);
  for (int64_t r = 0; r < s.m(); ++r) {
    double *row = &y[r * s.n];
    for (int64_t j = 0; j < s.n; ++j) {
      double acc = bias ? (*bias)[j] : 0.0;
      for (int64_t k = 0; k < s.k; ++k)
        acc += double(x[r * s.k + k]) * data.w[j * s.k + k];
      row[j] = acc;
    }
    switch (s.epilogue) {
    case Epilogue::BiasRelu:
      for (int64_t j = 0; j < s.n; ++j)
        row[j] = std::max(row[j], 0.0);
      break;
    case Epilogue::BiasResidualLayerNorm:
    case Epilogue::ResidualLayerNorm: {
      double mean = 0, var = 0;
      for (int64_t j = 0; j < s.n; ++j)
        mean += row[j] += (*res)[r * s.n + j];
      mean /= s.n;
      for (int64_t j = 0; j < s.n; ++j)
        var += (row[j] - mean) * (row[j] - mean);
      var /= s.n;
      for (int64_t j = 0; j < s.n; ++j)
        row[j] =
            (row[j] - mean) / std::sqrt(var + 1e-5) * (*gamma)[j] + (*beta)[j];
      break;
    }
    case Epilogue::BiasLogSoftmax: {
      double max = -1e300, sum = 0;
      for (int64_t j = 0; j < s.n; ++j)
        max = std::max(max, row[j]);
      for (int64_t j = 0; j < s.n; ++j)
        sum += std::exp(row[j] - max);
      for (int64_t j = 0; j < s.n; ++j)
        row[j] -= max + std::log(sum);
      break;
    }
    default:
      break;
    }
  }
  return y;
}

/// Schedules, JIT-runs and checks one kernel; returns its schedule's text.
std::string expectCorrect(const GemmShape &s,
                          const std::string &target = "host") {
  ScheduledKernel k = schedule(s, target);
  if (!k.module || !k.schedule)
    return "";
  GemmData data = makeData(s, k.ir);
  std::vector<HostTensor> out = run(k.kernel(), data.inputs);
  EXPECT_EQ(out.size(), 1u);
  if (out.size() == 1)
    expectNear(out[0].f32, reference(s, data), 2e-4);
  return text(k.schedule);
}

TEST(PackedGemm, PlainAtAwkwardSizes) {
  // 13 rows (not a multiple of the 8-row register tile), N = 37 (a partial
  // third panel), K = 23.
  std::string sched = expectCorrect(shape(2, 13, 37, 23, Epilogue::None));
  // The register-tiled form: an accumulator per tile, reduction outermost.
  EXPECT_NE(sched.find("accumulator"), std::string::npos) << sched;
  EXPECT_NE(sched.find("shift_inwards"), std::string::npos) << sched;
}

TEST(PackedGemm, ManyRowsAndALongReduction) {
  // 2-D (r_net): 100 rows, more than one accumulator holds; K = 300, more
  // than one block of the reduction; N = 70.
  std::string sched =
      expectCorrect(shape(1, 100, 70, 300, Epilogue::None, /*twoD=*/true));
  EXPECT_NE(sched.find("d2i"), std::string::npos) << sched; // k blocked
}

TEST(PackedGemm, BiasAndRelu) {
  std::string sched = expectCorrect(shape(1, 21, 50, 40, Epilogue::BiasRelu));
  // The GEMM is inlined into the ReLU, whose tiles hold the accumulator.
  EXPECT_NE(sched.find("compute_at = {func = \"relu\""), std::string::npos)
      << sched;
}

TEST(PackedGemm, BiasResidualLayerNormInRowBlocks) {
  std::string sched =
      expectCorrect(shape(2, 11, 45, 150, Epilogue::BiasResidualLayerNorm));
  EXPECT_NE(sched.find("compute_at = {func = \"layer_norm\""),
            std::string::npos)
      << sched;
  // Row sums in the lanes of one vector of the target (host: this machine).
  StatusOr<txl::target::TargetInfo> host = txl::target::parseTarget("host");
  ASSERT_TRUE(host.ok());
  EXPECT_NE(sched.find("rfactor = {loop = \"d2\", width = " +
                       std::to_string(host->vectorWidthF32)),
            std::string::npos)
      << sched;
}

TEST(PackedGemm, LayerNormWithAWeightBeyondL2) {
  // 300 x 1000 floats (1.2 MB): a block is every row of a batch entry.
  expectCorrect(shape(2, 9, 300, 1000, Epilogue::BiasResidualLayerNorm));
  // A single batch entry: one block, the GEMM's tiles and the epilogue's
  // rows in parallel inside it.
  expectCorrect(shape(1, 20, 300, 1000, Epilogue::BiasResidualLayerNorm));
}

TEST(PackedGemm, TwoReductionLoopsAsTheOutputProjection) {
  // o_net: x [B, T, heads, dh], the weight read at (n floordiv 16,
  // head * dh + d, n mod 16).
  expectCorrect(shape(1, 19, 33, 21, Epilogue::ResidualLayerNorm,
                      /*twoD=*/false, /*heads=*/3));
  expectCorrect(shape(2, 24, 40, 200, Epilogue::ResidualLayerNorm,
                      /*twoD=*/false, /*heads=*/10));
}

TEST(PackedGemm, LogSoftmaxRows) {
  expectCorrect(shape(1, 7, 100, 20, Epilogue::BiasLogSoftmax));
  expectCorrect(shape(3, 5, 61, 33, Epilogue::BiasLogSoftmax));
}

TEST(PackedGemm, FewerRowsOrPanelsThanATile) {
  expectCorrect(shape(1, 3, 5, 17, Epilogue::Bias));
  expectCorrect(shape(1, 1, 16, 16, Epilogue::None));
  expectCorrect(shape(4, 2, 40, 9, Epilogue::BiasResidualLayerNorm));
}

TEST(PackedGemm, Avx2Schedule) {
  // Vectors of 8: two per panel, both unrolled.
  std::string sched = expectCorrect(shape(1, 13, 37, 50, Epilogue::BiasRelu),
                                    "x86-64-linux-avx2");
  EXPECT_NE(sched.find("width = 8"), std::string::npos) << sched;
}

/// Two GEMMs named alike ("logits", as the adaptive softmax's clusters) in
/// one kernel, summed (a row epilogue) or both returned (each at root).
std::string twoGemmsKernel(bool summed) {
  std::string gemm = R"mlir(
    %{out} = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>, affine_map<(d0, d1, d2, d3) -> (d2 floordiv 16, d3, d2 mod 16)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x, %{w} : tensor<1x9x12xf32>, tensor<2x12x16xf32>) outs(%zero : tensor<1x9x20xf32>) attrs = {txl.name = "logits"} {
    ^bb0(%a: f32, %b: f32, %acc: f32):
      %p = arith.mulf %a, %b : f32
      %s = arith.addf %acc, %p : f32
      linalg.yield %s : f32
    } -> tensor<1x9x20xf32>
)mlir";
  std::string text = R"mlir(
func.func @two(%x: tensor<1x9x12xf32>, %w1: tensor<2x12x16xf32>, %w2: tensor<2x12x16xf32>) -> {RESULTS} {
    %c0 = arith.constant 0.0 : f32
    %e = tensor.empty() : tensor<1x9x20xf32>
    %zero = linalg.fill ins(%c0 : f32) outs(%e : tensor<1x9x20xf32>) -> tensor<1x9x20xf32>
)mlir" + substitute(gemm, {{"out", "g1"}, {"w", "w1"}}) +
                     substitute(gemm, {{"out", "g2"}, {"w", "w2"}});
  if (summed)
    text += R"mlir(
    %sum = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%g1, %g2 : tensor<1x9x20xf32>, tensor<1x9x20xf32>) outs(%e : tensor<1x9x20xf32>) attrs = {txl.name = "sum"} {
    ^bb0(%a: f32, %b: f32, %o: f32):
      %v = arith.addf %a, %b : f32
      linalg.yield %v : f32
    } -> tensor<1x9x20xf32>
    return %sum : tensor<1x9x20xf32>
}
)mlir";
  else
    text += R"mlir(
    return %g1, %g2 : tensor<1x9x20xf32>, tensor<1x9x20xf32>
}
)mlir";
  return substitute(text, {{"RESULTS", summed ? "tensor<1x9x20xf32>"
                                              : "(tensor<1x9x20xf32>, "
                                                "tensor<1x9x20xf32>)"}});
}

TEST(PackedGemm, GemmsThatShareAName) {
  for (bool summed : {true, false}) {
    // Schedule the kernel wrapped as a txl.kernel, as the bench does.
    std::string kernelText = twoGemmsKernel(summed);
    size_t bodyStart = kernelText.find('{', kernelText.find("->")) + 1;
    size_t ret = kernelText.rfind("return");
    std::string body = kernelText.substr(bodyStart, ret - bodyStart);
    std::string results = summed ? "%sum" : "%g1, %g2";
    std::string types = summed ? "tensor<1x9x20xf32>"
                               : "tensor<1x9x20xf32>, tensor<1x9x20xf32>";
    std::string step =
        "func.func @step(%sx: tensor<1x9x12xf32>, %sw1: tensor<2x12x16xf32>, "
        "%sw2: tensor<2x12x16xf32>) -> (" +
        types +
        ") {\n"
        "  %r:" +
        std::string(summed ? "1" : "2") +
        " = txl.kernel \"two\"(%sx, %sw1, %sw2) : (tensor<1x9x12xf32>, "
        "tensor<2x12x16xf32>, tensor<2x12x16xf32>) -> (" +
        types +
        ") {\n"
        "  ^bb0(%x: tensor<1x9x12xf32>, %w1: tensor<2x12x16xf32>, "
        "%w2: tensor<2x12x16xf32>):\n" +
        body + "    txl.yield " + results + " : " + types +
        "\n  }\n  return %r#0" + std::string(summed ? "" : ", %r#1") + " : " +
        types + "\n}\n";
    mlir::DialectRegistry registry;
    registerKernelDialects(registry);
    registry.insert<txl::TxlDialect>();
    mlir::MLIRContext context(registry);
    context.loadAllAvailableDialects();
    auto stepModule = mlir::parseSourceString<mlir::ModuleOp>(step, &context);
    ASSERT_TRUE(stepModule) << step;
    mlir::PassManager pm(&context);
    pm.addPass(txl::createTxlTile());
    ASSERT_TRUE(mlir::succeeded(pm.run(*stepModule)));
    mlir::Attribute schedule;
    stepModule->walk(
        [&](txl::KernelOp k) { schedule = k->getAttr(txl::attr::kSchedule); });
    // Both GEMMs are scheduled, by position.
    EXPECT_NE(text(schedule).find("name = \"#0\""), std::string::npos)
        << text(schedule);
    EXPECT_NE(text(schedule).find("name = \"#1\""), std::string::npos);
    auto module = mlir::parseSourceString<mlir::ModuleOp>(kernelText, &context);
    ASSERT_TRUE(module);
    mlir::func::FuncOp kernel = *module->getOps<mlir::func::FuncOp>().begin();
    kernel->setAttr(txl::attr::kSchedule, schedule);

    std::vector<float> x = randomFloats(9 * 12, 3);
    std::vector<float> w1 = randomFloats(20 * 12, 4),
                       w2 = randomFloats(20 * 12, 5);
    auto pack = [](const std::vector<float> &w) {
      std::vector<float> p(2 * 12 * 16, 0.0f);
      for (int64_t n = 0; n < 20; ++n)
        for (int64_t k = 0; k < 12; ++k)
          p[((n / 16) * 12 + k) * 16 + n % 16] = w[n * 12 + k];
      return p;
    };
    std::vector<HostTensor> out =
        run(kernel, {HostTensor::ofF32({1, 9, 12}, x),
                     HostTensor::ofF32({2, 12, 16}, pack(w1)),
                     HostTensor::ofF32({2, 12, 16}, pack(w2))});
    ASSERT_EQ(out.size(), summed ? 1u : 2u);
    std::vector<double> y1(9 * 20), y2(9 * 20), ysum(9 * 20);
    for (int64_t r = 0; r < 9; ++r)
      for (int64_t n = 0; n < 20; ++n) {
        for (int64_t k = 0; k < 12; ++k) {
          y1[r * 20 + n] += double(x[r * 12 + k]) * w1[n * 12 + k];
          y2[r * 20 + n] += double(x[r * 12 + k]) * w2[n * 12 + k];
        }
        ysum[r * 20 + n] = y1[r * 20 + n] + y2[r * 20 + n];
      }
    if (summed) {
      expectNear(out[0].f32, ysum);
    } else {
      expectNear(out[0].f32, y1);
      expectNear(out[1].f32, y2);
    }
  }
}

TEST(PackedGemm, AScheduleForAnotherTargetIsRefused) {
  // Planned for AVX-512 (16 lanes, 32 registers): compiled for AVX2 it is
  // refused with both targets named, for AVX-512 it compiles.
  ScheduledKernel k = schedule(shape(2, 13, 37, 23, Epilogue::BiasRelu),
                               "x86-64-linux-avx512");
  ASSERT_TRUE(k.module && k.schedule);
  k.kernel()->setAttr(txl::attr::kTarget,
                      mlir::StringAttr::get(k.context.get(),
                                            "x86-64-linux-avx512"));
  std::filesystem::path dir = std::filesystem::temp_directory_path() /
                              ("txl-target-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  StatusOr<CompiledKernel> refused = compileKernel(
      k.kernel(), "x86-64-linux-avx2", (dir / "avx2").string(), {});
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find(
                "a schedule planned for x86-64-linux-avx512"),
            std::string::npos)
      << refused.status().message();
  EXPECT_NE(refused.status().message().find(
                "cannot be compiled for x86-64-linux-avx2"),
            std::string::npos)
      << refused.status().message();
  StatusOr<CompiledKernel> compiled = compileKernel(
      k.kernel(), "x86-64-linux-avx512", (dir / "avx512").string(), {});
  std::filesystem::remove_all(dir);
  EXPECT_TRUE(compiled.ok()) << compiled.status().message();
}

TEST(PackedGemm, WeightLoadsAreDenseVectors) {
  // The panel and lane of n (n floordiv 16, n mod 16) must become dense
  // 16-wide loads of the weight, never gathers.
  GemmShape s = shape(2, 13, 37, 23, Epilogue::BiasRelu);
  ScheduledKernel k = schedule(s, "x86-64-linux-avx512");
  ASSERT_TRUE(k.module && k.schedule);
  std::filesystem::path dir = std::filesystem::temp_directory_path() /
                              ("txl-packed-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  KernelArtifacts artifacts;
  artifacts.stmt = true;
  StatusOr<CompiledKernel> compiled = compileKernel(
      k.kernel(), "x86-64-linux-avx512", (dir / "gemm").string(), artifacts);
  ASSERT_TRUE(compiled.ok()) << compiled.status().message();
  std::ifstream in(compiled->stmtPath);
  std::stringstream stmt;
  stmt << in.rdbuf();
  std::filesystem::remove_all(dir);
  // The weight is argument 1 (x, w, bias).
  std::string body = stmt.str();
  std::regex load(R"(arg1\[(ramp\([^\]]*)\])");
  int dense = 0;
  for (auto it = std::sregex_iterator(body.begin(), body.end(), load);
       it != std::sregex_iterator(); ++it) {
    std::string index = (*it)[1];
    EXPECT_NE(index.find(", 1, 16)"), std::string::npos)
        << "a strided (gathered) load of the weight: arg1[" << index << "]";
    ++dense;
  }
  EXPECT_GT(dense, 0) << body;
  EXPECT_EQ(body.find("gather"), std::string::npos);
}

} // namespace
} // namespace txl::codegen::halide::test
