//===- VectorCase.h - one case of tests/vectors for e2e tests ---*- C++ -*-===//
//
// A case is a model directory written by the independent PyTorch
// implementation (tests/torch_reference): config.json, model.safetensors,
// tokens.safetensors, expected.safetensors and case.json (tgt_len).
//
//===----------------------------------------------------------------------===//
#ifndef TXL_TESTS_UNIT_E2E_VECTORCASE_H
#define TXL_TESTS_UNIT_E2E_VECTORCASE_H

#include "../VectorCases.h"

#include "txl/Dialect/TxlDialect.h"
#include "txl/models/GraphBuilder.h"
#include "txl/models/WeightBinding.h"
#include "txl/reference/Interpreter.h"
#include "txl/support/SafeTensors.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <optional>

namespace txl::testing {

struct VectorCase {
  std::optional<LoadedModel> model;
  reference::TokenTensor tokens;
  int64_t tgtLen = 0;
  std::unique_ptr<SafeTensorsFile> expectedFile;
  std::string error;

  static VectorCase load(const std::string &name) {
    VectorCase vc;
    std::string dir = std::string(TXL_VECTORS_DIR) + "/" + name;
    auto model = loadModelDirectory(dir);
    if (!model.ok()) {
      vc.error = model.status().message();
      return vc;
    }
    auto tokensFile = SafeTensorsFile::open(dir + "/tokens.safetensors");
    auto expected = SafeTensorsFile::open(dir + "/expected.safetensors");
    if (!tokensFile.ok() || !expected.ok()) {
      vc.error = "cannot open the tokens or expected file of " + dir;
      return vc;
    }
    const TensorInfo *ids = (*tokensFile)->find("tokens");
    vc.tokens = {ids->shape, std::vector<int64_t>(ids->numElements())};
    std::memcpy(vc.tokens.data.data(), ids->data, ids->nbytes);
    std::ifstream in(dir + "/case.json");
    std::string text((std::istreambuf_iterator<char>(in)), {});
    auto at = text.find("\"tgt_len\"");
    vc.tgtLen = std::stoll(text.substr(text.find(':', at) + 1));
    vc.expectedFile = std::move(*expected);
    vc.model.emplace(std::move(*model));
    return vc;
  }

  reference::Tensor expected(const std::string &name) const {
    const TensorInfo *info = expectedFile->find(name);
    EXPECT_NE(info, nullptr) << name;
    return info ? reference::Tensor(info->shape, toFloat32(*info))
                : reference::Tensor();
  }

  reference::WeightLookup weightLookup() const {
    const BoundWeights *weights = &model->weights;
    return [weights](const std::string &name)
               -> std::optional<reference::ConstTensorRef> {
      const BoundTensor *bound = weights->find(name);
      if (!bound)
        return std::nullopt;
      return reference::ConstTensorRef(bound->data, bound->shape);
    };
  }
};

inline ::testing::AssertionResult near(const reference::Tensor &actual,
                                       const reference::Tensor &expected,
                                       const std::string &what) {
  if (actual.shape != expected.shape)
    return ::testing::AssertionFailure()
           << what << ": shape " << reference::shapeString(actual.shape)
           << " != " << reference::shapeString(expected.shape);
  double worst = 0;
  for (size_t i = 0; i < actual.data.size(); ++i)
    worst =
        std::max(worst, std::fabs(double(actual.data[i]) - expected.data[i]));
  if (!(worst <= kVectorTolerance))
    return ::testing::AssertionFailure()
           << what << ": max abs error " << worst << " > " << kVectorTolerance;
  return ::testing::AssertionSuccess() << what << ": max abs error " << worst;
}

} // namespace txl::testing

#endif // TXL_TESTS_UNIT_E2E_VECTORCASE_H
