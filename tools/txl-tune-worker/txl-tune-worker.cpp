//===- txl-tune-worker.cpp - times candidate kernels against the heuristic
//-===//
//
// txl-tune-worker SPEC.json: run by txl-tune in a process of its own, so
// that a candidate that crashes or hangs kills only this process. It links
// neither Halide nor MLIR: each candidate is a shared library (the kernel
// object and Halide's runtime, as txlc links them), loaded RTLD_LOCAL, so
// each has its own runtime. Candidate 0 is the heuristic.
//
// 1. Inputs as in the model: the kernel's shapes, random data (the same for
//    every candidate), 64-byte aligned, in enough copies to exceed the
//    last-level cache, cycled call by call (weights come cold from memory,
//    as every layer's do in the model).
// 2. Validation: each candidate once at every scalar setting (the memory
//    full, then partial), its outputs against the heuristic's (tolerance
//    relative to max(1, |expected|)), and a guard zone after each output
//    buffer that must stay untouched. A line {"event":"validating",...} is
//    printed and flushed first, so a crash is pinned on its candidate.
// 3. Rounds: heuristic, the candidates shuffled, heuristic; each sample is
//    enough calls for min_sample_seconds, timed with the thread's CPU clock
//    (one thread) or the monotonic clock (more). Per round each candidate's
//    time is divided by the mean of the round's two heuristic samples;
//    rounds where the heuristic ran >10% slower than its best are dropped
//    (fewer than a third left: every candidate is "noisy").
//
// Output: JSON lines on stdout, the last {"event":"result",...}.
//
//===----------------------------------------------------------------------===//

#include "HalideRuntime.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <fstream>
#include <iostream>
#include <random>
#include <string>
#include <time.h>
#include <vector>

using json = nlohmann::json;

