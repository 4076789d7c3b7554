//===- txl-run.cpp - runs a Transformer-XL model on token streams ---------===//
//
//   txl-run MODEL_DIR --backend=reference --tokens IN.safetensors --tgt-len T
//           --out OUT.safetensors [--log-probs]
//   txl-run MODEL.so --tokens IN.safetensors --out OUT.safetensors
//           [--log-probs] [--weights model.safetensors]
//
// Reads `tokens` (int64 [B, N]: one stream per batch row), cuts each stream
// into segments of T tokens (the last may be shorter), runs them in order
// with the memory carried across segments, and writes `hidden` [B, N, D],
// `nll` [B, N-1] (next-token loss), `mems` [L, M, B, D] (time-major, as the
// original code holds them) and, with --log-probs, `log_probs` [B, N, V].
//
// A model directory runs on the reference executor; a compiled model (a file:
// model.so from txlc) runs through the runtime, with the batch and segment
// length it was compiled for. Both print and write the same things.
//
//===----------------------------------------------------------------------===//

#include "txl/Dialect/TxlDialect.h"
#include "txl/models/GraphBuilder.h"
#include "txl/models/WeightBinding.h"
#include "txl/reference/Interpreter.h"
#include "txl/reference/Kernels.h"
#include "txl/runtime/Runtime.h"
#include "txl/runtime/SafeTensors.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/raw_ostream.h"

#include "llvm/Support/Format.h"

#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>

namespace cl = llvm::cl;
using namespace txl;

namespace {

cl::OptionCategory category("txl-run options");
cl::opt<std::string> modelDir(cl::Positional, cl::Required,
                              cl::desc("<model: a directory (config.json + "
                                       "model.safetensors) or a compiled "
                                       "model .so>"),
                              cl::cat(category));
cl::opt<std::string> backend("backend",
                             cl::desc("executor of a model directory: "
                                      "reference (plain C++, double "
                                      "accumulation); a compiled model runs "
                                      "as compiled"),
                             cl::init("reference"), cl::cat(category));
cl::opt<std::string> tokensPath("tokens",
                                cl::desc("safetensors file with `tokens`: "
                                         "int64 [batch, length]"),
                                cl::value_desc("file"), cl::Required,
                                cl::cat(category));
cl::opt<int64_t> tgtLen("tgt-len",
                        cl::desc("tokens per segment (default: the config's "
                                 "tgt_len, else 128; a compiled model's is "
                                 "fixed)"),
                        cl::init(0), cl::cat(category));
cl::opt<std::string> weightsPath("weights",
                                 cl::desc("weights of a compiled model "
                                          "(default: its embedded weights, "
                                          "else model.safetensors beside it)"),
                                 cl::value_desc("file"), cl::cat(category));
cl::opt<std::string> outPath("out", cl::desc("output safetensors file"),
                             cl::value_desc("file"), cl::cat(category));
cl::opt<bool> writeLogProbs("log-probs",
                            cl::desc("also write log_probs [batch, length, "
                                     "vocab] (large for big vocabularies)"),
                            cl::cat(category));

int fail(const std::string &message) {
  llvm::errs() << "txl-run: error: " << message << "\n";
  return 1;
}

/// Reads `tokens` (int64 [B, N]) and checks every id against the vocabulary.
StatusOr<reference::TokenTensor> readTokens(const std::string &path,
                                            int64_t vocab) {
  auto file = SafeTensorsFile::open(path);
  if (!file.ok())
    return file.status();
  const TensorInfo *info = (*file)->find("tokens");
  if (!info)
    return Status::error(path + ": no tensor named 'tokens'");
  if (info->dtype != DType::I64)
    return Status::error(path +
                         ": tensor 'tokens': expected dtype I64, found " +
                         dtypeName(info->dtype));
  if (info->shape.size() != 2 || info->shape[0] < 1 || info->shape[1] < 1)
    return Status::error(path + ": tensor 'tokens': expected a non-empty "
                                "[batch, length] tensor");
  reference::TokenTensor tokens{info->shape,
                                std::vector<int64_t>(info->numElements())};
  std::memcpy(tokens.data.data(), info->data, info->nbytes);
  for (size_t i = 0; i < tokens.data.size(); ++i)
    if (tokens.data[i] < 0 || tokens.data[i] >= vocab)
      return Status::error(
          path + ": tensor 'tokens': id " + std::to_string(tokens.data[i]) +
          " at [" + std::to_string(i / info->shape[1]) + ", " +
          std::to_string(i % info->shape[1]) +
          "] is outside the vocabulary [0, " + std::to_string(vocab) + ")");
  return tokens;
}

/// [B, M, D] per layer -> [L, M, B, D] (time-major, as the original code).
reference::Tensor
stackMemoriesTimeMajor(const std::vector<reference::Tensor> &memories) {
  int64_t layers = memories.size();
  int64_t batch = memories[0].shape[0], rows = memories[0].shape[1],
          width = memories[0].shape[2];
  reference::Tensor stacked({layers, rows, batch, width});
  for (int64_t l = 0; l < layers; ++l)
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t m = 0; m < rows; ++m)
        std::copy_n(memories[l].data.begin() + (b * rows + m) * width, width,
                    stacked.data.begin() +
                        ((l * rows + m) * batch + b) * width);
  return stacked;
}

