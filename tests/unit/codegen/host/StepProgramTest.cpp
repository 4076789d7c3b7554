//===- StepProgramTest.cpp - the memory plan of a real fused step ---------===//

#include "txl/codegen/host/StepProgram.h"
#include "txl/Dialect/AttrNames.h"
#include "txl/Dialect/TxlDialect.h"
#include "txl/Passes/Passes.h"
#include "txl/codegen/host/ArenaPlan.h"
#include "txl/models/GraphBuilder.h"
#include "txl/models/ModelConfig.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"

#include <gtest/gtest.h>

#include <set>

using namespace txl;
using namespace txl::codegen::host;

namespace {

struct PlannedStep {
  mlir::MLIRContext context;
  mlir::OwningOpRef<mlir::ModuleOp> module;
  std::optional<StepProgram> program;
  std::string error;

  PlannedStep(const std::string &caseName, int64_t batch, int64_t tgtLen,
              const std::string &fuse) {
    context.loadDialect<TxlDialect, mlir::func::FuncDialect,
                        mlir::arith::ArithDialect, mlir::linalg::LinalgDialect,
                        mlir::math::MathDialect, mlir::tensor::TensorDialect>();
    auto config = ModelConfig::fromJsonFile(std::string(TXL_VECTORS_DIR) + "/" +
                                            caseName + "/config.json");
    if (!config.ok()) {
      error = config.status().message();
      return;
    }
    StepShape shape;
    shape.batch = batch;
    shape.segmentLength = tgtLen;
    shape.maxSegmentLength = tgtLen;
    module = buildModelModule(context, *config, shape);
    mlir::PassManager pm(&context);
    pm.addPass(createTxlWindowMemory());
    pm.addPass(createTxlDecompose());
    TxlFuseOptions options;
    options.mode = fuse;
    pm.addPass(createTxlFuse(options));
    pm.addPass(createTxlOutlineKernels());
    if (mlir::failed(pm.run(*module))) {
      error = "lowering failed";
      return;
    }
    auto step = module->lookupSymbol<mlir::func::FuncOp>("step");
    auto planned = analyzeStep(step);
    if (!planned.ok()) {
      error = planned.status().message();
      return;
    }
    program = std::move(*planned);
  }
};

void expectSoundPlan(const StepProgram &program) {
  for (const ArenaBuffer &buffer : program.arena) {
    EXPECT_EQ(buffer.byteOffset % kArenaAlignment, 0) << buffer.name;
    EXPECT_LE(buffer.byteOffset + buffer.bytes, program.scratchBytes);
  }
  for (size_t a = 0; a < program.arena.size(); ++a)
    for (size_t b = a + 1; b < program.arena.size(); ++b) {
      const ArenaBuffer &x = program.arena[a], &y = program.arena[b];
      bool live = x.firstUse <= y.lastUse && y.firstUse <= x.lastUse;
      bool disjoint = x.byteOffset + x.bytes <= y.byteOffset ||
                      y.byteOffset + y.bytes <= x.byteOffset;
      EXPECT_TRUE(!live || disjoint) << x.name << " overlaps " << y.name;
    }
  EXPECT_LT(program.scratchBytes, program.unsharedScratchBytes)
      << "no reuse at all";
}

TEST(StepProgram, PlansPlainModel) {
  PlannedStep step("plain_postln", 2, 5, "default");
  ASSERT_TRUE(step.program) << step.error;
  const StepProgram &program = *step.program;
  EXPECT_EQ(program.batch, 2);
  EXPECT_EQ(program.tgtLen, 5);
  EXPECT_EQ(program.memLen, 8);
  EXPECT_EQ(program.numLayers, 2);
  EXPECT_EQ(program.dModel, 24);
  EXPECT_EQ(program.vocabSize, 40);
  expectSoundPlan(program);

  // Tied embedding: one weight entry used by embed and the softmax.
  std::set<std::string> names;
  for (const WeightEntry &weight : program.weights)
    EXPECT_TRUE(names.insert(weight.name).second) << weight.name;
  EXPECT_EQ(program.weights.front().name,
            "transformer.word_emb.emb_layers.0.weight");

  // The last kernel writes log_probs in place and is skippable; hidden is
  // written in place by the kernel before it.
  ASSERT_FALSE(program.calls.empty());
  const KernelCall &last = program.calls.back();
  EXPECT_TRUE(last.onlyForLogProbs);
  ASSERT_EQ(last.results.size(), 1u);
  EXPECT_EQ(last.results[0].place.kind, Place::Kind::LogProbs);
  bool hiddenWritten = false;
  for (const KernelCall &call : program.calls) {
    for (const TensorView &result : call.results)
      hiddenWritten |= result.place.kind == Place::Kind::Hidden;
    if (&call != &last) {
      EXPECT_FALSE(call.onlyForLogProbs) << call.symbol;
    }
  }
  EXPECT_TRUE(hiddenWritten);

  // No window is copied: each state gets the segment's rows (a layer's
  // input, in the arena) appended after its window, which slides along a
  // buffer of mem_len + 8 rows (rounded up to whole segments of 5: 10).
  EXPECT_EQ(program.stateCapacity, 18);
  for (const FinalCopy &copy : program.copies)
    EXPECT_NE(copy.to.kind, Place::Kind::State);
  ASSERT_EQ(program.appends.size(), 2u);
  for (auto [s, append] : llvm::enumerate(program.appends)) {
    EXPECT_EQ(append.state, static_cast<int64_t>(s));
    EXPECT_EQ(append.from.kind, Place::Kind::Scratch);
    EXPECT_EQ(append.rowBytes, 24 * 4);
  }
  // Kernels read a state as a window of that buffer: batch stride 18 rows.
  int stateReads = 0;
  for (const KernelCall &call : program.calls)
    for (const CallArgument &argument : call.arguments)
      if (argument.tensor.place.kind == Place::Kind::State) {
        ++stateReads;
        EXPECT_EQ(argument.tensor.strides,
                  (std::vector<int64_t>{18 * 24, 24, 1}));
      }
  EXPECT_EQ(stateReads, 2);

  // Outlined kernels, one per call, named after them; the state windows
  // they read carry their strides.
  int stridedArguments = 0;
  for (const KernelCall &call : program.calls) {
    auto func = step.module->lookupSymbol<mlir::func::FuncOp>(call.symbol);
    ASSERT_TRUE(func) << call.symbol;
    for (unsigned a = 0; a < func.getNumArguments(); ++a)
      stridedArguments += func.getArgAttr(a, attr::kStrides) != nullptr;
  }
  EXPECT_EQ(stridedArguments, stateReads);
}

TEST(StepProgram, UnfusedStepsStillPlanSoundly) {
  PlannedStep step("adaptive_div4", 2, 4, "none");
  ASSERT_TRUE(step.program) << step.error;
  expectSoundPlan(*step.program);
  EXPECT_GT(step.program->calls.size(), 40u);
}

TEST(StepProgram, NoMemoryMeansNoWindowCopies) {
  PlannedStep step("untied_all", 2, 4, "default");
  ASSERT_TRUE(step.program) << step.error;
  EXPECT_EQ(step.program->memLen, 0);
  for (const FinalCopy &copy : step.program->copies)
    EXPECT_NE(copy.to.kind, Place::Kind::State);
}

TEST(StepProgram, KernelSymbolsAreCIdentifiers) {
  EXPECT_EQ(kernelSymbol(3, "attention.core"), "txl_k3_attention_core");
  EXPECT_EQ(kernelSymbol(12, "ffn-up x"), "txl_k12_ffn_up_x");
}

} // namespace
