//===- DecomposeAdaptive.cpp - adaptive embedding and softmax -> linalg ---===//
//
// Clusters are row ranges of the vocabulary (ends = [0, cutoffs..., V]).
// Lookups are gathers (tensor.extract at the token's row); the log-softmax
// keeps one logit tensor per cluster and assembles [B, T, V] by index, so no
// slice is ever copied.
//
//===----------------------------------------------------------------------===//

#include "Decompositions.h"

using namespace mlir;

namespace txl {
namespace {

std::vector<int64_t> clusterEnds(ArrayRef<int64_t> cutoffs, int64_t vocab) {
  std::vector<int64_t> ends = {0};
  ends.insert(ends.end(), cutoffs.begin(), cutoffs.end());
  ends.push_back(vocab);
  return ends;
}

/// e[b, t, k] = table[clamp(token - first), k]: the rows of one cluster.
Value gatherRows(LinalgBuilder &lb, Value tokens, Value table, int64_t first) {
  auto tableType = cast<RankedTensorType>(table.getType());
  auto tokenType = cast<RankedTensorType>(tokens.getType());
  int64_t rows = tableType.getDimSize(0), width = tableType.getDimSize(1);
  Value init = lb.builder().create<tensor::EmptyOp>(
      lb.location(),
      ArrayRef<int64_t>{tokenType.getDimSize(0), tokenType.getDimSize(1),
                        width},
      lb.builder().getF32Type());
  return lb.generic(
      {{tokens, {lb.dim(0), lb.dim(1)}}}, init,
      {lb.dim(0), lb.dim(1), lb.dim(2)}, 3, {},
      [&](OpBuilder &b, Location loc, ValueRange args) {
        Value id = b.create<arith::IndexCastOp>(loc, b.getIndexType(), args[0]);
        Value row = clampIndex(
            b, loc, b.create<arith::SubIOp>(loc, id, lb.index(b, first)), 0,
            rows - 1);
        return b
            .create<tensor::ExtractOp>(loc, table,
                                       ValueRange{row, lb.loopIndex(b, 2)})
            .getResult();
      },
      "embed.gather");
}

/// first <= token < end, on a token element.
Value inRange(LinalgBuilder &lb, OpBuilder &b, Location loc, Value token,
              int64_t first, int64_t end) {
  Value id = b.create<arith::IndexCastOp>(loc, b.getIndexType(), token);
  Value atLeast = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::sge, id,
                                          lb.index(b, first));
  Value below = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::slt, id,
                                        lb.index(b, end));
  return b.create<arith::AndIOp>(loc, atLeast, below);
}

} // namespace

Value decomposeEmbed(LinalgBuilder &lb, EmbedOp op) {
  auto resultType = cast<RankedTensorType>(op.getType());
  int64_t width = resultType.getDimSize(2);
  float scale = std::sqrt(static_cast<float>(width));
  std::vector<int64_t> ends =
      clusterEnds(op.getCutoffs(), op.getVocabSizeAttr().getInt());
  Value tokens = op.getTokens();
  auto project = [&](Value rows, size_t i) {
    if (op.getProjections().size() <= i)
      return rows;
    Value projection = op.getProjections()[i];
    return lb.matmulTransposed(rows, projection, width, 0, nullptr, 0,
                               "embed.project");
  };

  Value embedded;
  if (op.getDivValAttr().getInt() == 1) {
    embedded = project(gatherRows(lb, tokens, op.getTables()[0], 0), 0);
  } else {
    // Every cluster's projected rows; each token keeps its own cluster's.
    for (size_t i = 0; i + 1 < ends.size(); ++i) {
      Value rows =
          project(gatherRows(lb, tokens, op.getTables()[i], ends[i]), i);
      if (!embedded) {
        embedded = rows;
        continue;
      }
      int64_t first = ends[i], end = ends[i + 1];
      embedded = lb.generic(
          {{tokens, {lb.dim(0), lb.dim(1)}},
           {rows, {lb.dim(0), lb.dim(1), lb.dim(2)}},
           {embedded, {lb.dim(0), lb.dim(1), lb.dim(2)}}},
          lb.builder().create<tensor::EmptyOp>(
              lb.location(), resultType.getShape(), lb.builder().getF32Type()),
          {lb.dim(0), lb.dim(1), lb.dim(2)}, 3, {},
          [&](OpBuilder &b, Location loc, ValueRange args) {
            return b
                .create<arith::SelectOp>(
                    loc, inRange(lb, b, loc, args[0], first, end), args[1],
                    args[2])
                .getResult();
          },
          "embed.select_cluster");
    }
  }
  return lb.map(
      {embedded},
      [&](OpBuilder &b, Location loc, ValueRange args) {
        return b.create<arith::MulFOp>(loc, args[0], lb.f32(b, scale))
            .getResult();
      },
      "embed.scale");
}

