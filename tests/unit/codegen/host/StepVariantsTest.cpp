//===- StepVariantsTest.cpp - merging a step for fewer tokens -------------===//
//
// host::addStepVariant on hand-made programs: weights found by name, packed
// panels shared where the variant's @prepare computes the same thing, its
// own prepared tensors appended, and a program of another model refused
// without changing anything.
//
//===----------------------------------------------------------------------===//

#include "txl/codegen/host/StepVariants.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace txl::codegen::host {
namespace {

TensorView view(Place::Kind kind, int64_t index, std::vector<int64_t> shape) {
  TensorView v;
  v.place.kind = kind;
  v.place.index = index;
  v.shape = std::move(shape);
  return v;
}

CallArgument tensor(TensorView v) {
  CallArgument argument;
  argument.tensor = std::move(v);
  return argument;
}

/// A program of a one-layer model for `tgtLen` tokens: @prepare packs weight
/// `w` (`pack`) and computes positions for mem_len + T keys (`positions`);
/// the step reads both. `weights` lists the names in the program's order.
StepProgram program(int64_t tgtLen, std::vector<std::string> weights) {
  StepProgram p;
  p.batch = 1, p.tgtLen = tgtLen, p.memLen = 8, p.numLayers = 1,
  p.dModel = 4, p.vocabSize = 10;
  p.stateCapacity = 16;
  for (const std::string &name : weights)
    p.weights.push_back({name, {4, 4}});
  p.states.push_back({"keys", 0, {1, 8, 4}});
  p.prepared = {{"prepared_0_pack", {1, 4, 16}},
                {"prepared_1_positions", {8 + tgtLen, 4}}};
  int64_t w = std::find_if(p.weights.begin(), p.weights.end(),
                           [](const WeightEntry &e) { return e.name == "w"; }) -
              p.weights.begin();
  KernelCall pack;
  pack.kernelName = "pack";
  pack.symbol = tgtLen == 1 ? "txl_t1_p0_pack" : "txl_p0_pack";
  pack.arguments = {tensor(view(Place::Kind::Weight, w, {4, 4}))};
  pack.results = {view(Place::Kind::Prepared, 0, {1, 4, 16})};
  KernelCall positions;
  positions.kernelName = "positions";
  positions.symbol = tgtLen == 1 ? "txl_t1_p1_positions" : "txl_p1_positions";
  positions.arguments = {tensor(view(Place::Kind::Weight, w, {4, 4}))};
  positions.results = {view(Place::Kind::Prepared, 1, {8 + tgtLen, 4})};
  p.prepareCalls = {pack, positions};
  KernelCall step;
  step.kernelName = "attention";
  step.symbol = tgtLen == 1 ? "txl_t1_k0_attention" : "txl_k0_attention";
  step.arguments = {tensor(view(Place::Kind::Prepared, 0, {1, 4, 16})),
                    tensor(view(Place::Kind::Prepared, 1, {8 + tgtLen, 4})),
                    tensor(view(Place::Kind::State, 0, {1, 8, 4}))};
  step.results = {view(Place::Kind::Hidden, 0, {1, tgtLen, 4})};
  p.calls = {step};
  p.scratchBytes = 64 * tgtLen;
  return p;
}

/// Kernels with the same name compile alike, except the positions (their
/// extent is in the code).
bool sameCode(const KernelCall &theirs, const KernelCall &mine) {
  return theirs.kernelName == mine.kernelName && mine.kernelName == "pack";
}

TEST(StepVariants, SharesWhatPrepareComputesAlikeAndAppendsTheRest) {
  StepProgram segment = program(4, {"w", "v"});
  // The variant lists its weights in another order: found by name.
  StepProgram one = program(1, {"v", "w"});
  Status status = addStepVariant(segment, one, "txl_model_step_t1", sameCode);
  ASSERT_TRUE(status.isOk()) << status.message();
  ASSERT_EQ(segment.variants.size(), 1u);
  const StepVariant &variant = segment.variants[0];
  EXPECT_EQ(variant.tgtLen, 1);
  EXPECT_EQ(variant.symbol, "txl_model_step_t1");
  // The packed panel is the segment's; the positions are the variant's own.
  ASSERT_EQ(segment.prepared.size(), 3u);
  EXPECT_EQ(segment.prepared[2].name, "t1:prepared_1_positions");
  EXPECT_EQ(segment.prepared[2].shape, (std::vector<int64_t>{9, 4}));
  ASSERT_EQ(segment.prepareCalls.size(), 3u);
  EXPECT_EQ(segment.prepareCalls[2].symbol, "txl_t1_p1_positions");
  EXPECT_EQ(segment.prepareCalls[2].arguments[0].tensor.place.index, 0)
      << "weight 'w' is the segment's weight 0";
  EXPECT_EQ(segment.prepareCalls[2].results[0].place.index, 2);
  const KernelCall &call = variant.calls[0];
  EXPECT_EQ(call.arguments[0].tensor.place.index, 0); // shared panel
  EXPECT_EQ(call.arguments[1].tensor.place.index, 2); // its positions
  EXPECT_EQ(call.arguments[2].tensor.place.kind, Place::Kind::State);
}

TEST(StepVariants, RefusesAnotherModelAndChangesNothing) {
  StepProgram segment = program(4, {"w", "v"});
  auto refused = [&](const StepProgram &other) {
    StepProgram before = segment;
    Status status = addStepVariant(segment, other, "txl_model_step_t1",
                                   sameCode);
    EXPECT_EQ(segment.prepared.size(), before.prepared.size());
    EXPECT_TRUE(segment.variants.empty());
    return status.isOk() ? std::string() : status.message();
  };
  StepProgram other = program(1, {"w", "v"});
  other.stateCapacity = 9;
  EXPECT_NE(refused(other).find("state buffers of 9 rows, not 16"),
            std::string::npos);
  other = program(1, {"w", "x"});
  EXPECT_NE(refused(other).find("weight 'x' is not the segment step's"),
            std::string::npos);
  other = program(1, {"w", "v"});
  other.states[0].role = "memory";
  EXPECT_NE(refused(other).find("state #0 differs"), std::string::npos);
  EXPECT_NE(refused(program(4, {"w", "v"}))
                .find("its length is not below the segment's"),
            std::string::npos);
}

} // namespace
} // namespace txl::codegen::host
