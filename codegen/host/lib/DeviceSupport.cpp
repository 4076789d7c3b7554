//===- DeviceSupport.cpp - host-side glue for kernels compiled for a GPU --===//

#include "DeviceSupport.h"

#include "txl/target/TargetInfo.h"

#include "llvm/IR/Constants.h"
#include "llvm/IR/DerivedTypes.h"
#include "llvm/IR/GlobalVariable.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/Module.h"


namespace txl::codegen::host {

std::string gpuApiOfTarget(const std::string &target) {
  StatusOr<target::TargetInfo> info = target::parseTarget(target);
  if (!info.ok())
    return "";
  switch (info->gpu) {
  case target::GpuApi::Cuda:
    return "cuda";
  case target::GpuApi::OpenCL:
    return "opencl";
  case target::GpuApi::None:
    break;
  }
  return "";
}

namespace {

/// The internal flag: this model's code switched Halide's allocation pool on.
llvm::GlobalVariable *poolFlag(llvm::Module &module) {
  if (auto *flag = module.getGlobalVariable("txl_device_pool_on", true))
    return flag;
  auto *i8 = llvm::Type::getInt8Ty(module.getContext());
  return new llvm::GlobalVariable(module, i8, false,
                                  llvm::GlobalValue::InternalLinkage,
                                  llvm::ConstantInt::get(i8, 0),
                                  "txl_device_pool_on");
}

/// `int halide_reuse_device_allocations(void *user_context, bool flag)`.
llvm::FunctionCallee reuseAllocations(llvm::Module &module) {
  llvm::LLVMContext &ctx = module.getContext();
  auto *ptr = llvm::PointerType::get(ctx, 0);
  return module.getOrInsertFunction(
      "halide_reuse_device_allocations",
      llvm::FunctionType::get(llvm::Type::getInt32Ty(ctx),
                              {ptr, llvm::Type::getInt8Ty(ctx)}, false));
}

} // namespace

void addDeviceSync(llvm::Module &module) {
  llvm::LLVMContext &ctx = module.getContext();
  auto *i32 = llvm::Type::getInt32Ty(ctx);
  auto *ptr = llvm::PointerType::get(ctx, 0);
  auto *bufferOp = llvm::FunctionType::get(i32, {ptr, ptr}, false);
  llvm::FunctionCallee copyToHost =
      module.getOrInsertFunction("halide_copy_to_host", bufferOp);
  llvm::FunctionCallee deviceFree =
      module.getOrInsertFunction("halide_device_free", bufferOp);
  // The step module declares it (it calls it); define that declaration.
  llvm::Function *sync = module.getFunction(kDeviceSyncFunction);
  if (!sync)
    sync = llvm::Function::Create(
        llvm::FunctionType::get(i32, {ptr, i32, i32}, false),
        llvm::GlobalValue::InternalLinkage, kDeviceSyncFunction, module);
  sync->setLinkage(llvm::GlobalValue::InternalLinkage);
  llvm::Argument *buffers = sync->getArg(0), *count = sync->getArg(1),
                 *firstResult = sync->getArg(2);
  // halide_buffer_t of Halide 14 is 56 bytes (HostCodegen.cpp's layout).
  const uint64_t bufferBytes = 56;

  // Device allocations freed here go to Halide's pool and come back to the
  // next call that asks for that size (cudaMalloc/cudaFree per kernel call
  // cost more than many small kernels): switched on at the first call, off
  // (the pool emptied) by txl_model_release_device.
  auto *pooling = llvm::BasicBlock::Create(ctx, "pooling", sync);
  auto *entry = llvm::BasicBlock::Create(ctx, "entry", sync);
  auto *startPool = llvm::BasicBlock::Create(ctx, "start_pool", sync, entry);
  {
    llvm::IRBuilder<> ir(pooling);
    llvm::Value *on = ir.CreateLoad(ir.getInt8Ty(), poolFlag(module), "on");
    ir.CreateCondBr(ir.CreateICmpEQ(on, ir.getInt8(0)), startPool, entry);
    ir.SetInsertPoint(startPool);
    ir.CreateCall(reuseAllocations(module),
                  {llvm::ConstantPointerNull::get(ptr), ir.getInt8(1)});
    ir.CreateStore(ir.getInt8(1), poolFlag(module));
    ir.CreateBr(entry);
  }
  auto *loop = llvm::BasicBlock::Create(ctx, "loop", sync);
  auto *copy = llvm::BasicBlock::Create(ctx, "copy", sync);
  auto *release = llvm::BasicBlock::Create(ctx, "release", sync);
  auto *next = llvm::BasicBlock::Create(ctx, "next", sync);
  auto *done = llvm::BasicBlock::Create(ctx, "done", sync);
  llvm::IRBuilder<> ir(entry);
  llvm::Value *null = llvm::ConstantPointerNull::get(ptr);
  ir.CreateCondBr(ir.CreateICmpSGT(count, ir.getInt32(0)), loop, done);

  ir.SetInsertPoint(loop);
  llvm::PHINode *i = ir.CreatePHI(i32, 2, "i");
  i->addIncoming(ir.getInt32(0), entry);
  llvm::Value *offset = ir.CreateMul(ir.CreateZExt(i, ir.getInt64Ty()),
                                     ir.getInt64(bufferBytes));
  llvm::Value *buffer = ir.CreateGEP(ir.getInt8Ty(), buffers, offset, "buffer");
  ir.CreateCondBr(ir.CreateICmpSGE(i, firstResult), copy, release);

  // A result: its device copy is the current one.
  ir.SetInsertPoint(copy);
  llvm::Value *copied = ir.CreateCall(copyToHost, {null, buffer}, "copied");
  auto *copiedOk = llvm::BasicBlock::Create(ctx, "copied_ok", sync);
  ir.CreateCondBr(ir.CreateICmpNE(copied, ir.getInt32(0)), done, copiedOk);
  ir.SetInsertPoint(copiedOk);
  ir.CreateBr(release);

  ir.SetInsertPoint(release);
  llvm::Value *freed = ir.CreateCall(deviceFree, {null, buffer}, "freed");
  ir.CreateCondBr(ir.CreateICmpNE(freed, ir.getInt32(0)), done, next);

  ir.SetInsertPoint(next);
  llvm::Value *following = ir.CreateAdd(i, ir.getInt32(1), "following");
  i->addIncoming(following, next);
  ir.CreateCondBr(ir.CreateICmpSLT(following, count), loop, done);

  ir.SetInsertPoint(done);
  llvm::PHINode *status = ir.CreatePHI(i32, 4, "status");
  status->addIncoming(ir.getInt32(0), entry);
  status->addIncoming(copied, copy);
  status->addIncoming(freed, release);
  status->addIncoming(ir.getInt32(0), next);
  ir.CreateRet(status);
}

namespace {

// Field offsets of Halide 14's halide_buffer_t (HostCodegen.cpp's layout).
constexpr uint64_t kDeviceOffset = 0, kInterfaceOffset = 8, kHostOffset = 16,
                   kFlagsOffset = 24;

llvm::Value *fieldAt(llvm::IRBuilder<> &ir, llvm::Value *buffer,
                     uint64_t offset) {
  return ir.CreateGEP(ir.getInt8Ty(), buffer, ir.getInt64(offset));
}

} // namespace

void addDeviceMirror(llvm::Module &module, const std::string &api) {
  llvm::LLVMContext &ctx = module.getContext();
  auto *i32 = llvm::Type::getInt32Ty(ctx);
  auto *i64 = llvm::Type::getInt64Ty(ctx);
  auto *ptr = llvm::PointerType::get(ctx, 0);
  llvm::FunctionCallee deviceFree = module.getOrInsertFunction(
      "halide_device_free", llvm::FunctionType::get(i32, {ptr, ptr}, false));
  llvm::FunctionCallee copyToDevice = module.getOrInsertFunction(
      "halide_copy_to_device",
      llvm::FunctionType::get(i32, {ptr, ptr, ptr}, false));
  llvm::FunctionCallee deviceInterface = module.getOrInsertFunction(
      "halide_" + api + "_device_interface",
      llvm::FunctionType::get(ptr, {}, false));
  llvm::Function *mirror = module.getFunction(kDeviceMirrorFunction);
  if (!mirror)
    mirror = llvm::Function::Create(
        llvm::FunctionType::get(i32, {ptr, ptr}, false),
        llvm::GlobalValue::InternalLinkage, kDeviceMirrorFunction, module);
  mirror->setLinkage(llvm::GlobalValue::InternalLinkage);
  llvm::Argument *held = mirror->getArg(0), *view = mirror->getArg(1);
  llvm::Value *null = llvm::ConstantPointerNull::get(ptr);

  auto *entry = llvm::BasicBlock::Create(ctx, "entry", mirror);
  auto *stale = llvm::BasicBlock::Create(ctx, "stale", mirror);
  auto *upload = llvm::BasicBlock::Create(ctx, "upload", mirror);
  auto *failed = llvm::BasicBlock::Create(ctx, "failed", mirror);
  auto *lend = llvm::BasicBlock::Create(ctx, "lend", mirror);
  llvm::IRBuilder<> ir(entry);
  llvm::Value *device = ir.CreateLoad(i64, fieldAt(ir, held, kDeviceOffset));
  llvm::Value *heldHost = ir.CreateLoad(ptr, fieldAt(ir, held, kHostOffset));
  llvm::Value *viewHost = ir.CreateLoad(ptr, fieldAt(ir, view, kHostOffset));
  llvm::Value *current = ir.CreateAnd(ir.CreateICmpNE(device, ir.getInt64(0)),
                                      ir.CreateICmpEQ(heldHost, viewHost));
  ir.CreateCondBr(current, lend, stale);

  // None yet, or a copy of other memory: (free it and) upload this one.
  ir.SetInsertPoint(stale);
  ir.CreateCall(deviceFree, {null, held});
  ir.CreateMemCpy(held, llvm::MaybeAlign(8), view, llvm::MaybeAlign(8), 56);
  ir.CreateStore(ir.getInt64(0), fieldAt(ir, held, kDeviceOffset));
  ir.CreateStore(null, fieldAt(ir, held, kInterfaceOffset));
  ir.CreateStore(ir.getInt64(1), fieldAt(ir, held, kFlagsOffset)); // host dirty
  ir.CreateBr(upload);
  ir.SetInsertPoint(upload);
  llvm::Value *status =
      ir.CreateCall(copyToDevice, {null, held, ir.CreateCall(deviceInterface)});
  ir.CreateCondBr(ir.CreateICmpNE(status, ir.getInt32(0)), failed, lend);
  ir.SetInsertPoint(failed);
  ir.CreateRet(status);

  ir.SetInsertPoint(lend);
  ir.CreateStore(ir.CreateLoad(i64, fieldAt(ir, held, kDeviceOffset)),
                 fieldAt(ir, view, kDeviceOffset));
  ir.CreateStore(ir.CreateLoad(ptr, fieldAt(ir, held, kInterfaceOffset)),
                 fieldAt(ir, view, kInterfaceOffset));
  ir.CreateStore(ir.getInt64(0), fieldAt(ir, view, kFlagsOffset));
  ir.CreateRet(ir.getInt32(0));
}

void addReleaseDevice(llvm::Module &module) {
  llvm::LLVMContext &ctx = module.getContext();
  auto *i32 = llvm::Type::getInt32Ty(ctx);
  auto *ptr = llvm::PointerType::get(ctx, 0);
  llvm::FunctionCallee deviceFree = module.getOrInsertFunction(
      "halide_device_free", llvm::FunctionType::get(i32, {ptr, ptr}, false));
  auto *release = llvm::Function::Create(
      llvm::FunctionType::get(llvm::Type::getVoidTy(ctx), {}, false),
      llvm::GlobalValue::ExternalLinkage, "txl_model_release_device", module);
  llvm::IRBuilder<> ir(llvm::BasicBlock::Create(ctx, "entry", release));
  llvm::Value *null = llvm::ConstantPointerNull::get(ptr);
  for (llvm::GlobalVariable &global : module.globals()) {
    if (!global.getName().starts_with(kDeviceMirrorPrefix))
      continue;
    // halide_device_free of a buffer without a device copy does nothing.
    ir.CreateCall(deviceFree, {null, &global});
    ir.CreateMemSet(&global, ir.getInt8(0), 56, llvm::MaybeAlign(8));
  }
  // Empties Halide's allocation pool (addDeviceSync switches it on again).
  ir.CreateCall(reuseAllocations(module), {null, ir.getInt8(0)});
  ir.CreateStore(ir.getInt8(0), poolFlag(module));
  ir.CreateRetVoid();
}

void addDeviceLibraryLookup(llvm::Module &module, const std::string &api) {
  const char *versioned = api == "cuda" ? "libcuda.so.1" : "libOpenCL.so.1";
  const char *plain = api == "cuda" ? "libcuda.so" : "libOpenCL.so";
  llvm::LLVMContext &ctx = module.getContext();
  auto *ptr = llvm::PointerType::get(ctx, 0);
  llvm::FunctionCallee load = module.getOrInsertFunction(
      "halide_load_library", llvm::FunctionType::get(ptr, {ptr}, false));
  llvm::FunctionCallee symbol = module.getOrInsertFunction(
      "halide_get_library_symbol",
      llvm::FunctionType::get(ptr, {ptr, ptr}, false));
  auto *library = new llvm::GlobalVariable(
      module, ptr, false, llvm::GlobalValue::InternalLinkage,
      llvm::ConstantPointerNull::get(ptr), "txl_gpu_library");
  auto *lookup = llvm::Function::Create(
      llvm::FunctionType::get(ptr, {ptr, ptr}, false),
      llvm::GlobalValue::ExternalLinkage, "halide_" + api + "_get_symbol",
      module);
  llvm::Argument *name = lookup->getArg(1);
  auto *entry = llvm::BasicBlock::Create(ctx, "entry", lookup);
  auto *open = llvm::BasicBlock::Create(ctx, "open", lookup);
  auto *fallback = llvm::BasicBlock::Create(ctx, "fallback", lookup);
  auto *opened = llvm::BasicBlock::Create(ctx, "opened", lookup);
  auto *found = llvm::BasicBlock::Create(ctx, "found", lookup);
  auto *missing = llvm::BasicBlock::Create(ctx, "missing", lookup);
  llvm::IRBuilder<> ir(entry);
  llvm::Value *held = ir.CreateLoad(ptr, library, "held");
  ir.CreateCondBr(ir.CreateIsNull(held), open, found);

  ir.SetInsertPoint(open);
  llvm::Value *first =
      ir.CreateCall(load, {ir.CreateGlobalStringPtr(versioned)}, "first");
  ir.CreateCondBr(ir.CreateIsNull(first), fallback, opened);
  ir.SetInsertPoint(fallback);
  llvm::Value *second =
      ir.CreateCall(load, {ir.CreateGlobalStringPtr(plain)}, "second");
  ir.CreateBr(opened);
  ir.SetInsertPoint(opened);
  llvm::PHINode *handle = ir.CreatePHI(ptr, 2, "handle");
  handle->addIncoming(first, open);
  handle->addIncoming(second, fallback);
  ir.CreateStore(handle, library);
  ir.CreateCondBr(ir.CreateIsNull(handle), missing, found);

  ir.SetInsertPoint(found);
  llvm::PHINode *lib = ir.CreatePHI(ptr, 2, "lib");
  lib->addIncoming(held, entry);
  lib->addIncoming(handle, opened);
  ir.CreateRet(ir.CreateCall(symbol, {lib, name}));
  ir.SetInsertPoint(missing);
  ir.CreateRet(llvm::ConstantPointerNull::get(ptr));
}

} // namespace txl::codegen::host
