//===- ScheduleTest.cpp - txl.schedule: parsing, checking, same numbers ---===//

#include "KernelTestSupport.h"
#include "Kernels.h"

#include "txl/codegen/halide/Schedule.h"

#include "mlir/AsmParser/AsmParser.h"

namespace txl::codegen::halide::test {
namespace {

StatusOr<KernelSchedule> parseText(mlir::MLIRContext &context,
                                   const std::string &text) {
  mlir::Attribute attr = mlir::parseAttribute(text, &context);
  EXPECT_TRUE(attr) << text;
  return parseSchedule(mlir::dyn_cast_or_null<mlir::DictionaryAttr>(attr));
}

void expectParseError(const std::string &text, const std::string &fragment) {
  mlir::MLIRContext context;
  StatusOr<KernelSchedule> schedule = parseText(context, text);
  ASSERT_FALSE(schedule.ok()) << text;
  EXPECT_NE(schedule.status().message().find(fragment), std::string::npos)
      << schedule.status().message();
}

TEST(HalideSchedule, ParsesEveryField) {
  mlir::MLIRContext context;
  StatusOr<KernelSchedule> schedule = parseText(context, R"({
    vector_width = 8, tail = "shift_inwards", fast_exp = true,
    funcs = [
      {name = "proj",
       pure = {tile = {d1 = 4, d2 = 64}, tile_tail = "guard",
               vectorize = {loop = "d2i", width = 16}, parallel = "d2"},
       update = {split = [{loop = "d3", factor = 8, inner = "k8"}],
                 fuse = [{outer = "d0", inner = "d1", into = "rows"}],
                 order = ["rows", "d3", "k8", "d2"], unroll = ["k8", {loop = "d2", factor = 2}],
                 atomic},
       accumulator = {compute_at = {loop = "d2"}, storage = {d2 = 64}, align = {d2 = 16},
                      update = {}}},
      {name = "#3", compute_at = {func = "proj", loop = "d1", stage = "update"},
       pure = {gpu_tile = {loops = ["d0", "d1"], sizes = [8, 32]}}},
      {name = "mask", compute = "inline"}
    ]})");
  ASSERT_TRUE(schedule.ok()) << schedule.status().message();
  EXPECT_EQ(schedule->vectorWidth, 8);
  EXPECT_EQ(schedule->defaultTail, TailKind::ShiftInwards);
  EXPECT_TRUE(schedule->fastExp);
  ASSERT_EQ(schedule->funcs.size(), 3u);

  const FuncSchedule &proj = schedule->funcs[0];
  ASSERT_TRUE(proj.pure.has_value());
  ASSERT_EQ(proj.pure->tile.size(), 2u);
  EXPECT_EQ(proj.pure->tile[0].loop, "d1");
  EXPECT_EQ(proj.pure->tile[0].inner, "d1i");
  EXPECT_EQ(proj.pure->tile[1].factor, 64);
  ASSERT_EQ(proj.pure->vectorize.size(), 1u);
  EXPECT_EQ(proj.pure->vectorize[0].factor, 16);
  EXPECT_EQ(proj.pure->parallel, std::vector<std::string>{"d2"});
  ASSERT_TRUE(proj.accumulator);
  ASSERT_EQ(proj.accumulator->storage.size(), 1u);
  EXPECT_EQ(proj.accumulator->storage[0].first, "d2");
  EXPECT_EQ(proj.accumulator->storage[0].second, 64);
  ASSERT_EQ(proj.accumulator->align.size(), 1u);
  EXPECT_EQ(proj.accumulator->align[0].first, "d2");
  EXPECT_EQ(proj.accumulator->align[0].second, 16);
  ASSERT_TRUE(proj.update.has_value());
  EXPECT_EQ(proj.update->splits[0].inner, "k8");
  EXPECT_EQ(proj.update->fuses[0].fused, "rows");
  EXPECT_EQ(proj.update->order.size(), 4u);
  ASSERT_EQ(proj.update->unroll.size(), 2u);
  EXPECT_EQ(proj.update->unroll[0].factor, 0);
  EXPECT_EQ(proj.update->unroll[1].factor, 2);
  EXPECT_TRUE(proj.update->atomic);
  ASSERT_TRUE(proj.accumulator);
  EXPECT_EQ(proj.accumulator->compute.kind, ComputeLocation::Kind::At);
  EXPECT_EQ(proj.accumulator->compute.loop, "d2");
  EXPECT_TRUE(proj.accumulator->update.has_value());
  EXPECT_FALSE(proj.accumulator->pure.has_value());

