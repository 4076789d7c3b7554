//===- HostCodegen.cpp - txl_model_step as LLVM dialect, then an object ---===//

#include "txl/codegen/host/HostCodegen.h"
#include "DeviceSupport.h"
#include "txl/models/ModelConfig.h"
#include "txl/models/ParameterSpec.h"
#include "txl/runtime/ModelABI.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"

#include "llvm/ADT/ScopeExit.h"
#include "llvm/IR/Constants.h"
#include "llvm/IR/DerivedTypes.h"
#include "llvm/IR/DiagnosticInfo.h"
#include "llvm/IR/DiagnosticPrinter.h"
#include "llvm/IR/GlobalVariable.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Metadata.h"
#include "llvm/IR/Module.h"
#include "llvm/IR/Verifier.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Object/ELFObjectFile.h"
#include "llvm/Object/ObjectFile.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/Triple.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <set>

namespace txl::codegen::host {
namespace {

namespace LLVM = mlir::LLVM;

/// halide_buffer_t of Halide 14:
///   {u64 device; ptr device_interface; ptr host; u64 flags;
///    {u8 code, u8 bits, u16 lanes} type; i32 dimensions;
///    halide_dimension_t *dim; ptr padding}
/// The type triple is stored as one i32 (little-endian: code | bits << 8 |
/// lanes << 16); it has the same size and offset.
enum BufferField {
  kDevice = 0,
  kDeviceInterface,
  kHost,
  kFlags,
  kType,
  kDimensions,
  kDim,
  kPadding
};
/// halide_buffer_flag_host_dirty.
constexpr int64_t kHostDirty = 1;

class StepBuilder {
public:
  StepBuilder(mlir::MLIRContext &context, const StepProgram &program,
              bool deviceKernels)
      : context(context), program(program), deviceKernels(deviceKernels),
        builder(&context), loc(mlir::UnknownLoc::get(&context)) {
    ptrType = LLVM::LLVMPointerType::get(&context);
    i8 = builder.getI8Type();
    i32 = builder.getI32Type();
    i64 = builder.getI64Type();
    bufferType = LLVM::LLVMStructType::getLiteral(
        &context, {i64, ptrType, ptrType, i64, i32, i32, ptrType, ptrType});
  }

  mlir::OwningOpRef<mlir::ModuleOp> build() {
    module = mlir::ModuleOp::create(loc);
    builder.setInsertionPointToEnd(module->getBody());
    declareKernels(program.prepareCalls);
    declareKernels(program.calls);
    declareKernels(program.nllCalls);
    for (const StepVariant &variant : program.variants)
      declareKernels(variant.calls);
    if (deviceKernels) {
      builder.create<LLVM::LLVMFuncOp>(
          loc, kDeviceSyncFunction,
          LLVM::LLVMFunctionType::get(i32, {ptrType, i32, i32}));
      builder.create<LLVM::LLVMFuncOp>(
          loc, kDeviceMirrorFunction,
          LLVM::LLVMFunctionType::get(i32, {ptrType, ptrType}));
    }
    defineConstants();
    buildPrepare();
    buildStep("txl_model_step", program.tgtLen, program.calls, program.copies,
              program.appends);
    for (const StepVariant &variant : program.variants)
      buildStep(variant.symbol, variant.tgtLen, variant.calls, variant.copies,
                variant.appends);
    buildNll();
    return std::move(module);
  }

private:
  mlir::Value constant(mlir::Type type, int64_t value) {
    return builder.create<LLVM::ConstantOp>(
        loc, type, builder.getIntegerAttr(type, value));
  }

  void declareKernels(const std::vector<KernelCall> &calls) {
    for (const KernelCall &call : calls) {
      llvm::SmallVector<mlir::Type> params;
      for (const CallArgument &argument : call.arguments)
        params.push_back(argument.kind == CallArgument::Kind::Tensor ? ptrType
                                                                     : i64);
      params.append(call.results.size(), ptrType);
      if (declared.count(call.symbol))
        continue;
      builder.create<LLVM::LLVMFuncOp>(
          loc, call.symbol, LLVM::LLVMFunctionType::get(i32, params));
      declared.insert(call.symbol);
    }
  }

  /// One internal global per hoisted constant tensor, flattened.
  void defineConstants() {
    for (auto [i, constant] : llvm::enumerate(program.constants)) {
      mlir::DenseElementsAttr value = constant.value;
      int64_t count = value.getNumElements();
      auto flat = value.reshape(
          mlir::RankedTensorType::get({count}, value.getElementType()));
      builder.create<LLVM::GlobalOp>(
          loc, LLVM::LLVMArrayType::get(value.getElementType(), count),
          /*isConstant=*/true, LLVM::Linkage::Internal,
          "txl_constant_" + std::to_string(i), flat, /*alignment=*/64);
    }
  }

  /// A constant global with the halide_dimension_t array of a shape, dense
  /// or with the given row-major strides (elements).
  mlir::Value dimensions(const std::vector<int64_t> &shape,
                         const std::vector<int64_t> &strides) {
    std::string name = "txl_dims";
    for (int64_t size : shape)
      name += "_" + std::to_string(size);
    for (int64_t stride : strides)
      name += "_s" + std::to_string(stride);
    if (!dimGlobals.count(name)) {
      std::vector<int32_t> fields;
      int64_t stride = 1;
      for (size_t d = shape.size(); d-- > 0;) {
        fields.push_back(0);                              // min
        fields.push_back(static_cast<int32_t>(shape[d])); // extent
        fields.push_back(static_cast<int32_t>(
            strides.empty() ? stride : strides[d])); // stride
        fields.push_back(0);                         // flags
        stride *= shape[d];
      }
      mlir::OpBuilder::InsertionGuard guard(builder);
      builder.setInsertionPointToStart(module->getBody());
      auto arrayType = LLVM::LLVMArrayType::get(i32, fields.size());
      auto value = mlir::DenseElementsAttr::get(
          mlir::RankedTensorType::get({static_cast<int64_t>(fields.size())},
                                      i32),
          llvm::ArrayRef<int32_t>(fields));
      builder.create<LLVM::GlobalOp>(loc, arrayType, /*isConstant=*/true,
                                     LLVM::Linkage::Internal, name, value,
                                     /*alignment=*/16);
      dimGlobals.insert(name);
    }
    return builder.create<LLVM::AddressOfOp>(loc, ptrType, name);
  }

  mlir::Value byteOffset(mlir::Value base, int64_t offset) {
    if (!offset)
      return base;
    mlir::Value bytes = constant(i64, offset);
    return builder.create<LLVM::GEPOp>(loc, ptrType, i8, base,
                                       llvm::ArrayRef<LLVM::GEPArg>{bytes});
  }

