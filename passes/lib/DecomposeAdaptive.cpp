//===- DecomposeAdaptive.cpp - adaptive embedding and softmax -> linalg ---===//
//
// Clusters are row ranges of the vocabulary (ends = [0, cutoffs..., V]).
// Lookups are gathers (tensor.extract at the token's row); the log-softmax
// keeps one logit tensor per cluster and assembles [B, T, V] by index, so no
// slice is ever copied.
//
//===----------------------------------------------------------------------===//

#include "Decompositions.h"
#include "txl/Dialect/KernelRoles.h"

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

/// Cluster i's logits of rows x, (x @ P_i) @ W_i^T + b_i, named
/// `prefix`.project / `prefix`.logits; returns (x @ P_i, logits). With
/// div_val 1 the cluster is a row block of the one weight and bias.
template <typename OutputLayerOp>
std::pair<Value, Value> clusterLogitsOf(LinalgBuilder &lb, OutputLayerOp op,
                                        ArrayRef<int64_t> ends, Value x,
                                        size_t i, StringRef prefix) {
  bool single = op.getDivValAttr().getInt() == 1;
  if (!op.getProjections().empty())
    x = lb.matmul(x, op.getProjections()[i], (prefix + ".project").str());
  int64_t offset = single ? ends[i] : 0;
  Value logits =
      lb.matmulTransposed(x, single ? op.getWeights()[0] : op.getWeights()[i],
                          ends[i + 1] - ends[i], offset,
                          single ? op.getBiases()[0] : op.getBiases()[i],
                          offset, (prefix + ".logits").str());
  return {x, logits};
}

