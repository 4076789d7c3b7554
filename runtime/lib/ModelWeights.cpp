//===- ModelWeights.cpp - a descriptor's weights bound to a file ----------===//
//
// Collects every problem of a file (up to a limit) before failing, so one
// load shows the user all that is wrong with a checkpoint, not just the
// first.
//
//===----------------------------------------------------------------------===//

#include "ModelWeights.h"

#include "txl/support/InverseFrequencies.h"
#include "txl/support/NonFinite.h"
#include "txl/support/Text.h"

namespace txl {

StatusOr<ModelWeights>
ModelWeights::bind(const txl_model_desc &desc,
                   std::shared_ptr<const SafeTensorsFile> file,
                   const std::string &modelName) {
  if (!file)
    return Status::error(modelName + ": no weights file");
  const std::string prefix = file->path() + ": ";
  std::vector<std::string> problems;
  auto problem = [&](const std::string &text) {
    problems.push_back(prefix + text);
  };

  ModelWeights weights;
  weights.mappedFile = file;
  try {
    for (int32_t i = 0; i < desc.num_weights; ++i) {
      const txl_weight_desc &wanted = desc.weights[i];
      const std::string name = wanted.name;
      const std::vector<int64_t> shape(wanted.shape,
                                       wanted.shape + wanted.rank);
      std::vector<std::string> alternates(wanted.alternate_names,
                                          wanted.alternate_names +
                                              wanted.num_alternate_names);

      std::vector<std::string> present;
      bool valid = true;
      for (size_t k = 0; k <= alternates.size(); ++k) {
        const std::string &candidate = k == 0 ? name : alternates[k - 1];
        const TensorInfo *info = file->find(candidate);
        if (!info)
          continue;
        present.push_back(candidate);
        std::string what =
            "tensor '" + candidate + "'" +
            (k > 0 ? " (same parameter as '" + name + "')" : "") + ": ";
        if (!isFloatingPoint(info->dtype)) {
          problem(what +
                  "unsupported dtype, expected F32, F16, BF16 or F64, "
                  "found " +
                  dtypeName(info->dtype));
          valid = false;
        } else if (info->shape != shape) {
          problem(what + "wrong shape, expected " + shapeString(shape) +
                  ", found " + shapeString(info->shape) +
                  " (as compiled into " + modelName + ")");
          valid = false;
        }
      }
      if (present.empty()) {
        problem("tensor '" + name + "': missing (the compiled model " +
                modelName + " reads it), expected shape " + shapeString(shape) +
                (alternates.empty() ? std::string()
                                    : " (also accepted under " +
                                          quotedList(alternates) + ")"));
        continue;
      }
      if (!valid)
        continue;

      // Tied copies must agree: which one a reader uses is then moot.
      if (auto differs = firstDifferingCopy(*file, present)) {
        problem("tensors '" + present.front() + "' and '" + *differs +
                "' are the same parameter '" + name +
                "' but hold different values");
        continue;
      }
      const TensorInfo *chosen = file->find(present.front());

      const float *data = asFloat32IfAligned(*chosen);
      if (!data)
        data = weights.converted.emplace_back(toFloat32(*chosen)).data();
      if (auto bad = findNonFinite(data, shape)) {
        problem("tensor '" + chosen->name + "': non-finite value " + *bad +
                ", expected finite weights");
        continue;
      }
      weights.data.push_back(data);
    }
    // Not a weight of the descriptor, but a checkpoint's stored buffer
    // must still agree with the frequencies the model computes.
    if (const TensorInfo *stored = file->find(kInverseFrequenciesName))
      if (auto differs = checkInverseFrequencies(*stored, desc.d_model))
        problem("tensor '" + stored->name + "': " + *differs);
  } catch (const std::exception &error) {
    return Status::error(prefix + "cannot bind the weights: " + error.what());
  }

  if (Status status = problemsError(problems, prefix); !status.isOk())
    return status;
  return weights;
}

} // namespace txl