  mlir::Value loadPointer(mlir::Value array, int64_t index) {
    mlir::Value slot = builder.create<LLVM::GEPOp>(
        loc, ptrType, ptrType, array,
        llvm::ArrayRef<LLVM::GEPArg>{static_cast<int32_t>(index)});
    return builder.create<LLVM::LoadOp>(loc, ptrType, slot);
  }

  /// The address of a place, in the current block.
  mlir::Value address(const Place &place) {
    switch (place.kind) {
    case Place::Kind::Weight:
      return byteOffset(loadPointer(weightsArg, place.index), place.byteOffset);
    case Place::Kind::Tokens:
      return byteOffset(tokensArg, place.byteOffset);
    case Place::Kind::State: {
      // The step's window starts window_start rows into the state.
      mlir::Value rowBytes =
          constant(i64, program.states[place.index].shape[2] * 4);
      mlir::Value offset =
          builder.create<LLVM::MulOp>(loc, windowStartArg, rowBytes);
      mlir::Value window = builder.create<LLVM::GEPOp>(
          loc, ptrType, i8, loadPointer(statesArg, place.index),
          llvm::ArrayRef<LLVM::GEPArg>{offset});
      return byteOffset(window, place.byteOffset);
    }
    case Place::Kind::Prepared:
      return byteOffset(loadPointer(preparedArg, place.index),
                        place.byteOffset);
    case Place::Kind::Hidden:
      return byteOffset(hiddenArg, place.byteOffset);
    case Place::Kind::LogProbs:
      return byteOffset(logProbsArg, place.byteOffset);
    case Place::Kind::Targets:
      return byteOffset(targetsArg, place.byteOffset);
    case Place::Kind::Nll:
      return byteOffset(nllArg, place.byteOffset);
    case Place::Kind::Scratch:
      return byteOffset(scratchArg, place.byteOffset);
    case Place::Kind::Constant:
      return byteOffset(
          builder.create<LLVM::AddressOfOp>(
              loc, ptrType, "txl_constant_" + std::to_string(place.index)),
          place.byteOffset);
    }
    return scratchArg;
  }

  /// Fills descriptor `slot` for `view`; returns its address.
  /// An input of a kernel on a GPU is marked host-dirty: Halide copies a
  /// buffer to the device only then (a fresh device allocation is not
  /// filled otherwise).
  mlir::Value fillBuffer(int64_t slot, const TensorView &view,
                         bool input = false) {
    mlir::Value buffer = builder.create<LLVM::GEPOp>(
        loc, ptrType, bufferType, buffers,
        llvm::ArrayRef<LLVM::GEPArg>{static_cast<int32_t>(slot)});
    auto field = [&](int32_t index) -> mlir::Value {
      return builder.create<LLVM::GEPOp>(
          loc, ptrType, bufferType, buffer,
          llvm::ArrayRef<LLVM::GEPArg>{0, index});
    };
    mlir::Value zero64 = constant(i64, 0);
    mlir::Value null = builder.create<LLVM::ZeroOp>(loc, ptrType);
    builder.create<LLVM::StoreOp>(loc, zero64, field(kDevice));
    builder.create<LLVM::StoreOp>(loc, null, field(kDeviceInterface));
    builder.create<LLVM::StoreOp>(loc, address(view.place), field(kHost));
    builder.create<LLVM::StoreOp>(
        loc, deviceKernels && input ? constant(i64, kHostDirty) : zero64,
        field(kFlags));
    int64_t type = view.typeCode | (view.typeBits << 8) | (1 << 16);
    builder.create<LLVM::StoreOp>(loc, constant(i32, type), field(kType));
    builder.create<LLVM::StoreOp>(
        loc, constant(i32, static_cast<int64_t>(view.shape.size())),
        field(kDimensions));
    builder.create<LLVM::StoreOp>(
        loc, view.shape.empty() ? null : dimensions(view.shape, view.strides),
        field(kDim));
    builder.create<LLVM::StoreOp>(loc, null, field(kPadding));
    return buffer;
  }

  /// Weights and prepared tensors are read-only while a model is loaded:
  /// on a GPU each view of them has a device copy made once
  /// (DeviceSupport.h); other inputs are copied per call.
  bool isMirrored(const CallArgument &argument) const {
    return deviceKernels && argument.kind == CallArgument::Kind::Tensor &&
           (argument.tensor.place.kind == Place::Kind::Weight ||
            argument.tensor.place.kind == Place::Kind::Prepared);
  }

  /// The zero-initialized global halide_buffer_t that holds the device copy
  /// of `view` (one per distinct view).
  mlir::Value mirrorOf(const TensorView &view) {
    std::string key =
        std::to_string(static_cast<int>(view.place.kind)) + "_" +
        std::to_string(view.place.index) + "_" +
        std::to_string(view.place.byteOffset) + "_" +
        std::to_string(view.bytes());
    auto [it, inserted] = mirrors.try_emplace(
        key, std::string(kDeviceMirrorPrefix) + std::to_string(mirrors.size()));
    if (inserted) {
      mlir::OpBuilder::InsertionGuard guard(builder);
      builder.setInsertionPointToStart(module->getBody());
      auto global = builder.create<LLVM::GlobalOp>(
          loc, bufferType, /*isConstant=*/false, LLVM::Linkage::Internal,
          it->second, mlir::Attribute(), /*alignment=*/8);
      mlir::Block *init = builder.createBlock(&global.getInitializerRegion());
      builder.setInsertionPointToStart(init);
      builder.create<LLVM::ReturnOp>(
          loc, builder.create<LLVM::ZeroOp>(loc, bufferType).getResult());
    }
    return builder.create<LLVM::AddressOfOp>(loc, ptrType, it->second);
  }

  /// `int32_t txl_model_prepare(const float *const *weights,
  ///     float *const *prepared, void *scratch)`: the calls of @prepare.
  void buildPrepare() {
    auto type = LLVM::LLVMFunctionType::get(i32, {ptrType, ptrType, ptrType});
    auto func =
        builder.create<LLVM::LLVMFuncOp>(loc, "txl_model_prepare", type);
    mlir::Block *entry = func.addEntryBlock(builder);
    weightsArg = entry->getArgument(0);
    preparedArg = entry->getArgument(1);
    scratchArg = entry->getArgument(2);
    tokensArg = windowStartArg = statesArg = hiddenArg = logProbsArg = nullptr;
    builder.setInsertionPointToStart(entry);
    mlir::Block *failure =
        emitCalls(func, program.prepareCalls, nullptr, nullptr, nullptr);
    builder.create<LLVM::ReturnOp>(loc, constant(i32, 0));
    finishFailure(func, failure);
  }

