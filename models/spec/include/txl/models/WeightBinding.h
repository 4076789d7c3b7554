//===- WeightBinding.h - safetensors checked and bound ----------*- C++ -*-===//
//
// Binds every canonical parameter of a config (ParameterSpec.h) to float32
// data from a safetensors file. Aligned F32 tensors are used in place from
// the file's mapping; F16, BF16, F64 and misaligned F32 are converted into
// buffers the binding owns. The file must hold exactly the config's model:
// a missing tensor, a wrong shape or dtype, or a tensor the config does not
// explain is an error, because any of them means the config and the weights
// do not belong together.
//
//===----------------------------------------------------------------------===//
#ifndef TXL_MODELS_WEIGHTBINDING_H
#define TXL_MODELS_WEIGHTBINDING_H

#include "txl/models/ModelConfig.h"
#include "txl/support/SafeTensors.h"
#include "txl/support/Status.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace txl {

/// Row-major float32 data of one parameter.
struct BoundTensor {
  const float *data = nullptr;
  std::vector<int64_t> shape;
};

/// Canonical parameter name -> data. Move-only: it owns the converted
/// buffers and keeps the mapped file alive.
class BoundWeights {
public:
  /// Binds the parameters of `config` to the tensors of `file`. A parameter
  /// is taken from its canonical name, else from an alternate name (a tied
  /// copy); when only alternates are present they must hold equal values.
  /// Every message starts with the file's path.
  static StatusOr<BoundWeights>
  bind(const ModelConfig &config, std::shared_ptr<const SafeTensorsFile> file);
  /// Opens `safetensorsPath`, then binds as above.
  static StatusOr<BoundWeights> bind(const ModelConfig &config,
                                     const std::string &safetensorsPath);

  BoundWeights(BoundWeights &&) = default;
  BoundWeights &operator=(BoundWeights &&) = default;
  BoundWeights(const BoundWeights &) = delete;
  BoundWeights &operator=(const BoundWeights &) = delete;

  /// By canonical name, or by an alternate name of it; nullptr if neither.
  const BoundTensor *find(const std::string &name) const;
  /// Every canonical parameter.
  const std::map<std::string, BoundTensor> &tensors() const { return bound; }
  /// The name the data was read from in the file (canonical or alternate).
  const std::string &sourceName(const std::string &canonicalName) const;
  /// True when the parameter points into the file's mapping (no copy).
  bool isBorrowed(const std::string &canonicalName) const;
  const SafeTensorsFile &file() const { return *mappedFile; }

private:
  BoundWeights() = default;

  std::shared_ptr<const SafeTensorsFile> mappedFile;
  std::map<std::string, BoundTensor> bound;
  std::map<std::string, std::string> canonicalByAlternate;
  std::map<std::string, std::string> fileNameByCanonical;
  /// Converted data; std::map nodes (and the vectors' buffers) never move,
  /// so BoundTensor::data stays valid when the binding is moved.
  std::map<std::string, std::vector<float>> converted;
};

/// A model directory as Hugging Face saves it.
struct LoadedModel {
  ModelConfig config;
  BoundWeights weights;
};

/// Reads `dir/config.json` and binds `dir/model.safetensors`.
StatusOr<LoadedModel> loadModelDirectory(const std::string &dir);

} // namespace txl

#endif // TXL_MODELS_WEIGHTBINDING_H
