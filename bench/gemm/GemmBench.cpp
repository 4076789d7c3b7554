//===- GemmBench.cpp - txl's GEMM kernels against oneDNN, side by side ----===//
//
// For every shape: the kernel as linalg (GemmKernels.h, weight packed), its
// schedule from txl-tile's heuristic, compiled ahead of time by codegen's
// compileKernel and linked with Halide's runtime into one shared library
// (the path txlc takes), then timed against oneDNN's sgemm and matmul
// primitive (weights reordered once, as ours are packed once) on the same
// M, N, K, in alternating rounds. FLOPs: 2*M*N*K (epilogues not counted,
// though txl's time includes them). See docs/PERF.md and run.sh.
//
//===----------------------------------------------------------------------===//

#include "GemmKernels.h"

#include "txl/Dialect/AttrNames.h"
#include "txl/Dialect/TxlDialect.h"
#include "txl/Dialect/TxlOps.h"
#include "txl/Passes/Passes.h"
#include "txl/codegen/halide/KernelCompiler.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"

#include "HalideRuntime.h"
#include <dnnl.hpp>
#include <omp.h>

#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

using namespace txl::bench;
namespace fs = std::filesystem;
namespace hc = txl::codegen::halide;

namespace {

struct Options {
  std::vector<int> threads = {1, 2};
  std::string filter;
  int rounds = 9;
  double minSeconds = 0.1;
  std::string target = "host";
  std::string workDir;
  bool artifacts = false;
  /// With one thread: time by the thread's CPU clock instead of the wall.
  bool cpuClock = true;
  /// Copies of each weight, used in turn: with enough of them every call
  /// reads its weight from memory, as the model's kernels do (each layer's
  /// weights are read once per segment), instead of from cache.
  int weightCopies = 1;
};

void usage() {
  std::fprintf(stderr,
               "usage: bench-gemm [--threads=1,2] [--filter=SUBSTRING] "
               "[--rounds=9] [--min-time=0.1] [--target=host] "
               "[--work-dir=DIR] [--artifacts] [--wall-clock] "
               "[--weight-copies=N]\n"
               "  --artifacts: keep each kernel's .mlir, .stmt and .s in the "
               "work directory\n"
               "  --wall-clock: time 1-thread runs by the wall clock too "
               "(default: the thread's CPU clock, which other processes' "
               "time slices do not inflate)\n"
               "  --weight-copies=N: every peer cycles through N copies of "
               "each weight (cold weights, as in the model; default 1)\n");
}

bool parseOptions(int argc, char **argv, Options &o) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](const char *flag) -> const char * {
      size_t len = std::strlen(flag);
      return arg.compare(0, len, flag) == 0 ? arg.c_str() + len : nullptr;
    };
    if (const char *v = value("--threads=")) {
      o.threads.clear();
      for (const char *p = v; *p;) {
        o.threads.push_back(std::atoi(p));
        p = std::strchr(p, ',');
        if (!p)
          break;
        ++p;
      }
    } else if (const char *v = value("--filter=")) {
      o.filter = v;
    } else if (const char *v = value("--rounds=")) {
      o.rounds = std::max(1, std::atoi(v));
    } else if (const char *v = value("--min-time=")) {
      o.minSeconds = std::atof(v);
    } else if (const char *v = value("--target=")) {
      o.target = v;
    } else if (const char *v = value("--work-dir=")) {
      o.workDir = v;
    } else if (arg == "--artifacts") {
      o.artifacts = true;
    } else if (const char *v = value("--weight-copies=")) {
      o.weightCopies = std::max(1, std::atoi(v));
    } else if (arg == "--wall-clock") {
      o.cpuClock = false;
    } else {
      usage();
      return false;
    }
  }
  return true;
}

