//===- ModelWeights.h - a descriptor's weights bound to a file --*- C++ -*-===//
//
// The runtime binds exactly the tensors a compiled model's descriptor names
// (ModelABI.h: name, alternate names, shape), so it needs no model spec: what
// the config implies was decided by the compiler and written into the
// descriptor. Aligned F32 tensors are used in place from the file's mapping;
// F16, BF16, F64 and misaligned F32 are converted into buffers owned here.
//
//===----------------------------------------------------------------------===//
#ifndef TXL_RUNTIME_MODELWEIGHTS_H
#define TXL_RUNTIME_MODELWEIGHTS_H

#include "txl/runtime/ModelABI.h"
#include "txl/support/SafeTensors.h"
#include "txl/support/Status.h"

#include <list>
#include <memory>
#include <string>
#include <vector>

namespace txl {

/// One float32 pointer per descriptor weight. Move-only: it owns the
/// converted buffers and keeps the mapped file alive.
class ModelWeights {
public:
  /// Binds every weight of `desc` to a tensor of `file`: its name, else one
  /// of its alternate names (a tied copy); when only alternates are present
  /// they must hold equal values. Every message starts with the file's path
  /// and names the tensor; `modelName` stands for the model in them.
  static StatusOr<ModelWeights>
  bind(const txl_model_desc &desc, std::shared_ptr<const SafeTensorsFile> file,
       const std::string &modelName);

  ModelWeights(ModelWeights &&) = default;
  ModelWeights &operator=(ModelWeights &&) = default;
  ModelWeights(const ModelWeights &) = delete;
  ModelWeights &operator=(const ModelWeights &) = delete;

  /// In `desc.weights` order: the `weights` argument of the model's entry
  /// points.
  const std::vector<const float *> &pointers() const { return data; }

private:
  ModelWeights() = default;

  std::shared_ptr<const SafeTensorsFile> mappedFile;
  std::vector<const float *> data;
  /// Converted tensors; list nodes never move, so `data` stays valid.
  std::list<std::vector<float>> converted;
};

} // namespace txl

#endif // TXL_RUNTIME_MODELWEIGHTS_H
