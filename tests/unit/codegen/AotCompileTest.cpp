//===- AotCompileTest.cpp - kernels compiled ahead of time, linked, run ---===//
//
// Compiles kernels for host, AVX-512 and CUDA, checks the artifacts, and for
// the host target links the objects with Halide's runtime into a shared
// library and calls the kernels through the documented C ABI.
//
//===----------------------------------------------------------------------===//

#include "KernelTestSupport.h"
#include "Kernels.h"

#include "HalideRuntime.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

namespace txl::codegen::halide::test {
namespace {

namespace fs = std::filesystem;

/// A fresh directory for one test's files.
fs::path scratchDirectory(const std::string &name) {
  fs::path dir = fs::temp_directory_path() /
                 ("txl-codegen-" + std::to_string(::getpid()) + "-" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::string readFile(const fs::path &path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

/// Output of a shell command (stdout), and whether it succeeded.
std::pair<bool, std::string> shell(const std::string &command) {
  std::string output;
  FILE *pipe = ::popen(command.c_str(), "r");
  if (!pipe)
    return {false, ""};
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0)
    output.append(buffer, n);
  return {::pclose(pipe) == 0, output};
}

/// `nm` says `object` defines the function `symbol` (strong or weak: the
/// runtime's are weak, so that users may override them).
bool definesSymbol(const fs::path &object, const std::string &symbol) {
  auto [ok, out] = shell(std::string(TXL_NM_PROGRAM) + " -g --defined-only " +
                         object.string());
  return ok && (out.find(" T " + symbol + "\n") != std::string::npos ||
                out.find(" W " + symbol + "\n") != std::string::npos);
}

TEST(HalideAot, HostObjectStmtAssemblyAndHeader) {
  fs::path dir = scratchDirectory("host");
  ParsedKernel parsed = parseKernel(matmulBiasKernel(2, 5, 40, 24));
  KernelArtifacts artifacts;
  artifacts.stmt = artifacts.assembly = artifacts.cHeader = true;
  StatusOr<CompiledKernel> compiled = compileKernel(
      parsed.kernel(), "host", (dir / "proj").string(), artifacts);
  ASSERT_TRUE(compiled.ok()) << compiled.status().message();
  std::cout << "host compile: " << compiled->compileSeconds << " s\n";
  for (const std::string &path :
       {compiled->objectPath, compiled->stmtPath, compiled->assemblyPath,
        compiled->headerPath}) {
    ASSERT_TRUE(fs::exists(path)) << path;
    EXPECT_GT(fs::file_size(path), 0u) << path;
  }
  EXPECT_EQ(compiled->objectPath, (dir / "proj.o").string());
  EXPECT_TRUE(definesSymbol(compiled->objectPath, "proj"));
  // The runtime is not in the kernel's object.
  EXPECT_FALSE(definesSymbol(compiled->objectPath, "halide_do_par_for"));
  EXPECT_NE(readFile(compiled->stmtPath).find("produce proj"),
            std::string::npos);
  EXPECT_NE(readFile(compiled->headerPath).find("int proj("),
            std::string::npos);
  const KernelSignature &signature = compiled->signature;
  EXPECT_EQ(signature.name, "proj");
  ASSERT_EQ(signature.arguments.size(), 3u);
  ASSERT_EQ(signature.results.size(), 1u);
  EXPECT_EQ(signature.results[0].shape, (std::vector<int64_t>{2, 5, 40}));
  EXPECT_EQ(signature.cPrototype().rfind("int proj(struct halide_buffer_t "
                                         "*arg0, struct halide_buffer_t *arg1, "
                                         "struct halide_buffer_t *arg2, struct "
                                         "halide_buffer_t *",
                                         0),
            0u)
      << signature.cPrototype();
  fs::remove_all(dir);
}

TEST(HalideAot, Avx512Object) {
  fs::path dir = scratchDirectory("avx512");
  ParsedKernel parsed = parseKernel(maskedSoftmaxKernel(41, 410));
  KernelArtifacts artifacts;
  artifacts.assembly = true;
  StatusOr<CompiledKernel> compiled =
      compileKernel(parsed.kernel(), "x86-64-linux-avx512",
                    (dir / "softmax").string(), artifacts);
  ASSERT_TRUE(compiled.ok()) << compiled.status().message();
  std::cout << "avx512 compile: " << compiled->compileSeconds << " s\n";
  EXPECT_TRUE(definesSymbol(compiled->objectPath, "softmax"));
  EXPECT_NE(readFile(compiled->assemblyPath).find("zmm"), std::string::npos)
      << "no 512-bit vectors in the assembly";
  ASSERT_EQ(compiled->signature.arguments.size(), 2u);
  EXPECT_EQ(compiled->signature.arguments[1].kind,
            KernelValueInfo::Kind::Scalar);
  EXPECT_TRUE(compiled->signature.arguments[1].isIndex);
  fs::remove_all(dir);
}

TEST(HalideAot, CudaObjectEmbedsPtx) {
  fs::path dir = scratchDirectory("cuda");
  ParsedKernel parsed = parseKernel(matmulBiasKernel(1, 41, 410, 64));
  KernelArtifacts artifacts;
  artifacts.stmt = true;
  StatusOr<CompiledKernel> compiled =
      compileKernel(parsed.kernel(), "host-cuda-cuda_capability_86",
                    (dir / "proj").string(), artifacts);
  ASSERT_TRUE(compiled.ok()) << compiled.status().message();
  std::cout << "cuda compile: " << compiled->compileSeconds << " s\n";
  EXPECT_TRUE(definesSymbol(compiled->objectPath, "proj"));
  std::string object = readFile(compiled->objectPath);
  EXPECT_NE(object.find(".target sm_86"), std::string::npos)
      << "no PTX for sm_86 in the object";
  EXPECT_NE(readFile(compiled->stmtPath).find("___block_id_"),
            std::string::npos);

  // A GPU schedule given explicitly.
  ParsedKernel scheduled =
      parseKernel(matmulBiasKernel(1, 41, 410, 64, R"(txl.schedule = {funcs = [
        {name = "proj", pure = {gpu_tile = {loops = ["d1", "d2"], sizes = [4, 64]}},
         update = {gpu_tile = {loops = ["d1", "d2"], sizes = [4, 64]}}}]})"));
  StatusOr<CompiledKernel> explicitGpu =
      compileKernel(scheduled.kernel(), "host-cuda-cuda_capability_86",
                    (dir / "proj_explicit").string());
  ASSERT_TRUE(explicitGpu.ok()) << explicitGpu.status().message();
  fs::remove_all(dir);
}

/// The last error the compiled kernels reported. Halide's default handler
/// prints and aborts: a host must install its own.
std::string lastKernelError;
extern "C" void recordKernelError(void *, const char *message) {
  lastKernelError = message;
}

using ProjFn = int (*)(halide_buffer_t *, halide_buffer_t *, halide_buffer_t *,
                       halide_buffer_t *);
using SoftmaxFn = int (*)(halide_buffer_t *, int64_t, halide_buffer_t *);

/// A dense row-major f32 buffer over `data` in Halide's dimension order.
struct DenseBuffer {
  DenseBuffer(float *data, const std::vector<int64_t> &shape) {
    int64_t stride = 1;
    for (auto it = shape.rbegin(); it != shape.rend(); ++it) {
      dims.push_back(halide_dimension_t(0, static_cast<int32_t>(*it),
                                        static_cast<int32_t>(stride)));
      stride *= *it;
    }
    buffer.host = reinterpret_cast<uint8_t *>(data);
    buffer.type = halide_type_t(halide_type_float, 32);
    buffer.dimensions = static_cast<int32_t>(dims.size());
    buffer.dim = dims.data();
  }
  std::vector<halide_dimension_t> dims;
  halide_buffer_t buffer = {};
};

TEST(HalideAot, LinkedWithTheRuntimeAndCalledThroughTheCAbi) {
  fs::path dir = scratchDirectory("link");
  ParsedKernel proj = parseKernel(matmulBiasKernel(1, 41, 410, 64));
  ParsedKernel softmax = parseKernel(maskedSoftmaxKernel(41, 100));
  StatusOr<CompiledKernel> projObject =
      compileKernel(proj.kernel(), "host", (dir / "proj").string());
  ASSERT_TRUE(projObject.ok()) << projObject.status().message();
  StatusOr<CompiledKernel> softmaxObject =
      compileKernel(softmax.kernel(), "host", (dir / "softmax").string());
  ASSERT_TRUE(softmaxObject.ok()) << softmaxObject.status().message();
  Status runtime = compileHalideRuntime("host", (dir / "runtime.o").string());
  ASSERT_TRUE(runtime.isOk()) << runtime.message();
  EXPECT_TRUE(definesSymbol(dir / "runtime.o", "halide_do_par_for"));

  fs::path library = dir / "kernels.so";
  auto [linked, log] =
      shell(std::string(TXL_CXX_COMPILER) + " -shared -o " + library.string() +
            " " + projObject->objectPath + " " + softmaxObject->objectPath +
            " " + (dir / "runtime.o").string() + " -lpthread -ldl 2>&1");
  ASSERT_TRUE(linked) << log;
  void *handle = ::dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
  ASSERT_NE(handle, nullptr) << ::dlerror();
  auto projFn = reinterpret_cast<ProjFn>(::dlsym(handle, "proj"));
  auto softmaxFn = reinterpret_cast<SoftmaxFn>(::dlsym(handle, "softmax"));
  ASSERT_NE(projFn, nullptr);
  ASSERT_NE(softmaxFn, nullptr);
  using SetErrorHandlerFn = void *(*)(void (*)(void *, const char *));
  auto setErrorHandler = reinterpret_cast<SetErrorHandlerFn>(
      ::dlsym(handle, "halide_set_error_handler"));
  ASSERT_NE(setErrorHandler, nullptr);
  setErrorHandler(recordKernelError);

  std::vector<float> x = randomFloats(41 * 64, 31),
                     w = randomFloats(410 * 64, 32),
                     bias = randomFloats(410, 33), y(41 * 410, -1.0f);
  DenseBuffer xb(x.data(), {1, 41, 64}), wb(w.data(), {410, 64}),
      bb(bias.data(), {410}), yb(y.data(), {1, 41, 410});
  ASSERT_EQ(projFn(&xb.buffer, &wb.buffer, &bb.buffer, &yb.buffer), 0);
  expectNear(y, matmulBiasReference(x, w, bias, 41, 410, 64));

  std::vector<float> scores = randomFloats(41 * 100, 34, -3.0f, 3.0f),
                     probs(41 * 100, -1.0f);
  DenseBuffer sb(scores.data(), {41, 100}), pb(probs.data(), {41, 100});
  ASSERT_EQ(softmaxFn(&sb.buffer, 7, &pb.buffer), 0);
  expectNear(probs, maskedSoftmaxReference(scores, 41, 100, 7), 1e-5);

  // A buffer of the wrong shape is refused with an error code, not a crash.
  DenseBuffer wrong(probs.data(), {100, 41});
  EXPECT_NE(softmaxFn(&sb.buffer, 7, &wrong.buffer), 0);
  EXPECT_NE(lastKernelError.find("is accessed at 99, which is beyond the max"),
            std::string::npos)
      << lastKernelError;
  ::dlclose(handle);
  fs::remove_all(dir);
}

} // namespace
} // namespace txl::codegen::halide::test
