//===- TilingTest.cpp - txl-tile's knobs and planners ---------------------===//

#include "txl/Dialect/AttrNames.h"
#include "txl/Dialect/TxlDialect.h"
#include "txl/Dialect/TxlOps.h"
#include "txl/Passes/Passes.h"
#include "txl/Passes/Tiling/GemmTiling.h"
#include "txl/Passes/Tiling/TileKnobs.h"
#include "txl/models/GraphBuilder.h"
#include "txl/models/ModelConfig.h"
#include "txl/schedule/ScheduleAttr.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Pass/PassManager.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace txl::tiling {
namespace {

target::TargetInfo targetOf(const std::string &name,
                            const std::string &cache = "") {
  StatusOr<target::TargetInfo> info = target::parseTarget(name, cache);
  EXPECT_TRUE(info.ok()) << info.status().message();
  return *info;
}

// --- Knobs -------------------------------------------------------------------

TEST(TileKnobs, DefaultsOfTheCrossTargetsAreTheMeasuredConstants) {
  // The cross targets' documented caches are those of the Intel machine the
  // heuristic was measured on: its constants come back exactly.
  TileKnobs avx512 = defaultKnobs(targetOf("x86-64-linux-avx512"));
  EXPECT_EQ(avx512.gemm.accumulatorRegisters, 24);
  EXPECT_EQ(avx512.gemm.l1WeightBytes, 24 << 10);
  EXPECT_EQ(avx512.gemm.l2WeightBytes, 1 << 20);
  EXPECT_EQ(avx512.gemm.minTiles, 8);
  EXPECT_EQ(avx512.attention.scoreAccumulators, 24);
  EXPECT_EQ(avx512.layout.panelWidth, 16);
  EXPECT_EQ(avx512.layout.positionBlock, 48);
  EXPECT_EQ(avx512.layout.clampRun, 16);
  TileKnobs avx2 = defaultKnobs(targetOf("x86-64-linux-avx2"));
  EXPECT_EQ(avx2.gemm.accumulatorRegisters, 12);
  EXPECT_EQ(avx2.attention.scoreAccumulators, 12);
  EXPECT_EQ(avx2.layout.panelWidth, 16);
  EXPECT_TRUE(checkKnobs(avx512, targetOf("x86-64-linux-avx512")).isOk());
  EXPECT_TRUE(checkKnobs(avx2, targetOf("x86-64-linux-avx2")).isOk());
}

TEST(TileKnobs, CachesAndCoresOfTheTargetSetTheBlocks) {
  TileKnobs knobs =
      defaultKnobs(targetOf("x86-64-linux-avx512", "l1d=32K,l2=1M,cores=4"));
  EXPECT_EQ(knobs.gemm.l1WeightBytes, 16 << 10);
  EXPECT_EQ(knobs.gemm.l2WeightBytes, 512 << 10);
  EXPECT_EQ(knobs.gemm.minTiles, 16);
}

TEST(TileKnobs, IllegalPointsAreRefusedWithTheRule) {
  target::TargetInfo avx512 = targetOf("x86-64-linux-avx512");
  auto expectRefused = [&](const std::string &spec, const std::string &what) {
    TileKnobs knobs = defaultKnobs(avx512);
    ASSERT_TRUE(setKnobs(knobs, spec).isOk()) << spec;
    Status status = checkKnobs(knobs, avx512);
    ASSERT_FALSE(status.isOk()) << spec;
    EXPECT_NE(status.message().find(what), std::string::npos)
        << status.message();
  };
  // A register tile that needs more accumulators than there are.
  expectRefused("gemm.tile_rows=8,gemm.tile_panels=4",
                "needs more accumulators than gemm.accumulator_registers = 24");
  expectRefused("gemm.tile_rows=8", "set together");
  expectRefused("layout.clamp_run=32", "must divide layout.position_block");
  expectRefused("layout.position_block=40", "not a multiple of 16");
  expectRefused("layout.panel_width=12", "multiple or a divisor");
  expectRefused("gemm.accumulator_registers=30", "out of range [1, 28]");
  expectRefused("attention.score_vectors=25",
                "needs more accumulators than attention.score_accumulators");
  expectRefused("attention.score_vectors=29", "out of range [1, 28]");
  // The same tile fits 32 registers but not AVX2's 16.
  TileKnobs knobs = defaultKnobs(targetOf("x86-64-linux-avx2"));
  ASSERT_TRUE(setKnobs(knobs, "gemm.tile_rows=8,gemm.tile_panels=3").isOk());
  EXPECT_FALSE(checkKnobs(knobs, targetOf("x86-64-linux-avx2")).isOk());
}

TEST(TileKnobs, SpecsParseAndPrintBack) {
  TileKnobs knobs;
  Status bad = setKnobs(knobs, "gemm.l1_weight_bytes=abc");
  ASSERT_FALSE(bad.isOk());
  EXPECT_NE(bad.message().find("expected a non-negative integer, got 'abc'"),
            std::string::npos);
  Status unknown = setKnobs(knobs, "gemm.l3_bytes=1");
  ASSERT_FALSE(unknown.isOk());
  EXPECT_NE(unknown.message().find("unknown knob 'gemm.l3_bytes'"),
            std::string::npos);
  EXPECT_FALSE(setKnobs(knobs, "attention.query_rows").isOk());

  ASSERT_TRUE(
      setKnobs(knobs, "attention.query_rows=16,gemm.min_tiles=4").isOk());
  EXPECT_EQ(knobs.attention.queryRows, 16);
  EXPECT_EQ(knobs.gemm.minTiles, 4);
  TileKnobs back;
  ASSERT_TRUE(setKnobs(back, printKnobs(knobs)).isOk());
  EXPECT_EQ(printKnobs(back), printKnobs(knobs));
  // Every knob has a range the tuner can enumerate, the defaults inside it.
  target::TargetInfo avx512 = targetOf("x86-64-linux-avx512");
  std::vector<KnobRange> ranges = tileKnobRanges(avx512);
  EXPECT_EQ(ranges.size(), 19u);
  std::string defaults = printKnobs(defaultKnobs(avx512));
  for (const KnobRange &range : ranges)
    EXPECT_NE(defaults.find(range.name + "="), std::string::npos) << range.name;
}

// --- GEMM tiling -------------------------------------------------------------

TEST(GemmTiling, RegisterTilesFillTheAccumulatorRegisters) {
  GemmKnobs knobs; // 24 accumulators: AVX-512's measured defaults
  // wt103-base's projections: 64 rows, 26 panels of 16 -> 8 x 3.
  EXPECT_EQ(chooseRegisterTile(64, 26, 16, 16, knobs), (RegisterTile{8, 3}));
  // Two panels only: more rows fill the registers (at most 16).
  EXPECT_EQ(chooseRegisterTile(64, 2, 16, 16, knobs), (RegisterTile{12, 2}));
  // A single row: the tile is one row high.
  EXPECT_EQ(chooseRegisterTile(1, 26, 16, 16, knobs).rows, 1);
  // AVX2: 12 accumulators, two vectors per 16-wide panel.
  knobs.accumulatorRegisters = 12;
  RegisterTile avx2 = chooseRegisterTile(64, 26, 16, 8, knobs);
  EXPECT_LE(avx2.rows * avx2.panels * 2, 12);
  // A forced tile is taken as it is.
  knobs.tileRows = 4;
  knobs.tilePanels = 1;
  EXPECT_EQ(chooseRegisterTile(64, 26, 16, 8, knobs), (RegisterTile{4, 1}));
}

TEST(GemmTiling, AccumulatorRowsWasteLeast) {
  GemmKnobs knobs;
  EXPECT_EQ(accumulatorRows(64, 8, knobs), 64);
  // 128 rows: two blocks of 64, not 96 + 32.
  EXPECT_EQ(accumulatorRows(128, 8, knobs), 64);
  knobs.accumulatorRows = 32;
  EXPECT_EQ(accumulatorRows(128, 8, knobs), 32);
}

TEST(GemmTiling, TilesForTheThreadsAndGroupsForL2) {
  GemmKnobs knobs;
  GemmShape shape{/*rows=*/64, /*panels=*/26, /*panelWidth=*/16,
                  /*weightBytes=*/26 * 16 * 410 * 4};
  // 9 panel blocks already make enough tiles: the rows stay whole.
  GemmTiling t = planGemmTiling(shape, {8, 3}, 64, 1, true, knobs);
  EXPECT_EQ(t.rowBlock, 64);
  EXPECT_EQ(t.group, 1);
  // Wanting more tiles than the panel blocks make splits the rows.
  knobs.minTiles = 32;
  t = planGemmTiling(shape, {8, 3}, 64, 1, true, knobs);
  EXPECT_LT(t.rowBlock, 64);
  // With several blocks of rows, panel blocks are grouped by L2 bytes.
  int64_t blockBytes = shape.weightBytes / shape.panels * 3;
  knobs.l2WeightBytes = 2 * blockBytes;
  t = planGemmTiling(shape, {8, 3}, 64, 1, true, knobs);
  EXPECT_EQ(t.group, 2);
}

// --- The planners on a model ------------------------------------------------

/// The demo model lowered through txl-tile for `target` with `knobs`.
mlir::OwningOpRef<mlir::ModuleOp> tiledDemo(mlir::MLIRContext &context,
                                            const std::string &target,
                                            const std::string &knobs = "") {
  std::ifstream file(std::string(TXL_SOURCE_DIR) + "/models/demo/config.json");
  std::stringstream text;
  text << file.rdbuf();
  auto config = ModelConfig::fromJsonString(text.str(), "config.json");
  EXPECT_TRUE(config.ok());
  StepShape shape;
  shape.batch = 1;
  shape.segmentLength = 64;
  shape.maxSegmentLength = 64;
  mlir::OwningOpRef<mlir::ModuleOp> module =
      buildModelModule(context, *config, shape);
  mlir::PassManager pm(&context);
  pm.addPass(createTxlWindowMemory());
  pm.addPass(createTxlKvCache());
  pm.addPass(createTxlDecompose());
  pm.addPass(createTxlPackWeights());
  pm.addPass(createTxlFuse());
  pm.addPass(createTxlHoistInvariants());
  TxlTileOptions tile;
  tile.target = target;
  tile.knobs = knobs;
  pm.addPass(createTxlTile(tile));
  EXPECT_TRUE(mlir::succeeded(pm.run(*module)));
  return module;
}

void registerDialects(mlir::MLIRContext &context) {
  context.loadDialect<TxlDialect, mlir::arith::ArithDialect,
                      mlir::func::FuncDialect, mlir::linalg::LinalgDialect,
                      mlir::math::MathDialect, mlir::tensor::TensorDialect>();
}

/// The largest vector width any stage of any kernel's schedule uses.
int64_t widestVector(mlir::ModuleOp module, int *kernels) {
  int64_t widest = 0;
  *kernels = 0;
  module.walk([&](KernelOp kernel) {
    ++*kernels;
    auto parsed = schedule::readKernelSchedule(kernel);
    EXPECT_TRUE(parsed.ok() && parsed->has_value());
    auto visit = [&](const std::optional<schedule::StageSchedule> &stage) {
      if (stage)
        for (const schedule::LoopAnnotation &v : stage->vectorize)
          widest = std::max(widest, v.factor);
    };
    for (const schedule::FuncSchedule &f : (*parsed)->funcs) {
      visit(f.pure);
      visit(f.update);
      if (f.accumulator) {
        visit(f.accumulator->pure);
        visit(f.accumulator->update);
      }
    }
  });
  return widest;
}

TEST(Planners, EveryKernelGetsAScheduleForItsTargetsVectors) {
  mlir::MLIRContext context;
  registerDialects(context);
  int kernels = 0;
  auto avx512 = tiledDemo(context, "x86-64-linux-avx512");
  EXPECT_EQ(widestVector(*avx512, &kernels), 16);
  EXPECT_GT(kernels, 5);
  auto avx2 = tiledDemo(context, "x86-64-linux-avx2");
  EXPECT_EQ(widestVector(*avx2, &kernels), 8);
  avx2->walk([&](KernelOp kernel) {
    EXPECT_EQ(kernel->getAttrOfType<mlir::StringAttr>(attr::kTarget).str(),
              "x86-64-linux-avx2");
  });
}

TEST(Planners, PrintedSchedulesAreCanonical) {
  mlir::MLIRContext context;
  registerDialects(context);
  auto module = tiledDemo(context, "x86-64-linux-avx512");
  module->walk([&](KernelOp kernel) {
    auto attr = kernel->getAttrOfType<mlir::DictionaryAttr>(attr::kSchedule);
    auto parsed = schedule::parseSchedule(attr);
    ASSERT_TRUE(parsed.ok()) << parsed.status().message();
    EXPECT_EQ(schedule::printSchedule(*parsed, &context), attr);
  });
}

TEST(Planners, KnobsReachTheSchedules) {
  mlir::MLIRContext context;
  registerDialects(context);
  // attention.normalise's rows go by in tiles of attention.query_rows.
  auto queryRows = [&](const std::string &knobs) {
    auto module = tiledDemo(context, "x86-64-linux-avx512", knobs);
    int64_t rows = 0;
    module->walk([&](KernelOp kernel) {
      auto parsed = schedule::readKernelSchedule(kernel);
      for (const schedule::FuncSchedule &f : (*parsed)->funcs)
        if (f.name == "attention.normalise" && f.pure)
          rows = f.pure->splits.at(0).factor;
    });
    return rows;
  };
  EXPECT_EQ(queryRows(""), 8);
  EXPECT_EQ(queryRows("attention.query_rows=16"), 16);
}

TEST(Planners, AnIllegalKnobFailsThePass) {
  mlir::MLIRContext context;
  registerDialects(context);
  std::string diagnostics;
  mlir::ScopedDiagnosticHandler handler(&context, [&](mlir::Diagnostic &d) {
    diagnostics += d.str();
    return mlir::success();
  });
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::ModuleOp::create(mlir::UnknownLoc::get(&context));
  mlir::PassManager pm(&context);
  TxlTileOptions tile;
  tile.target = "x86-64-linux-avx2";
  tile.knobs = "gemm.tile_rows=8,gemm.tile_panels=3";
  pm.addPass(createTxlTile(tile));
  EXPECT_TRUE(mlir::failed(pm.run(*module)));
  EXPECT_NE(diagnostics.find("gemm.tile_rows = 8"), std::string::npos)
      << diagnostics;
}

} // namespace
} // namespace txl::tiling
