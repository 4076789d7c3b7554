//===- WindowMemoryTest.cpp - the windowed step reproduces the vectors ----===//
//
// txl-window-memory turns the step into the compiled ABI's form, and
// txl-kv-cache turns its memories into key/value caches. Here the rewritten
// step is interpreted one segment at a time exactly as the runtime drives
// compiled code (tokens padded to T, n and M passed, right-aligned state
// windows carried), and must reproduce the PyTorch vectors, including the
// partial last segments and the memory growing from empty to full. After
// each step @nll (txl.adaptive_nll, lowered as far as the step) scores its
// hidden states at the next tokens, against the vectors' nll.
//
//===----------------------------------------------------------------------===//

#include "VectorCase.h"

#include "txl/Dialect/AttrNames.h"
#include "txl/Dialect/TxlOps.h"
#include "txl/Passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/PassManager.h"

#include <set>

using namespace txl;
using namespace txl::testing;
using reference::Tensor;

namespace {

/// How far the step is lowered before it is interpreted.
enum class Stage { Txl, Linalg, FusedNone, Fused, Hoisted, Packed };
const char *stageName(Stage stage) {
  switch (stage) {
  case Stage::Txl:
    return "txl";
  case Stage::Linalg:
    return "linalg";
  case Stage::FusedNone:
    return "fuse_none";
  case Stage::Fused:
    return "fused";
  case Stage::Hoisted:
    return "hoisted";
  case Stage::Packed:
    return "packed";
  }
  return "";
}

/// What the step keeps between segments.
enum class State { Memories, KvCache, KvCacheAndMemories };
const char *stateName(State state) {
  switch (state) {
  case State::Memories:
    return "memories";
  case State::KvCache:
    return "kv_cache";
  case State::KvCacheAndMemories:
    return "kv_cache_mems";
  }
  return "";
}

/// A vector case, the stage of the step and its state.
struct StepCase {
  const char *name;
  Stage stage;
  State state;
};

void PrintTo(const StepCase &c, std::ostream *os) {
  *os << c.name << " (" << stageName(c.stage) << ", " << stateName(c.state)
      << ")";
}

std::vector<StepCase> allStepCases() {
  std::vector<StepCase> cases;
  for (State state :
       {State::Memories, State::KvCache, State::KvCacheAndMemories})
    for (Stage stage : {Stage::Txl, Stage::Linalg, Stage::FusedNone,
                        Stage::Fused, Stage::Hoisted, Stage::Packed})
      for (const char *name : kVectorCases)
        cases.push_back({name, stage, state});
  return cases;
}

class WindowMemory : public ::testing::TestWithParam<StepCase> {};

TEST_P(WindowMemory, WindowedStepMatchesPyTorch) {
  VectorCase vc = VectorCase::load(GetParam().name);
  ASSERT_TRUE(vc.model.has_value()) << vc.error;
  const ModelConfig &config = vc.model->config;
  int64_t B = vc.tokens.shape[0], N = vc.tokens.shape[1], T = vc.tgtLen;
  int64_t D = config.d_model, V = config.vocab_size, C = config.mem_len;

  mlir::MLIRContext context;
  StepShape shape;
  shape.batch = B;
  shape.segmentLength = T;
  auto module = buildModelModule(context, config, shape);
  mlir::PassManager pm(&context);
  pm.addPass(createTxlWindowMemory());
  if (GetParam().state != State::Memories) {
    TxlKvCacheOptions kv;
    kv.keepMemories = GetParam().state == State::KvCacheAndMemories;
    pm.addPass(createTxlKvCache(kv));
  }
  // Decomposed, the step is linalg on tensors: the reference executor runs
  // it point by point, checking txl-decompose (and txl-fuse's regrouping)
  // against the vectors.
  if (GetParam().stage != Stage::Txl)
    pm.addPass(createTxlDecompose());
  if (GetParam().stage == Stage::FusedNone)
    pm.addPass(createTxlFuse(TxlFuseOptions{"none"}));
  bool hoisted =
      GetParam().stage == Stage::Hoisted || GetParam().stage == Stage::Packed;
  if (GetParam().stage == Stage::Packed) {
    // Panels of 8 so that the small test weights (N >= 8) are packed too.
    TxlPackWeightsOptions pack;
    pack.panel = 8;
    pm.addPass(createTxlPackWeights(pack));
  }
  if (GetParam().stage == Stage::Fused || hoisted)
    pm.addPass(createTxlFuse());
  if (hoisted)
    pm.addPass(createTxlHoistInvariants());
  ASSERT_TRUE(mlir::succeeded(pm.run(*module)));
  ASSERT_FALSE(module->lookupSymbol("score")) << "the scan must be removed";

  reference::Interpreter interpreter(*module, vc.weightLookup());
  // What @prepare computes once (txl-hoist-invariants): the step's last
  // arguments, marked txl.prepared.
  std::vector<reference::RuntimeValue> prepared;
  if (GetParam().stage == Stage::Packed) {
    int packs = 0;
    module->walk([&](KernelOp kernel) {
      packs += kernel.getName().starts_with("pack.");
    });
    EXPECT_GT(packs, 0) << "no weight was packed";
  }
  if (hoisted) {
    ASSERT_TRUE(module->lookupSymbol("prepare"));
    auto results = interpreter.run("prepare", {});
    ASSERT_TRUE(results.ok()) << results.status().message();
    prepared = std::move(*results);
    ASSERT_FALSE(prepared.empty()) << "the positions should be hoisted";
  }

  // A function's prepared arguments (txl.prepared = the @prepare result it
  // receives; @step and @nll may share one), from argument `first` on.
  auto preparedArguments = [&](mlir::func::FuncOp function, unsigned first) {
    std::vector<reference::RuntimeValue> values;
    for (unsigned i = first; i < function.getNumArguments(); ++i)
      if (auto index = function.getArgAttrOfType<mlir::IntegerAttr>(
              i, txl::attr::kPrepared))
        values.push_back(prepared.at(index.getInt()));
    return values;
  };

  // The state: the arguments after (tokens, n, M) marked txl.state, zero at
  // the start, each carried from the result in the same position after
  // (hidden, log_probs).
  auto step = module->lookupSymbol<mlir::func::FuncOp>("step");
  auto scoring = module->lookupSymbol<mlir::func::FuncOp>("nll");
  ASSERT_TRUE(scoring);
  std::vector<reference::RuntimeValue> stepPrepared =
      preparedArguments(step, 3);
  std::vector<reference::RuntimeValue> nllPrepared =
      preparedArguments(scoring, 2);
  ASSERT_EQ(scoring.getNumArguments(), 2 + nllPrepared.size())
      << "@nll takes hidden, targets and prepared tensors";
  if (GetParam().stage == Stage::Packed) {
    // @nll reads the output layer's panels, the very ones @step's
    // log-softmax reads: packed once.
    EXPECT_FALSE(nllPrepared.empty());
    std::set<int64_t> stepIndices;
    for (unsigned i = 3; i < step.getNumArguments(); ++i)
      if (auto index =
              step.getArgAttrOfType<mlir::IntegerAttr>(i, txl::attr::kPrepared))
        stepIndices.insert(index.getInt());
    for (unsigned i = 2; i < scoring.getNumArguments(); ++i)
      EXPECT_TRUE(stepIndices.count(
          scoring.getArgAttrOfType<mlir::IntegerAttr>(i, txl::attr::kPrepared)
              .getInt()))
          << "@nll argument #" << i << " is packed apart from @step's";
  }
  std::vector<Tensor> states;
  std::vector<std::string> roles;
  for (unsigned i = 3; i < step.getNumArguments(); ++i) {
    auto role = step.getArgAttrOfType<mlir::StringAttr>(i, txl::attr::kState);
    if (!role) {
      ASSERT_TRUE(step.getArgAttr(i, txl::attr::kPrepared))
          << "argument #" << i << " is neither state nor prepared";
      continue;
    }
    auto type = mlir::cast<mlir::RankedTensorType>(step.getArgumentTypes()[i]);
    states.emplace_back(std::vector<int64_t>(type.getShape()));
    roles.push_back(role.str());
  }
  ASSERT_EQ(step.getNumArguments(), 3 + states.size() + stepPrepared.size());
  int64_t layers = config.n_layer;
  int64_t expectedStates = GetParam().state == State::Memories  ? layers
                           : GetParam().state == State::KvCache ? 2 * layers
                                                                : 3 * layers;
  ASSERT_EQ(int64_t(states.size()), expectedStates);

  Tensor hidden({B, N, D}), logProbs({B, N, V}), nll({B, N - 1});
  int64_t held = 0;
  for (int64_t begin = 0; begin < N; begin += T) {
    int64_t n = std::min(T, N - begin);
    reference::TokenTensor segment{{B, T}, std::vector<int64_t>(B * T, 0)};
    for (int64_t b = 0; b < B; ++b)
      for (int64_t t = 0; t < n; ++t)
        segment.data[b * T + t] = vc.tokens.data[b * N + begin + t];
    std::vector<reference::RuntimeValue> args = {
        segment, reference::IndexScalar{n, {}},
        reference::IndexScalar{held, {}}};
    for (Tensor &state : states)
      args.push_back(std::move(state));
    args.insert(args.end(), stepPrepared.begin(), stepPrepared.end());
    auto results = interpreter.run("step", std::move(args));
    ASSERT_TRUE(results.ok()) << results.status().message();
    const Tensor &h = std::get<Tensor>((*results)[0]);
    const Tensor &lp = std::get<Tensor>((*results)[1]);
    for (int64_t b = 0; b < B; ++b)
      for (int64_t t = 0; t < n; ++t) {
        std::copy_n(&h.data[(b * T + t) * D], D,
                    &hidden.data[(b * N + begin + t) * D]);
        std::copy_n(&lp.data[(b * T + t) * V], V,
                    &logProbs.data[(b * N + begin + t) * V]);
      }
    for (size_t i = 0; i < states.size(); ++i)
      states[i] = std::get<Tensor>((*results)[2 + i]);
    held = std::min(C, held + n);

    // @nll scores the segment's hidden states at the next tokens (-1 where
    // there is none: padding, and the stream's last token).
    reference::TokenTensor targets{{B, T}, std::vector<int64_t>(B * T, -1)};
    for (int64_t b = 0; b < B; ++b)
      for (int64_t t = 0; t < n && begin + t + 1 < N; ++t)
        targets.data[b * T + t] = vc.tokens.data[b * N + begin + t + 1];
    std::vector<reference::RuntimeValue> nllArgs = {h, targets};
    nllArgs.insert(nllArgs.end(), nllPrepared.begin(), nllPrepared.end());
    auto scored = interpreter.run("nll", std::move(nllArgs));
    ASSERT_TRUE(scored.ok()) << scored.status().message();
    const Tensor &segmentNll = std::get<Tensor>((*scored)[0]);
    for (int64_t b = 0; b < B; ++b)
      for (int64_t t = 0; t < T; ++t) {
        if (t < n && begin + t + 1 < N)
          nll.data[b * (N - 1) + begin + t] = segmentNll.data[b * T + t];
        else
          EXPECT_EQ(segmentNll.data[b * T + t], 0.0f) << "no target, no loss";
      }
  }

  EXPECT_TRUE(near(hidden, vc.expected("hidden"), "hidden"));
  EXPECT_TRUE(near(logProbs, vc.expected("log_probs"), "log_probs"));
  EXPECT_TRUE(near(nll, vc.expected("nll"), "nll"));
  if (GetParam().state == State::KvCache)
    return; // no hidden memories kept
  // The memories are the last `held` rows of each memory window, in order.
  std::vector<const Tensor *> windows;
  for (size_t i = 0; i < states.size(); ++i)
    if (roles[i] == "memory")
      windows.push_back(&states[i]);
  ASSERT_EQ(int64_t(windows.size()), layers);
  Tensor mems({layers, held, B, D});
  for (int64_t l = 0; l < layers; ++l)
    for (int64_t m = 0; m < held; ++m)
      for (int64_t b = 0; b < B; ++b)
        for (int64_t d = 0; d < D; ++d)
          mems.at({l, m, b, d}) = windows[l]->at({b, C - held + m, d});
  EXPECT_TRUE(near(mems, vc.expected("mems"), "mems"));
}

INSTANTIATE_TEST_SUITE_P(Cases, WindowMemory,
                         ::testing::ValuesIn(allStepCases()),
                         [](const ::testing::TestParamInfo<StepCase> &info) {
                           return std::string(info.param.name) + "_" +
                                  stageName(info.param.stage) + "_" +
                                  stateName(info.param.state);
                         });

} // namespace
