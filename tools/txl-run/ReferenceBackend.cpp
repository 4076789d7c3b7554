//===- ReferenceBackend.cpp - a model directory on the reference executor -===//

#include "ReferenceBackend.h"

#include "txl/models/GraphBuilder.h"
#include "txl/models/WeightBinding.h"
#include "txl/reference/Interpreter.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"

#include <algorithm>
#include <filesystem>

namespace txl {

namespace {

using reference::RuntimeValue;
using reference::Tensor;

class ReferenceBackend final : public Backend {
public:
  ReferenceBackend(std::string directory, LoadedModel model, int64_t segment)
      : directory(std::move(directory)), model(std::move(model)),
        segment(segment) {}

  std::string name() const override { return "reference"; }
  const std::string &modelName() const override { return directory; }
  int64_t compiledBatch() const override { return 0; }
  int64_t maxSegmentLength() const override { return segment; }
  int64_t vocabSize() const override { return model.config.vocab_size; }
  int64_t dModel() const override { return model.config.d_model; }
  int64_t numLayers() const override { return model.config.n_layer; }
  int64_t memLen() const override { return model.config.mem_len; }
  VocabularySource vocabulary() const override {
    return {(std::filesystem::path(directory) / "vocab.txt").string(),
            std::nullopt};
  }

  Status start(int64_t batchRows) override {
    batch = batchRows;
    StepShape shape;
    shape.batch = batch;
    shape.segmentLength = StepShape::kDynamicSize;
    shape.maxSegmentLength = segment;
    module = buildModelModule(context, model.config, shape);
    if (mlir::failed(mlir::verify(*module)))
      return Status::error("internal error: the built model does not verify");
    const BoundWeights &weights = model.weights;
    interpreter = std::make_unique<reference::Interpreter>(
        *module,
        [&weights](const std::string &name)
            -> std::optional<reference::ConstTensorRef> {
          const BoundTensor *bound = weights.find(name);
          if (!bound)
            return std::nullopt;
          return reference::ConstTensorRef{bound->data, bound->shape};
        });
    reset();
    return Status::ok();
  }

  Status step(const int64_t *tokens, int64_t n, float *hidden,
              float *logProbs) override {
    if (failed)
      return Status::error("the reference executor failed on an earlier "
                           "step; the stream cannot go on");
    std::vector<RuntimeValue> arguments = {reference::TokenTensor{
        {batch, n}, std::vector<int64_t>(tokens, tokens + batch * n)}};
    for (Tensor &memory : memoryTensors)
      arguments.push_back(std::move(memory));
    auto results = interpreter->run("step", std::move(arguments));
    if (!results.ok()) {
      failed = true; // the memories were moved into the call
      return results.status();
    }
    const Tensor &stepHidden = std::get<Tensor>((*results)[0]);
    const Tensor &stepLogProbs = std::get<Tensor>((*results)[1]);
    if (hidden)
      std::copy(stepHidden.data.begin(), stepHidden.data.end(), hidden);
    if (logProbs)
      std::copy(stepLogProbs.data.begin(), stepLogProbs.data.end(), logProbs);
    for (size_t l = 0; l < memoryTensors.size(); ++l)
      memoryTensors[l] = std::get<Tensor>(std::move((*results)[2 + l]));
    return Status::ok();
  }

  void reset() override {
    // A stream starts with empty memories, as @score does.
    memoryTensors.assign(model.config.n_layer,
                         Tensor({batch, 0, model.config.d_model}));
    failed = false;
  }

  int64_t memoryRows() const override {
    return memoryTensors.empty() ? 0 : memoryTensors[0].shape[1];
  }

  /// [B, M, D] per layer -> [L, M, B, D] (time-major, as the original code).
  std::vector<float> memories() const override {
    int64_t layers = memoryTensors.size(), rows = memoryRows(),
            width = model.config.d_model;
    std::vector<float> stacked(layers * rows * batch * width);
    for (int64_t l = 0; l < layers; ++l)
      for (int64_t b = 0; b < batch; ++b)
        for (int64_t m = 0; m < rows; ++m)
          std::copy_n(memoryTensors[l].data.begin() + (b * rows + m) * width,
                      width,
                      stacked.begin() + ((l * rows + m) * batch + b) * width);
    return stacked;
  }

private:
  std::string directory;
  LoadedModel model;
  int64_t segment;
  int64_t batch = 0;
  mlir::MLIRContext context;
  mlir::OwningOpRef<mlir::ModuleOp> module;
  std::unique_ptr<reference::Interpreter> interpreter;
  std::vector<Tensor> memoryTensors; // [B, M, D] per layer
  bool failed = false;
};

} // namespace

StatusOr<std::unique_ptr<Backend>>
openReferenceBackend(const std::string &directory, const RunOptions &options) {
  std::string backend = options.backend.value_or("reference");
  if (backend != "reference")
    return Status::error("unknown backend '" + backend +
                         "' (available: reference)");
  if (options.threads)
    return Status::error("--threads is for a compiled model; the reference "
                         "executor runs on one thread");
  if (options.weights)
    return Status::error("--weights is for a compiled model; a model "
                         "directory's weights are its model.safetensors");
  if (options.noStepVariants)
    return Status::error("--no-step-variants is for a compiled model; the "
                         "reference executor runs any segment length");
  auto model = loadModelDirectory(directory);
  if (!model.ok())
    return model.status();
  // No silent default: the segment length changes every result once a
  // stream is longer than the memory, so it comes from the config or the user.
  if (!options.tgtLen && !model->config.tgt_len)
    return Status::error(
        (std::filesystem::path(directory) / "config.json").string() +
        " has no tgt_len: give the segment length with --tgt-len");
  int64_t segment = options.tgtLen ? *options.tgtLen : *model->config.tgt_len;
  return std::unique_ptr<Backend>(
      new ReferenceBackend(directory, std::move(*model), segment));
}

} // namespace txl
