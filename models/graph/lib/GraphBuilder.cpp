//===- GraphBuilder.cpp - config.json -> a txl module ---------------------===//
//
// Emits one segment step (embedding, L layers, adaptive log-softmax, memory
// updates) and a @score function that scans it over a stream. Parameter
// names come from ParameterSpec.h, so the IR and the weight binder agree on
// which tensor each txl.weight reads (tied weights read the embedding's).
//
//===----------------------------------------------------------------------===//

#include "txl/models/GraphBuilder.h"

#include "txl/Dialect/TxlOps.h"
#include "txl/models/ParameterSpec.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"

using namespace mlir;

namespace txl {
namespace {

int64_t irSize(int64_t size) {
  return size == StepShape::kDynamicSize ? ShapedType::kDynamic : size;
}

class ModelBuilder {
public:
  ModelBuilder(MLIRContext &context, const ModelConfig &config,
               const StepShape &shape)
      : config(config), shape(shape), builder(&context),
        loc(builder.getUnknownLoc()) {}

  OwningOpRef<ModuleOp> build() {
    OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
    builder.setInsertionPointToEnd(module->getBody());
    buildStep();
    builder.setInsertionPointToEnd(module->getBody());
    buildScore();
    builder.setInsertionPointToEnd(module->getBody());
    buildNll();
    return module;
  }

private:
  const ModelConfig &config;
  StepShape shape;
  OpBuilder builder;
  Location loc;

  int64_t dModel() const { return config.d_model; }
  int64_t numLayers() const { return config.n_layer; }

  RankedTensorType f32(ArrayRef<int64_t> dims) {
    return RankedTensorType::get(dims, builder.getF32Type());
  }
  RankedTensorType hiddenType(int64_t length) {
    return f32({shape.batch, length, dModel()});
  }
  RankedTensorType memoryType() {
    return f32({shape.batch, ShapedType::kDynamic, dModel()});
  }
  RankedTensorType tokenType(int64_t length) {
    return RankedTensorType::get({shape.batch, length}, builder.getI64Type());
  }
  int64_t segmentLength() const { return irSize(shape.segmentLength); }
  int64_t maxSegmentLength() const {
    return shape.segmentLength == StepShape::kDynamicSize
               ? shape.maxSegmentLength
               : shape.segmentLength;
  }

  Value weight(const std::string &name, ArrayRef<int64_t> dims) {
    return builder.create<WeightOp>(loc, f32(dims),
                                    builder.getStringAttr(name));
  }

  /// The adaptive layers' parts: the head cluster and one per cutoff.
  size_t numParts() const { return config.numClusters() + 1; }
  int64_t clusterWidth(size_t part) const { return config.clusterWidth(part); }

  Value embed(Value tokens) {
    std::vector<int64_t> ends = config.clusterEnds();
    SmallVector<Value> tables, projections;
    if (config.div_val == 1) {
      tables.push_back(
          weight(embeddingTableName(0), {config.vocab_size, config.d_embed}));
      if (config.d_embed != config.d_model)
        projections.push_back(weight(embeddingProjectionName(config, 0),
                                     {dModel(), config.d_embed}));
    } else {
      for (size_t i = 0; i < numParts(); ++i) {
        tables.push_back(weight(embeddingTableName(i),
                                {ends[i + 1] - ends[i], clusterWidth(i)}));
        projections.push_back(weight(embeddingProjectionName(config, i),
                                     {dModel(), clusterWidth(i)}));
      }
    }
    return builder.create<EmbedOp>(
        loc, hiddenType(segmentLength()), tokens, tables, projections,
        builder.getDenseI64ArrayAttr(config.cutoffs),
        builder.getI64IntegerAttr(config.div_val),
        builder.getI64IntegerAttr(config.vocab_size));
  }

  Value layerNorm(Value input, int64_t layer, const std::string &which) {
    Value gain =
        weight(layerParamName(layer, which + ".layer_norm.weight"), {dModel()});
    Value bias =
        weight(layerParamName(layer, which + ".layer_norm.bias"), {dModel()});
    return builder.create<LayerNormOp>(
        loc, input.getType(), input, gain, bias,
        builder.getF64FloatAttr(config.layer_norm_epsilon));
  }

