//===- WeightBinding.cpp - a model's safetensors, checked and bound -------===//
//
// Collects every problem of a file (up to a limit) before failing, so one run
// shows the user all that is wrong with a checkpoint, not just the first.
//
//===----------------------------------------------------------------------===//

#include "txl/models/WeightBinding.h"

#include "txl/models/ParameterSpec.h"
#include "txl/support/InverseFrequencies.h"
#include "txl/support/NonFinite.h"
#include "txl/support/Text.h"

#include <filesystem>
#include <set>

namespace txl {
namespace {

/// The likely cause when r_w_bias / r_r_bias do not fit the config.
std::string untieRHint(const ModelConfig &config, const std::string &name) {
  if (name.find("r_w_bias") == std::string::npos &&
      name.find("r_r_bias") == std::string::npos)
    return "";
  return config.untie_r
             ? " (the config says untie_r true: one pair per layer)"
             : " (the config says untie_r false: one pair shared by all "
               "layers)";
}

} // namespace

StatusOr<BoundWeights>
BoundWeights::bind(const ModelConfig &config,
                   std::shared_ptr<const SafeTensorsFile> file) {
  if (!file)
    return Status::error("BoundWeights::bind: no file");
  const std::string prefix = file->path() + ": ";
  std::vector<std::string> problems;
  auto problem = [&](const std::string &text) {
    problems.push_back(prefix + text);
  };

  BoundWeights weights;
  weights.mappedFile = file;
  std::set<std::string> explained;
  try {
    for (const ParameterSpec &spec : expectedParameters(config)) {
      std::vector<std::string> present;
      bool valid = true;
      for (size_t i = 0; i <= spec.alternateNames.size(); ++i) {
        const std::string &name =
            i == 0 ? spec.name : spec.alternateNames[i - 1];
        if (i > 0)
          weights.canonicalByAlternate[name] = spec.name;
        const TensorInfo *info = file->find(name);
        if (!info)
          continue;
        explained.insert(name);
        present.push_back(name);
        std::string what =
            "tensor '" + name + "'" +
            (i > 0 ? " (same parameter as '" + spec.name + "')" : "") + ": ";
        if (!isFloatingPoint(info->dtype)) {
          problem(what +
                  "unsupported dtype, expected F32, F16, BF16 or F64, "
                  "found " +
                  dtypeName(info->dtype));
          valid = false;
        } else if (info->shape != spec.shape) {
          problem(what + "wrong shape, expected " + shapeString(spec.shape) +
                  ", found " + shapeString(info->shape));
          valid = false;
        }
      }
      if (present.empty()) {
        problem("tensor '" + spec.name + "': missing, expected shape " +
                shapeString(spec.shape) +
                (spec.alternateNames.empty()
                     ? std::string()
                     : " (also accepted under " +
                           quotedList(spec.alternateNames) + ")"));
        continue;
      }
      if (!valid)
        continue;

      // Tied copies must agree: which one a reader uses is then moot.
      if (auto differs = firstDifferingCopy(*file, present)) {
        problem("tensors '" + present.front() + "' and '" + *differs +
                "' are the same parameter '" + spec.name +
                "' but hold different values" + untieRHint(config, spec.name));
        continue;
      }
      const TensorInfo *chosen = file->find(present.front());

      BoundTensor tensor{asFloat32IfAligned(*chosen), spec.shape};
      if (!tensor.data) {
        std::vector<float> &buffer = weights.converted[spec.name];
        buffer = toFloat32(*chosen);
        tensor.data = buffer.data();
      }
      if (auto bad = findNonFinite(tensor.data, spec.shape)) {
        problem("tensor '" + chosen->name + "': non-finite value " + *bad +
                ", expected finite weights");
        continue;
      }
      weights.bound[spec.name] = std::move(tensor);
      weights.fileNameByCanonical[spec.name] = chosen->name;
    }

    for (const std::string &name : ignoredBufferNames(config))
      explained.insert(name);
    if (const TensorInfo *stored = file->find(kInverseFrequenciesName))
      if (auto differs = checkInverseFrequencies(*stored, config.d_model))
        problem("tensor '" + stored->name + "': " + *differs);
    for (const TensorInfo &tensor : file->tensors())
      if (!explained.count(tensor.name))
        problem("tensor '" + tensor.name +
                "': unexpected tensor, not a "
                "parameter of a model with this "
                "config, found " +
                dtypeName(tensor.dtype) + " " + shapeString(tensor.shape) +
                untieRHint(config, tensor.name));
  } catch (const std::exception &error) {
    return Status::error(prefix + "cannot bind the weights: " + error.what());
  }

  if (Status status = problemsError(problems, prefix); !status.isOk())
    return status;
  return weights;
}

StatusOr<BoundWeights> BoundWeights::bind(const ModelConfig &config,
                                          const std::string &safetensorsPath) {
  auto file = SafeTensorsFile::open(safetensorsPath);
  if (!file.ok())
    return file.status();
  return bind(config, std::shared_ptr<const SafeTensorsFile>(std::move(*file)));
}

const BoundTensor *BoundWeights::find(const std::string &name) const {
  auto it = bound.find(name);
  if (it != bound.end())
    return &it->second;
  auto alias = canonicalByAlternate.find(name);
  if (alias == canonicalByAlternate.end())
    return nullptr;
  it = bound.find(alias->second);
  return it == bound.end() ? nullptr : &it->second;
}

const std::string &
BoundWeights::sourceName(const std::string &canonicalName) const {
  static const std::string none;
  auto it = fileNameByCanonical.find(canonicalName);
  return it == fileNameByCanonical.end() ? none : it->second;
}

bool BoundWeights::isBorrowed(const std::string &canonicalName) const {
  return bound.count(canonicalName) && !converted.count(canonicalName);
}

StatusOr<LoadedModel> loadModelDirectory(const std::string &dir) {
  namespace fs = std::filesystem;
  fs::path root(dir);
  std::error_code error;
  if (!fs::is_directory(root, error))
    return Status::error(dir + ": not a model directory (expected a folder "
                               "with config.json and model.safetensors)");
  auto config = ModelConfig::fromJsonFile((root / "config.json").string());
  if (!config.ok())
    return config.status();

  fs::path weightsPath = root / "model.safetensors";
  if (!fs::exists(weightsPath, error)) {
    if (fs::exists(root / "model.safetensors.index.json", error))
      return Status::error(weightsPath.string() +
                           ": missing; sharded checkpoints "
                           "(model.safetensors.index.json) are not supported, "
                           "merge the shards into one model.safetensors");
    if (fs::exists(root / "pytorch_model.bin", error))
      return Status::error(weightsPath.string() +
                           ": missing; pytorch_model.bin is not read, convert "
                           "it to model.safetensors");
    return Status::error(weightsPath.string() + ": missing");
  }
  auto weights = BoundWeights::bind(*config, weightsPath.string());
  if (!weights.ok())
    return weights.status();
  return LoadedModel{std::move(*config), std::move(*weights)};
}

} // namespace txl