/// The shapes of issue 5: wt103-base (D 410, T 64) and enwik8-base (D 512,
/// T 80), batch 1 and 8.
std::vector<GemmShape> allShapes() {
  std::vector<GemmShape> shapes;
  auto add = [&](const std::string &model, int64_t t, const std::string &name,
                 int64_t n, int64_t k, Epilogue e, bool twoD = false,
                 int64_t heads = 1) {
    for (int64_t batch : {1, 8}) {
      GemmShape s;
      s.name = model + "." + name + ".m" + std::to_string(batch * t);
      s.batch = twoD ? 1 : batch;
      s.rows = twoD ? batch * t : t;
      s.n = n;
      s.k = k;
      s.epilogue = e;
      s.twoD = twoD;
      s.heads = heads;
      shapes.push_back(s);
    }
  };
  add("wt103", 64, "qkv", 1230, 410, Epilogue::None);
  add("wt103", 64, "q", 410, 410, Epilogue::None);
  add("wt103", 64, "kv", 820, 410, Epilogue::None);
  add("wt103", 64, "r_net", 410, 410, Epilogue::None, /*twoD=*/true);
  add("wt103", 64, "o_net", 410, 410, Epilogue::ResidualLayerNorm, false, 10);
  add("wt103", 64, "ffn_up", 2100, 410, Epilogue::BiasRelu);
  add("wt103", 64, "ffn_down", 410, 2100, Epilogue::BiasResidualLayerNorm);
  add("wt103", 64, "logits", 20000, 410, Epilogue::Bias);
  add("wt103", 64, "head_logsoftmax", 20000, 410, Epilogue::BiasLogSoftmax);
  add("enwik8", 80, "qkv", 1536, 512, Epilogue::None);
  add("enwik8", 80, "o_net", 512, 512, Epilogue::ResidualLayerNorm, false, 8);
  add("enwik8", 80, "ffn_up", 2048, 512, Epilogue::BiasRelu);
  add("enwik8", 80, "ffn_down", 512, 2048, Epilogue::BiasResidualLayerNorm);
  add("enwik8", 80, "logits", 204, 512, Epilogue::Bias);
  return shapes;
}

/// A dense row-major f32 buffer in Halide's dimension order.
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
  DenseBuffer(const DenseBuffer &) = delete;
  std::vector<halide_dimension_t> dims;
  halide_buffer_t buffer = {};
};

using ArgvFn = int (*)(void **);

/// 64-byte aligned storage: a packed weight panel row (16 floats) is then one
/// cache line, as the runtime's weights will be.
template <typename T> struct CacheLineAllocator {
  using value_type = T;
  CacheLineAllocator() = default;
  template <typename U> CacheLineAllocator(const CacheLineAllocator<U> &) {}
  T *allocate(size_t n) {
    return static_cast<T *>(
        std::aligned_alloc(64, (n * sizeof(T) + 63) / 64 * 64));
  }
  void deallocate(T *p, size_t) { std::free(p); }
  template <typename U> bool operator==(const CacheLineAllocator<U> &) const {
    return true;
  }
  template <typename U> bool operator!=(const CacheLineAllocator<U> &) const {
    return false;
  }
};
using Floats = std::vector<float, CacheLineAllocator<float>>;

/// One shape: its data, the compiled kernel, the peers.
struct Case {
  GemmShape shape;
  GemmKernelIR ir;
  double compileSeconds = 0;
  ArgvFn kernel = nullptr;
  std::vector<Floats> args; // in kernel-argument order
  Floats w;                 // [N, K], oneDNN's weight
  Floats y, yPeer;
  /// Further copies of the packed weight and of `w` (--weight-copies).
  std::vector<Floats> packedCopies, wCopies;
  int packedArgument = -1; // the packed weight's index in args
  std::vector<std::unique_ptr<DenseBuffer>> buffers;
  std::vector<void *> argv;
};

Floats randomVector(size_t count, std::mt19937 &rng, float scale) {
  std::uniform_real_distribution<float> dist(-scale, scale);
  Floats v(count);
  for (float &x : v)
    x = dist(rng);
  return v;
}