  const FuncSchedule &third = schedule->funcs[1];
  EXPECT_EQ(third.compute.func, "proj");
  EXPECT_EQ(third.compute.stage, 1);
  ASSERT_TRUE(third.pure->gpuTile.has_value());
  EXPECT_EQ(third.pure->gpuTile->sizes, (std::vector<int64_t>{8, 32}));
  EXPECT_EQ(schedule->funcs[2].compute.kind, ComputeLocation::Kind::Inline);

  EXPECT_EQ(schedule->find("anything", 3), &schedule->funcs[1]);
  EXPECT_EQ(schedule->find("proj", 0), &schedule->funcs[0]);
  EXPECT_EQ(schedule->find("other", 1), nullptr);
}

TEST(HalideSchedule, RejectsMalformedSchedules) {
  expectParseError(R"({funcs = [{name = "a", pure = {tiles = {d0 = 4}}}]})",
                   "txl.schedule.funcs[0].pure: unknown field 'tiles'");
  expectParseError(
      R"({funcs = [{name = "a", pure = {split = [{loop = "d0", factor = 0}]}}]})",
      "txl.schedule.funcs[0].pure.split[0].factor: expected an "
      "integer >= 1");
  expectParseError(R"({funcs = [{name = "a", storage = {d0 = 0}}]})",
                   "txl.schedule.funcs[0].storage.d0: expected a positive "
                   "integer");
  expectParseError(R"({funcs = [{name = "a", align = {d0 = 0}}]})",
                   "txl.schedule.funcs[0].align.d0: expected a positive "
                   "integer");
  expectParseError(R"({funcs = [{name = "a", align = [48]}]})",
                   "txl.schedule.funcs[0].align: expected a dictionary "
                   "{loop = modulus}");
  expectParseError(R"({tail = "sideways"})",
                   "unknown tail strategy 'sideways'");
  expectParseError(R"({funcs = [{pure = {}}]})", "funcs[0].name: missing");
  expectParseError(R"({funcs = [{name = "a"}, {name = "a"}]})",
                   "'a' is scheduled twice");
  expectParseError(R"({funcs = [{name = "a", compute = "somewhere"}]})",
                   "expected \"root\" or \"inline\"");
  expectParseError(
      R"({funcs = [{name = "a", compute = "root", compute_at = {func = "b", loop = "d0"}}]})",
      "conflicts with compute");
  expectParseError(R"({funcs = [{name = "a", pure = {vectorize = "d0"}}]})",
                   "pure.vectorize: expected a dictionary");
  expectParseError(
      R"({funcs = [{name = "a", pure = {gpu_tile = {loops = ["d0"], sizes = [8, 8]}}}]})",
      "expected 1 to 3 loops and as many sizes");
  expectParseError(R"({vector_width = "wide"})",
                   "vector_width: expected an integer");
  expectParseError(
      R"({funcs = [{name = "a", update = {rfactor = {loop = "d1"}}}]})",
      "update.rfactor.width: missing");
}

const int64_t kRows = 41, kCols = 410, kDepth = 64;

struct MatmulData {
  std::vector<float> x = randomFloats(kRows * kDepth, 21);
  std::vector<float> w = randomFloats(kCols * kDepth, 22);
  std::vector<float> bias = randomFloats(kCols, 23);
  std::vector<HostTensor> inputs() const {
    return {HostTensor::ofF32({1, kRows, kDepth}, x),
            HostTensor::ofF32({kCols, kDepth}, w),
            HostTensor::ofF32({kCols}, bias)};
  }
  std::vector<double> expected() const {
    return matmulBiasReference(x, w, bias, kRows, kCols, kDepth);
  }
};

TEST(HalideSchedule, TiledVectorizedParallelMatmulGivesTheSameNumbers) {
  MatmulData data;
  ParsedKernel parsed =
      parseKernel(matmulBiasKernel(1, kRows, kCols, kDepth,
                                   R"(txl.schedule = {funcs = [
      {name = "proj",
       pure = {tile = {d1 = 8, d2 = 64}, vectorize = {loop = "d2i", width = 16},
               parallel = "d1"},
       update = {tile = {d1 = 4, d2 = 32}, vectorize = {loop = "d2i", width = 16},
                 unroll = ["d1i"], parallel = ["d1"]}},
      {name = "proj.bias", compute = "inline"}]})"));
  std::vector<HostTensor> scheduled = run(parsed.kernel(), data.inputs());
  ASSERT_EQ(scheduled.size(), 1u);
  expectNear(scheduled[0].f32, data.expected());

