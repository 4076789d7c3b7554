//===- txl-run.cpp - runs a Transformer-XL model on token streams ---------===//
//
//   txl-run MODEL_DIR --backend=reference --tokens IN.safetensors --tgt-len T
//           --out OUT.safetensors [--log-probs]
//
// Reads `tokens` (int64 [B, N]: one stream per batch row), cuts each stream
// into segments of T tokens (the last may be shorter), runs them in order
// with the memory carried across segments, and writes `hidden` [B, N, D],
// `nll` [B, N-1] (next-token loss), `mems` [L, M, B, D] (time-major, as the
// original code holds them) and, with --log-probs, `log_probs` [B, N, V].
//
//===----------------------------------------------------------------------===//

#include "txl/Dialect/TxlDialect.h"
#include "txl/models/GraphBuilder.h"
#include "txl/models/WeightBinding.h"
#include "txl/reference/Interpreter.h"
#include "txl/reference/Kernels.h"
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

namespace cl = llvm::cl;
using namespace txl;

namespace {

cl::OptionCategory category("txl-run options");
cl::opt<std::string> modelDir(cl::Positional, cl::Required,
                              cl::desc("<model directory: config.json + "
                                       "model.safetensors>"),
                              cl::cat(category));
cl::opt<std::string> backend("backend",
                             cl::desc("executor: reference (plain C++, "
                                      "double accumulation)"),
                             cl::init("reference"), cl::cat(category));
cl::opt<std::string> tokensPath("tokens",
                                cl::desc("safetensors file with `tokens`: "
                                         "int64 [batch, length]"),
                                cl::value_desc("file"), cl::Required,
                                cl::cat(category));
cl::opt<int64_t> tgtLen("tgt-len",
                        cl::desc("tokens per segment (default: the config's "
                                 "tgt_len, else 128)"),
                        cl::init(0), cl::cat(category));
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
      "--out.\n");

  if (backend != "reference")
    return fail("unknown backend '" + backend + "' (available: reference)");

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
  int64_t batch = tokens->shape[0], length = tokens->shape[1];

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
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  if (!results.ok())
    return fail(results.status().message());
  // Re-read the ids for the loss (the interpreter consumed them).
  auto ids = readTokens(tokensPath, config.vocab_size);
  if (!ids.ok())
    return fail(ids.status().message());

  auto &hidden = std::get<reference::Tensor>((*results)[0]);
  auto &logProbs = std::get<reference::Tensor>((*results)[1]);
  std::vector<reference::Tensor> memories;
  for (size_t l = 2; l < results->size(); ++l)
    memories.push_back(std::get<reference::Tensor>((*results)[l]));
  std::vector<float> nll =
      reference::nextTokenNll(logProbs, ids->data, batch, length);

  double total = 0;
  for (float v : nll)
    total += v;
  int64_t predicted = batch * (length - 1);
  double meanNll = predicted > 0 ? total / predicted : 0.0;
  int64_t segments = (length + segment - 1) / segment;
  llvm::outs() << "txl-run: " << batch << " x " << length << " tokens in "
               << segments << " segment(s) of " << segment << " (" << backend
               << " backend, " << llvm::format("%.1f", batch * length / seconds)
               << " tokens/s)\n";
  if (predicted > 0)
    llvm::outs() << "mean next-token loss " << llvm::format("%.6f", meanNll)
                 << " nats, perplexity "
                 << llvm::format("%.4f", std::exp(meanNll)) << ", "
                 << llvm::format("%.4f", meanNll / std::log(2.0))
                 << " bits/token\n";

  if (outPath.empty())
    return 0;
  reference::Tensor mems = stackMemoriesTimeMajor(memories);
  std::vector<TensorToWrite> outputs = {
      {"hidden", DType::F32, hidden.shape, hidden.data.data()},
      {"nll", DType::F32, {batch, length - 1}, nll.data()},
      {"mems", DType::F32, mems.shape, mems.data.data()},
  };
  if (writeLogProbs)
    outputs.push_back(
        {"log_probs", DType::F32, logProbs.shape, logProbs.data.data()});
  Status written = writeSafeTensors(outPath, outputs);
  if (!written.isOk())
    return fail(written.message());
  return 0;
}
