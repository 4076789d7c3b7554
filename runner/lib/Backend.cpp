//===- Backend.cpp - what every backend shares ----------------------------===//

#include "txl/runner/Backend.h"

#include "txl/runtime/Runtime.h"

#include <algorithm>

namespace txl {

Status Backend::scoreStream(const int64_t *tokens, int64_t batch,
                            int64_t length, const int64_t *targets,
                            float *hidden, float *nll,
                            const std::function<void(int64_t)> &progress) {
  int64_t D = dModel(), V = vocabSize();
  if (Status status = checkIds(modelName() + ": scoreStream", "target", targets,
                               batch, length, length, -1, V);
      !status.isOk())
    return status;
  return stepStream(
      tokens, batch, length, /*withLogProbs=*/true,
      [&](int64_t begin, int64_t n, const float *segmentHidden,
          const float *logProbs) {
        for (int64_t b = 0; b < batch; ++b) {
          for (int64_t t = 0; t < n; ++t) {
            int64_t target = targets[b * length + begin + t];
            nll[b * length + begin + t] =
                target < 0 ? 0.0f : -logProbs[(b * n + t) * V + target];
          }
          if (hidden)
            std::copy_n(segmentHidden + b * n * D, n * D,
                        hidden + (b * length + begin) * D);
        }
        if (progress)
          progress(begin + n);
        return Status::ok();
      });
}

Status Backend::stepStream(const int64_t *tokens, int64_t batch,
                           int64_t length, bool withLogProbs,
                           const SegmentVisitor &visit) {
  int64_t T = maxSegmentLength(), D = dModel(), V = vocabSize();
  std::vector<int64_t> segmentTokens(batch * T);
  std::vector<float> hidden(batch * T * D),
      logProbs(withLogProbs ? batch * T * V : 0);
  int64_t n = 0;
  for (int64_t begin = 0, k = 0; begin < length; begin += n, ++k) {
    n = std::min(T, length - begin);
    if (!segmentLengths.empty())
      n = std::min(segmentLengths[k % segmentLengths.size()], n);
    for (int64_t b = 0; b < batch; ++b)
      std::copy_n(tokens + b * length + begin, n, &segmentTokens[b * n]);
    Status status = step(segmentTokens.data(), n, hidden.data(),
                         withLogProbs ? logProbs.data() : nullptr);
    if (status.isOk())
      status = visit(begin, n, hidden.data(),
                     withLogProbs ? logProbs.data() : nullptr);
    if (!status.isOk())
      return status;
  }
  return Status::ok();
}

} // namespace txl