/// Inputs for a case: x, W (and its packing), bias, residual, LN params.
void makeData(Case &c, uint32_t seed) {
  std::mt19937 rng(seed);
  const GemmShape &s = c.shape;
  c.w = randomVector(s.n * s.k, rng, 1.0f / std::sqrt(float(s.k)));
  for (const KernelArgument &a : c.ir.arguments) {
    if (a.name == "w") {
      Floats wp(elementCount(a.shape));
      packPanels(c.w.data(), s, wp.data());
      c.packedArgument = static_cast<int>(c.args.size());
      c.args.push_back(std::move(wp));
    } else if (a.name == "gamma") {
      Floats g = randomVector(elementCount(a.shape), rng, 0.5f);
      for (float &v : g)
        v += 1.0f;
      c.args.push_back(std::move(g));
    } else {
      c.args.push_back(randomVector(elementCount(a.shape), rng, 1.0f));
    }
  }
  c.y.assign(elementCount(c.ir.resultShape), 0.0f);
  c.yPeer.assign(c.shape.m() * c.shape.n, 0.0f);
  for (size_t i = 0; i < c.args.size(); ++i) {
    c.buffers.push_back(std::make_unique<DenseBuffer>(c.args[i].data(),
                                                      c.ir.arguments[i].shape));
    c.argv.push_back(&c.buffers.back()->buffer);
  }
  c.buffers.push_back(
      std::make_unique<DenseBuffer>(c.y.data(), c.ir.resultShape));
  c.argv.push_back(&c.buffers.back()->buffer);
}

const Floats *argument(const Case &c, const std::string &name) {
  for (size_t i = 0; i < c.ir.arguments.size(); ++i)
    if (c.ir.arguments[i].name == name)
      return &c.args[i];
  return nullptr;
}

/// The largest relative error of the kernel's result over a few rows,
/// against a double-precision computation of the same layer.
double checkRows(const Case &c) {
  const GemmShape &s = c.shape;
  const Floats &x = *argument(c, "x");
  const Floats *bias = argument(c, "bias"), *res = argument(c, "res"),
               *gamma = argument(c, "gamma"), *beta = argument(c, "beta");
  double worst = 0;
  std::vector<double> row(s.n);
  for (int64_t r : {int64_t(0), int64_t(1), s.m() / 2 + 3, s.m() - 1}) {
    for (int64_t j = 0; j < s.n; ++j) {
      double acc = bias ? (*bias)[j] : 0.0;
      for (int64_t k = 0; k < s.k; ++k)
        acc += double(x[r * s.k + k]) * c.w[j * s.k + k];
      row[j] = acc;
    }
    switch (s.epilogue) {
    case Epilogue::BiasRelu:
      for (double &v : row)
        v = std::max(v, 0.0);
      break;
    case Epilogue::BiasResidualLayerNorm:
    case Epilogue::ResidualLayerNorm: {
      double mean = 0, var = 0;
      for (int64_t j = 0; j < s.n; ++j)
        mean += row[j] += (*res)[r * s.n + j];
      mean /= s.n;
      for (double v : row)
        var += (v - mean) * (v - mean);
      var /= s.n;
      for (int64_t j = 0; j < s.n; ++j)
        row[j] =
            (row[j] - mean) / std::sqrt(var + 1e-5) * (*gamma)[j] + (*beta)[j];
      break;
    }
    case Epilogue::BiasLogSoftmax: {
      double max = -1e300, sum = 0;
      for (double v : row)
        max = std::max(max, v);
      for (double v : row)
        sum += std::exp(v - max);
      for (double &v : row)
        v -= max + std::log(sum);
      break;
    }
    default:
      break;
    }
    for (int64_t j = 0; j < s.n; ++j)
      worst = std::max(worst, std::fabs(c.y[r * s.n + j] - row[j]) /
                                  std::max(1.0, std::fabs(row[j])));
  }
  return worst;
}

std::string shell(const std::string &command, bool &ok) {
  std::string output;
  FILE *pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (!pipe) {
    ok = false;
    return "";
  }
  char chunk[4096];
  size_t n;
  while ((n = std::fread(chunk, 1, sizeof chunk, pipe)) > 0)
    output.append(chunk, n);
  ok = ::pclose(pipe) == 0;
  return output;
}