  CodegenOptions defaults;
  defaults.defaultScheduleOnly = true;
  std::vector<HostTensor> unscheduled =
      run(parsed.kernel(), data.inputs(), {}, defaults);
  ASSERT_EQ(unscheduled.size(), 1u);
  expectNear(unscheduled[0].f32, data.expected());
}

TEST(HalideSchedule, RegisterTiledAccumulatorGivesTheSameNumbers) {
  // The GEMM pattern: the output copies 4x32 tiles out of an accumulator
  // computed per tile, whose reduction runs outside the unrolled rows.
  MatmulData data;
  ParsedKernel parsed =
      parseKernel(matmulBiasKernel(1, kRows, kCols, kDepth,
                                   R"(txl.schedule = {funcs = [
      {name = "proj",
       pure = {tile = {d1 = 4, d2 = 32}, tile_tail = "shift_inwards",
               vectorize = {loop = "d2i", width = 16}, parallel = "d2"},
       accumulator = {compute_at = {loop = "d2"},
                      pure = {vectorize = {loop = "d2", width = 16}, unroll = ["d1"]},
                      update = {order = ["d0", "d3", "d1", "d2"],
                                vectorize = {loop = "d2", width = 16},
                                unroll = ["d1"]}}}]})"));
  std::vector<HostTensor> out = run(parsed.kernel(), data.inputs());
  ASSERT_EQ(out.size(), 1u);
  expectNear(out[0].f32, data.expected());
}

TEST(HalideSchedule, FuseJoinsLoopsThatOrderMadeAdjacent) {
  // `order` runs before `fuse`: the column blocks (d2) go outside the rows
  // and the two are fused into one parallel loop.
  MatmulData data;
  ParsedKernel parsed =
      parseKernel(matmulBiasKernel(1, kRows, kCols, kDepth,
                                   R"(txl.schedule = {funcs = [
      {name = "proj",
       pure = {split = [{loop = "d2", factor = 64, tail = "guard"}],
               order = ["d2", "d0", "d1", "d2i"],
               fuse = [{outer = "d2", inner = "d0", into = "t"},
                       {outer = "t", inner = "d1", into = "t"}],
               vectorize = {loop = "d2i", width = 16}, parallel = "t"}}]})"));
  std::vector<HostTensor> out = run(parsed.kernel(), data.inputs());
  ASSERT_EQ(out.size(), 1u);
  expectNear(out[0].f32, data.expected());
}

