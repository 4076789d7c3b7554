//===- HostCodegen.cpp - txl_model_step as LLVM dialect, then an object ---===//

#include "txl/codegen/host/HostCodegen.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"

#include "llvm/IR/Constants.h"
#include "llvm/IR/DerivedTypes.h"
#include "llvm/IR/GlobalVariable.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/IR/Verifier.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"
#include "llvm/TargetParser/Host.h"

#include <cstdio>
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

class StepBuilder {
public:
  StepBuilder(mlir::MLIRContext &context, const StepProgram &program)
      : context(context), program(program), builder(&context),
        loc(mlir::UnknownLoc::get(&context)) {
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
    declareKernels();
    defineConstants();
    buildStep();
    return std::move(module);
  }

private:
  mlir::Value constant(mlir::Type type, int64_t value) {
    return builder.create<LLVM::ConstantOp>(
        loc, type, builder.getIntegerAttr(type, value));
  }

  void declareKernels() {
    for (const KernelCall &call : program.calls) {
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

  /// A constant global with the halide_dimension_t array of a shape.
  mlir::Value dimensions(const std::vector<int64_t> &shape) {
    std::string name = "txl_dims";
    for (int64_t size : shape)
      name += "_" + std::to_string(size);
    if (!dimGlobals.count(name)) {
      std::vector<int32_t> fields;
      int64_t stride = 1;
      for (size_t d = shape.size(); d-- > 0;) {
        fields.push_back(0);                              // min
        fields.push_back(static_cast<int32_t>(shape[d])); // extent
        fields.push_back(static_cast<int32_t>(stride));   // stride
        fields.push_back(0);                              // flags
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
    case Place::Kind::Window:
      return byteOffset(loadPointer(memoriesArg, place.index),
                        place.byteOffset);
    case Place::Kind::Hidden:
      return byteOffset(hiddenArg, place.byteOffset);
    case Place::Kind::LogProbs:
      return byteOffset(logProbsArg, place.byteOffset);
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
  mlir::Value fillBuffer(int64_t slot, const TensorView &view) {
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
    builder.create<LLVM::StoreOp>(loc, zero64, field(kFlags));
    int64_t type = view.typeCode | (view.typeBits << 8) | (1 << 16);
    builder.create<LLVM::StoreOp>(loc, constant(i32, type), field(kType));
    builder.create<LLVM::StoreOp>(
        loc, constant(i32, static_cast<int64_t>(view.shape.size())),
        field(kDimensions));
    builder.create<LLVM::StoreOp>(
        loc, view.shape.empty() ? null : dimensions(view.shape), field(kDim));
    builder.create<LLVM::StoreOp>(loc, null, field(kPadding));
    return buffer;
  }

  void buildStep() {
    // int32_t txl_model_step(const float *const *weights,
    //     const int64_t *tokens, int64_t n, int64_t memory_rows,
    //     float *const *memories, float *hidden, float *log_probs,
    //     void *scratch)
    auto type = LLVM::LLVMFunctionType::get(
        i32, {ptrType, ptrType, i64, i64, ptrType, ptrType, ptrType, ptrType});
    auto func = builder.create<LLVM::LLVMFuncOp>(loc, "txl_model_step", type);
    mlir::Block *entry = func.addEntryBlock(builder);
    weightsArg = entry->getArgument(0);
    tokensArg = entry->getArgument(1);
    mlir::Value nArg = entry->getArgument(2);
    mlir::Value memoryRowsArg = entry->getArgument(3);
    memoriesArg = entry->getArgument(4);
    hiddenArg = entry->getArgument(5);
    logProbsArg = entry->getArgument(6);
    scratchArg = entry->getArgument(7);

    // The failure exit: returns the kernel's status.
    mlir::Block *failure = new mlir::Block();
    failure->addArgument(i32, loc);

    builder.setInsertionPointToStart(entry);
    size_t maxBuffers = 1;
    for (const KernelCall &call : program.calls)
      maxBuffers =
          std::max(maxBuffers, call.arguments.size() + call.results.size());
    buffers = builder.create<LLVM::AllocaOp>(
        loc, ptrType, bufferType,
        constant(i64, static_cast<int64_t>(maxBuffers)), /*alignment=*/8);
    mlir::Value null = builder.create<LLVM::ZeroOp>(loc, ptrType);
    mlir::Value hasLogProbs = builder.create<LLVM::ICmpOp>(
        loc, LLVM::ICmpPredicate::ne, logProbsArg, null);
    mlir::Value zero32 = constant(i32, 0);

    for (const KernelCall &call : program.calls) {
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
      llvm::SmallVector<mlir::Value> operands;
      int64_t slot = 0;
      for (const CallArgument &argument : call.arguments) {
        switch (argument.kind) {
        case CallArgument::Kind::Tensor:
          operands.push_back(fillBuffer(slot++, argument.tensor));
          break;
        case CallArgument::Kind::SegmentLength:
          operands.push_back(nArg);
          break;
        case CallArgument::Kind::MemoryRows:
          operands.push_back(memoryRowsArg);
          break;
        }
      }
      for (const TensorView &result : call.results)
        operands.push_back(fillBuffer(slot++, result));
      auto status = builder.create<LLVM::CallOp>(
          loc, mlir::TypeRange{i32},
          mlir::FlatSymbolRefAttr::get(&context, call.symbol), operands);
      mlir::Value failed = builder.create<LLVM::ICmpOp>(
          loc, LLVM::ICmpPredicate::ne, status.getResult(), zero32);
      builder.create<LLVM::CondBrOp>(loc, failed, failure,
                                     mlir::ValueRange{status.getResult()}, next,
                                     mlir::ValueRange{});
      builder.setInsertionPointToStart(next);
    }

    for (const FinalCopy &copy : program.copies) {
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
    builder.create<LLVM::ReturnOp>(loc, zero32);

    func.getBody().push_back(failure);
    builder.setInsertionPointToStart(failure);
    builder.create<LLVM::ReturnOp>(loc, failure->getArgument(0));
  }

  mlir::MLIRContext &context;
  const StepProgram &program;
  mlir::OpBuilder builder;
  mlir::Location loc;
  mlir::OwningOpRef<mlir::ModuleOp> module;
  mlir::Type ptrType, i8, i32, i64;
  LLVM::LLVMStructType bufferType;
  std::set<std::string> declared, dimGlobals;
  mlir::Value weightsArg, tokensArg, memoriesArg, hiddenArg, logProbsArg,
      scratchArg, buffers;
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

/// `const txl_model_desc *txl_model_describe(void)` and its constant.
void addDescribe(llvm::Module &module, const StepProgram &program,
                 const ModelDescription &description) {
  llvm::LLVMContext &ctx = module.getContext();
  auto *ptr = llvm::PointerType::get(ctx, 0);
  auto *i32 = llvm::Type::getInt32Ty(ctx);
  auto *i64 = llvm::Type::getInt64Ty(ctx);

  // txl_weight_desc {const char *name; int32_t rank; const int64_t *shape;}
  auto *weightType = llvm::StructType::get(ctx, {ptr, i32, ptr});
  std::vector<llvm::Constant *> weights;
  for (size_t i = 0; i < program.weights.size(); ++i) {
    const WeightEntry &weight = program.weights[i];
    std::vector<uint64_t> shape(weight.shape.begin(), weight.shape.end());
    llvm::Constant *shapeData = llvm::ConstantDataArray::get(ctx, shape);
    auto *shapeGlobal = new llvm::GlobalVariable(
        module, shapeData->getType(), true, llvm::GlobalValue::PrivateLinkage,
        shapeData, "txl_weight_shape_" + std::to_string(i));
    weights.push_back(llvm::ConstantStruct::get(
        weightType,
        {cString(module, weight.name, "txl_weight_name_" + std::to_string(i)),
         llvm::ConstantInt::get(i32, weight.shape.size()), shapeGlobal}));
  }
  auto *weightsArrayType = llvm::ArrayType::get(weightType, weights.size());
  auto *weightsGlobal = new llvm::GlobalVariable(
      module, weightsArrayType, true, llvm::GlobalValue::PrivateLinkage,
      llvm::ConstantArray::get(weightsArrayType, weights), "txl_weights");

  // txl_model_desc, field by field (ModelABI.h).
  auto *descType = llvm::StructType::create(
      ctx, {i32, ptr, ptr, i64, i64, i64, i64, i64, i64, i32, ptr, i64},
      "struct.txl_model_desc");
  llvm::Constant *fields[] = {
      llvm::ConstantInt::get(i32, 1), // TXL_MODEL_ABI_VERSION
      cString(module, description.target, "txl_target"),
      cString(module, description.configJson, "txl_config_json"),
      llvm::ConstantInt::get(i64, program.batch),
      llvm::ConstantInt::get(i64, program.tgtLen),
      llvm::ConstantInt::get(i64, program.memLen),
      llvm::ConstantInt::get(i64, program.numLayers),
      llvm::ConstantInt::get(i64, program.dModel),
      llvm::ConstantInt::get(i64, program.vocabSize),
      llvm::ConstantInt::get(i32, program.weights.size()),
      weightsGlobal,
      llvm::ConstantInt::get(i64, program.scratchBytes)};
  auto *desc = new llvm::GlobalVariable(
      module, descType, true, llvm::GlobalValue::InternalLinkage,
      llvm::ConstantStruct::get(descType, fields), "txl_model_desc");

  auto *describe = llvm::Function::Create(llvm::FunctionType::get(ptr, false),
                                          llvm::GlobalValue::ExternalLinkage,
                                          "txl_model_describe", module);
  llvm::IRBuilder<> ir(llvm::BasicBlock::Create(ctx, "entry", describe));
  ir.CreateRet(desc);
}

StatusOr<llvm::TargetMachine *> hostTargetMachine() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
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
buildHostStepModule(mlir::MLIRContext &context, const StepProgram &program) {
  mlir::DialectRegistry registry;
  registerHostCodegenDialects(registry);
  context.appendDialectRegistry(registry);
  context.loadDialect<mlir::LLVM::LLVMDialect>();
  return StepBuilder(context, program).build();
}

StatusOr<std::unique_ptr<llvm::Module>>
buildHostLLVMModule(mlir::MLIRContext &context, llvm::LLVMContext &llvmContext,
                    const StepProgram &program,
                    const ModelDescription &description) {
  mlir::OwningOpRef<mlir::ModuleOp> step =
      buildHostStepModule(context, program);
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
    if (out.has_error()) {
      out.clear_error();
      std::remove(temporary.c_str());
      return Status::error(temporary + ": write failed");
    }
  }
  if (std::error_code error = llvm::sys::fs::rename(temporary, path)) {
    std::remove(temporary.c_str());
    return Status::error(path + ": cannot write: " + error.message());
  }
  return Status::ok();
}

} // namespace txl::codegen::host
