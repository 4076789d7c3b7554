//===- Bandwidth.cpp - the read bandwidth a roofline divides by -----------===//
//
// bench-bandwidth BYTES [THREADS]: each thread sums its share of a BYTES
// buffer again and again (plain loads into four vectors of sums); prints
// the GB/s of the fastest of several passes. With BYTES well above the
// last-level cache it is the DRAM bandwidth that bounds a step reading all its
// weights once (bench/model/generate.py's roofline). Built for this machine
// (-march=native): a host benchmark, never shipped.
//
//===----------------------------------------------------------------------===//

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

namespace {

/// Eight floats, summed lane by lane (GCC/Clang vector extension: SSE or AVX
/// as the build targets, no reassociation needed).
typedef float Lanes __attribute__((vector_size(32)));

float sumOf(const float *data, size_t count) {
  Lanes sums[4] = {};
  for (size_t i = 0; i + 32 <= count; i += 32)
    for (int k = 0; k < 4; ++k) {
      Lanes loaded;
      __builtin_memcpy(&loaded, data + i + 8 * k, sizeof(loaded));
      sums[k] += loaded;
    }
  float total = 0;
  for (const Lanes &s : sums)
    for (int lane = 0; lane < 8; ++lane)
      total += s[lane];
  return total;
}

} // namespace

int main(int argc, char **argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench-bandwidth BYTES [THREADS]\n");
    return 1;
  }
  size_t bytes = std::strtoull(argv[1], nullptr, 10);
  int threads = argc > 2 ? std::max(1, std::atoi(argv[2])) : 1;
  size_t count = bytes / sizeof(float) / threads / 32 * 32 * threads;
  std::vector<float> buffer(count, 1.0f);
  size_t share = count / threads;
  int passes =
      static_cast<int>(std::clamp<size_t>(4000000000ull / bytes, 5, 2000));
  // Every thread sweeps its share `passes` times on its own (no thread is
  // started per pass: that would cost as much as a cache-sized sweep) and
  // keeps its fastest pass (the others lost time slices to other work); the
  // threads' bandwidths add up.
  volatile float sink = 0;
  std::vector<double> fastest(threads, 1e30);
  auto sweep = [&](int t) {
    float total = 0;
    for (int pass = 0; pass < passes; ++pass) {
      auto start = std::chrono::steady_clock::now();
      total += sumOf(buffer.data() + t * share, share);
      fastest[t] =
          std::min(fastest[t], std::chrono::duration<double>(
                                   std::chrono::steady_clock::now() - start)
                                   .count());
    }
    sink = sink + total;
  };
  std::vector<std::thread> workers;
  for (int t = 1; t < threads; ++t)
    workers.emplace_back(sweep, t);
  sweep(0);
  for (std::thread &worker : workers)
    worker.join();
  double bytesPerSecond = 0;
  for (double seconds : fastest)
    bytesPerSecond += share * sizeof(float) / seconds;
  std::printf("%.2f GB/s (%zu bytes, %d thread(s), fastest of %d passes)\n",
              bytesPerSecond / 1e9, count * sizeof(float), threads, passes);
  return 0;
}