  /// Calls each kernel in order, jumping to the returned failure block (to
  /// be finished by finishFailure) with the status of the first that fails.
  /// Calls only needed for log-probabilities run when `hasLogProbs`.
  mlir::Block *emitCalls(LLVM::LLVMFuncOp func,
                         const std::vector<KernelCall> &calls, mlir::Value n,
                         mlir::Value memoryRows, mlir::Value hasLogProbs) {
    mlir::Block *failure = new mlir::Block();
    failure->addArgument(i32, loc);
    size_t maxBuffers = 1;
    for (const KernelCall &call : calls)
      maxBuffers =
          std::max(maxBuffers, call.arguments.size() + call.results.size());
    buffers = builder.create<LLVM::AllocaOp>(
        loc, ptrType, bufferType,
        constant(i64, static_cast<int64_t>(maxBuffers)), /*alignment=*/8);
    mlir::Value zero32 = constant(i32, 0);

    for (const KernelCall &call : calls) {
      mlir::Block *current = builder.getInsertionBlock();
      mlir::Block *next = new mlir::Block();
      func.getBody().push_back(next);
      if (call.onlyForLogProbs) {
        mlir::Block *body = new mlir::Block();
        func.getBody().push_back(body);
        builder.setInsertionPointToEnd(current);
        builder.create<LLVM::CondBrOp>(loc, hasLogProbs, body, next);
        builder.setInsertionPointToStart(body);
      }
      // Index arguments first: one of them may decide whether to call.
      auto indexOf = [&](const CallArgument &argument) -> mlir::Value {
        switch (argument.kind) {
        case CallArgument::Kind::SegmentLength:
          return n;
        case CallArgument::Kind::MemoryRows:
          return memoryRows;
        case CallArgument::Kind::Loaded:
          return builder.create<LLVM::LoadOp>(loc, i64,
                                              address(argument.tensor.place));
        case CallArgument::Kind::Tensor:
          break;
        }
        return nullptr;
      };
      llvm::SmallVector<mlir::Value> indices;
      for (const CallArgument &argument : call.arguments)
        indices.push_back(indexOf(argument));
      if (call.skipWhenZero) {
        mlir::Block *body = new mlir::Block();
        func.getBody().push_back(body);
        mlir::Value nonzero = builder.create<LLVM::ICmpOp>(
            loc, LLVM::ICmpPredicate::ne, indices[*call.skipWhenZero],
            constant(i64, 0));
        builder.create<LLVM::CondBrOp>(loc, nonzero, body, next);
        builder.setInsertionPointToStart(body);
      }
      llvm::SmallVector<mlir::Value> operands, mirrored;
      mlir::Value mirrorStatus;
      int64_t slot = 0;
      for (auto [argument, index] : llvm::zip(call.arguments, indices)) {
        if (index) {
          operands.push_back(index);
          continue;
        }
        mlir::Value buffer =
            fillBuffer(slot++, argument.tensor, /*input=*/true);
        operands.push_back(buffer);
        if (!isMirrored(argument))
          continue;
        mirrored.push_back(buffer);
        mlir::Value status =
            builder
                .create<LLVM::CallOp>(
                    loc, mlir::TypeRange{i32},
                    mlir::FlatSymbolRefAttr::get(&context,
                                                 kDeviceMirrorFunction),
                    mlir::ValueRange{mirrorOf(argument.tensor), buffer})
                .getResult();
        // The first failure's status.
        mirrorStatus = !mirrorStatus
                           ? status
                           : builder.create<LLVM::SelectOp>(
                                 loc,
                                 builder.create<LLVM::ICmpOp>(
                                     loc, LLVM::ICmpPredicate::ne,
                                     mirrorStatus, zero32),
                                 mirrorStatus, status);
      }
      for (const TensorView &result : call.results)
        operands.push_back(fillBuffer(slot++, result));
      if (mirrorStatus) {
        mlir::Block *proceed = new mlir::Block();
        func.getBody().push_back(proceed);
        mlir::Value failed = builder.create<LLVM::ICmpOp>(
            loc, LLVM::ICmpPredicate::ne, mirrorStatus, zero32);
        builder.create<LLVM::CondBrOp>(loc, failed, failure,
                                       mlir::ValueRange{mirrorStatus}, proceed,
                                       mlir::ValueRange{});
        builder.setInsertionPointToStart(proceed);
      }
      auto call_ = builder.create<LLVM::CallOp>(
          loc, mlir::TypeRange{i32},
          mlir::FlatSymbolRefAttr::get(&context, call.symbol), operands);
      mlir::Value status = call_.getResult();
      mlir::Value failed = builder.create<LLVM::ICmpOp>(
          loc, LLVM::ICmpPredicate::ne, status, zero32);
      // A view lent a mirror's device copy gives it back, so that the sync
      // below does not free it.
      for (mlir::Value buffer : mirrored) {
        auto field = [&](int32_t index) -> mlir::Value {
          return builder.create<LLVM::GEPOp>(
              loc, ptrType, bufferType, buffer,
              llvm::ArrayRef<LLVM::GEPArg>{0, index});
        };
        builder.create<LLVM::StoreOp>(loc, constant(i64, 0), field(kDevice));
        builder.create<LLVM::StoreOp>(
            loc, builder.create<LLVM::ZeroOp>(loc, ptrType),
            field(kDeviceInterface));
      }
      if (deviceKernels) {
        // Kernels on a GPU: results back to the host, every device copy
        // freed (also after a failure), the kernel's status first.
        int64_t results = static_cast<int64_t>(call.results.size());
        auto sync = builder.create<LLVM::CallOp>(
            loc, mlir::TypeRange{i32},
            mlir::FlatSymbolRefAttr::get(&context, kDeviceSyncFunction),
            mlir::ValueRange{buffers, constant(i32, slot),
                             constant(i32, slot - results)});
        status = builder.create<LLVM::SelectOp>(loc, failed, status,
                                                sync.getResult());
        failed = builder.create<LLVM::ICmpOp>(loc, LLVM::ICmpPredicate::ne,
                                              status, zero32);
      }
      builder.create<LLVM::CondBrOp>(loc, failed, failure,
                                     mlir::ValueRange{status}, next,
                                     mlir::ValueRange{});
      builder.setInsertionPointToStart(next);
    }
    return failure;
  }

  /// Appends the failure block: it returns the failing kernel's status.
  void finishFailure(LLVM::LLVMFuncOp func, mlir::Block *failure) {
    func.getBody().push_back(failure);
    builder.setInsertionPointToStart(failure);
    builder.create<LLVM::ReturnOp>(loc, failure->getArgument(0));
    builder.setInsertionPointToEnd(module->getBody());
  }