/// What a run produced, whichever backend ran it.
struct RunResult {
  std::string backend;
  int64_t segment = 0;
  double seconds = 0;
  reference::Tensor hidden;   // [B, N, D]
  reference::Tensor logProbs; // [B, N, V]
  reference::Tensor mems;     // [L, M, B, D]
};

/// Prints the summary and writes --out: the same for every backend.
int report(const RunResult &run, const reference::TokenTensor &ids) {
  int64_t batch = ids.shape[0], length = ids.shape[1];
  std::vector<float> nll =
      reference::nextTokenNll(run.logProbs, ids.data, batch, length);
  double total = 0;
  for (float v : nll)
    total += v;
  int64_t predicted = batch * (length - 1);
  double meanNll = predicted > 0 ? total / predicted : 0.0;
  int64_t segments = (length + run.segment - 1) / run.segment;
  llvm::outs() << "txl-run: " << batch << " x " << length << " tokens in "
               << segments << " segment(s) of " << run.segment << " ("
               << run.backend << " backend, "
               << llvm::format("%.1f", batch * length / run.seconds)
               << " tokens/s)\n";
  if (predicted > 0)
    llvm::outs() << "mean next-token loss " << llvm::format("%.6f", meanNll)
                 << " nats, perplexity "
                 << llvm::format("%.4f", std::exp(meanNll)) << ", "
                 << llvm::format("%.4f", meanNll / std::log(2.0))
                 << " bits/token\n";

  if (outPath.empty())
    return 0;
  std::vector<TensorToWrite> outputs = {
      {"hidden", DType::F32, run.hidden.shape, run.hidden.data.data()},
      {"nll", DType::F32, {batch, length - 1}, nll.data()},
      {"mems", DType::F32, run.mems.shape, run.mems.data.data()},
  };
  if (writeLogProbs)
    outputs.push_back({"log_probs", DType::F32, run.logProbs.shape,
                       run.logProbs.data.data()});
  Status written = writeSafeTensors(outPath, outputs);
  if (!written.isOk())
    return fail(written.message());
  return 0;
}

/// A model directory on the reference executor.
int runReference() {
  if (backend != "reference")
    return fail("unknown backend '" + backend + "' (available: reference)");
  if (weightsPath.getNumOccurrences())
    return fail("--weights is for a compiled model; a model directory's "
                "weights are its model.safetensors");

  auto model = loadModelDirectory(modelDir);
  if (!model.ok())
    return fail(model.status().message());
  const ModelConfig &config = model->config;
  if (tgtLen.getNumOccurrences() && tgtLen <= 0)
    return fail("--tgt-len must be positive, found " + std::to_string(tgtLen));
  int64_t segment = tgtLen > 0 ? int64_t(tgtLen) : config.tgt_len.value_or(128);

  auto tokens = readTokens(tokensPath, config.vocab_size);
  if (!tokens.ok())
    return fail(tokens.status().message());
  reference::TokenTensor ids = *tokens;
  int64_t batch = tokens->shape[0];

  mlir::MLIRContext context;
  StepShape shape;
  shape.batch = batch;
  shape.segmentLength = StepShape::kDynamicSize;
  shape.maxSegmentLength = segment;
  mlir::OwningOpRef<mlir::ModuleOp> module =
      buildModelModule(context, config, shape);
  if (mlir::failed(mlir::verify(*module)))
    return fail("internal error: the built model does not verify");

  const BoundWeights &weights = model->weights;
  reference::Interpreter interpreter(
      *module,
      [&](const std::string &name) -> std::optional<reference::ConstTensorRef> {
        const BoundTensor *bound = weights.find(name);
        if (!bound)
          return std::nullopt;
        return reference::ConstTensorRef{bound->data, bound->shape};
      });

  auto start = std::chrono::steady_clock::now();
  auto results = interpreter.run("score", {std::move(*tokens)});
  RunResult run;
  run.backend = backend;
  run.segment = segment;
  run.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  if (!results.ok())
    return fail(results.status().message());
  run.hidden = std::move(std::get<reference::Tensor>((*results)[0]));
  run.logProbs = std::move(std::get<reference::Tensor>((*results)[1]));
  std::vector<reference::Tensor> memories;
  for (size_t l = 2; l < results->size(); ++l)
    memories.push_back(std::get<reference::Tensor>((*results)[l]));
  run.mems = stackMemoriesTimeMajor(memories);
  return report(run, ids);
}