TEST(HalideSchedule, RowReductionsFactoredIntoVectorLanes) {
  // rfactor: the row max and sum keep 8 partial results in the lanes of a
  // vector (41 columns: a guarded tail), then add them up.
  const int64_t rows = 16, cols = 41, m = 3;
  std::vector<float> x = randomFloats(rows * cols, 25, -6.0f, 6.0f);
  ParsedKernel parsed = parseKernel(maskedSoftmaxKernel(rows, cols, R"(
      txl.schedule = {funcs = [
        {name = "mask", compute = "inline"},
        {name = "max", update = {rfactor = {loop = "d1", width = 8}}},
        {name = "sum", update = {rfactor = {loop = "d1", width = 8},
                                 split = [{loop = "d0", factor = 4}],
                                 parallel = "d0"}}]})"));
  std::vector<HostTensor> out =
      run(parsed.kernel(), {HostTensor::ofF32({rows, cols}, x)}, {m});
  ASSERT_EQ(out.size(), 1u);
  expectNear(out[0].f32, maskedSoftmaxReference(x, rows, cols, m), 1e-5);
}

TEST(HalideSchedule, ComputeAtInlineAndFastExpInSoftmax) {
  const int64_t rows = 16, cols = 41, m = 3;
  std::vector<float> x = randomFloats(rows * cols, 24, -6.0f, 6.0f);
  std::vector<double> expected = maskedSoftmaxReference(x, rows, cols, m);
  for (bool fastExp : {false, true}) {
    std::string attrs = std::string("txl.schedule = {fast_exp = ") +
                        (fastExp ? "true" : "false") + R"(, funcs = [
        {name = "mask", compute = "inline"},
        {name = "max", compute_at = {func = "normalize", loop = "d0"}},
        {name = "sum", compute_at = {func = "normalize", loop = "d0"},
         update = {}},
        {name = "normalize", pure = {split = [{loop = "d0", factor = 4}],
                                     vectorize = {loop = "d1", width = 8},
                                     parallel = "d0"}}]})";
    ParsedKernel parsed = parseKernel(maskedSoftmaxKernel(rows, cols, attrs));
    std::vector<HostTensor> out =
        run(parsed.kernel(), {HostTensor::ofF32({rows, cols}, x)}, {m});
    ASSERT_EQ(out.size(), 1u);
    expectNear(out[0].f32, expected, fastExp ? 1e-4 : 1e-5);
    for (float v : out[0].f32)
      ASSERT_FALSE(std::isnan(v));
    EXPECT_EQ(out[0].f32[cols - 1], 0.0f);
  }
}

TEST(HalideSchedule, ScheduleGivenInOptionsOverridesTheAttribute) {
  MatmulData data;
  ParsedKernel parsed = parseKernel(
      matmulBiasKernel(1, kRows, kCols, kDepth,
                       R"(txl.schedule = {funcs = [{name = "nonexistent"}]})"));
  // The attribute names a generic that does not exist...
  StatusOr<std::vector<HostTensor>> bad =
      jitRun(parsed.kernel(), data.inputs());
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find(
                "names 'nonexistent', which is not a generic of this kernel "
                "(generics: proj.bias, proj)"),
            std::string::npos)
      << bad.status().message();
  // ...but a schedule passed in the options replaces it.
  KernelSchedule schedule;
  FuncSchedule proj;
  proj.name = "proj";
  proj.update = StageSchedule();
  proj.update->vectorize.push_back({"d2", 8, TailKind::Guard});
  proj.update->order = {"d0", "d1", "d3", "d2"};
  schedule.funcs.push_back(proj);
  CodegenOptions options;
  options.schedule = &schedule;
  std::vector<HostTensor> out =
      run(parsed.kernel(), data.inputs(), {}, options);
  ASSERT_EQ(out.size(), 1u);
  expectNear(out[0].f32, data.expected());
}

StatusOr<std::vector<HostTensor>> runMatmulWith(const std::string &attrs) {
  MatmulData data;
  ParsedKernel parsed = parseKernel(
      matmulBiasKernel(1, kRows, kCols, kDepth, "txl.schedule = " + attrs));
  return jitRun(parsed.kernel(), data.inputs());
}

