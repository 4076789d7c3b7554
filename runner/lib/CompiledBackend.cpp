//===- CompiledBackend.cpp - a compiled model as a run backend ------------===//

#include "txl/runner/CompiledBackend.h"

#include <filesystem>

namespace txl {

namespace {

class CompiledBackend final : public Backend {
public:
  CompiledBackend(std::shared_ptr<const CompiledModel> model,
                  std::string vocabularyBeside, bool useStepVariants)
      : model(std::move(model)), vocabularyBeside(std::move(vocabularyBeside)),
        useStepVariants(useStepVariants) {}

  std::string name() const override { return "compiled"; }
  const std::string &modelName() const override { return model->name(); }
  int64_t compiledBatch() const override { return model->batch(); }
  int64_t maxSegmentLength() const override { return model->tgtLen(); }
  int64_t vocabSize() const override { return model->vocabSize(); }
  int64_t dModel() const override { return model->dModel(); }
  int64_t numLayers() const override { return model->numLayers(); }
  int64_t memLen() const override { return model->memLen(); }

  VocabularySource vocabulary() const override {
    if (model->hasVocabulary())
      return {model->name() + ":vocabulary", model->vocabulary()};
    return {vocabularyBeside, std::nullopt};
  }

  Status start(int64_t batch) override {
    if (batch != model->batch())
      return Status::error("internal error: batch " + std::to_string(batch) +
                           " for a model compiled for batch " +
                           std::to_string(model->batch()));
    auto created = Session::create(model);
    if (!created.ok())
      return created.status();
    session = std::move(*created);
    session->setUseStepVariants(useStepVariants);
    return Status::ok();
  }

  Status step(const int64_t *tokens, int64_t n, float *hidden,
              float *logProbs) override {
    return session->step(tokens, n, hidden, logProbs);
  }
  Status scoreStream(const int64_t *tokens, int64_t batch, int64_t length,
                     const int64_t *targets, float *hidden, float *nll,
                     const std::function<void(int64_t)> &progress) override {
    // txl_model_nll is optional in the ABI, and scores T-token segments.
    if (!model->functions().nll || !segmentLengths.empty())
      return Backend::scoreStream(tokens, batch, length, targets, hidden, nll,
                                  progress);
    return session->scoreStream(tokens, length, targets, hidden, nll,
                                progress);
  }
  void reset() override { session->reset(); }
  int64_t memoryRows() const override { return session->memoryRows(); }
  std::vector<float> memories() const override { return session->memories(); }
  bool keepsMemories() const override { return model->keepsMemories(); }

private:
  std::shared_ptr<const CompiledModel> model;
  std::string vocabularyBeside;
  bool useStepVariants;
  std::unique_ptr<Session> session;
};

} // namespace

Status checkCompiledBackendFlag(const RunOptions &options,
                                const std::string &modelName) {
  if (options.backend && *options.backend != "compiled")
    return Status::error("--backend=" + *options.backend +
                         " runs a model directory; " + modelName +
                         " is a compiled model (backend: compiled)");
  return Status::ok();
}

StatusOr<std::unique_ptr<Backend>>
openCompiledBackend(std::shared_ptr<const CompiledModel> model,
                    const RunOptions &options, std::string vocabularyBeside) {
  Status flag = checkCompiledBackendFlag(options, model->name());
  if (!flag.isOk())
    return flag;
  if (options.tgtLen && *options.tgtLen != model->tgtLen())
    return Status::error(
        "--tgt-len " + std::to_string(*options.tgtLen) +
        " differs from the segment length " + std::to_string(model->tgtLen()) +
        " that " + model->name() + " was compiled for (leave --tgt-len out)");
  if (options.threads) {
    if (*options.threads < 1)
      return Status::error("--threads must be at least 1, found " +
                           std::to_string(*options.threads));
    Status threads = model->setThreads(static_cast<int>(*options.threads));
    if (!threads.isOk())
      return threads;
  }
  return std::unique_ptr<Backend>(new CompiledBackend(
      std::move(model), std::move(vocabularyBeside), !options.noStepVariants));
}

StatusOr<std::unique_ptr<Backend>>
openCompiledLibrary(const std::string &path, const RunOptions &options) {
  Status flag = checkCompiledBackendFlag(options, path);
  if (!flag.isOk())
    return flag;
  auto model = CompiledModel::load(path, options.weights.value_or(""));
  if (!model.ok())
    return model.status();
  std::filesystem::path beside =
      std::filesystem::path(path).parent_path() / "vocab.txt";
  return openCompiledBackend(std::move(*model), options, beside.string());
}

} // namespace txl
