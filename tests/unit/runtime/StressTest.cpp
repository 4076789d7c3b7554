//===- StressTest.cpp - many sessions, many threads, no leak --------------===//
//
// One loaded model, many sessions on many threads: steps of different
// streams interleaved, sessions reset and freed and created again mid-run;
// every step's outputs must equal, bit for bit, that stream run alone. Then
// 10,000 create/step/free cycles must not grow the heap (a count of glibc's
// bytes in use; under AddressSanitizer, whose allocator glibc cannot see,
// LeakSanitizer checks the same at exit). Kept to seconds for the normal
// suite; the sanitizer job runs it under ASan and under ThreadSanitizer.
//
//===----------------------------------------------------------------------===//

#include "RuntimeTestSupport.h"

#include <malloc.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <random>
#include <thread>

using namespace txl;
using namespace txl::testing;

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define TXL_SANITIZED_ALLOCATOR 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define TXL_SANITIZED_ALLOCATOR 1
#endif
#endif

namespace {

std::shared_ptr<const CompiledModel> loadModel(const VectorData &data) {
  std::string library =
      referenceModelCopy(data.modelDir(), data.batch, data.tgtLen);
  auto model = CompiledModel::load(library, data.weightsPath());
  EXPECT_TRUE(model.ok()) << model.status().message();
  return model.ok() ? *model : nullptr;
}

/// One step's outputs: hidden [B, n, D] and log_probs [B, n, V].
struct StepOutput {
  std::vector<float> hidden, logProbs;
  bool operator==(const StepOutput &o) const {
    return hidden == o.hidden && logProbs == o.logProbs;
  }
};

/// A stream's segments (ids [B, n] each) and, run alone, each step's output.
struct Stream {
  std::vector<std::vector<int64_t>> segments;
  std::vector<StepOutput> expected;
};

StepOutput step(Session &session, const std::vector<int64_t> &ids,
                Status *status) {
  const CompiledModel &model = session.model();
  int64_t n = int64_t(ids.size()) / model.batch();
  StepOutput out{std::vector<float>(ids.size() * model.dModel()),
                 std::vector<float>(ids.size() * model.vocabSize())};
  *status = session.step(ids.data(), n, out.hidden.data(), out.logProbs.data());
  return out;
}

/// `count` streams: the case's tokens shifted through the vocabulary, cut
/// into segments of T, each run alone in a fresh session for the expected
/// outputs.
std::vector<Stream> makeStreams(const VectorData &data,
                                std::shared_ptr<const CompiledModel> model,
                                int count) {
  int64_t B = data.batch, N = data.length, T = data.tgtLen,
          V = model->vocabSize();
  std::vector<Stream> streams(count);
  for (int s = 0; s < count; ++s) {
    for (int64_t start = 0; start < N; start += T) {
      int64_t n = std::min(T, N - start);
      std::vector<int64_t> ids(B * n);
      for (int64_t b = 0; b < B; ++b)
        for (int64_t t = 0; t < n; ++t)
          ids[b * n + t] = (data.tokens[b * N + start + t] + 7 * s) % V;
      streams[s].segments.push_back(std::move(ids));
    }
    auto alone = Session::create(model);
    EXPECT_TRUE(alone.ok());
    for (const auto &ids : streams[s].segments) {
      Status status = Status::ok();
      streams[s].expected.push_back(step(**alone, ids, &status));
      EXPECT_TRUE(status.isOk()) << status.message();
    }
  }
  return streams;
}

/// 8 threads x 3 sessions of `model`, interleaving steps of 6 streams made
/// from `data`, with resets and frees; each step checked against the stream
/// run alone.
void stressSessions(const VectorData &data,
                    std::shared_ptr<const CompiledModel> model) {
  constexpr int kStreams = 6, kThreads = 8, kSessionsPerThread = 3,
                kActionsPerThread = 150;
  std::vector<Stream> streams = makeStreams(data, model, kStreams);

  std::atomic<int> steps{0}, mismatches{0}, failures{0};
  std::mutex messageMutex;
  std::string firstMessage;
  auto fail = [&](const std::string &message) {
    ++failures;
    std::lock_guard<std::mutex> lock(messageMutex);
    if (firstMessage.empty())
      firstMessage = message;
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      std::mt19937 random(1234 + t);
      struct Slot {
        std::unique_ptr<Session> session;
        int stream = 0;
        size_t next = 0; // the next segment of the stream
      };
      std::vector<Slot> slots(kSessionsPerThread);
      auto fresh = [&](Slot &slot) {
        auto created = Session::create(model);
        if (!created.ok())
          return fail(created.status().message());
        slot.session = std::move(*created);
        slot.stream = int(random() % kStreams);
        slot.next = 0;
      };
      for (Slot &slot : slots)
        fresh(slot);
      for (int action = 0; action < kActionsPerThread; ++action) {
        Slot &slot = slots[random() % slots.size()];
        if (!slot.session)
          return;
        const Stream &stream = streams[slot.stream];
        unsigned what = random() % 16;
        if (what == 0 || slot.next == stream.segments.size()) {
          // Start over, either way.
          slot.session->reset();
          slot.stream = int(random() % kStreams);
          slot.next = 0;
        } else if (what == 1) {
          slot.session.reset(); // freed mid-stream
          fresh(slot);
        } else {
          Status status = Status::ok();
          StepOutput out =
              step(*slot.session, stream.segments[slot.next], &status);
          if (!status.isOk())
            return fail(status.message());
          if (!(out == stream.expected[slot.next]))
            ++mismatches;
          ++slot.next;
          ++steps;
        }
      }
    });
  for (std::thread &thread : threads)
    thread.join();
  EXPECT_EQ(failures.load(), 0) << firstMessage;
  EXPECT_EQ(mismatches.load(), 0) << "of " << steps.load() << " steps";
  EXPECT_GT(steps.load(), kThreads * kActionsPerThread / 2);
}