  Value attention(Value input, Value memory, Value positions, int64_t layer) {
    int64_t inner = config.n_head * config.d_head;
    Value qkv = weight(layerParamName(layer, "dec_attn.qkv_net.weight"),
                       {3 * inner, dModel()});
    Value r = weight(layerParamName(layer, "dec_attn.r_net.weight"),
                     {inner, dModel()});
    Value o = weight(layerParamName(layer, "dec_attn.o_net.weight"),
                     {dModel(), inner});
    Value u = weight(rwBiasName(config, layer), {config.n_head, config.d_head});
    Value v = weight(rrBiasName(config, layer), {config.n_head, config.d_head});
    return builder.create<RelAttentionOp>(
        loc, input.getType(), input, memory, positions, qkv, r, o, u, v,
        /*memory_rows=*/Value(), builder.getI64IntegerAttr(config.n_head),
        builder.getI64IntegerAttr(config.d_head),
        builder.getI64IntegerAttr(config.mem_len),
        builder.getBoolAttr(config.same_length));
  }

  Value feedForward(Value input, int64_t layer) {
    Value up = weight(layerParamName(layer, "pos_ff.CoreNet.0.weight"),
                      {config.d_inner, dModel()});
    Value upBias = weight(layerParamName(layer, "pos_ff.CoreNet.0.bias"),
                          {config.d_inner});
    Value down = weight(layerParamName(layer, "pos_ff.CoreNet.3.weight"),
                        {dModel(), config.d_inner});
    Value downBias =
        weight(layerParamName(layer, "pos_ff.CoreNet.3.bias"), {dModel()});
    return builder.create<FfnOp>(loc, input.getType(), input, up, upBias, down,
                                 downBias);
  }

  Value add(Value a, Value b) {
    return builder.create<arith::AddFOp>(loc, a, b);
  }

  /// One decoder layer (semantics §3): post-LN or pre-LN around attention and
  /// the feed-forward network.
  Value layer(Value input, Value memory, Value positions, int64_t l) {
    if (config.pre_lnorm) {
      Value normalizedInput = layerNorm(input, l, "dec_attn");
      Value normalizedMemory = layerNorm(memory, l, "dec_attn");
      Value y = add(input,
                    attention(normalizedInput, normalizedMemory, positions, l));
      return add(y, feedForward(layerNorm(y, l, "pos_ff"), l));
    }
    Value y = layerNorm(add(input, attention(input, memory, positions, l)), l,
                        "dec_attn");
    return layerNorm(add(y, feedForward(y, l)), l, "pos_ff");
  }

  /// The operands of the projected adaptive softmax (semantics §5), shared
  /// by the log-probabilities and the scored form.
  struct OutputLayer {
    SmallVector<Value> weights, biases, projections;
    Value clusterWeight, clusterBias;
  };

  OutputLayer outputLayer() {
    std::vector<int64_t> ends = config.clusterEnds();
    OutputLayer out;
    if (config.div_val == 1) {
      out.weights.push_back(weight(outputLayerWeightName(config, 0),
                                   {config.vocab_size, config.d_embed}));
      out.biases.push_back(
          weight(outputLayerBiasName(config, 0), {config.vocab_size}));
      if (config.d_embed != config.d_model)
        for (size_t i = 0; i < numParts(); ++i)
          out.projections.push_back(weight(outputProjectionName(config, i),
                                           {dModel(), config.d_embed}));
    } else {
      for (size_t i = 0; i < numParts(); ++i) {
        int64_t rows = ends[i + 1] - ends[i];
        out.weights.push_back(
            weight(outputLayerWeightName(config, i), {rows, clusterWidth(i)}));
        out.biases.push_back(weight(outputLayerBiasName(config, i), {rows}));
        out.projections.push_back(weight(outputProjectionName(config, i),
                                         {dModel(), clusterWidth(i)}));
      }
    }
    int64_t tails = config.numClusters();
    if (tails > 0) {
      out.clusterWeight =
          weight(clusterWeightName(config), {tails, config.d_embed});
      out.clusterBias = weight(clusterBiasName(config), {tails});
    }
    return out;
  }

  Value logSoftmax(Value hidden) {
    OutputLayer out = outputLayer();
    auto type = f32({shape.batch, segmentLength(), config.vocab_size});
    return builder.create<AdaptiveLogSoftmaxOp>(
        loc, type, hidden, out.weights, out.biases, out.projections,
        out.clusterWeight, out.clusterBias,
        builder.getDenseI64ArrayAttr(config.cutoffs),
        builder.getI64IntegerAttr(config.div_val));
  }