  /// txl_model_step, or a step variant (the same signature) for tgtLen
  /// tokens per call.
  void buildStep(const std::string &name, int64_t tgtLen,
                 const std::vector<KernelCall> &calls,
                 const std::vector<FinalCopy> &copies,
                 const std::vector<StateAppend> &appends) {
    // int32_t txl_model_step(const float *const *weights,
    //     const float *const *prepared, const int64_t *tokens, int64_t n,
    //     int64_t memory_rows, int64_t window_start, float *const *states,
    //     float *hidden, float *log_probs, void *scratch)
    auto type = LLVM::LLVMFunctionType::get(i32, {ptrType, ptrType, ptrType,
                                                  i64, i64, i64, ptrType,
                                                  ptrType, ptrType, ptrType});
    auto func = builder.create<LLVM::LLVMFuncOp>(loc, name, type);
    mlir::Block *entry = func.addEntryBlock(builder);
    weightsArg = entry->getArgument(0);
    preparedArg = entry->getArgument(1);
    tokensArg = entry->getArgument(2);
    mlir::Value nArg = entry->getArgument(3);
    mlir::Value memoryRowsArg = entry->getArgument(4);
    windowStartArg = entry->getArgument(5);
    statesArg = entry->getArgument(6);
    hiddenArg = entry->getArgument(7);
    logProbsArg = entry->getArgument(8);
    scratchArg = entry->getArgument(9);

    builder.setInsertionPointToStart(entry);
    mlir::Value null = builder.create<LLVM::ZeroOp>(loc, ptrType);
    mlir::Value hasLogProbs = builder.create<LLVM::ICmpOp>(
        loc, LLVM::ICmpPredicate::ne, logProbsArg, null);
    mlir::Value zero32 = constant(i32, 0);
    mlir::Block *failure =
        emitCalls(func, calls, nArg, memoryRowsArg, hasLogProbs);

    for (const FinalCopy &copy : copies) {
      if (copy.bytes == 0)
        continue;
      mlir::Block *next = nullptr;
      if (copy.onlyForLogProbs) {
        mlir::Block *body = new mlir::Block();
        next = new mlir::Block();
        func.getBody().push_back(body);
        func.getBody().push_back(next);
        builder.create<LLVM::CondBrOp>(loc, hasLogProbs, body, next);
        builder.setInsertionPointToStart(body);
      }
      builder.create<LLVM::MemcpyOp>(loc, address(copy.to), address(copy.from),
                                     constant(i64, copy.bytes),
                                     /*isVolatile=*/false);
      if (next) {
        builder.create<LLVM::BrOp>(loc, next);
        builder.setInsertionPointToStart(next);
      }
    }
    // The segment's n rows go right after each state's window: rows
    // window_start + mem_len ... of every batch row (no memory is copied).
    for (const StateAppend &append : appends) {
      mlir::Value bytes = builder.create<LLVM::MulOp>(
          loc, nArg, constant(i64, append.rowBytes));
      mlir::Value window = address(Place{Place::Kind::State, append.state, 0});
      mlir::Value rows = address(append.from);
      for (int64_t b = 0; b < program.batch; ++b) {
        mlir::Value to =
            byteOffset(window, (b * program.stateCapacity + program.memLen) *
                                   append.rowBytes);
        mlir::Value from = byteOffset(rows, b * tgtLen * append.rowBytes);
        builder.create<LLVM::MemcpyOp>(loc, to, from, bytes,
                                       /*isVolatile=*/false);
      }
    }
    builder.create<LLVM::ReturnOp>(loc, zero32);
    finishFailure(func, failure);
  }

  /// int32_t txl_model_nll(const float *const *weights,
  ///     const float *const *prepared, const float *hidden,
  ///     const int64_t *targets, float *nll, void *scratch): the calls of
  /// @nll (none: the model has no scoring function, and it returns 0).
  void buildNll() {
    auto type = LLVM::LLVMFunctionType::get(
        i32, {ptrType, ptrType, ptrType, ptrType, ptrType, ptrType});
    auto func = builder.create<LLVM::LLVMFuncOp>(loc, "txl_model_nll", type);
    mlir::Block *entry = func.addEntryBlock(builder);
    weightsArg = entry->getArgument(0);
    preparedArg = entry->getArgument(1);
    hiddenArg = entry->getArgument(2);
    targetsArg = entry->getArgument(3);
    nllArg = entry->getArgument(4);
    scratchArg = entry->getArgument(5);
    tokensArg = windowStartArg = statesArg = logProbsArg = nullptr;
    builder.setInsertionPointToStart(entry);
    mlir::Block *failure =
        emitCalls(func, program.nllCalls, nullptr, nullptr, nullptr);
    builder.create<LLVM::ReturnOp>(loc, constant(i32, 0));
    finishFailure(func, failure);
  }