/// Schedules `c` with txl-tile and compiles it into `dir`.
bool compileCase(mlir::MLIRContext &context, Case &c, const Options &o,
                 const fs::path &dir) {
  mlir::OwningOpRef<mlir::ModuleOp> step =
      mlir::parseSourceString<mlir::ModuleOp>(c.ir.stepModule(), &context);
  if (!step) {
    std::fprintf(stderr, "%s: the step IR does not parse\n%s",
                 c.shape.name.c_str(), c.ir.stepModule().c_str());
    return false;
  }
  mlir::PassManager pm(&context);
  txl::TxlTileOptions tileOptions;
  tileOptions.target = o.target;
  pm.addPass(txl::createTxlTile(tileOptions));
  if (mlir::failed(pm.run(*step))) {
    std::fprintf(stderr, "%s: txl-tile failed\n", c.shape.name.c_str());
    return false;
  }
  mlir::Attribute schedule;
  step->walk([&](txl::KernelOp kernel) {
    schedule = kernel->getAttr(txl::attr::kSchedule);
  });
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::parseSourceString<mlir::ModuleOp>(c.ir.kernelModule(), &context);
  if (!module) {
    std::fprintf(stderr, "%s: the kernel IR does not parse\n",
                 c.shape.name.c_str());
    return false;
  }
  mlir::func::FuncOp kernel = *module->getOps<mlir::func::FuncOp>().begin();
  kernel->setAttr(txl::attr::kSchedule, schedule);
  hc::KernelArtifacts artifacts;
  artifacts.stmt = artifacts.assembly = o.artifacts;
  if (o.artifacts) {
    std::string text;
    llvm::raw_string_ostream os(text);
    kernel.print(os);
    FILE *f = std::fopen((dir / (c.ir.symbol + ".mlir")).c_str(), "w");
    if (f) {
      std::fputs(text.c_str(), f);
      std::fclose(f);
    }
  }
  txl::StatusOr<hc::CompiledKernel> compiled = hc::compileKernel(
      kernel, o.target, (dir / c.ir.symbol).string(), artifacts);
  if (!compiled.ok()) {
    std::fprintf(stderr, "%s: %s\n", c.shape.name.c_str(),
                 compiled.status().message().c_str());
    return false;
  }
  c.compileSeconds = compiled->compileSeconds;
  return true;
}

double seconds(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
      .count();
}

/// Seconds of CPU time this thread has used: with one thread, both peers
/// compute on the calling thread, and this clock does not count the time
/// slices that other processes on the shared machine take.
double threadSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

/// Times of one peer: per round, the time per call over a batch of calls
/// at least `minSeconds` long.
struct Timer {
  bool cpuClock = false;
  int reps = 1;
  std::vector<double> times;
  template <typename F> void calibrate(F &&f, double minSeconds) {
    f();
    auto start = std::chrono::steady_clock::now();
    f();
    double one = std::max(seconds(start), 1e-6);
    reps = std::max(1, static_cast<int>(minSeconds / one));
  }
  template <typename F> void round(F &&f) {
    double cpuStart = threadSeconds();
    auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < reps; ++i)
      f();
    times.push_back((cpuClock ? threadSeconds() - cpuStart : seconds(start)) /
                    reps);
  }
  double best() const { return *std::min_element(times.begin(), times.end()); }
};

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  size_t n = values.size();
  return n % 2 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

} // namespace

