//===- HostCodegenTest.cpp - the host object's optional exports -----------===//
//
// Embedded files (weights, vocabulary) come back byte for byte from the
// exported functions, 64-byte aligned, whatever characters their path holds;
// a file that is missing, or changes between building the module and writing
// the object, is an error; txl_model_set_error_handler forwards to Halide's
// halide_set_error_handler (NULL: Halide's default handler).
//
//===----------------------------------------------------------------------===//

#include "txl/codegen/host/HostCodegen.h"
#include "txl/codegen/host/Linker.h"

#include "mlir/IR/MLIRContext.h"

#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>

#include <dlfcn.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <tuple>

using namespace txl;
using namespace txl::codegen::host;
namespace fs = std::filesystem;

namespace {

/// A step without kernels: enough for the exports around it.
StepProgram emptyProgram() {
  StepProgram program;
  program.batch = program.tgtLen = program.numLayers = 1;
  program.dModel = program.vocabSize = 1;
  return program;
}

/// A fresh folder of the running test's own.
fs::path testFolder(const std::string &name) {
  fs::path dir = fs::path(::testing::TempDir()) / "txl-host-codegen" / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::string hostIR(const ModelDescription &description) {
  mlir::MLIRContext context;
  llvm::LLVMContext llvmContext;
  auto module =
      buildHostLLVMModule(context, llvmContext, emptyProgram(), description);
  EXPECT_TRUE(module.ok()) << module.status().message();
  if (!module.ok())
    return "";
  std::string text;
  llvm::raw_string_ostream os(text);
  (*module)->print(os, nullptr);
  return text;
}

TEST(HostCodegen, ForwardsTheErrorHandlerToHalide) {
  std::string ir = hostIR(ModelDescription());
  EXPECT_NE(ir.find("define void @txl_model_set_error_handler(ptr %handler)"),
            std::string::npos)
      << ir;
  EXPECT_NE(ir.find("%installed = select i1 %none, ptr "
                    "@halide_default_error, ptr %handler"),
            std::string::npos)
      << ir;
  EXPECT_NE(ir.find("call ptr @halide_set_error_handler(ptr %installed)"),
            std::string::npos)
      << ir;
  // Nothing embedded unless asked for.
  EXPECT_EQ(ir.find("txl_model_embedded_weights"), std::string::npos);
  EXPECT_EQ(ir.find("txl_model_vocabulary"), std::string::npos);
}

TEST(HostCodegen, GpuTargetsGetTheirDeviceSupport) {
  // CPU: none of it.
  std::string cpu = hostIR(ModelDescription());
  for (const char *name : {"txl_device_sync", "txl_device_mirror",
                           "txl_model_release_device", "_get_symbol"})
    EXPECT_EQ(cpu.find(name), std::string::npos) << name;
  for (auto [target, api, library] :
       {std::tuple<const char *, const char *, const char *>{
            "host-opencl", "opencl", "libOpenCL.so.1"},
        {"host-cuda-cuda_capability_86", "cuda", "libcuda.so.1"}}) {
    ModelDescription description;
    description.target = target;
    std::string ir = hostIR(description);
    // The driver under its versioned name first, then the unversioned one.
    EXPECT_NE(ir.find("define ptr @halide_" + std::string(api) +
                      "_get_symbol(ptr %0, ptr %1)"),
              std::string::npos)
        << target << "\n"
        << ir;
    EXPECT_NE(ir.find(library), std::string::npos) << target;
    EXPECT_NE(ir.find("define void @txl_model_release_device()"),
              std::string::npos)
        << target;
    EXPECT_NE(ir.find("call ptr @halide_" + std::string(api) +
                      "_device_interface()"),
              std::string::npos)
        << target;
    EXPECT_NE(ir.find("call i32 @halide_copy_to_host"), std::string::npos)
        << target;
  }
}

TEST(HostCodegen, EmbedsFilesByteForByteWhateverTheirPath) {
  fs::path dir = testFolder("Embeds");
  // Quotes, backslashes, a space, a newline and UTF-8 in the folder name.
  fs::path odd = dir / "we\"ights \\ \n\xc3\xa9";
  fs::create_directories(odd);
  std::string weights(1000, '\0'), vocabulary = "\\n\n\\s\nA\n";
  for (size_t i = 0; i < weights.size(); ++i)
    weights[i] = char(i * 37 + 11);
  std::ofstream(odd / "w.safetensors", std::ios::binary) << weights;
  std::ofstream(odd / "vocab.txt", std::ios::binary) << vocabulary;

  mlir::MLIRContext context;
  llvm::LLVMContext llvmContext;
  ModelDescription description;
  description.embeddedWeightsPath = (odd / "w.safetensors").string();
  description.vocabularyPath = (odd / "vocab.txt").string();
  auto module =
      buildHostLLVMModule(context, llvmContext, emptyProgram(), description);
  ASSERT_TRUE(module.ok()) << module.status().message();
  std::string object = (dir / "host.o").string();
  Status status = emitHostObject(**module, object);
  ASSERT_TRUE(status.isOk()) << status.message();
  // A stand-in for the Halide runtime: records the installed handler.
  std::string halide = (dir / "halide_stub.c").string();
  std::ofstream(halide)
      << "typedef void (*handler_t)(void *, const char *);\n"
         "static handler_t installed;\n"
         "handler_t txl_test_installed(void) { return installed; }\n"
         "void halide_default_error(void *u, const char *m) {}\n"
         "handler_t halide_set_error_handler(handler_t h) {\n"
         "  handler_t old = installed;\n"
         "  installed = h;\n"
         "  return old;\n"
         "}\n"
         "typedef int (*task_t)(void *, int, unsigned char *);\n"
         "typedef int (*par_for_t)(void *, task_t, int, int, unsigned char "
         "*);\n"
         "int halide_default_do_par_for(void *u, task_t f, int min, int size,\n"
         "                              unsigned char *closure) { return -1; "
         "}\n"
         "static par_for_t par_for = halide_default_do_par_for;\n"
         "par_for_t txl_test_par_for(void) { return par_for; }\n"
         "par_for_t halide_set_custom_do_par_for(par_for_t f) {\n"
         "  par_for_t old = par_for;\n"
         "  par_for = f;\n"
         "  return old;\n"
         "}\n"
         "static int threads = 7;\n"
         "int halide_set_num_threads(int n) {\n"
         "  int old = threads;\n"
         "  threads = n;\n"
         "  return old;\n"
         "}\n";
  std::string library = (dir / "host.so").string();
  status = linkObjects({object, halide}, library, LinkKind::SharedLibrary);
  ASSERT_TRUE(status.isOk()) << status.message();

  void *handle = ::dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
  ASSERT_NE(handle, nullptr) << ::dlerror();
  using Get = const char *(*)(uint64_t *);
  auto getWeights =
      reinterpret_cast<Get>(::dlsym(handle, "txl_model_embedded_weights"));
  auto getVocabulary =
      reinterpret_cast<Get>(::dlsym(handle, "txl_model_vocabulary"));
  ASSERT_TRUE(getWeights && getVocabulary);
  uint64_t size = 0;
  const char *bytes = getWeights(&size);
  ASSERT_EQ(size, weights.size());
  EXPECT_EQ(std::memcmp(bytes, weights.data(), size), 0);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(bytes) % 64, 0u);
  bytes = getVocabulary(&size);
  ASSERT_EQ(size, vocabulary.size());
  EXPECT_EQ(std::string(bytes, size), vocabulary);
  EXPECT_EQ(bytes[size], '\0'); // A C string too, past the size.

  // The handler goes to Halide's runtime; NULL means Halide's default.
  using Handler = void (*)(void *, const char *);
  auto setHandler = reinterpret_cast<void (*)(Handler)>(
      ::dlsym(handle, "txl_model_set_error_handler"));
  auto installed =
      reinterpret_cast<Handler (*)()>(::dlsym(handle, "txl_test_installed"));
  void *halideDefault = ::dlsym(handle, "halide_default_error");
  ASSERT_TRUE(setHandler && installed && halideDefault);
  Handler mine = [](void *, const char *) {};
  setHandler(mine);
  EXPECT_EQ(installed(), mine);
  setHandler(nullptr);
  EXPECT_EQ(reinterpret_cast<void *>(installed()), halideDefault);

  // The thread count goes to Halide's pool; n <= 0 means Halide's default
  // (0 to Halide). Each call returns the previous count.
  auto setThreads = reinterpret_cast<int32_t (*)(int32_t)>(
      ::dlsym(handle, "txl_model_set_num_threads"));
  ASSERT_TRUE(setThreads);
  EXPECT_EQ(setThreads(3), 7);
  EXPECT_EQ(setThreads(-2), 3);
  EXPECT_EQ(setThreads(1), 0);

  // At 1 thread the parallel loops run as plain loops on the calling thread:
  // every task in order, stopping at (and returning) the first failure.
  using Task = int (*)(void *, int, uint8_t *);
  using ParFor = int (*)(void *, Task, int, int, uint8_t *);
  auto parFor =
      reinterpret_cast<ParFor (*)()>(::dlsym(handle, "txl_test_par_for"));
  void *halidePool = ::dlsym(handle, "halide_default_do_par_for");
  ASSERT_TRUE(parFor && halidePool);
  ParFor serial = parFor();
  ASSERT_NE(reinterpret_cast<void *>(serial), halidePool);
  std::vector<int> ran;
  Task record = [](void *ran, int i, uint8_t *failAt) {
    static_cast<std::vector<int> *>(ran)->push_back(i);
    return i == *failAt ? 40 + i : 0;
  };
  uint8_t failAt = 255;
  EXPECT_EQ(serial(&ran, record, 3, 5, &failAt), 0);
  EXPECT_EQ(ran, (std::vector<int>{3, 4, 5, 6, 7}));
  ran.clear();
  EXPECT_EQ(serial(&ran, record, 3, 0, &failAt), 0);
  EXPECT_TRUE(ran.empty());
  failAt = 5;
  EXPECT_EQ(serial(&ran, record, 3, 5, &failAt), 45);
  EXPECT_EQ(ran, (std::vector<int>{3, 4, 5}));
  // Any other count gives the loops back to Halide's pool.
  setThreads(2);
  EXPECT_EQ(reinterpret_cast<void *>(parFor()), halidePool);
  setThreads(1);
  setThreads(0);
  EXPECT_EQ(reinterpret_cast<void *>(parFor()), halidePool);
  ::dlclose(handle);
}

TEST(HostCodegen, AnEmbeddedFileThatIsMissingOrChangesIsAnError) {
  fs::path dir = testFolder("Gone");
  mlir::MLIRContext context;
  llvm::LLVMContext llvmContext;
  ModelDescription description;
  description.embeddedWeightsPath = (dir / "w.safetensors").string();
  auto module =
      buildHostLLVMModule(context, llvmContext, emptyProgram(), description);
  ASSERT_FALSE(module.ok());
  EXPECT_NE(module.status().message().find(description.embeddedWeightsPath +
                                           ": cannot embed: "),
            std::string::npos)
      << module.status().message();

  // Sized when the module is built, copied when the object is written.
  std::ofstream(dir / "w.safetensors", std::ios::binary) << "0123456789";
  module =
      buildHostLLVMModule(context, llvmContext, emptyProgram(), description);
  ASSERT_TRUE(module.ok()) << module.status().message();
  std::ofstream(dir / "w.safetensors", std::ios::binary) << "01234";
  std::string object = (dir / "host.o").string();
  Status status = emitHostObject(**module, object);
  ASSERT_FALSE(status.isOk());
  EXPECT_NE(status.message().find(description.embeddedWeightsPath +
                                  ": changed while compiling: now shorter "
                                  "than the 10 bytes it had"),
            std::string::npos)
      << status.message();
  std::ofstream(dir / "w.safetensors", std::ios::binary) << "0123456789AB";
  status = emitHostObject(**module, object);
  EXPECT_NE(status.message().find("now longer than the 10 bytes"),
            std::string::npos)
      << status.message();
  EXPECT_FALSE(fs::exists(object));
  EXPECT_FALSE(fs::exists(object + ".tmp"));
}

TEST(HostCodegen, AssemblyShowsTheRoomOfAnEmbeddedFile) {
  fs::path dir = testFolder("Assembly");
  std::ofstream(dir / "vocab.txt", std::ios::binary) << "a\nb\n";
  mlir::MLIRContext context;
  llvm::LLVMContext llvmContext;
  ModelDescription description;
  description.vocabularyPath = (dir / "vocab.txt").string();
  auto module =
      buildHostLLVMModule(context, llvmContext, emptyProgram(), description);
  ASSERT_TRUE(module.ok()) << module.status().message();
  std::string assembly = (dir / "host.s").string();
  Status status = emitHostObject(**module, assembly, /*assembly=*/true);
  ASSERT_TRUE(status.isOk()) << status.message();
  std::ifstream in(assembly);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  EXPECT_NE(text.find("txl_vocabulary_begin:\n\t.zero\t4\ntxl_vocabulary_end:"),
            std::string::npos)
      << text;
}

} // namespace
