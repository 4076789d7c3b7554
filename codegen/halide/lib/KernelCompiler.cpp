//===- KernelCompiler.cpp - kernels to objects, the runtime, and a JIT ----===//
//
// The only place Halide compiles anything. Every call into Halide is wrapped:
// Halide reports errors by throwing, and no exception leaves this library.
//
//===----------------------------------------------------------------------===//

#include "txl/codegen/halide/KernelCompiler.h"

#include "txl/Dialect/AttrNames.h"
#include "txl/codegen/halide/KernelTranslator.h"
#include "txl/target/TargetInfo.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectRegistry.h"

#include <chrono>
#include <cstring>
#include <map>

namespace txl::codegen::halide {
namespace {

std::string shapeText(const std::vector<int64_t> &shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    text += (i ? "," : "") + std::to_string(shape[i]);
  return text + "]";
}

/// The bytes of a host tensor's data.
const void *dataOf(const HostTensor &tensor) {
  switch (tensor.element) {
  case ElementKind::F32:
    return tensor.f32.data();
  case ElementKind::I64:
    return tensor.i64.data();
  case ElementKind::I32:
    return tensor.i32.data();
  }
  return nullptr;
}

size_t storedElements(const HostTensor &tensor) {
  switch (tensor.element) {
  case ElementKind::F32:
    return tensor.f32.size();
  case ElementKind::I64:
    return tensor.i64.size();
  case ElementKind::I32:
    return tensor.i32.size();
  }
  return 0;
}

/// A dense Halide buffer of a row-major shape (dimensions reversed).
Halide::Buffer<> makeBuffer(ElementKind element,
                            const std::vector<int64_t> &shape) {
  std::vector<int> sizes(shape.rbegin(), shape.rend());
  return Halide::Buffer<>(halideTypeOf(element), sizes);
}

bool isCIdentifier(const std::string &name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0])))
    return false;
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_')
      return false;
  return true;
}

} // namespace

const char *elementKindName(ElementKind kind) {
  switch (kind) {
  case ElementKind::F32:
    return "f32";
  case ElementKind::I64:
    return "i64";
  case ElementKind::I32:
    return "i32";
  }
  return "?";
}

std::string KernelSignature::cPrototype() const {
  std::string text = "int " + name + "(";
  bool first = true;
  auto add = [&](const KernelValueInfo &value) {
    text += first ? "" : ", ";
    first = false;
    if (value.kind == KernelValueInfo::Kind::Scalar)
      text += "int64_t " + value.name;
    else
      text += "struct halide_buffer_t *" + value.name;
  };
  for (const KernelValueInfo &argument : arguments)
    add(argument);
  for (const KernelValueInfo &result : results)
    add(result);
  return text + ");";
}

StatusOr<KernelSignature> kernelSignature(mlir::func::FuncOp kernel) {
  StatusOr<TranslatedKernel> translated = translateKernel(kernel, {});
  if (!translated.ok())
    return translated.status();
  return translated->signature;
}

HostTensor HostTensor::ofF32(std::vector<int64_t> shape,
                             std::vector<float> data) {
  HostTensor tensor;
  tensor.element = ElementKind::F32;
  tensor.shape = std::move(shape);
  tensor.f32 = std::move(data);
  return tensor;
}

HostTensor HostTensor::ofI64(std::vector<int64_t> shape,
                             std::vector<int64_t> data) {
  HostTensor tensor;
  tensor.element = ElementKind::I64;
  tensor.shape = std::move(shape);
  tensor.i64 = std::move(data);
  return tensor;
}

HostTensor HostTensor::ofI32(std::vector<int64_t> shape,
                             std::vector<int32_t> data) {
  HostTensor tensor;
  tensor.element = ElementKind::I32;
  tensor.shape = std::move(shape);
  tensor.i32 = std::move(data);
  return tensor;
}

int64_t HostTensor::numElements() const {
  int64_t count = 1;
  for (int64_t extent : shape)
    count *= extent;
  return count;
}

Status checkPlannedTarget(const std::string &planned,
                          const std::string &target) {
  StatusOr<txl::target::TargetInfo> scheduled =
      txl::target::parseTarget(planned);
  if (!scheduled.ok())
    return Status::error(std::string(attr::kTarget) + " '" + planned +
                         "': " + scheduled.status().message());
  StatusOr<txl::target::TargetInfo> compiled = txl::target::parseTarget(target);
  if (!compiled.ok())
    return compiled.status();
  return txl::target::checkScheduleTarget(*scheduled, *compiled);
}