int main(int argc, char **argv) {
  Options o;
  if (!parseOptions(argc, argv, o))
    return 2;
  fs::path dir = o.workDir.empty()
                     ? fs::temp_directory_path() /
                           ("txl-bench-gemm-" + std::to_string(::getpid()))
                     : fs::path(o.workDir);
  fs::create_directories(dir);

  mlir::DialectRegistry registry;
  hc::registerKernelDialects(registry);
  registry.insert<txl::TxlDialect>();
  mlir::MLIRContext context(registry);
  context.loadAllAvailableDialects();

  std::vector<Case> cases;
  for (const GemmShape &s : allShapes())
    if (o.filter.empty() || s.name.find(o.filter) != std::string::npos)
      cases.push_back(Case{s, gemmKernelIR(s)});
  if (cases.empty()) {
    std::fprintf(stderr, "no shape matches '%s'\n", o.filter.c_str());
    return 2;
  }

  // Compile every kernel, link them with the runtime.
  std::string objects;
  for (Case &c : cases) {
    if (!compileCase(context, c, o, dir))
      return 1;
    std::printf("compiled %-32s %.2f s\n", c.shape.name.c_str(),
                c.compileSeconds);
    std::fflush(stdout);
    objects += " " + (dir / (c.ir.symbol + ".o")).string();
  }
  txl::Status runtime =
      hc::compileHalideRuntime(o.target, (dir / "runtime.o").string());
  if (!runtime.isOk()) {
    std::fprintf(stderr, "%s\n", runtime.message().c_str());
    return 1;
  }
  fs::path library = dir / "kernels.so";
  bool ok = false;
  std::string log = shell("c++ -shared -o " + library.string() + objects + " " +
                              (dir / "runtime.o").string() + " -lpthread -ldl",
                          ok);
  if (!ok) {
    std::fprintf(stderr, "linking failed:\n%s\n", log.c_str());
    return 1;
  }
  void *handle = ::dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    std::fprintf(stderr, "%s\n", ::dlerror());
    return 1;
  }
  auto setThreads =
      reinterpret_cast<int (*)(int)>(::dlsym(handle, "halide_set_num_threads"));
  for (Case &c : cases) {
    c.kernel = reinterpret_cast<ArgvFn>(
        ::dlsym(handle, (c.ir.symbol + "_argv").c_str()));
    if (!c.kernel || !setThreads) {
      std::fprintf(stderr, "%s: symbol missing in %s\n", c.ir.symbol.c_str(),
                   library.c_str());
      return 1;
    }
  }

  // Data, and a correctness check of every kernel.
  uint32_t seed = 1;
  for (Case &c : cases) {
    makeData(c, seed++);
    for (int copy = 1; copy < o.weightCopies; ++copy) {
      c.wCopies.push_back(c.w);
      c.packedCopies.push_back(c.args[c.packedArgument]);
    }
    setThreads(1);
    if (int status = c.kernel(c.argv.data())) {
      std::fprintf(stderr, "%s: kernel returned %d\n", c.ir.symbol.c_str(),
                   status);
      return 1;
    }
    double error = checkRows(c);
    if (error > 1e-3) {
      std::fprintf(stderr, "%s: wrong result (relative error %g)\n",
                   c.shape.name.c_str(), error);
      return 1;
    }
  }

  dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  dnnl::stream stream(engine);
  std::printf("\nGFLOP/s = 2*M*N*K / time, best of %d rounds (peers "
              "alternating); txl's time includes its epilogue. Clock: %s.\n"
              "best: txl / the faster oneDNN variant, best times; paired: "
              "median over rounds of the same ratio within a round\n\n",
              o.rounds,
              o.cpuClock ? "the thread's CPU time with 1 thread, wall time "
                           "with more"
                         : "wall time");
  std::printf("%-30s %5s %6s %5s %-17s %3s %8s %8s %8s %7s %7s\n", "shape", "M",
              "N", "K", "epilogue", "thr", "sgemm", "matmul", "txl", "best",
              "paired");
  for (int threads : o.threads) {
    setThreads(threads);
    omp_set_num_threads(threads);
    for (Case &c : cases) {
      const GemmShape &s = c.shape;
      const float *x = argument(c, "x")->data();
      // The i-th call of a peer reads copy i mod --weight-copies.
      auto take = [&](int &next) {
        int i = next;
        next = (next + 1) % o.weightCopies;
        return i;
      };
      auto copy = [&](int &next, const Floats &first,
                      const std::vector<Floats> &more) {
        int i = take(next);
        return i == 0 ? first.data() : more[i - 1].data();
      };
      int nextSgemm = 0, nextMatmul = 0, nextTxl = 0;
      auto sgemm = [&] {
        dnnl_sgemm('N', 'T', s.m(), s.n, s.k, 1.0f, x, s.k,
                   copy(nextSgemm, c.w, c.wCopies), s.k, 0.0f,
                   c.yPeer.data(), s.n);
      };
      // The matmul primitive, weights reordered once to its own layout.
      using tag = dnnl::memory::format_tag;
      using dt = dnnl::memory::data_type;
      dnnl::memory::desc src({s.m(), s.k}, dt::f32, tag::ab),
          wAny({s.k, s.n}, dt::f32, tag::any),
          wUser({s.k, s.n}, dt::f32, tag::ba),
          dst({s.m(), s.n}, dt::f32, tag::ab);
      dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(src, wAny, dst),
                                      engine);
      dnnl::memory srcMem(src, engine, const_cast<float *>(x)),
          wUserMem(wUser, engine, c.w.data()), wMem(pd.weights_desc(), engine),
          dstMem(dst, engine, c.yPeer.data());
      std::vector<dnnl::memory> wMems = {wMem};
      for (int i = 1; i < o.weightCopies; ++i)
        wMems.emplace_back(pd.weights_desc(), engine);
      for (dnnl::memory &m : wMems)
        dnnl::reorder(wUserMem, m).execute(stream, wUserMem, m);
      dnnl::matmul matmul(pd);
      auto mm = [&] {
        matmul.execute(stream, {{DNNL_ARG_SRC, srcMem},
                                {DNNL_ARG_WEIGHTS, wMems[take(nextMatmul)]},
                                {DNNL_ARG_DST, dstMem}});
        stream.wait();
      };
      halide_buffer_t &packed = c.buffers[c.packedArgument]->buffer;
      auto txl = [&] {
        packed.host = reinterpret_cast<uint8_t *>(const_cast<float *>(
            copy(nextTxl, c.args[c.packedArgument], c.packedCopies)));
        c.kernel(c.argv.data());
      };

      Timer tSgemm, tMatmul, tTxl;
      tSgemm.cpuClock = tMatmul.cpuClock = tTxl.cpuClock =
          o.cpuClock && threads == 1;
      tSgemm.calibrate(sgemm, o.minSeconds);
      tMatmul.calibrate(mm, o.minSeconds);
      tTxl.calibrate(txl, o.minSeconds);
      // Between peers: let the other's threads stop spinning (OpenMP's
      // workers spin for milliseconds after a parallel region).
      auto pause = [threads] {
        std::this_thread::sleep_for(
            std::chrono::milliseconds(threads > 1 ? 60 : 5));
      };
      for (int r = 0; r < o.rounds; ++r) {
        tSgemm.round(sgemm);
        pause();
        tMatmul.round(mm);
        pause();
        tTxl.round(txl);
        pause();
      }
      double flops = 2.0 * s.m() * s.n * s.k;
      double gSgemm = flops / tSgemm.best() * 1e-9,
             gMatmul = flops / tMatmul.best() * 1e-9,
             gTxl = flops / tTxl.best() * 1e-9;
      // Each round's ratio against the faster oneDNN variant of that round:
      // the machine's load changes slowly, so paired rounds compare like
      // with like.
      std::vector<double> ratios;
      for (int r = 0; r < o.rounds; ++r)
        ratios.push_back(std::min(tSgemm.times[r], tMatmul.times[r]) /
                         tTxl.times[r]);
      std::printf("%-30s %5lld %6lld %5lld %-17s %3d %8.1f %8.1f %8.1f %7.2f "
                  "%7.2f\n",
                  s.name.c_str(), static_cast<long long>(s.m()),
                  static_cast<long long>(s.n), static_cast<long long>(s.k),
                  epilogueName(s.epilogue), threads, gSgemm, gMatmul, gTxl,
                  gTxl / std::max(gSgemm, gMatmul), median(ratios));
      std::fflush(stdout);
    }
  }
  ::dlclose(handle);
  if (o.workDir.empty())
    fs::remove_all(dir);
  return 0;
}
