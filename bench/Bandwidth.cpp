//===- Bandwidth.cpp - the read bandwidth a roofline divides by -----------===//
//
// bench-bandwidth BYTES [THREADS]: each thread sums its share of a BYTES
// buffer again and again (plain loads, eight independent sums the compiler
// vectorizes); prints the best GB/s of several passes. With BYTES well above
// the last-level cache it is the DRAM bandwidth that bounds a step reading
// all its weights once (bench/model/generate.py's roofline).
//
//===----------------------------------------------------------------------===//

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

namespace {

float sumOf(const float *data, size_t count) {
  float sums[8] = {};
  for (size_t i = 0; i + 8 <= count; i += 8)
    for (int lane = 0; lane < 8; ++lane)
      sums[lane] += data[i + lane];
  float total = 0;
  for (float s : sums)
    total += s;
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
  size_t count = bytes / sizeof(float) / threads / 8 * 8 * threads;
  std::vector<float> buffer(count, 1.0f);
  size_t share = count / threads;
  int passes = static_cast<int>(std::clamp<size_t>(4000000000ull / bytes, 5, 2000));
  double best = 1e30;
  volatile float sink = 0;
  for (int pass = 0; pass < passes; ++pass) {
    auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> workers;
    std::vector<float> sums(threads);
    for (int t = 0; t < threads; ++t)
      workers.emplace_back([&, t] {
        sums[t] = sumOf(buffer.data() + t * share, share);
      });
    for (std::thread &worker : workers)
      worker.join();
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
    best = std::min(best, seconds);
    for (float s : sums)
      sink = sink + s;
  }
  std::printf("%.2f GB/s (%zu bytes, %d thread(s), best of %d)\n",
              count * sizeof(float) / best / 1e9, count * sizeof(float),
              threads, passes);
  return 0;
}
