//===- ScheduleAttrTest.cpp - txl.schedule printed and parsed back --------===//

#include "txl/schedule/ScheduleAttr.h"

#include "mlir/AsmParser/AsmParser.h"
#include "mlir/IR/MLIRContext.h"

#include <gtest/gtest.h>

namespace txl::schedule {
namespace {

mlir::DictionaryAttr parseDict(mlir::MLIRContext &context,
                               const std::string &text) {
  auto attr = mlir::dyn_cast_or_null<mlir::DictionaryAttr>(
      mlir::parseAttribute(text, &context));
  EXPECT_TRUE(attr) << text;
  return attr;
}

/// Every field the schema has, in the canonical spelling.
const char *kCanonical = R"({
  fast_exp = true, tail = "shift_inwards", vector_width = 8 : i64,
  funcs = [
    {name = "proj", compute = "root",
     pure = {tile = {d1 = 4 : i64, d2 = 64 : i64}, tile_tail = "guard",
             vectorize = [{loop = "d2i", width = 16 : i64}], parallel = ["d2"]},
     update = {split = [{loop = "d3", factor = 8 : i64, inner = "k8", tail = "round_up"}],
               fuse = [{outer = "d0", inner = "d1", into = "rows"}],
               order = ["rows", "d3", "k8", "d2"],
               rfactor = {loop = "d3", width = 16 : i64},
               unroll = ["k8", {loop = "d2", factor = 2 : i64}], atomic = true},
     storage = {d2 = 64 : i64}, align = {d2 = 16 : i64},
     accumulator = {compute_at = {loop = "d2"}, update = {}}},
    {name = "#3", compute_at = {func = "proj", loop = "d1", stage = "update"},
     pure = {gpu_tile = {loops = ["d0", "d1"], sizes = [8 : i64, 32 : i64], tail = "guard"}}},
    {name = "mask", compute = "inline"}
  ]})";

TEST(ScheduleAttr, CanonicalAttributePrintsBackUnchanged) {
  mlir::MLIRContext context;
  mlir::DictionaryAttr attr = parseDict(context, kCanonical);
  StatusOr<KernelSchedule> schedule = parseSchedule(attr);
  ASSERT_TRUE(schedule.ok()) << schedule.status().message();
  EXPECT_EQ(printSchedule(*schedule, &context), attr);
}

TEST(ScheduleAttr, PrintedScheduleParsesToTheSameSchedule) {
  mlir::MLIRContext context;
  KernelSchedule schedule;
  schedule.vectorWidth = 16;
  FuncSchedule gemm;
  gemm.name = "ffn.up";
  gemm.compute.kind = ComputeLocation::Kind::Root;
  gemm.pure = StageSchedule();
  gemm.pure->splits = {{"d2", 16, "d2i", TailKind::Guard},
                       {"d2", 3, "d2v", TailKind::ShiftInwards}};
  gemm.pure->fuses = {{"d2", "d0", "tile"}};
  gemm.pure->vectorize = {{"d2i", 16, std::nullopt}};
  gemm.pure->parallel = {"tile"};
  auto accumulator = std::make_shared<FuncSchedule>();
  accumulator->name = "ffn.up.accumulator";
  accumulator->compute.kind = ComputeLocation::Kind::At;
  accumulator->compute.loop = "tile";
  accumulator->update = StageSchedule();
  accumulator->update->unroll = {{"d2", 0, std::nullopt},
                                 {"d1i", 4, TailKind::Guard}};
  gemm.accumulator = accumulator;
  schedule.funcs.push_back(gemm);
  FuncSchedule relu;
  relu.name = "#1";
  relu.compute.kind = ComputeLocation::Kind::Inline;
  schedule.funcs.push_back(relu);

  mlir::DictionaryAttr printed = printSchedule(schedule, &context);
  StatusOr<KernelSchedule> parsed = parseSchedule(printed);
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_TRUE(*parsed == schedule);
  // Printing is deterministic: the same schedule, the same attribute.
  EXPECT_EQ(printSchedule(*parsed, &context), printed);
}

TEST(ScheduleAttr, ShorthandSpellingsPrintInCanonicalForm) {
  mlir::MLIRContext context;
  StatusOr<KernelSchedule> schedule = parseSchedule(parseDict(context, R"({
    tail = "guard",
    funcs = [{name = "g", pure = {split = {loop = "d0", factor = 4},
                                  vectorize = {loop = "d0i", width = 8},
                                  unroll = {loop = "d1"}, parallel = "d0"}}]})"));
  ASSERT_TRUE(schedule.ok()) << schedule.status().message();
  EXPECT_EQ(printSchedule(*schedule, &context),
            parseDict(context, R"({funcs = [{name = "g", pure = {
                split = [{loop = "d0", factor = 4 : i64, inner = "d0i"}],
                vectorize = [{loop = "d0i", width = 8 : i64}],
                unroll = ["d1"], parallel = ["d0"]}}]})"));
}

TEST(ScheduleAttr, DifferentSchedulesCompareUnequal) {
  mlir::MLIRContext context;
  StatusOr<KernelSchedule> a = parseSchedule(parseDict(context, kCanonical));
  ASSERT_TRUE(a.ok());
  KernelSchedule b = *a;
  EXPECT_TRUE(*a == b);
  auto changed = std::make_shared<FuncSchedule>(*b.funcs[0].accumulator);
  changed->compute.loop = "d1";
  b.funcs[0].accumulator = changed;
  EXPECT_FALSE(*a == b);
  EXPECT_NE(printSchedule(*a, &context), printSchedule(b, &context));
}

} // namespace
} // namespace txl::schedule