void expectScheduleError(const std::string &attrs,
                         const std::string &fragment) {
  StatusOr<std::vector<HostTensor>> out = runMatmulWith(attrs);
  ASSERT_FALSE(out.ok()) << attrs;
  EXPECT_NE(out.status().message().find(fragment), std::string::npos)
      << out.status().message();
}

TEST(HalideSchedule, ErrorsNameTheLoopsAndFuncs) {
  expectScheduleError(
      R"({funcs = [{name = "proj", pure = {vectorize = {loop = "d3", width = 8}}}]})",
      "schedule of 'proj' (pure stage): no loop named 'd3' (loops, outermost "
      "first: d0, d1, d2)");
  expectScheduleError(
      R"({funcs = [{name = "proj", pure = {gpu_tile = {loops = ["d2"], sizes = [64]}}}]})",
      "gpu_tile needs a GPU target");
  expectScheduleError(R"({funcs = [{name = "proj", compute = "inline"}]})",
                      "is a result of the kernel, so it is computed at root");
  expectScheduleError(R"({funcs = [{name = "proj.bias", update = {}}]})",
                      "has no reduction loops");
  expectScheduleError(
      R"({funcs = [{name = "proj.bias", compute_at = {func = "proj", loop = "d7"}}]})",
      "'proj' has no loop named 'd7'");
  expectScheduleError(
      R"({funcs = [{name = "proj", storage = {d5 = 8}}]})",
      "storage names loop 'd5', not one of its pure loops (d2, d1, d0)");
  expectScheduleError(R"({funcs = [{name = "proj.bias", accumulator = {}}]})",
                      "an accumulator needs reduction loops");
  expectScheduleError(
      R"({funcs = [{name = "proj", update = {rfactor = {loop = "d2", width = 8}}}]})",
      "rfactor: 'd2' is not a reduction loop");
  expectScheduleError(
      R"({funcs = [{name = "proj", pure = {fuse = [{outer = "d0", inner = "d2", into = "x"}]}}]})",
      "fuse: 'd2' must be the loop immediately inside 'd0' (order them "
      "first)");
}

TEST(HalideSchedule, AlignRoundsTheComputedRegionOutToTheModulus) {
  // proj.bias computed per block of 64 columns of proj: the last block,
  // shifted inwards, is columns 346..409. Aligned to 48 its region starts at
  // 336 and ends past the 410 biases (Halide's bound for it reaches 479), which
  // Halide refuses: the alignment was applied.
  const char *perBlock =
      R"({funcs = [{name = "proj", pure = {split = [{loop = "d2", factor = 64, tail = "shift_inwards"}]}},
                   {name = "proj.bias", compute_at = {func = "proj", loop = "d2"}, align = {d2 = %d}}]})";
  char attrs[512];
  std::snprintf(attrs, sizeof attrs, perBlock, 48);
  expectScheduleError(attrs, "which is beyond the max (409)");
  // Aligned to 2, every region stays inside: the same numbers.
  std::snprintf(attrs, sizeof attrs, perBlock, 2);
  StatusOr<std::vector<HostTensor>> out = runMatmulWith(attrs);
  ASSERT_TRUE(out.ok()) << out.status().message();
  ASSERT_EQ(out->size(), 1u);
  expectNear((*out)[0].f32, MatmulData().expected());
  expectScheduleError(
      R"({funcs = [{name = "proj", align = {d5 = 8}}]})",
      "align names loop 'd5', not one of its pure loops (d2, d1, d0)");
}

TEST(HalideSchedule, AnIllegalTailStrategyIsAnErrorNotACrash) {
  // Rounding 41 rows up to 8 would write past the output buffer: Halide
  // refuses at run time, and the refusal comes back as a Status.
  expectScheduleError(
      R"({funcs = [{name = "proj", pure = {split = [{loop = "d1", factor = 8, tail = "round_up"}]}}]})",
      "JIT run failed");
}

} // namespace
} // namespace txl::codegen::halide::test
