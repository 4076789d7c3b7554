//===- SafeTensorsFuzzer.cpp - safetensors reader and both weight binders -===//
//
// Input: a safetensors file. Its first byte's low bit picks the model it is
// bound to (FuzzModels.h). The reader must refuse or map it; every tensor's
// bytes are read (so ASan sees an offset past the data); then the model
// directory's binder (BoundWeights) and the runtime's (ModelWeights, on a
// descriptor made from the same parameter list) bind it.
//
//===----------------------------------------------------------------------===//

#include "FuzzModels.h"

#include "../../runtime/lib/ModelWeights.h"
#include "txl/models/ParameterSpec.h"
#include "txl/models/WeightBinding.h"
#include "txl/support/SafeTensors.h"

#include <cstdint>
#include <memory>

using namespace txl;

namespace {

/// A txl_model_desc listing `params`, as txlc writes one.
struct Descriptor {
  explicit Descriptor(const ModelConfig &config)
      : params(expectedParameters(config)) {
    for (const ParameterSpec &p : params) {
      std::vector<const char *> names;
      for (const std::string &a : p.alternateNames)
        names.push_back(a.c_str());
      alternates.push_back(std::move(names));
    }
    for (size_t i = 0; i < params.size(); ++i)
      weights.push_back({params[i].name.c_str(),
                         int32_t(params[i].shape.size()),
                         params[i].shape.data(), int32_t(alternates[i].size()),
                         alternates[i].data()});
    desc.abi_version = TXL_MODEL_ABI_VERSION;
    desc.d_model = config.d_model;
    desc.vocab_size = config.vocab_size;
    desc.n_layer = config.n_layer;
    desc.num_weights = int32_t(weights.size());
    desc.weights = weights.data();
  }
  std::vector<ParameterSpec> params;
  std::vector<std::vector<const char *>> alternates;
  std::vector<txl_weight_desc> weights;
  txl_model_desc desc{};
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const ModelConfig configs[2] = {
      fuzz::fixedConfig(fuzz::kPlainConfig),
      fuzz::fixedConfig(fuzz::kAdaptiveConfig)};
  static const Descriptor descriptors[2] = {Descriptor(configs[0]),
                                            Descriptor(configs[1])};
  int which = size > 0 ? data[0] & 1 : 0;

  auto opened = SafeTensorsFile::fromMemory("fuzz.safetensors", data, size);
  if (!opened.ok())
    return 0;
  std::shared_ptr<const SafeTensorsFile> file = std::move(*opened);
  unsigned sum = 0;
  for (const TensorInfo &tensor : file->tensors()) {
    const auto *bytes = static_cast<const unsigned char *>(tensor.data);
    for (size_t i = 0; i < tensor.nbytes; ++i)
      sum += bytes[i];
    if (isFloatingPoint(tensor.dtype))
      sum += unsigned(toFloat32(tensor).size());
  }
  (void)BoundWeights::bind(configs[which], file);
  (void)ModelWeights::bind(descriptors[which].desc, file, "fuzz-model");
  return sum == 0x7fffffff; // keeps the reads
}