  mlir::MLIRContext &context;
  const StepProgram &program;
  /// The kernels run on a GPU (DeviceSupport.h).
  bool deviceKernels;
  mlir::OpBuilder builder;
  mlir::Location loc;
  mlir::OwningOpRef<mlir::ModuleOp> module;
  mlir::Type ptrType, i8, i32, i64;
  LLVM::LLVMStructType bufferType;
  std::set<std::string> declared, dimGlobals;
  /// Device copies of weight and prepared views: key -> global name.
  std::map<std::string, std::string> mirrors;
  mlir::Value weightsArg, preparedArg, tokensArg, windowStartArg, statesArg,
      hiddenArg, logProbsArg, targetsArg, nllArg, scratchArg, buffers;
};

/// A private constant C string; returns a pointer to it.
llvm::Constant *cString(llvm::Module &module, const std::string &text,
                        const std::string &name) {
  llvm::Constant *data =
      llvm::ConstantDataArray::getString(module.getContext(), text, true);
  auto *global =
      new llvm::GlobalVariable(module, data->getType(), true,
                               llvm::GlobalValue::PrivateLinkage, data, name);
  global->setUnnamedAddr(llvm::GlobalValue::UnnamedAddr::Global);
  global->setAlignment(llvm::Align(1));
  return global;
}

/// The other names a weights file may hold each parameter under (tied
/// copies, aliases of a shared bias), which the descriptor lists so that the
/// runtime can bind weights without knowing the config. A module compiled
/// without a config ("{}") names no alternates.
std::map<std::string, std::vector<std::string>>
alternateNamesOf(const std::string &configJson) {
  std::map<std::string, std::vector<std::string>> alternates;
  if (llvm::StringRef(configJson).trim() == "{}")
    return alternates;
  auto config = ModelConfig::fromJsonString(configJson, "config_json");
  if (!config.ok())
    return alternates;
  for (const ParameterSpec &parameter : expectedParameters(*config))
    if (!parameter.alternateNames.empty())
      alternates[parameter.name] = parameter.alternateNames;
  return alternates;
}

/// `const txl_model_desc *txl_model_describe(void)` and its constant.
void addDescribe(llvm::Module &module, const StepProgram &program,
                 const ModelDescription &description) {
  llvm::LLVMContext &ctx = module.getContext();
  auto *ptr = llvm::PointerType::get(ctx, 0);
  auto *i32 = llvm::Type::getInt32Ty(ctx);
  auto *i64 = llvm::Type::getInt64Ty(ctx);

  // A private constant int64 array (a shape).
  auto shapeGlobal = [&](const std::vector<int64_t> &shape,
                         const std::string &name) {
    std::vector<uint64_t> values(shape.begin(), shape.end());
    llvm::Constant *data = llvm::ConstantDataArray::get(ctx, values);
    return new llvm::GlobalVariable(module, data->getType(), true,
                                    llvm::GlobalValue::PrivateLinkage, data,
                                    name);
  };
  // A private constant array of structs.
  auto arrayGlobal = [&](llvm::StructType *type,
                         const std::vector<llvm::Constant *> &elements,
                         const std::string &name) {
    auto *arrayType = llvm::ArrayType::get(type, elements.size());
    return new llvm::GlobalVariable(
        module, arrayType, true, llvm::GlobalValue::PrivateLinkage,
        llvm::ConstantArray::get(arrayType, elements), name);
  };

  // txl_weight_desc {const char *name; int32_t rank; const int64_t *shape;
  //                  int32_t num_alternate_names;
  //                  const char *const *alternate_names;},
  // for the weights and the prepared tensors (which have no alternates).
  auto *weightType = llvm::StructType::get(ctx, {ptr, i32, ptr, i32, ptr});
  const std::map<std::string, std::vector<std::string>> alternateNames =
      alternateNamesOf(description.configJson);
  auto alternatesGlobal = [&](const std::vector<std::string> &names,
                              const std::string &suffix) -> llvm::Constant * {
    if (names.empty())
      return llvm::ConstantPointerNull::get(ptr);
    std::vector<llvm::Constant *> strings;
    for (size_t k = 0; k < names.size(); ++k)
      strings.push_back(
          cString(module, names[k],
                  "txl_alternate_" + suffix + "_" + std::to_string(k)));
    auto *arrayType = llvm::ArrayType::get(ptr, strings.size());
    return new llvm::GlobalVariable(
        module, arrayType, true, llvm::GlobalValue::PrivateLinkage,
        llvm::ConstantArray::get(arrayType, strings),
        "txl_alternates_" + suffix);
  };
  auto tensorDescs = [&](const std::vector<WeightEntry> &entries,
                         const std::string &kind, const std::string &array,
                         bool withAlternates) {
    static const std::vector<std::string> none;
    std::vector<llvm::Constant *> descs;
    for (size_t i = 0; i < entries.size(); ++i) {
      std::string suffix = kind + "_" + std::to_string(i);
      auto found = alternateNames.find(entries[i].name);
      const std::vector<std::string> &alternates =
          withAlternates && found != alternateNames.end() ? found->second
                                                          : none;
      descs.push_back(llvm::ConstantStruct::get(
          weightType, {cString(module, entries[i].name, "txl_name_" + suffix),
                       llvm::ConstantInt::get(i32, entries[i].shape.size()),
                       shapeGlobal(entries[i].shape, "txl_shape_" + suffix),
                       llvm::ConstantInt::get(i32, alternates.size()),
                       alternatesGlobal(alternates, suffix)}));
    }
    return arrayGlobal(weightType, descs, array);
  };
  llvm::GlobalVariable *weightsGlobal =
      tensorDescs(program.weights, "weight", "txl_weights", true);
  llvm::GlobalVariable *preparedGlobal =
      tensorDescs(program.prepared, "prepared", "txl_prepared", false);

  // txl_state_desc {const char *role; int32_t layer; int32_t rank;
  //                 const int64_t *shape;}
  auto *stateType = llvm::StructType::get(ctx, {ptr, i32, i32, ptr});
  std::vector<llvm::Constant *> states;
  for (size_t i = 0; i < program.states.size(); ++i) {
    const StateEntry &state = program.states[i];
    std::string suffix = "state_" + std::to_string(i);
    states.push_back(llvm::ConstantStruct::get(
        stateType, {cString(module, state.role, "txl_role_" + suffix),
                    llvm::ConstantInt::get(i32, state.layer),
                    llvm::ConstantInt::get(i32, state.shape.size()),
                    shapeGlobal(state.shape, "txl_shape_" + suffix)}));
  }
  llvm::GlobalVariable *statesGlobal =
      arrayGlobal(stateType, states, "txl_states");

  // txl_step_variant_desc {int64_t tgt_len; txl_model_step_fn step;}
  auto *variantType = llvm::StructType::get(ctx, {i64, ptr});
  std::vector<llvm::Constant *> variants;
  int64_t scratchBytes =
      std::max(program.scratchBytes, program.nllScratchBytes);
  for (const StepVariant &variant : program.variants) {
    variants.push_back(llvm::ConstantStruct::get(
        variantType, {llvm::ConstantInt::get(i64, variant.tgtLen),
                      module.getFunction(variant.symbol)}));
    scratchBytes = std::max(scratchBytes, variant.scratchBytes);
  }
  llvm::Constant *variantsGlobal =
      variants.empty() ? llvm::ConstantPointerNull::get(ptr)
                       : static_cast<llvm::Constant *>(arrayGlobal(
                             variantType, variants, "txl_step_variants"));

  // txl_model_desc, field by field (ModelABI.h).
  auto *descType = llvm::StructType::create(
      ctx, {i32, ptr, ptr, i64, i64, i64, i64, i64, i64, i32, ptr,
            i64, i32, ptr, i32, ptr, i64, i64, i64, i32, ptr},
      "struct.txl_model_desc");
  llvm::Constant *fields[] = {
      llvm::ConstantInt::get(i32, TXL_MODEL_ABI_VERSION),
      cString(module, description.target, "txl_target"),
      cString(module, description.configJson, "txl_config_json"),
      llvm::ConstantInt::get(i64, program.batch),
      llvm::ConstantInt::get(i64, program.tgtLen),
      llvm::ConstantInt::get(i64, program.memLen),
      llvm::ConstantInt::get(i64, program.numLayers),
      llvm::ConstantInt::get(i64, program.dModel),
      llvm::ConstantInt::get(i64, program.vocabSize),
      llvm::ConstantInt::get(i32, program.weights.size()), weightsGlobal,
      // One scratch arena serves every step and txl_model_nll.
      llvm::ConstantInt::get(i64, scratchBytes),
      llvm::ConstantInt::get(i32, program.states.size()), statesGlobal,
      llvm::ConstantInt::get(i32, program.prepared.size()), preparedGlobal,
      llvm::ConstantInt::get(i64, program.prepareScratchBytes),
      llvm::ConstantInt::get(i64, program.stateCapacity),
      llvm::ConstantInt::get(i64, program.scoreSegments),
      llvm::ConstantInt::get(i32, program.variants.size()), variantsGlobal};
  auto *desc = new llvm::GlobalVariable(
      module, descType, true, llvm::GlobalValue::InternalLinkage,
      llvm::ConstantStruct::get(descType, fields), "txl_model_desc");

  auto *describe = llvm::Function::Create(llvm::FunctionType::get(ptr, false),
                                          llvm::GlobalValue::ExternalLinkage,
                                          "txl_model_describe", module);
  llvm::IRBuilder<> ir(llvm::BasicBlock::Create(ctx, "entry", describe));
  ir.CreateRet(desc);
}

/// Named metadata listing the files the object embeds, one node per file:
/// !{!"<section>", !"<path>", i64 <size>}. emitHostObject copies each file
/// into its section of the object it writes.
constexpr const char *kEmbeddedFilesMetadata = "txl.embedded_files";

/// `const <type> *<function>(uint64_t *size)` returning the bytes of `path`:
/// a section `.lrodata.txl_<name>` (x86-64's large-data section, which the
/// linker places after all other data, so a blob of any size pushes no code
/// or data out of reach; `.rodata.txl_<name>` elsewhere), read-only and
/// `alignment`-aligned, holds the labels txl_<name>_begin and _end around
/// room for the file (`.zero SIZE`: the assembler writes zeros in small
/// pieces, holding none of it), then a NUL byte (so a text file is also a C
/// string; the size excludes it). emitHostObject fills the room with the
/// file. The labels are reached through the GOT, so any distance works (the
/// linker turns that into a direct address when it can).
Status addEmbeddedFile(llvm::Module &module, const std::string &path,
                       const std::string &name, const std::string &function,
                       unsigned alignment) {
  uint64_t size = 0;
  if (std::error_code error = llvm::sys::fs::file_size(path, size))
    return Status::error(path + ": cannot embed: " + error.message());
  bool x86_64 =
      llvm::Triple(module.getTargetTriple()).getArch() == llvm::Triple::x86_64;
  std::string section = (x86_64 ? ".lrodata.txl_" : ".rodata.txl_") + name;
  std::string begin = "txl_" + name + "_begin", end = "txl_" + name + "_end";
  module.appendModuleInlineAsm(
      "\t.pushsection " + section + (x86_64 ? ",\"al\"" : ",\"a\"") +
      ",@progbits\n" + "\t.p2align " +
      std::to_string(llvm::Log2_32(alignment)) + "\n" + begin + ":\n" +
      "\t.zero " + std::to_string(size) + "\n" + end + ":\n" + "\t.byte 0\n" +
      "\t.popsection");

  llvm::LLVMContext &ctx = module.getContext();
  auto *i64 = llvm::Type::getInt64Ty(ctx);
  module.getOrInsertNamedMetadata(kEmbeddedFilesMetadata)
      ->addOperand(llvm::MDNode::get(
          ctx,
          {llvm::MDString::get(ctx, section), llvm::MDString::get(ctx, path),
           llvm::ConstantAsMetadata::get(llvm::ConstantInt::get(i64, size))}));

  auto *ptr = llvm::PointerType::get(ctx, 0);
  auto *bytes = llvm::ArrayType::get(llvm::Type::getInt8Ty(ctx), 0);
  auto declare = [&](const std::string &label) {
    return new llvm::GlobalVariable(module, bytes, true,
                                    llvm::GlobalValue::ExternalLinkage, nullptr,
                                    label);
  };
  llvm::GlobalVariable *first = declare(begin), *last = declare(end);
  auto *get = llvm::Function::Create(llvm::FunctionType::get(ptr, {ptr}, false),
                                     llvm::GlobalValue::ExternalLinkage,
                                     function, module);
  get->getArg(0)->setName("size");
  llvm::IRBuilder<> ir(llvm::BasicBlock::Create(ctx, "entry", get));
  llvm::Value *length = ir.CreateSub(ir.CreatePtrToInt(last, i64),
                                     ir.CreatePtrToInt(first, i64), "bytes");
  ir.CreateStore(length, get->getArg(0));
  ir.CreateRet(first);
  return Status::ok();
}

/// Copies the files of kEmbeddedFilesMetadata into their sections of the
/// ELF object at `object`, streaming (constant memory, whatever their size).
/// A file whose size changed since the module was built is an error.
Status fillEmbeddedFiles(const llvm::Module &module,
                         const std::string &object) {
  const llvm::NamedMDNode *files =
      module.getNamedMetadata(kEmbeddedFilesMetadata);
  if (!files)
    return Status::ok();
  struct Fill {
    std::string section, path;
    uint64_t size = 0, offset = 0;
    bool found = false;
  };
  std::vector<Fill> fills;
  for (const llvm::MDNode *node : files->operands()) {
    Fill fill;
    fill.section = llvm::cast<llvm::MDString>(node->getOperand(0))->getString();
    fill.path = llvm::cast<llvm::MDString>(node->getOperand(1))->getString();
    fill.size = llvm::mdconst::extract<llvm::ConstantInt>(node->getOperand(2))
                    ->getZExtValue();
    fills.push_back(fill);
  }

  // Where the sections are in the file (only the headers are read).
  {
    auto binary = llvm::object::ObjectFile::createObjectFile(object);
    if (!binary)
      return Status::error(
          object + ": cannot read back: " + llvm::toString(binary.takeError()));
    auto *elf =
        llvm::dyn_cast<llvm::object::ELFObjectFileBase>(binary->getBinary());
    if (!elf)
      return Status::error(object + ": embedding files needs an ELF object");
    for (const llvm::object::ELFSectionRef section : elf->sections()) {
      llvm::Expected<llvm::StringRef> name = section.getName();
      if (!name) {
        llvm::consumeError(name.takeError());
        continue;
      }
      for (Fill &fill : fills)
        if (*name == fill.section && section.getSize() == fill.size + 1) {
          fill.offset = section.getOffset();
          fill.found = true;
        }
    }
  }

  std::vector<char> buffer(size_t(1) << 20);
  for (const Fill &fill : fills) {
    if (!fill.found)
      return Status::error(object + ": internal error: no section " +
                           fill.section + " of " + std::to_string(fill.size) +
                           " bytes for " + fill.path);
    std::ifstream in(fill.path, std::ios::binary);
    if (!in)
      return Status::error(fill.path + ": cannot read the file to embed");
    std::fstream out(object, std::ios::binary | std::ios::in | std::ios::out);
    out.seekp(std::streamoff(fill.offset));
    for (uint64_t left = fill.size; left > 0;) {
      size_t chunk = size_t(std::min<uint64_t>(left, buffer.size()));
      in.read(buffer.data(), std::streamsize(chunk));
      if (size_t(in.gcount()) != chunk)
        return Status::error(fill.path +
                             ": changed while compiling: now "
                             "shorter than the " +
                             std::to_string(fill.size) + " bytes it had");
      out.write(buffer.data(), std::streamsize(chunk));
      left -= chunk;
    }
    if (in.peek() != std::ifstream::traits_type::eof())
      return Status::error(fill.path +
                           ": changed while compiling: now "
                           "longer than the " +
                           std::to_string(fill.size) + " bytes it had");
    out.flush();
    if (!out)
      return Status::error(object + ": write failed");
  }
  return Status::ok();
}

/// `void txl_model_set_error_handler(txl_model_error_handler)`: forwards to
/// the Halide runtime linked into the model, whose errors (from every
/// kernel) then reach the handler instead of aborting the process. NULL
/// restores Halide's default (the runtime itself would call a NULL handler).
void addSetErrorHandler(llvm::Module &module) {
  llvm::LLVMContext &ctx = module.getContext();
  auto *ptr = llvm::PointerType::get(ctx, 0);
  llvm::FunctionCallee halide = module.getOrInsertFunction(
      "halide_set_error_handler", llvm::FunctionType::get(ptr, {ptr}, false));
  llvm::FunctionCallee halideDefault = module.getOrInsertFunction(
      "halide_default_error",
      llvm::FunctionType::get(llvm::Type::getVoidTy(ctx), {ptr, ptr}, false));
  auto *set = llvm::Function::Create(
      llvm::FunctionType::get(llvm::Type::getVoidTy(ctx), {ptr}, false),
      llvm::GlobalValue::ExternalLinkage, "txl_model_set_error_handler",
      module);
  llvm::Argument *handler = set->getArg(0);
  handler->setName("handler");
  llvm::IRBuilder<> ir(llvm::BasicBlock::Create(ctx, "entry", set));
  llvm::Value *none = ir.CreateIsNull(handler, "none");
  ir.CreateCall(halide, {ir.CreateSelect(none, halideDefault.getCallee(),
                                         handler, "installed")});
  ir.CreateRetVoid();
}

/// `int32_t txl_serial_do_par_for(user_context, task, min, size, closure)`:
/// Halide's `halide_do_par_for` as a plain loop on the calling thread.
/// Halide's own, even with a pool of one thread, takes the work queue's mutex
/// around every task it hands out (~1% of a wt103-base segment at 1 thread,
/// where the attention runs one task per head and the GEMMs one per tile).
llvm::Function *addSerialParFor(llvm::Module &module) {
  llvm::LLVMContext &ctx = module.getContext();
  auto *i32 = llvm::Type::getInt32Ty(ctx);
  auto *ptr = llvm::PointerType::get(ctx, 0);
  auto *taskType = llvm::FunctionType::get(i32, {ptr, i32, ptr}, false);
  auto *serial = llvm::Function::Create(
      llvm::FunctionType::get(i32, {ptr, ptr, i32, i32, ptr}, false),
      llvm::GlobalValue::InternalLinkage, "txl_serial_do_par_for", module);
  llvm::Argument *userContext = serial->getArg(0), *task = serial->getArg(1),
                 *min = serial->getArg(2), *size = serial->getArg(3),
                 *closure = serial->getArg(4);
  auto *entry = llvm::BasicBlock::Create(ctx, "entry", serial);
  auto *loop = llvm::BasicBlock::Create(ctx, "loop", serial);
  auto *next = llvm::BasicBlock::Create(ctx, "next", serial);
  auto *done = llvm::BasicBlock::Create(ctx, "done", serial);
  llvm::IRBuilder<> ir(entry);
  llvm::Value *end = ir.CreateAdd(min, size, "end");
  ir.CreateCondBr(ir.CreateICmpSLT(min, end), loop, done);
  ir.SetInsertPoint(loop);
  llvm::PHINode *i = ir.CreatePHI(i32, 2, "i");
  i->addIncoming(min, entry);
  // A task's non-zero result is an error: stop there and return it, as
  // Halide's does.
  llvm::Value *result =
      ir.CreateCall(taskType, task, {userContext, i, closure}, "result");
  ir.CreateCondBr(ir.CreateICmpNE(result, ir.getInt32(0)), done, next);
  ir.SetInsertPoint(next);
  llvm::Value *following = ir.CreateAdd(i, ir.getInt32(1), "following");
  i->addIncoming(following, next);
  ir.CreateCondBr(ir.CreateICmpSLT(following, end), loop, done);
  ir.SetInsertPoint(done);
  llvm::PHINode *status = ir.CreatePHI(i32, 3, "status");
  status->addIncoming(ir.getInt32(0), entry);
  status->addIncoming(result, loop);
  status->addIncoming(ir.getInt32(0), next);
  ir.CreateRet(status);
  return serial;
}

/// `int32_t txl_model_set_num_threads(int32_t n)`: forwards to the Halide
/// runtime's thread pool (n <= 0: Halide's default, one thread per core).
/// With n = 1 the parallel loops run as plain loops on the calling thread
/// (txl_serial_do_par_for); any other n gives them back to the pool.
void addSetNumThreads(llvm::Module &module) {
  llvm::LLVMContext &ctx = module.getContext();
  auto *i32 = llvm::Type::getInt32Ty(ctx);
  auto *ptr = llvm::PointerType::get(ctx, 0);
  llvm::FunctionCallee halide = module.getOrInsertFunction(
      "halide_set_num_threads", llvm::FunctionType::get(i32, {i32}, false));
  llvm::FunctionCallee setParFor =
      module.getOrInsertFunction("halide_set_custom_do_par_for",
                                 llvm::FunctionType::get(ptr, {ptr}, false));
  llvm::FunctionCallee halideParFor = module.getOrInsertFunction(
      "halide_default_do_par_for",
      llvm::FunctionType::get(i32, {ptr, ptr, i32, i32, ptr}, false));
  llvm::Function *serial = addSerialParFor(module);
  auto *set = llvm::Function::Create(llvm::FunctionType::get(i32, {i32}, false),
                                     llvm::GlobalValue::ExternalLinkage,
                                     "txl_model_set_num_threads", module);
  llvm::Argument *n = set->getArg(0);
  n->setName("n");
  llvm::IRBuilder<> ir(llvm::BasicBlock::Create(ctx, "entry", set));
  llvm::Value *one = ir.CreateICmpEQ(n, ir.getInt32(1), "one");
  ir.CreateCall(
      setParFor,
      {ir.CreateSelect(one, serial, halideParFor.getCallee(), "do_par_for")});
  // Halide takes 0 for "its default".
  llvm::Value *positive = ir.CreateICmpSGT(n, ir.getInt32(0));
  ir.CreateRet(ir.CreateCall(
      halide, {ir.CreateSelect(positive, n, ir.getInt32(0), "threads")}));
}

StatusOr<llvm::TargetMachine *> hostTargetMachine() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    // Module-level assembly (embedded files) goes through the assembler.
    llvm::InitializeNativeTargetAsmParser();
  });
  std::string triple = llvm::sys::getDefaultTargetTriple();
  std::string error;
  const llvm::Target *target =
      llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return Status::error("no LLVM target for the host (" + triple +
                         "): " + error);
  static llvm::TargetMachine *machine = target->createTargetMachine(
      triple, "generic", "", llvm::TargetOptions(), llvm::Reloc::PIC_);
  if (!machine)
    return Status::error("cannot create an LLVM target machine for " + triple);
  return machine;
}

} // namespace