/// A compiled model (model.so) through the runtime, segment by segment.
int runCompiled() {
  if (backend.getNumOccurrences() && backend != "compiled")
    return fail("--backend=" + backend + " runs a model directory; " +
                modelDir + " is a compiled model (backend: compiled)");
  auto model = CompiledModel::load(modelDir, weightsPath);
  if (!model.ok())
    return fail(model.status().message());
  const CompiledModel &compiled = **model;
  int64_t B = compiled.batch(), T = compiled.tgtLen(), D = compiled.dModel(),
          V = compiled.vocabSize();
  if (tgtLen.getNumOccurrences() && tgtLen <= 0)
    return fail("--tgt-len must be positive, found " + std::to_string(tgtLen));
  if (tgtLen.getNumOccurrences() && tgtLen != T)
    return fail("--tgt-len " + std::to_string(tgtLen) +
                " differs from the segment length " + std::to_string(T) +
                " that " + modelDir +
                " was compiled for (leave --tgt-len out)");

  auto tokens = readTokens(tokensPath, V);
  if (!tokens.ok())
    return fail(tokens.status().message());
  const reference::TokenTensor &ids = *tokens;
  int64_t N = ids.shape[1];
  if (ids.shape[0] != B)
    return fail(tokensPath + ": tensor 'tokens': batch " +
                std::to_string(ids.shape[0]) + " does not match the batch " +
                std::to_string(B) + " that " + modelDir + " was compiled for");

  auto session = Session::create(*model);
  if (!session.ok())
    return fail(session.status().message());
  RunResult run;
  run.backend = "compiled";
  run.segment = T;
  run.hidden = reference::Tensor({B, N, D});
  run.logProbs = reference::Tensor({B, N, V});
  std::vector<int64_t> segmentIds(B * T);
  std::vector<float> hidden(B * T * D), logProbs(B * T * V);
  auto start = std::chrono::steady_clock::now();
  for (int64_t begin = 0; begin < N; begin += T) {
    int64_t n = std::min(T, N - begin);
    for (int64_t b = 0; b < B; ++b)
      std::copy_n(&ids.data[b * N + begin], n, &segmentIds[b * n]);
    // The loss needs the log-probabilities even when they are not written.
    Status status =
        (*session)->step(segmentIds.data(), n, hidden.data(), logProbs.data());
    if (!status.isOk())
      return fail(status.message());
    for (int64_t b = 0; b < B; ++b) {
      std::copy_n(&hidden[b * n * D], n * D,
                  &run.hidden.data[(b * N + begin) * D]);
      std::copy_n(&logProbs[b * n * V], n * V,
                  &run.logProbs.data[(b * N + begin) * V]);
    }
  }
  run.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  int64_t M = (*session)->memoryRows();
  run.mems = reference::Tensor({compiled.numLayers(), M, B, D},
                               (*session)->memories());
  return report(run, ids);
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(
      argc, argv,
      "txl-run: run a Transformer-XL model over token streams\n\n"
      "Cuts each row of `tokens` into segments of --tgt-len tokens and runs\n"
      "them in order, carrying the memory; prints the mean next-token loss\n"
      "and perplexity, and writes hidden, nll, mems (and log_probs) to "
      "--out.\n\n"
      "The model is a directory (config.json + model.safetensors), run by "
      "--backend,\nor a compiled model (model.so from txlc), run through "
      "the runtime with the\nbatch and segment length it was compiled "
      "for.\n");

  std::error_code error;
  if (std::filesystem::is_regular_file(modelDir.getValue(), error))
    return runCompiled();
  return runReference();
}
