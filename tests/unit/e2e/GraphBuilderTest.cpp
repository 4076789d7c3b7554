//===- GraphBuilderTest.cpp - the built IR agrees with the parameter list -===//
//
// For the test-vector configs and the published ones: the module verifies,
// has the expected layer structure, and reads exactly the tensors that
// expectedParameters() lists, with the same shapes — so the graph builder and
// the weight binder can never disagree on a name or a tie.
//
//===----------------------------------------------------------------------===//

#include "txl/models/GraphBuilder.h"
#include "txl/Dialect/TxlOps.h"
#include "txl/models/ParameterSpec.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"

#include <gtest/gtest.h>

#include <map>

using namespace txl;

namespace {

struct ConfigCase {
  const char *path; // relative to the source tree
  bool staticSegment;
};

const ConfigCase kConfigs[] = {
    {"tests/vectors/plain_postln/config.json", false},
    {"tests/vectors/plain_sameln_clamp/config.json", true},
    {"tests/vectors/adaptive_div1/config.json", true},
    {"tests/vectors/adaptive_div4/config.json", false},
    {"tests/vectors/prelnorm_shared_r/config.json", true},
    {"tests/vectors/untied_all/config.json", true},
    {"models/configs/wt103-base/config.json", true},
    {"models/configs/wt103-large/config.json", true},
    {"models/configs/enwik8-base/config.json", true},
    {"models/configs/enwik8-large/config.json", true},
    {"models/configs/text8-base/config.json", true},
};

// Keeps ctest names stable (gtest would print the struct's bytes).
void PrintTo(const ConfigCase &config, std::ostream *os) { *os << config.path; }

class GraphBuilderConfigs : public ::testing::TestWithParam<ConfigCase> {};

TEST_P(GraphBuilderConfigs, ReadsExactlyTheExpectedParameters) {
  auto config = ModelConfig::fromJsonFile(std::string(TXL_SOURCE_DIR) + "/" +
                                          GetParam().path);
  ASSERT_TRUE(config.ok()) << config.status().message();
  StepShape shape;
  shape.batch = 2;
  shape.maxSegmentLength = config->tgt_len.value_or(8);
  if (GetParam().staticSegment)
    shape.segmentLength = shape.maxSegmentLength;

  mlir::MLIRContext context;
  auto module = buildModelModule(context, *config, shape);
  ASSERT_TRUE(mlir::succeeded(mlir::verify(*module)));

  std::map<std::string, std::vector<int64_t>> read;
  int attention = 0, memoryUpdates = 0, norms = 0;
  module->walk([&](mlir::Operation *op) {
    if (auto weight = llvm::dyn_cast<WeightOp>(op)) {
      auto dims = weight.getType().getShape();
      auto [it, inserted] =
          read.try_emplace(weight.getName().str(),
                           std::vector<int64_t>(dims.begin(), dims.end()));
      EXPECT_TRUE(inserted ||
                  it->second == std::vector<int64_t>(dims.begin(), dims.end()))
          << weight.getName().str() << " read with two shapes";
    }
    attention += llvm::isa<RelAttentionOp>(op);
    memoryUpdates += llvm::isa<MemUpdateOp>(op);
    norms += llvm::isa<LayerNormOp>(op);
  });
  EXPECT_EQ(attention, config->n_layer);
  EXPECT_EQ(memoryUpdates, config->n_layer);
  // Pre-LN also normalises each layer's memory before attention.
  EXPECT_EQ(norms, config->n_layer * (config->pre_lnorm ? 3 : 2));

  std::map<std::string, std::vector<int64_t>> expected;
  for (const ParameterSpec &spec : expectedParameters(*config))
    expected[spec.name] = spec.shape;
  EXPECT_EQ(read, expected);
}

INSTANTIATE_TEST_SUITE_P(Configs, GraphBuilderConfigs,
                         ::testing::ValuesIn(kConfigs),
                         [](const ::testing::TestParamInfo<ConfigCase> &info) {
                           std::string name = info.param.path;
                           name = name.substr(0, name.rfind('/'));
                           name = name.substr(name.rfind('/') + 1);
                           for (char &c : name)
                             if (!isalnum(static_cast<unsigned char>(c)))
                               c = '_';
                           return name;
                         });

TEST(GraphBuilder, StaticStepHasStaticShapes) {
  auto config = ModelConfig::fromJsonFile(
      std::string(TXL_SOURCE_DIR) + "/models/configs/wt103-base/config.json");
  ASSERT_TRUE(config.ok());
  StepShape shape;
  shape.batch = 1;
  shape.segmentLength = 64;
  mlir::MLIRContext context;
  auto module = buildModelModule(context, *config, shape);
  auto step = module->lookupSymbol<mlir::func::FuncOp>("step");
  ASSERT_TRUE(step);
  auto type = step.getFunctionType();
  EXPECT_EQ(type.getNumInputs(), 1u + 16u);
  EXPECT_EQ(type.getNumResults(), 2u + 16u);
  EXPECT_EQ(mlir::cast<mlir::RankedTensorType>(type.getResult(1)).getShape(),
            llvm::ArrayRef<int64_t>({1, 64, 267735}));
  // One position table for every distance: mem_len + T rows.
  PosEmbOp pos = *step.getOps<PosEmbOp>().begin();
  EXPECT_EQ(pos.getType().getShape(), llvm::ArrayRef<int64_t>({640 + 64, 410}));
}

} // namespace