void registerHostCodegenDialects(mlir::DialectRegistry &registry) {
  registry.insert<mlir::LLVM::LLVMDialect>();
  mlir::registerBuiltinDialectTranslation(registry);
  mlir::registerLLVMDialectTranslation(registry);
}

mlir::OwningOpRef<mlir::ModuleOp>
buildHostStepModule(mlir::MLIRContext &context, const StepProgram &program,
                    bool deviceKernels) {
  mlir::DialectRegistry registry;
  registerHostCodegenDialects(registry);
  context.appendDialectRegistry(registry);
  context.loadDialect<mlir::LLVM::LLVMDialect>();
  return StepBuilder(context, program, deviceKernels).build();
}

StatusOr<std::unique_ptr<llvm::Module>>
buildHostLLVMModule(mlir::MLIRContext &context, llvm::LLVMContext &llvmContext,
                    const StepProgram &program,
                    const ModelDescription &description) {
  std::string gpuApi = gpuApiOfTarget(description.target);
  mlir::OwningOpRef<mlir::ModuleOp> step =
      buildHostStepModule(context, program, !gpuApi.empty());
  if (mlir::failed(mlir::verify(*step)))
    return Status::error("internal error: the host step does not verify");
  std::unique_ptr<llvm::Module> module =
      mlir::translateModuleToLLVMIR(*step, llvmContext, "txl_model");
  if (!module)
    return Status::error("internal error: the host step does not translate "
                         "to LLVM IR");
  auto machine = hostTargetMachine();
  if (!machine.ok())
    return machine.status();
  module->setTargetTriple((*machine)->getTargetTriple().str());
  module->setDataLayout((*machine)->createDataLayout());
  addDescribe(*module, program, description);
  addSetErrorHandler(*module);
  addSetNumThreads(*module);
  if (!gpuApi.empty()) {
    addDeviceSync(*module);
    addDeviceMirror(*module, gpuApi);
    addReleaseDevice(*module);
    addDeviceLibraryLookup(*module, gpuApi);
  }
  if (!description.embeddedWeightsPath.empty()) {
    Status status =
        addEmbeddedFile(*module, description.embeddedWeightsPath,
                        "embedded_weights", "txl_model_embedded_weights", 64);
    if (!status.isOk())
      return status;
  }
  if (!description.vocabularyPath.empty()) {
    Status status = addEmbeddedFile(*module, description.vocabularyPath,
                                    "vocabulary", "txl_model_vocabulary", 1);
    if (!status.isOk())
      return status;
  }
  std::string problems;
  llvm::raw_string_ostream os(problems);
  if (llvm::verifyModule(*module, &os))
    return Status::error("internal error: the host module is invalid: " +
                         problems);
  return module;
}