namespace {

constexpr size_t kAlign = 64;
constexpr size_t kGuardBytes = 256;
constexpr uint8_t kGuardByte = 0xA5;

struct Tensor {
  std::string element; // f32, i64, i32
  std::vector<int64_t> shape;
  size_t elementBytes() const {
    return element == "f32" || element == "i32" ? 4 : 8;
  }
  size_t count() const {
    size_t n = 1;
    for (int64_t d : shape)
      n *= size_t(d);
    return n;
  }
  size_t bytes() const { return count() * elementBytes(); }
};

/// An aligned allocation with a guard zone after it.
struct Storage {
  uint8_t *data = nullptr;
  size_t bytes = 0;
  explicit Storage(size_t n) : bytes(n) {
    size_t total = (n + kGuardBytes + kAlign - 1) / kAlign * kAlign;
    data = static_cast<uint8_t *>(std::aligned_alloc(kAlign, total));
    std::memset(data + n, kGuardByte, kGuardBytes);
  }
  Storage(const Storage &) = delete;
  Storage(Storage &&o) noexcept : data(o.data), bytes(o.bytes) {
    o.data = nullptr;
  }
  ~Storage() { std::free(data); }
  bool guardIntact() const {
    for (size_t i = 0; i < kGuardBytes; ++i)
      if (data[bytes + i] != kGuardByte)
        return false;
    return true;
  }
};

/// A halide_buffer_t over dense row-major storage (dim 0 = last dimension).
struct Buffer {
  halide_buffer_t buffer{};
  std::vector<halide_dimension_t> dims;
  void bind(const Tensor &t, uint8_t *host) {
    int rank = int(t.shape.size());
    dims.assign(rank, halide_dimension_t());
    int64_t stride = 1;
    for (int d = 0; d < rank; ++d) {
      int64_t extent = t.shape[rank - 1 - d];
      dims[d] = halide_dimension_t(0, int32_t(extent), int32_t(stride));
      stride *= extent;
    }
    std::memset(&buffer, 0, sizeof buffer);
    buffer.host = host;
    buffer.dimensions = rank;
    buffer.dim = dims.data();
    if (t.element == "f32")
      buffer.type = halide_type_t(halide_type_float, 32);
    else if (t.element == "i32")
      buffer.type = halide_type_t(halide_type_int, 32);
    else
      buffer.type = halide_type_t(halide_type_int, 64);
  }
};

using Word = uintptr_t;
/// Calls a Halide AOT function with `args` (buffer pointers and int64
/// scalars: both one integer register or stack slot in the SysV ABI).
int callKernel(void *fn, const std::vector<Word> &a) {
#define TXL_CALL(...) reinterpret_cast<int (*)(__VA_ARGS__)>(fn)
  switch (a.size()) {
  case 1:
    return TXL_CALL(Word)(a[0]);
  case 2:
    return TXL_CALL(Word, Word)(a[0], a[1]);
  case 3:
    return TXL_CALL(Word, Word, Word)(a[0], a[1], a[2]);
  case 4:
    return TXL_CALL(Word, Word, Word, Word)(a[0], a[1], a[2], a[3]);
  case 5:
    return TXL_CALL(Word, Word, Word, Word, Word)(a[0], a[1], a[2], a[3], a[4]);
  case 6:
    return TXL_CALL(Word, Word, Word, Word, Word, Word)(a[0], a[1], a[2], a[3],
                                                        a[4], a[5]);
  case 7:
    return TXL_CALL(Word, Word, Word, Word, Word, Word,
                    Word)(a[0], a[1], a[2], a[3], a[4], a[5], a[6]);
  case 8:
    return TXL_CALL(Word, Word, Word, Word, Word, Word, Word,
                    Word)(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]);
  case 9:
    return TXL_CALL(Word, Word, Word, Word, Word, Word, Word, Word,
                    Word)(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8]);
  case 10:
    return TXL_CALL(Word, Word, Word, Word, Word, Word, Word, Word, Word, Word)(
        a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9]);
  case 11:
    return TXL_CALL(Word, Word, Word, Word, Word, Word, Word, Word, Word, Word,
                    Word)(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8],
                          a[9], a[10]);
  case 12:
    return TXL_CALL(Word, Word, Word, Word, Word, Word, Word, Word, Word, Word,
                    Word, Word)(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7],
                                a[8], a[9], a[10], a[11]);
  case 13:
    return TXL_CALL(Word, Word, Word, Word, Word, Word, Word, Word, Word, Word,
                    Word, Word, Word)(a[0], a[1], a[2], a[3], a[4], a[5], a[6],
                                      a[7], a[8], a[9], a[10], a[11], a[12]);
  case 14:
    return TXL_CALL(Word, Word, Word, Word, Word, Word, Word, Word, Word, Word,
                    Word, Word, Word, Word)(a[0], a[1], a[2], a[3], a[4], a[5],
                                            a[6], a[7], a[8], a[9], a[10],
                                            a[11], a[12], a[13]);
  case 15:
    return TXL_CALL(Word, Word, Word, Word, Word, Word, Word, Word, Word, Word,
                    Word, Word, Word, Word,
                    Word)(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8],
                          a[9], a[10], a[11], a[12], a[13], a[14]);
  case 16:
    return TXL_CALL(Word, Word, Word, Word, Word, Word, Word, Word, Word, Word,
                    Word, Word, Word, Word, Word,
                    Word)(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8],
                          a[9], a[10], a[11], a[12], a[13], a[14], a[15]);
  default:
    return -1000;
  }
#undef TXL_CALL
}

void emit(const json &line) { std::cout << line.dump() << "\n" << std::flush; }

int fail(const std::string &message) {
  emit({{"event", "error"}, {"message", message}});
  std::cerr << "txl-tune-worker: " << message << "\n";
  return 2;
}