Value decomposeAdaptiveLogSoftmax(LinalgBuilder &lb, AdaptiveLogSoftmaxOp op) {
  auto resultType = cast<RankedTensorType>(op.getType());
  int64_t vocab = resultType.getDimSize(2);
  std::vector<int64_t> ends = clusterEnds(op.getCutoffs(), vocab);
  size_t clusters = ends.size() - 1;
  bool single = op.getDivValAttr().getInt() == 1;

  // logit_i = (h @ P_i) @ W_i^T + b_i, on cluster i's rows of W and b.
  std::vector<Value> projected, logits;
  for (size_t i = 0; i < clusters; ++i) {
    Value h = op.getInput();
    if (!op.getProjections().empty())
      h = lb.matmul(h, op.getProjections()[i], "logsoftmax.project");
    projected.push_back(h);
    Value weight = single ? op.getWeights()[0] : op.getWeights()[i];
    Value bias = single ? op.getBiases()[0] : op.getBiases()[i];
    int64_t offset = single ? ends[i] : 0;
    logits.push_back(lb.matmulTransposed(h, weight, ends[i + 1] - ends[i],
                                         offset, bias, offset,
                                         "logsoftmax.logits"));
  }
  if (clusters == 1) {
    Value lse = logSumExpLastDim(lb, logits[0], "logsoftmax");
    return mapWithRowValue(
        lb, logits[0], lse,
        [](OpBuilder &b, Location loc, Value logit, Value norm) {
          return b.create<arith::SubFOp>(loc, logit, norm).getResult();
        },
        "logsoftmax.normalise");
  }

  // Head: cluster 0's tokens and one logit per tail cluster, normalised
  // together: log-sum-exp of both parts around their common maximum.
  int64_t tails = clusters - 1;
  Value clusterLogits =
      lb.matmulTransposed(projected[0], op.getClusterWeight(), tails, 0,
                          op.getClusterBias(), 0, "logsoftmax.cluster_logits");
  Value headMax = lb.map(
      {reduceLastDim(lb, logits[0], -3.0e38f, true, "logsoftmax.head_max"),
       reduceLastDim(lb, clusterLogits, -3.0e38f, true,
                     "logsoftmax.cluster_max")},
      [](OpBuilder &b, Location loc, ValueRange args) {
        return b.create<arith::MaximumFOp>(loc, args[0], args[1]).getResult();
      },
      "logsoftmax.head_max_both");
  auto sumExp = [&](Value x, StringRef name) {
    Value e = mapWithRowValue(
        lb, x, headMax,
        [](OpBuilder &b, Location loc, Value value, Value max) {
          return b
              .create<math::ExpOp>(loc,
                                   b.create<arith::SubFOp>(loc, value, max))
              .getResult();
        },
        (name + ".exp").str());
    return reduceLastDim(lb, e, 0.0f, false, (name + ".sum").str());
  };
  Value headNorm = lb.map(
      {headMax, sumExp(logits[0], "logsoftmax.head"),
       sumExp(clusterLogits, "logsoftmax.clusters")},
      [](OpBuilder &b, Location loc, ValueRange args) {
        Value sum = b.create<arith::AddFOp>(loc, args[1], args[2]);
        return b
            .create<arith::AddFOp>(loc, args[0],
                                   b.create<math::LogOp>(loc, sum))
            .getResult();
      },
      "logsoftmax.head_lse");
  std::vector<Value> tailNorms;
  for (size_t i = 1; i < clusters; ++i)
    tailNorms.push_back(logSumExpLastDim(lb, logits[i], "logsoftmax.tail"));

  // Assemble [B, T, V] by index: token v of cluster i reads its own logit.
  SmallVector<LinalgBuilder::Operand> rowInputs = {
      {headNorm, {lb.dim(0), lb.dim(1)}}};
  for (Value norm : tailNorms)
    rowInputs.push_back({norm, {lb.dim(0), lb.dim(1)}});
  Value init = lb.builder().create<tensor::EmptyOp>(
      lb.location(), resultType.getShape(), lb.builder().getF32Type());
  return lb.generic(
      rowInputs, init, {lb.dim(0), lb.dim(1), lb.dim(2)}, 3, {},
      [&](OpBuilder &b, Location loc, ValueRange args) {
        Value batch = lb.loopIndex(b, 0), time = lb.loopIndex(b, 1),
              token = lb.loopIndex(b, 2);
        auto logitOf = [&](Value tensor, int64_t first, int64_t rows) {
          Value row = clampIndex(
              b, loc, b.create<arith::SubIOp>(loc, token, lb.index(b, first)),
              0, rows - 1);
          return b.create<tensor::ExtractOp>(loc, tensor,
                                             ValueRange{batch, time, row});
        };
        // Cluster 0: head[v] - lse(head).
        Value result = b.create<arith::SubFOp>(
            loc, logitOf(logits[0], 0, ends[1]), args[0]);
        for (size_t i = 1; i < clusters; ++i) {
          Value clusterColumn = b.create<tensor::ExtractOp>(
              loc, clusterLogits,
              ValueRange{batch, time, lb.index(b, int64_t(i) - 1)});
          Value headPart = b.create<arith::SubFOp>(loc, clusterColumn, args[0]);
          Value tailPart = b.create<arith::SubFOp>(
              loc, logitOf(logits[i], ends[i], ends[i + 1] - ends[i]), args[i]);
          Value inCluster = b.create<arith::CmpIOp>(
              loc, arith::CmpIPredicate::sge, token, lb.index(b, ends[i]));
          result = b.create<arith::SelectOp>(
              loc, inCluster, b.create<arith::AddFOp>(loc, headPart, tailPart),
              result);
        }
        return result;
      },
      "logsoftmax.assemble");
}

} // namespace txl