StatusOr<CompiledKernel> compileKernel(mlir::func::FuncOp kernel,
                                       const std::string &target,
                                       const std::string &outputBase,
                                       const KernelArtifacts &artifacts,
                                       const CodegenOptions &options) {
  std::string name = kernel.getSymName().str();
  if (!isCIdentifier(name))
    return Status::error("kernel '" + name +
                         "': its symbol name must be a C identifier to be "
                         "the compiled function's name");
  StatusOr<Halide::Target> halideTarget =
      parseHalideTarget(target, {Halide::Target::NoRuntime});
  if (!halideTarget.ok())
    return halideTarget.status();
  // A schedule is planned for one target's vectors and registers (txl-tile
  // records which): compiled for another it would run slowly or not at all.
  if (auto planned = kernel->getAttrOfType<mlir::StringAttr>(attr::kTarget)) {
    Status status = checkPlannedTarget(planned.str(), target);
    if (!status.isOk())
      return Status::error("kernel '" + name + "': " + status.message());
  }
  StatusOr<TranslatedKernel> built =
      buildScheduledKernel(kernel, *halideTarget, options);
  if (!built.ok())
    return built.status();

  CompiledKernel compiled;
  compiled.signature = built->signature;
  std::map<Halide::OutputFileType, std::string> files;
  compiled.objectPath = outputBase + ".o";
  files[Halide::OutputFileType::object] = compiled.objectPath;
  if (artifacts.stmt) {
    compiled.stmtPath = outputBase + ".stmt";
    files[Halide::OutputFileType::stmt] = compiled.stmtPath;
  }
  if (artifacts.assembly) {
    compiled.assemblyPath = outputBase + ".s";
    files[Halide::OutputFileType::assembly] = compiled.assemblyPath;
  }
  if (artifacts.cHeader) {
    compiled.headerPath = outputBase + ".h";
    files[Halide::OutputFileType::c_header] = compiled.headerPath;
  }
  auto start = std::chrono::steady_clock::now();
  try {
    built->pipeline().compile_to(files, built->arguments, name, *halideTarget);
  } catch (const Halide::Error &e) {
    return Status::error("kernel '" + name +
                         "': Halide failed to compile it "
                         "for " +
                         target + ": " + e.what());
  } catch (const std::exception &e) {
    return Status::error("kernel '" + name + "': compiling for " + target +
                         " failed: " + e.what());
  }
  compiled.compileSeconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  return compiled;
}

Status compileHalideRuntime(const std::string &target,
                            const std::string &objectPath) {
  StatusOr<Halide::Target> halideTarget = parseHalideTarget(target);
  if (!halideTarget.ok())
    return halideTarget.status();
  try {
    Halide::compile_standalone_runtime(objectPath, *halideTarget);
  } catch (const std::exception &e) {
    return Status::error("compiling Halide's runtime for " + target +
                         " failed: " + e.what());
  }
  return Status::ok();
}

StatusOr<std::vector<HostTensor>> jitRun(mlir::func::FuncOp kernel,
                                         const std::vector<HostTensor> &inputs,
                                         const std::vector<int64_t> &scalars,
                                         const CodegenOptions &options) {
  std::string name = kernel.getSymName().str();
  try {
    Halide::Target target = Halide::get_jit_target_from_environment();
    StatusOr<TranslatedKernel> built =
        buildScheduledKernel(kernel, target, options);
    if (!built.ok())
      return built.status();
    if (inputs.size() != built->images.size() ||
        scalars.size() != built->scalars.size())
      return Status::error("kernel '" + name + "' takes " +
                           std::to_string(built->images.size()) +
                           " tensors and " +
                           std::to_string(built->scalars.size()) +
                           " scalars; got " + std::to_string(inputs.size()) +
                           " and " + std::to_string(scalars.size()));

    size_t tensorIndex = 0, scalarIndex = 0;
    for (const KernelValueInfo &argument : built->signature.arguments) {
      if (argument.kind == KernelValueInfo::Kind::Scalar) {
        built->scalars[scalarIndex].set(scalars[scalarIndex]);
        ++scalarIndex;
        continue;
      }
      const HostTensor &input = inputs[tensorIndex];
      std::string what =
          "kernel '" + name + "': tensor input #" + std::to_string(tensorIndex);
      if (input.element != argument.element || input.shape != argument.shape)
        return Status::error(what + " is " + elementKindName(input.element) +
                             shapeText(input.shape) + "; expected " +
                             elementKindName(argument.element) +
                             shapeText(argument.shape));
      if (static_cast<int64_t>(storedElements(input)) != input.numElements())
        return Status::error(what + " holds " +
                             std::to_string(storedElements(input)) +
                             " elements for shape " + shapeText(input.shape));
      Halide::Buffer<> buffer = makeBuffer(input.element, input.shape);
      std::memcpy(buffer.data(), dataOf(input), buffer.size_in_bytes());
      built->images[tensorIndex].set(buffer);
      ++tensorIndex;
    }

    std::vector<Halide::Buffer<>> buffers;
    for (const KernelValueInfo &result : built->signature.results)
      buffers.push_back(makeBuffer(result.element, result.shape));
    Halide::Realization realization(buffers);
    built->pipeline().realize(realization, target);

    std::vector<HostTensor> outputs;
    for (size_t k = 0; k < buffers.size(); ++k) {
      const KernelValueInfo &result = built->signature.results[k];
      HostTensor output;
      output.element = result.element;
      output.shape = result.shape;
      size_t count = static_cast<size_t>(output.numElements());
      switch (result.element) {
      case ElementKind::F32:
        output.f32.resize(count);
        break;
      case ElementKind::I64:
        output.i64.resize(count);
        break;
      case ElementKind::I32:
        output.i32.resize(count);
        break;
      }
      std::memcpy(const_cast<void *>(dataOf(output)), buffers[k].data(),
                  buffers[k].size_in_bytes());
      outputs.push_back(std::move(output));
    }
    return outputs;
  } catch (const Halide::Error &e) {
    return Status::error("kernel '" + name + "': JIT run failed: " + e.what());
  } catch (const std::exception &e) {
    return Status::error("kernel '" + name + "': JIT run failed: " + e.what());
  }
}

void registerKernelDialects(mlir::DialectRegistry &registry) {
  registry.insert<mlir::arith::ArithDialect, mlir::func::FuncDialect,
                  mlir::linalg::LinalgDialect, mlir::math::MathDialect,
                  mlir::tensor::TensorDialect>();
}

} // namespace txl::codegen::halide