Status emitHostObject(llvm::Module &module, const std::string &path,
                      bool assembly) {
  auto machine = hostTargetMachine();
  if (!machine.ok())
    return machine.status();
  // The assembler's errors (in module-level assembly) become the result;
  // LLVM would otherwise print them and exit.
  struct Diagnostics {
    std::string errors;
    static void handle(const llvm::DiagnosticInfo *info, void *context) {
      if (info->getSeverity() != llvm::DS_Error)
        return;
      std::string text;
      llvm::raw_string_ostream os(text);
      llvm::DiagnosticPrinterRawOStream printer(os);
      info->print(printer);
      auto &errors = static_cast<Diagnostics *>(context)->errors;
      errors += (errors.empty() ? "" : "\n") + text;
    }
  } diagnostics;
  llvm::LLVMContext &ctx = module.getContext();
  auto previousHandler = ctx.getDiagnosticHandlerCallBack();
  void *previousContext = ctx.getDiagnosticContext();
  ctx.setDiagnosticHandlerCallBack(&Diagnostics::handle, &diagnostics);
  auto restore = llvm::make_scope_exit([&] {
    ctx.setDiagnosticHandlerCallBack(previousHandler, previousContext);
  });

  std::string temporary = path + ".tmp";
  {
    std::error_code error;
    llvm::raw_fd_ostream out(temporary, error, llvm::sys::fs::OF_None);
    if (error)
      return Status::error(temporary + ": cannot write: " + error.message());
    llvm::legacy::PassManager passes;
    if ((*machine)->addPassesToEmitFile(
            passes, out, nullptr,
            assembly ? llvm::CodeGenFileType::AssemblyFile
                     : llvm::CodeGenFileType::ObjectFile))
      return Status::error("LLVM cannot emit an object for the host");
    passes.run(module);
    out.flush();
    if (!diagnostics.errors.empty()) {
      out.clear_error();
      std::remove(temporary.c_str());
      return Status::error(path + ": " + diagnostics.errors);
    }
    if (out.has_error()) {
      out.clear_error();
      std::remove(temporary.c_str());
      return Status::error(temporary + ": write failed");
    }
  }
  if (!assembly) {
    Status status = fillEmbeddedFiles(module, temporary);
    if (!status.isOk()) {
      std::remove(temporary.c_str());
      return status;
    }
  }
  if (std::error_code error = llvm::sys::fs::rename(temporary, path)) {
    std::remove(temporary.c_str());
    return Status::error(path + ": cannot write: " + error.message());
  }
  return Status::ok();
}

} // namespace txl::codegen::host
