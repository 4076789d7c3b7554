//===- WorkloadKeyTest.cpp - keys on real models --------------------------===//

#include "txl/tuner/WorkloadKey.h"
#include "txl/Dialect/AttrNames.h"
#include "txl/tuner/ModelKernels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

using namespace txl;
using namespace txl::tuner;

namespace {

struct Lowered {
  std::unique_ptr<mlir::MLIRContext> context;
  ModelKernels kernels;
};

/// wt103-base as txlc lowers it, with segments of `tgtLen`.
Lowered lower(int tgtLen, const std::string &target = "x86-64-linux-avx2-fma") {
  mlir::DialectRegistry registry;
  registerModelDialects(registry);
  Lowered out;
  out.context = std::make_unique<mlir::MLIRContext>(registry);
  out.context->loadAllAvailableDialects();
  std::string config =
      std::string(TXL_SOURCE_DIR) + "/models/configs/wt103-base/config.json";
  ModelSource source;
  source.path = config;
  source.tgtLen = tgtLen;
  source.lowering.target = target;
  source.lowering.targetCache = "l1d=32K,l2=1M,l3=32M,cores=2";
  auto module = buildModel(*out.context, source);
  EXPECT_TRUE(module.ok()) << module.status().message();
  auto kernels = extractKernels(std::move(*module), source);
  EXPECT_TRUE(kernels.ok()) << kernels.status().message();
  out.kernels = std::move(*kernels);
  return out;
}

const KernelTask *taskNamed(const ModelKernels &k, const std::string &label) {
  for (const KernelTask &t : k.tasks)
    if (t.key.label == label)
      return &t;
  return nullptr;
}

} // namespace

TEST(WorkloadKey, TheLayersShareOneKeyPerKernel) {
  Lowered model = lower(64);
  // wt103-base: 16 layers, each with the same five kernels.
  for (const char *label : {"attention.kv", "attention.core",
                            "attention.output", "ffn.up", "ffn.down"}) {
    const KernelTask *task = taskNamed(model.kernels, label);
    ASSERT_NE(task, nullptr) << label;
    EXPECT_EQ(task->stepCalls, 16) << label;
    EXPECT_EQ(task->weight, 16) << label;
  }
  int stepTasks = 0;
  for (const KernelTask &t : model.kernels.tasks)
    stepTasks += t.stepCalls > 0;
  EXPECT_LE(stepTasks, 8);
}

TEST(WorkloadKey, IgnoresScheduleTargetAndName) {
  Lowered model = lower(64);
  const KernelTask *task = taskNamed(model.kernels, "ffn.up");
  ASSERT_NE(task, nullptr);
  KernelOp kernel = task->kernel;
  WorkloadKey before = workloadKey(kernel);
  mlir::MLIRContext *context = kernel->getContext();
  kernel->setAttr(attr::kSchedule, mlir::DictionaryAttr::get(context, {}));
  kernel->setAttr(attr::kTarget,
                  mlir::StringAttr::get(context, "x86-64-linux-avx512"));
  kernel.setName("renamed");
  EXPECT_EQ(workloadKey(kernel).hash, before.hash);
  kernel->removeAttr(attr::kSchedule);
  EXPECT_EQ(workloadKey(kernel).hash, before.hash);
}

TEST(WorkloadKey, ChangesWithTheBodyAndTheShapes) {
  Lowered model = lower(64);
  const KernelTask *up = taskNamed(model.kernels, "ffn.up");
  const KernelTask *down = taskNamed(model.kernels, "ffn.down");
  ASSERT_NE(up, nullptr);
  ASSERT_NE(down, nullptr);
  EXPECT_NE(up->key.hash, down->key.hash);

  // Another segment length: other shapes, other keys.
  Lowered shorter = lower(32);
  const KernelTask *upShort = taskNamed(shorter.kernels, "ffn.up");
  ASSERT_NE(upShort, nullptr);
  EXPECT_NE(up->key.hash, upShort->key.hash);

  // The same kernel with one op of its body changed.
  KernelOp kernel = up->kernel;
  std::string hash = workloadKey(kernel).hash;
  bool changed = false;
  kernel.getBody().walk([&](mlir::arith::MaximumFOp op) {
    if (changed)
      return;
    mlir::OpBuilder b(op);
    op->replaceAllUsesWith(b.create<mlir::arith::MinimumFOp>(
        op.getLoc(), op.getLhs(), op.getRhs()));
    op->erase();
    changed = true;
  });
  if (!changed)
    kernel.getBody().walk([&](mlir::arith::AddFOp op) {
      if (changed)
        return;
      mlir::OpBuilder b(op);
      op->replaceAllUsesWith(
          b.create<mlir::arith::SubFOp>(op.getLoc(), op.getLhs(), op.getRhs()));
      op->erase();
      changed = true;
    });
  ASSERT_TRUE(changed);
  EXPECT_NE(workloadKey(kernel).hash, hash);
}

TEST(WorkloadKey, TheTargetKeyIsConcrete) {
  auto host = target::parseTarget("host");
  ASSERT_TRUE(host.ok());
  EXPECT_EQ(targetKey(*host).find("host"), std::string::npos);
  auto avx2 = target::parseTarget("x86-64-linux-avx2-fma");
  auto avx512 = target::parseTarget("x86-64-linux-avx512");
  ASSERT_TRUE(avx2.ok() && avx512.ok());
  EXPECT_NE(targetKey(*avx2), targetKey(*avx512));
}