  void buildStep() {
    SmallVector<Type> inputs = {tokenType(segmentLength())};
    SmallVector<Type> results = {
        hiddenType(segmentLength()),
        f32({shape.batch, segmentLength(), config.vocab_size})};
    for (int64_t l = 0; l < numLayers(); ++l) {
      inputs.push_back(memoryType());
      results.push_back(memoryType());
    }
    auto step = builder.create<func::FuncOp>(
        loc, "step", builder.getFunctionType(inputs, results));
    Block *body = step.addEntryBlock();
    builder.setInsertionPointToStart(body);

    Value hidden = embed(body->getArgument(0));
    // Every distance a query can see: up to mem_len memory rows + the segment.
    Value positions = builder.create<PosEmbOp>(
        loc, f32({config.mem_len + maxSegmentLength(), dModel()}),
        builder.getI64IntegerAttr(config.clamp_len));
    SmallVector<Value> newMemories;
    for (int64_t l = 0; l < numLayers(); ++l) {
      Value memory = body->getArgument(1 + l);
      // Memories keep each layer's input (semantics §4).
      newMemories.push_back(builder.create<MemUpdateOp>(
          loc, memoryType(), memory, hidden,
          builder.getI64IntegerAttr(config.mem_len)));
      hidden = layer(hidden, memory, positions, l);
    }
    SmallVector<Value> returned = {hidden, logSoftmax(hidden)};
    returned.append(newMemories);
    builder.create<func::ReturnOp>(loc, returned);
  }

  void buildScore() {
    int64_t stream = ShapedType::kDynamic;
    SmallVector<Type> results = {hiddenType(stream),
                                 f32({shape.batch, stream, config.vocab_size})};
    for (int64_t l = 0; l < numLayers(); ++l)
      results.push_back(memoryType());
    auto score = builder.create<func::FuncOp>(
        loc, "score", builder.getFunctionType({tokenType(stream)}, results));
    Block *body = score.addEntryBlock();
    builder.setInsertionPointToStart(body);

    // A stream starts with empty memories, as the original code does.
    Value empty = builder.create<tensor::EmptyOp>(
        loc, ArrayRef<int64_t>{shape.batch, 0, dModel()}, builder.getF32Type());
    Value memory = builder.create<tensor::CastOp>(loc, memoryType(), empty);
    SmallVector<Value> memories(numLayers(), memory);
    auto scan = builder.create<SegmentScanOp>(
        loc, results, FlatSymbolRefAttr::get(builder.getContext(), "step"),
        body->getArgument(0), memories,
        builder.getI64IntegerAttr(maxSegmentLength()));
    builder.create<func::ReturnOp>(loc, scan.getResults());
  }

  /// @nll: the final hidden states of `scoreSegments` consecutive segments
  /// (batch entry k * B + b: segment k, stream b) scored at their targets
  /// (the next tokens). Apart from the recurrence: it reads only the steps'
  /// outputs, so several segments can be scored at once.
  void buildNll() {
    int64_t rows = shape.batch * shape.scoreSegments;
    auto nll = builder.create<func::FuncOp>(
        loc, "nll",
        builder.getFunctionType(
            {f32({rows, segmentLength(), dModel()}),
             RankedTensorType::get({rows, segmentLength()},
                                   builder.getI64Type())},
            {f32({rows, segmentLength()})}));
    Block *body = nll.addEntryBlock();
    builder.setInsertionPointToStart(body);
    OutputLayer out = outputLayer();
    Value scored = builder.create<AdaptiveNllOp>(
        loc, f32({rows, segmentLength()}), body->getArgument(0),
        body->getArgument(1), out.weights, out.biases, out.projections,
        out.clusterWeight, out.clusterBias,
        builder.getDenseI64ArrayAttr(config.cutoffs),
        builder.getI64IntegerAttr(config.div_val),
        builder.getI64IntegerAttr(config.vocab_size));
    builder.create<func::ReturnOp>(loc, scored);
  }
};

} // namespace

OwningOpRef<ModuleOp> buildModelModule(MLIRContext &context,
                                       const ModelConfig &config,
                                       const StepShape &shape) {
  context.loadDialect<TxlDialect, func::FuncDialect, arith::ArithDialect,
                      tensor::TensorDialect>();
  return ModelBuilder(context, config, shape).build();
}

} // namespace txl