double now(bool threadClock) {
  timespec ts;
  clock_gettime(threadClock ? CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

/// Quiet error handler: an error becomes the call's return code.
void quietError(void *, const char *message) {
  std::fprintf(stderr, "txl-tune-worker: kernel error: %s\n", message);
}

double median(std::vector<double> v) {
  if (v.empty())
    return 0;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}
double quantile(std::vector<double> v, double q) {
  if (v.empty())
    return 0;
  std::sort(v.begin(), v.end());
  double pos = q * double(v.size() - 1);
  size_t lo = size_t(pos);
  size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (pos - double(lo)) * (v[hi] - v[lo]);
}

} // namespace

int main(int argc, char **argv) {
  if (argc != 2)
    return fail("usage: txl-tune-worker SPEC.json (run by txl-tune)");
  json spec;
  try {
    std::ifstream in(argv[1]);
    if (!in)
      return fail(std::string(argv[1]) + ": cannot read");
    spec = json::parse(in);
  } catch (const std::exception &e) {
    return fail(std::string(argv[1]) + ": " + e.what());
  }
  try {
    // The arguments and results.
    std::vector<Tensor> inputs, outputs;
    std::vector<int> argKind; // 0: tensor (index into inputs), 1: scalar
    std::vector<size_t> argIndex;
    std::vector<int64_t> scalars;
    for (const json &a : spec.at("arguments")) {
      if (a.at("kind") == "scalar") {
        argKind.push_back(1);
        argIndex.push_back(scalars.size());
        scalars.push_back(a.at("value").get<int64_t>());
      } else {
        argKind.push_back(0);
        argIndex.push_back(inputs.size());
        inputs.push_back(
            {a.at("element"), a.at("shape").get<std::vector<int64_t>>()});
      }
    }
    for (const json &r : spec.at("results"))
      outputs.push_back(
          {r.at("element"), r.at("shape").get<std::vector<int64_t>>()});
    std::vector<std::vector<int64_t>> scalarSettings = {scalars};
    for (const json &s : spec.value("validate_scalars", json::array()))
      scalarSettings.push_back(s.get<std::vector<int64_t>>());
    const int rounds = spec.value("rounds", 9);
    const double minSample = spec.value("min_sample_seconds", 0.002);
    const double tolerance = spec.value("tolerance", 1e-4);
    const bool threadClock = spec.value("thread_clock", true);
    const size_t coldBytes = spec.value("cold_bytes", size_t(64) << 20);
    std::mt19937_64 rng(spec.value("seed", uint64_t(1)));

    // The candidates.
    struct Loaded {
      void *fn = nullptr;
      bool usable = true;
      std::string status = "ok", message;
      double maxError = 0;
    };
    std::vector<Loaded> loaded;
    for (const json &lib : spec.at("libraries")) {
      Loaded l;
      std::string path = lib.at("path");
      void *handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
      if (!handle) {
        l.usable = false;
        l.status = "compile_error";
        l.message = std::string("dlopen: ") + dlerror();
      } else {
        l.fn = dlsym(handle, lib.at("symbol").get<std::string>().c_str());
        using SetHandler = void *(*)(void (*)(void *, const char *));
        if (auto set = reinterpret_cast<SetHandler>(
                dlsym(handle, "halide_set_error_handler")))
          set(quietError);
        if (!l.fn) {
          l.usable = false;
          l.status = "compile_error";
          l.message = "no symbol " + lib.at("symbol").get<std::string>();
        }
      }
      loaded.push_back(l);
    }
    if (loaded.empty() || !loaded[0].usable)
      return fail(
          "the heuristic's library does not load: " +
          (loaded.empty() ? std::string("none given") : loaded[0].message));

    // Inputs in copies (same data), outputs per candidate.
    size_t setBytes = 0;
    for (const Tensor &t : inputs)
      setBytes += t.bytes();
    size_t copies = std::clamp<size_t>(
        setBytes ? (coldBytes + setBytes - 1) / setBytes : 1, 1, 16);
    if (copies * setBytes > (size_t(1) << 30))
      copies = std::max<size_t>(1, (size_t(1) << 30) /
                                       std::max<size_t>(1, setBytes));
    std::vector<std::vector<Storage>> inputCopies(copies);
    std::uniform_real_distribution<float> value(-1.f, 1.f);
    std::uniform_int_distribution<int64_t> index(0, 63);
    for (size_t c = 0; c < copies; ++c)
      for (size_t i = 0; i < inputs.size(); ++i) {
        inputCopies[c].emplace_back(inputs[i].bytes());
        uint8_t *data = inputCopies[c].back().data;
        if (c > 0) {
          std::memcpy(data, inputCopies[0][i].data, inputs[i].bytes());
          continue;
        }
        size_t n = inputs[i].count();
        if (inputs[i].element == "f32")
          for (size_t k = 0; k < n; ++k)
            reinterpret_cast<float *>(data)[k] = value(rng);
        else if (inputs[i].element == "i32")
          for (size_t k = 0; k < n; ++k)
            reinterpret_cast<int32_t *>(data)[k] = int32_t(index(rng));
        else
          for (size_t k = 0; k < n; ++k)
            reinterpret_cast<int64_t *>(data)[k] = index(rng);
      }
    std::vector<std::vector<Storage>> outputStore(loaded.size());
    for (size_t c = 0; c < loaded.size(); ++c)
      for (const Tensor &t : outputs)
        outputStore[c].emplace_back(t.bytes());

    // One call of candidate c on input copy `copy` with scalar setting s.
    auto call = [&](size_t c, size_t copy, const std::vector<int64_t> &s) {
      std::vector<Buffer> buffers(inputs.size() + outputs.size());
      std::vector<Word> args;
      for (size_t a = 0; a < argKind.size(); ++a) {
        if (argKind[a] == 1) {
          args.push_back(Word(s[argIndex[a]]));
          continue;
        }
        size_t i = argIndex[a];
        buffers[i].bind(inputs[i], inputCopies[copy][i].data);
        args.push_back(Word(&buffers[i].buffer));
      }
      for (size_t o = 0; o < outputs.size(); ++o) {
        Buffer &b = buffers[inputs.size() + o];
        b.bind(outputs[o], outputStore[c][o].data);
        args.push_back(Word(&b.buffer));
      }
      return callKernel(loaded[c].fn, args);
    };

    // Validation against the heuristic, at every scalar setting.
    for (const std::vector<int64_t> &setting : scalarSettings) {
      std::vector<std::vector<uint8_t>> expected;
      for (size_t c = 0; c < loaded.size(); ++c) {
        if (!loaded[c].usable)
          continue;
        emit({{"event", "validating"}, {"index", c}});
        for (size_t o = 0; o < outputs.size(); ++o)
          std::memset(outputStore[c][o].data, 0xFF, outputs[o].bytes());
        int rc = call(c, 0, setting);
        if (rc != 0) {
          loaded[c].usable = false;
          loaded[c].status = "crash";
          loaded[c].message = "returned error " + std::to_string(rc);
          if (c == 0)
            return fail("the heuristic returned error " + std::to_string(rc));
          continue;
        }
        for (size_t o = 0; o < outputs.size(); ++o) {
          if (!outputStore[c][o].guardIntact()) {
            loaded[c].usable = false;
            loaded[c].status = "wrong_result";
            loaded[c].message = "wrote past output " + std::to_string(o);
          }
        }
        if (c == 0) {
          for (size_t o = 0; o < outputs.size(); ++o)
            expected.emplace_back(outputStore[0][o].data,
                                  outputStore[0][o].data + outputs[o].bytes());
          continue;
        }
        for (size_t o = 0; o < outputs.size() && loaded[c].usable; ++o) {
          size_t n = outputs[o].count();
          double worst = 0;
          bool mismatch = false;
          for (size_t k = 0; k < n; ++k) {
            double got, want;
            if (outputs[o].element == "f32") {
              got = reinterpret_cast<const float *>(outputStore[c][o].data)[k];
              want = reinterpret_cast<const float *>(expected[o].data())[k];
            } else if (outputs[o].element == "i32") {
              got =
                  reinterpret_cast<const int32_t *>(outputStore[c][o].data)[k];
              want = reinterpret_cast<const int32_t *>(expected[o].data())[k];
            } else {
              got = double(
                  reinterpret_cast<const int64_t *>(outputStore[c][o].data)[k]);
              want = double(
                  reinterpret_cast<const int64_t *>(expected[o].data())[k]);
            }
            if (std::isnan(want) && std::isnan(got))
              continue;
            if (std::isfinite(want) != std::isfinite(got) ||
                (!std::isfinite(want) && want != got)) {
              mismatch = true;
              worst = INFINITY;
              break;
            }
            double err = std::fabs(got - want) / std::max(1.0, std::fabs(want));
            worst = std::max(worst, err);
          }
          loaded[c].maxError = std::max(loaded[c].maxError, worst);
          if (mismatch || worst > tolerance) {
            loaded[c].usable = false;
            loaded[c].status = "wrong_result";
            char text[160];
            std::snprintf(text, sizeof text,
                          "output %zu differs from the heuristic's by %.3g "
                          "(tolerance %.1g)",
                          o, worst, tolerance);
            loaded[c].message = text;
          }
        }
      }
    }

    // Calibration: calls per sample.
    size_t copy = 0;
    auto sample = [&](size_t c, size_t reps) {
      double start = now(threadClock);
      for (size_t r = 0; r < reps; ++r) {
        call(c, copy, scalars);
        copy = (copy + 1) % copies;
      }
      return (now(threadClock) - start) / double(reps);
    };
    sample(0, 1);
    double once = sample(0, 1);
    size_t reps =
        size_t(std::max(1.0, std::ceil(minSample / std::max(once, 1e-7))));
    reps = std::min<size_t>(reps, 10000);

    // Interleaved rounds.
    std::vector<size_t> order;
    for (size_t c = 1; c < loaded.size(); ++c)
      if (loaded[c].usable)
        order.push_back(c);
    std::vector<double> baselineRound;
    std::vector<std::vector<double>> times(loaded.size()),
        roundRatios(loaded.size());
    for (int r = 0; r < rounds; ++r) {
      std::shuffle(order.begin(), order.end(), rng);
      double b1 = sample(0, reps);
      std::vector<double> t(loaded.size(), 0);
      for (size_t c : order)
        t[c] = sample(c, reps);
      double b2 = sample(0, reps);
      double b = 0.5 * (b1 + b2);
      baselineRound.push_back(b);
      times[0].push_back(b1);
      times[0].push_back(b2);
      for (size_t c : order) {
        times[c].push_back(t[c]);
        roundRatios[c].push_back(t[c] / b);
      }
    }
    double bestBaseline =
        *std::min_element(baselineRound.begin(), baselineRound.end());
    std::vector<bool> keep(rounds);
    int kept = 0;
    for (int r = 0; r < rounds; ++r)
      kept += (keep[r] = baselineRound[r] <= 1.10 * bestBaseline);

    json result = {{"event", "result"},
                   {"reps", reps},
                   {"copies", copies},
                   {"rounds", rounds},
                   {"kept_rounds", kept}};
    json list = json::array();
    for (size_t c = 0; c < loaded.size(); ++c) {
      json item = {{"status", loaded[c].status},
                   {"message", loaded[c].message},
                   {"max_error", std::isfinite(loaded[c].maxError)
                                     ? loaded[c].maxError
                                     : 1e30}};
      if (loaded[c].usable) {
        std::vector<double> ratios;
        for (int r = 0; r < rounds; ++r)
          if (keep[r] && c > 0)
            ratios.push_back(roundRatios[c][r]);
        const std::vector<double> &ts = times[c];
        item["min_s"] = *std::min_element(ts.begin(), ts.end());
        item["median_s"] = median(ts);
        if (c == 0) {
          item["ratio"] = 1.0;
          std::vector<double> rel;
          for (int r = 0; r < rounds; ++r)
            rel.push_back(baselineRound[r] / bestBaseline);
          item["spread"] = (quantile(rel, 0.75) - quantile(rel, 0.25));
        } else {
          double m = median(ratios);
          item["ratio"] = m;
          double iqr = quantile(ratios, 0.75) - quantile(ratios, 0.25);
          item["spread"] = m > 0 ? iqr / m : 0;
          // Standard error of a median: 1.2533 sigma / sqrt(n), sigma ~ IQR
          // / 1.349.
          item["uncertainty"] = m > 0 && !ratios.empty()
                                    ? 1.2533 * (iqr / 1.349) /
                                          std::sqrt(double(ratios.size())) / m
                                    : 0;
        }
        if (3 * kept < rounds)
          item["status"] = "noisy";
      }
      list.push_back(item);
    }
    result["candidates"] = list;
    emit(result);
    return 0;
  } catch (const std::exception &e) {
    return fail(std::string("bad spec: ") + e.what());
  }
}