TEST(Stress, ManySessionsOnManyThreadsEqualEachStreamAlone) {
  VectorData data = VectorData::load("adaptive_div4");
  auto model = loadModel(data);
  ASSERT_TRUE(model);
  stressSessions(data, model);
}

// The same on a model compiled by txlc, whose Halide kernels run on Halide's
// own thread pool (2 threads) inside each step.
TEST(Stress, CompiledModelSessionsOnManyThreads) {
  const char *path = std::getenv("TXL_STRESS_COMPILED_MODEL");
#ifdef TXL_COMPILED_MODEL_PATH
  if (!path)
    path = TXL_COMPILED_MODEL_PATH;
#endif
  if (!path)
    GTEST_SKIP() << "a sanitized build has no txlc: scripts/sanitize.sh sets "
                    "TXL_STRESS_COMPILED_MODEL to the normal build's model";
  VectorData data = VectorData::load("plain_postln");
  auto model = CompiledModel::load(path);
  ASSERT_TRUE(model.ok()) << model.status().message();
  Status threads = (*model)->setThreads(2);
  ASSERT_TRUE(threads.isOk()) << threads.message();
  stressSessions(data, *model);
}

/// Bytes the process has allocated and not freed (glibc, every arena).
size_t bytesInUse() {
  struct mallinfo2 info = mallinfo2();
  return info.uordblks + info.hblkhd;
}

TEST(Stress, TenThousandCreateStepFreeCyclesDoNotLeak) {
  VectorData data = VectorData::load("plain_postln");
  auto model = loadModel(data);
  ASSERT_TRUE(model);
  int64_t B = data.batch, T = data.tgtLen, N = data.length;
  std::vector<int64_t> ids(B * T);
  for (int64_t b = 0; b < B; ++b)
    std::copy_n(&data.tokens[b * N], T, &ids[b * T]);
  std::vector<float> hidden(B * T * model->dModel()),
      logProbs(B * T * model->vocabSize());
  auto cycle = [&] {
    auto session = Session::create(model);
    ASSERT_TRUE(session.ok()) << session.status().message();
    Status status =
        (*session)->step(ids.data(), T, hidden.data(), logProbs.data());
    ASSERT_TRUE(status.isOk()) << status.message();
  };
  // Warm up: the first cycles fill caches that stay (thread pools, the
  // allocator's own structures).
  for (int i = 0; i < 100; ++i)
    ASSERT_NO_FATAL_FAILURE(cycle());
  size_t before = bytesInUse();
  constexpr int kCycles = 10000;
  for (int i = 0; i < kCycles; ++i)
    ASSERT_NO_FATAL_FAILURE(cycle());
  size_t after = bytesInUse();
#ifdef TXL_SANITIZED_ALLOCATOR
  (void)before;
  (void)after;
  GTEST_LOG_(INFO) << "the sanitizer's allocator hides glibc's counts; "
                      "LeakSanitizer checks for leaks at exit";
#else
  // A leak of even one byte per cycle would show as 10,000 bytes.
  EXPECT_LT(after, before + kCycles)
      << "the heap grew by " << (after - before) << " bytes over " << kCycles
      << " create/step/free cycles";
#endif
}

} // namespace