/// The head's log-normaliser: log-sum-exp over [cluster 0's logits ;
/// one logit per tail cluster], both parts around their common maximum.
Value headNormaliser(LinalgBuilder &lb, Value headLogits, Value clusterLogits,
                     StringRef prefix) {
  Value headMax = lb.map(
      {reduceLastDim(lb, headLogits, -3.0e38f, true,
                     (prefix + ".head_max").str()),
       reduceLastDim(lb, clusterLogits, -3.0e38f, true,
                     (prefix + ".cluster_max").str())},
      [](OpBuilder &b, Location loc, ValueRange args) {
        return b.create<arith::MaximumFOp>(loc, args[0], args[1]).getResult();
      },
      (prefix + ".head_max_both").str());
  auto sumExp = [&](Value x, const std::string &name) {
    Value e = mapWithRowValue(
        lb, x, headMax,
        [](OpBuilder &b, Location loc, Value value, Value max) {
          return b
              .create<math::ExpOp>(loc,
                                   b.create<arith::SubFOp>(loc, value, max))
              .getResult();
        },
        name + ".exp");
    return reduceLastDim(lb, e, 0.0f, false, name + ".sum");
  };
  return lb.map(
      {headMax, sumExp(headLogits, (prefix + ".head").str()),
       sumExp(clusterLogits, (prefix + ".clusters").str())},
      [](OpBuilder &b, Location loc, ValueRange args) {
        Value sum = b.create<arith::AddFOp>(loc, args[1], args[2]);
        return b
            .create<arith::AddFOp>(loc, args[0],
                                   b.create<math::LogOp>(loc, sum))
            .getResult();
      },
      (prefix + ".head_lse").str());
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

  // logit_i = (h @ P_i) @ W_i^T + b_i, on cluster i's rows of W and b.
  std::vector<Value> projected, logits;
  for (size_t i = 0; i < clusters; ++i) {
    auto [h, blockLogits] =
        clusterLogitsOf(lb, op, ends, op.getInput(), i, "logsoftmax");
    projected.push_back(h);
    logits.push_back(blockLogits);
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
  Value headNorm = headNormaliser(lb, logits[0], clusterLogits, "logsoftmax");
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

/// txl.adaptive_nll as the original evaluation computes it: the head for
/// every row; for each tail cluster, the rows whose target lies in it are
/// gathered into slots 0..count-1 and only those slots' logits are
/// computed. The generics, by the kernels txl-fuse makes of them:
///   nll.head.* / nll.rows.*: head logits and normaliser, the head's part of
///     each row's log-probability, and per tail cluster each row's slot
///     (its rank among that cluster's rows), the slot -> row table and the
///     count;
///   nll.tail.<i>.*: per tail cluster i, the gathered rows' logits,
///     log-sum-exp and target logit (a kernel of its own, which the host
///     skips when the cluster has no rows: txl-fuse's txl.skip_when_zero);
///   nll.assemble: the head part plus each row's tail part, negated.
/// The count crosses between them as an index scalar (a tensor.extract
/// outside the kernels), and the tail reads its per-slot results at
/// clamp(slot, 0, count - 1): what a slot at or past the count would need
/// is never read, so the kernel computes logits for `count` slots only.
Value decomposeAdaptiveNll(LinalgBuilder &lb, AdaptiveNllOp op) {
  OpBuilder &builder = lb.builder();
  auto type = cast<RankedTensorType>(op.getType());
  int64_t batch = type.getDimSize(0), length = type.getDimSize(1);
  int64_t slots = batch * length;
  std::vector<int64_t> ends =
      clusterEnds(op.getCutoffs(), op.getVocabSizeAttr().getInt());
  size_t clusters = ends.size() - 1;
  Value input = op.getInput(), targets = op.getTargets();
  int64_t width = cast<RankedTensorType>(input.getType()).getDimSize(2);

  auto targetIndex = [](OpBuilder &b, Location loc, Value target) {
    return b.create<arith::IndexCastOp>(loc, b.getIndexType(), target)
        .getResult();
  };
  auto emptyOf = [&](ArrayRef<int64_t> shape, Type element) {
    return builder.create<tensor::EmptyOp>(lb.location(), shape, element)
        .getResult();
  };
  auto toIndex = [](OpBuilder &b, Location loc, Value f) {
    Value i = b.create<arith::FPToSIOp>(loc, b.getI64Type(), f);
    return b.create<arith::IndexCastOp>(loc, b.getIndexType(), i).getResult();
  };

  // Head: cluster 0's logits and one per tail cluster.
  auto [projected, headLogits] =
      clusterLogitsOf(lb, op, ends, input, 0, roles::nll::kHead);
  Value clusterLogits, norm;
  if (clusters == 1) {
    norm = logSumExpLastDim(lb, headLogits, roles::nll::kHead);
  } else {
    clusterLogits = lb.matmulTransposed(projected, op.getClusterWeight(),
                                        clusters - 1, 0, op.getClusterBias(), 0,
                                        roles::nll::kHeadClusterLogits);
    norm = headNormaliser(lb, headLogits, clusterLogits, roles::nll::kHead);
  }
  // The head's part of log p(target): its own logit (cluster 0) or its
  // cluster's, minus the normaliser; 0 without a target. With no tail
  // clusters that is the whole answer, negated here.
  Value headPart = lb.generic(
      {{targets, {lb.dim(0), lb.dim(1)}}, {norm, {lb.dim(0), lb.dim(1)}}},
      emptyOf({batch, length}, builder.getF32Type()), {lb.dim(0), lb.dim(1)}, 2,
      {},
      [&](OpBuilder &b, Location loc, ValueRange args) {
        Value bi = lb.loopIndex(b, 0), ti = lb.loopIndex(b, 1);
        Value target = targetIndex(b, loc, args[0]);
        Value logit = b.create<tensor::ExtractOp>(
            loc, headLogits,
            ValueRange{bi, ti, clampIndex(b, loc, target, 0, ends[1] - 1)});
        for (size_t i = 1; i < clusters; ++i)
          logit = b.create<arith::SelectOp>(
              loc, inRange(lb, b, loc, args[0], ends[i], ends[i + 1]),
              b.create<tensor::ExtractOp>(
                  loc, clusterLogits,
                  ValueRange{bi, ti, lb.index(b, int64_t(i) - 1)}),
              logit);
        Value part = clusters == 1
                         ? b.create<arith::SubFOp>(loc, args[1], logit)
                         : b.create<arith::SubFOp>(loc, logit, args[1]);
        Value hasTarget = b.create<arith::CmpIOp>(
            loc, arith::CmpIPredicate::sge, target, lb.index(b, 0));
        return b.create<arith::SelectOp>(loc, hasTarget, part, lb.f32(b, 0.0f))
            .getResult();
      },
      roles::nll::kHeadTarget);
  if (clusters == 1)
    return headPart;

  // Per tail cluster: each row's slot, the slot -> row table, the count.
  // Counts are exact in f32 (far below 2^24 rows).
  auto flat = [&](OpBuilder &b, Location loc, unsigned batchLoop,
                  unsigned timeLoop) {
    return b
        .create<arith::AddIOp>(
            loc,
            b.create<arith::MulIOp>(loc, lb.loopIndex(b, batchLoop),
                                    lb.index(b, length)),
            lb.loopIndex(b, timeLoop))
        .getResult();
  };
  auto one = [&](OpBuilder &b, Location loc, Value condition) {
    return b
        .create<arith::SelectOp>(loc, condition, lb.f32(b, 1.0f),
                                 lb.f32(b, 0.0f))
        .getResult();
  };
  std::vector<Value> ranks, tables, counts;
  for (size_t i = 1; i < clusters; ++i) {
    int64_t first = ends[i], end = ends[i + 1];
    // rank[b, t] = #rows before (b, t) whose target is in the cluster.
    ranks.push_back(lb.generic(
        {{targets, {lb.dim(2), lb.dim(3)}}}, lb.filled({batch, length}, 0.0f),
        {lb.dim(0), lb.dim(1)}, 4, {2, 3},
        [&](OpBuilder &b, Location loc, ValueRange args) {
          Value before =
              b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::slt,
                                      flat(b, loc, 2, 3), flat(b, loc, 0, 1));
          Value counted = b.create<arith::AndIOp>(
              loc, before, inRange(lb, b, loc, args[0], first, end));
          return b.create<arith::AddFOp>(loc, args[1], one(b, loc, counted))
              .getResult();
        },
        roles::nll::kRowsRank));
    Value rank = ranks.back();
    // table[s] = the row (b * T + t) in slot s, or 0 past the count.
    tables.push_back(lb.generic(
        {{targets, {lb.dim(1), lb.dim(2)}}, {rank, {lb.dim(1), lb.dim(2)}}},
        lb.filled({slots}, 0.0f), {lb.dim(0)}, 3, {1, 2},
        [&](OpBuilder &b, Location loc, ValueRange args) {
          Value slot = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq,
                                               toIndex(b, loc, args[1]),
                                               lb.loopIndex(b, 0));
          Value mine = b.create<arith::AndIOp>(
              loc, slot, inRange(lb, b, loc, args[0], first, end));
          Value row = b.create<arith::SIToFPOp>(
              loc, b.getF32Type(),
              b.create<arith::IndexCastOp>(loc, b.getI64Type(),
                                           flat(b, loc, 1, 2)));
          return b
              .create<arith::AddFOp>(
                  loc, args[2],
                  b.create<arith::SelectOp>(loc, mine, row, lb.f32(b, 0.0f)))
              .getResult();
        },
        roles::nll::kRowsTable));
    Value count = lb.generic(
        {{targets, {lb.dim(1), lb.dim(2)}}}, lb.filled({1}, 0.0f), {lb.dim(0)},
        3, {1, 2},
        [&](OpBuilder &b, Location loc, ValueRange args) {
          return b
              .create<arith::AddFOp>(
                  loc, args[1],
                  one(b, loc, inRange(lb, b, loc, args[0], first, end)))
              .getResult();
        },
        roles::nll::kRowsCount);
    counts.push_back(lb.generic(
        {{count, {lb.dim(0)}}}, emptyOf({1}, builder.getI64Type()), {lb.dim(0)},
        1, {},
        [&](OpBuilder &b, Location loc, ValueRange args) {
          return b.create<arith::FPToSIOp>(loc, b.getI64Type(), args[0])
              .getResult();
        },
        roles::nll::kRowsCountI64));
  }
  // The counts leave the first kernel as index scalars.
  Value zero = builder.create<arith::ConstantIndexOp>(lb.location(), 0);
  std::vector<Value> countScalars;
  for (Value count : counts)
    countScalars.push_back(builder.create<arith::IndexCastOp>(
        lb.location(), builder.getIndexType(),
        builder.create<tensor::ExtractOp>(lb.location(), count,
                                          ValueRange{zero})));

  // Tails: log p(target | cluster) of the gathered rows, per slot.
  std::vector<Value> tailParts;
  for (size_t i = 1; i < clusters; ++i) {
    Value table = tables[i - 1], count = countScalars[i - 1];
    std::string role = roles::nll::kTailPrefix + std::to_string(i);
    // The (batch entry, position) of the row in `slot`.
    auto rowOfSlot = [&](OpBuilder &b, Location loc,
                         Value slot) -> std::pair<Value, Value> {
      Value row = clampIndex(
          b, loc,
          toIndex(b, loc,
                  b.create<tensor::ExtractOp>(loc, table, ValueRange{slot})),
          0, slots - 1);
      return {b.create<arith::DivSIOp>(loc, row, lb.index(b, length)),
              b.create<arith::RemSIOp>(loc, row, lb.index(b, length))};
    };
    Value gathered = lb.generic(
        {}, emptyOf({slots, width}, builder.getF32Type()),
        {lb.dim(0), lb.dim(1)}, 2, {},
        [&](OpBuilder &b, Location loc, ValueRange) {
          auto [bi, ti] = rowOfSlot(b, loc, lb.loopIndex(b, 0));
          return b
              .create<tensor::ExtractOp>(loc, input,
                                         ValueRange{bi, ti, lb.loopIndex(b, 1)})
              .getResult();
        },
        role + ".gather");
    Value logits = clusterLogitsOf(lb, op, ends, gathered, i, role).second;
    Value lse = logSumExpLastDim(lb, logits, role);
    int64_t first = ends[i], size = ends[i + 1] - ends[i];
    tailParts.push_back(lb.generic(
        {}, emptyOf({slots}, builder.getF32Type()), {lb.dim(0)}, 1, {},
        [&](OpBuilder &b, Location loc, ValueRange) {
          // Slots past the count read the last one: never computed apart.
          Value last = b.create<arith::SubIOp>(loc, count, lb.index(b, 1));
          Value slot = b.create<arith::MaxSIOp>(
              loc, b.create<arith::MinSIOp>(loc, lb.loopIndex(b, 0), last),
              lb.index(b, 0));
          auto [bi, ti] = rowOfSlot(b, loc, slot);
          Value target = targetIndex(
              b, loc,
              b.create<tensor::ExtractOp>(loc, targets, ValueRange{bi, ti}));
          Value column = clampIndex(
              b, loc, b.create<arith::SubIOp>(loc, target, lb.index(b, first)),
              0, size - 1);
          Value logit = b.create<tensor::ExtractOp>(loc, logits,
                                                    ValueRange{slot, column});
          Value norm = b.create<tensor::ExtractOp>(loc, lse, ValueRange{slot});
          return b.create<arith::SubFOp>(loc, logit, norm).getResult();
        },
        role + ".target"));
  }

  // nll = -(head part + the tail part of the row's cluster, at its slot).
  SmallVector<LinalgBuilder::Operand> rowInputs = {
      {targets, {lb.dim(0), lb.dim(1)}}, {headPart, {lb.dim(0), lb.dim(1)}}};
  for (Value rank : ranks)
    rowInputs.push_back({rank, {lb.dim(0), lb.dim(1)}});
  return lb.generic(
      rowInputs, emptyOf({batch, length}, builder.getF32Type()),
      {lb.dim(0), lb.dim(1)}, 2, {},
      [&](OpBuilder &b, Location loc, ValueRange args) {
        Value logProb = args[1];
        for (size_t i = 1; i < clusters; ++i) {
          Value slot =
              clampIndex(b, loc, toIndex(b, loc, args[1 + i]), 0, slots - 1);
          Value tail = b.create<tensor::ExtractOp>(loc, tailParts[i - 1],
                                                   ValueRange{slot});
          logProb = b.create<arith::SelectOp>(
              loc, inRange(lb, b, loc, args[0], ends[i], ends[i + 1]),
              b.create<arith::AddFOp>(loc, logProb, tail), logProb);
        }
        return b.create<arith::NegFOp>(loc, logProb).getResult();
      },
      roles::nll::kAssemble);
}

} // namespace txl
