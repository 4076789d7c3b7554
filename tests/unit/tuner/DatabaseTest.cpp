//===- DatabaseTest.cpp - records, the best query, targets, merge ---------===//

#include "txl/tuner/DatabaseTransfer.h"
#include "txl/tuner/TuningDatabase.h"

#include "llvm/Support/FileSystem.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

using namespace txl::tuner;

namespace {

std::string tempPath(const std::string &name) {
  llvm::SmallString<128> dir;
  EXPECT_FALSE(llvm::sys::fs::createUniqueDirectory("txl-tune-test", dir));
  return (dir + "/" + name).str();
}

const char *kAvx2 = "x86-64-linux-avx-avx2-f16c-fma-sse41";
const char *kAvx512 =
    "x86-64-linux-avx-avx2-avx512-avx512_skylake-f16c-fma-sse41";

RecordRow record(const std::string &workload, const std::string &target,
                 const std::string &hash, double ratio,
                 const std::string &origin = "tuned",
                 const std::string &status = "ok", int64_t threads = 1) {
  RecordRow r;
  r.id = newId();
  r.workload = workload;
  r.target = target;
  r.threads = threads;
  r.session = "s1";
  r.origin = origin;
  r.knobs = "gemm.min_tiles=" + hash;
  r.schedule = "{funcs = []}";
  r.scheduleHash = hash;
  r.status = status;
  r.ratio = ratio;
  r.medianSeconds = ratio * 1e-3;
  r.created = utcNow();
  r.halideVersion = halideVersion();
  r.txlVersion = txlVersion();
  return r;
}

std::unique_ptr<TuningDatabase> fresh(const std::string &path) {
  auto db = TuningDatabase::open(path, true);
  EXPECT_TRUE(db.ok()) << db.status().message();
  EXPECT_TRUE((*db)->addWorkload({"w1", "ffn.up", "()", "ir"}).isOk());
  EXPECT_TRUE((*db)->addWorkload({"w2", "ffn.down", "()", "ir2"}).isOk());
  SessionRow s;
  s.id = "s1";
  s.started = utcNow();
  s.commandHash = "c";
  s.machine = "m";
  EXPECT_TRUE((*db)->addSession(s).isOk());
  return std::move(*db);
}

} // namespace

TEST(TuningDatabase, BestIsTheLowestMeanRatioOfOkRecords) {
  auto db = fresh(tempPath("a.db"));
  ASSERT_TRUE(
      db->addRecord(record("w1", kAvx2, "heur", 1.0, "heuristic")).isOk());
  ASSERT_TRUE(db->addRecord(record("w1", kAvx2, "fast", 0.80)).isOk());
  // A lucky measurement measured again regresses: its mean loses.
  ASSERT_TRUE(db->addRecord(record("w1", kAvx2, "lucky", 0.70)).isOk());
  ASSERT_TRUE(db->addRecord(record("w1", kAvx2, "lucky", 0.95)).isOk());
  // Failures are records too, and never served.
  ASSERT_TRUE(
      db->addRecord(record("w1", kAvx2, "wrong", 0.10, "tuned", "wrong_result"))
          .isOk());
  auto best = db->best("w1", kAvx2, 1);
  ASSERT_TRUE(best.ok());
  ASSERT_TRUE(best->has_value());
  EXPECT_EQ((*best)->record.scheduleHash, "fast");
  EXPECT_DOUBLE_EQ((*best)->meanRatio, 0.80);
}

TEST(TuningDatabase, NearTiesKeepTheHeuristic) {
  auto db = fresh(tempPath("a.db"));
  ASSERT_TRUE(
      db->addRecord(record("w1", kAvx2, "heur", 1.0, "heuristic")).isOk());
  ASSERT_TRUE(db->addRecord(record("w1", kAvx2, "tie", 0.995)).isOk());
  auto best = db->best("w1", kAvx2, 1);
  ASSERT_TRUE(best.ok() && best->has_value());
  EXPECT_EQ((*best)->record.scheduleHash, "heur");
}

TEST(TuningDatabase, LookupsAreTargetAndThreadAware) {
  auto db = fresh(tempPath("a.db"));
  ASSERT_TRUE(db->addRecord(record("w1", kAvx2, "avx2", 0.5)).isOk());
  ASSERT_TRUE(
      db->addRecord(record("w1", kAvx2, "two", 0.5, "tuned", "ok", 2)).isOk());
  // An AVX2 record is never served to AVX-512, nor a 2-thread one at 1.
  auto other = db->best("w1", kAvx512, 1);
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(other->has_value());
  auto one = db->best("w1", kAvx2, 1);
  ASSERT_TRUE(one.ok() && one->has_value());
  EXPECT_EQ((*one)->record.scheduleHash, "avx2");
  auto missing = db->best("w2", kAvx2, 1);
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
}

TEST(TuningDatabase, MergeIsIdempotent) {
  std::string a = tempPath("a.db"), b = tempPath("b.db");
  auto source = fresh(a);
  ASSERT_TRUE(source->addRecord(record("w1", kAvx2, "x", 0.9)).isOk());
  ASSERT_TRUE(source->addRecord(record("w2", kAvx2, "y", 0.8)).isOk());
  auto target = TuningDatabase::open(b, true);
  ASSERT_TRUE(target.ok());
  auto first = mergeDatabases(**target, *source);
  ASSERT_TRUE(first.ok()) << first.status().message();
  EXPECT_GT(first->added, 0);
  auto second = mergeDatabases(**target, *source);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->rows, first->rows);
  EXPECT_EQ(second->added, 0);
  auto records = (*target)->allRecords();
  ASSERT_TRUE(records.ok());
  EXPECT_EQ(records->size(), 2u);
}

TEST(TuningDatabase, ExportImportRoundTripsAndRejectsBadLines) {
  std::string a = tempPath("a.db");
  auto db = fresh(a);
  ASSERT_TRUE(
      db->addRecord(record("w1", kAvx2, "heur", 1.0, "heuristic")).isOk());
  ASSERT_TRUE(db->addRecord(record("w1", kAvx2, "x", 0.9)).isOk());
  std::ostringstream all, best;
  ASSERT_TRUE(exportJsonLines(*db, all, false).isOk());
  ASSERT_TRUE(exportJsonLines(*db, best, true).isOk());
  EXPECT_NE(all.str().find("\"schedule_hash\":\"heur\""), std::string::npos);
  EXPECT_EQ(best.str().find("\"schedule_hash\":\"heur\""), std::string::npos);
  EXPECT_NE(best.str().find("\"schedule_hash\":\"x\""), std::string::npos);

  std::string lines = tempPath("all.jsonl");
  std::ofstream(lines) << all.str();
  auto copy = TuningDatabase::open(tempPath("copy.db"), true);
  ASSERT_TRUE(copy.ok());
  auto counts = importJsonLines(**copy, lines);
  ASSERT_TRUE(counts.ok()) << counts.status().message();
  auto again = importJsonLines(**copy, lines);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->added, 0);
  auto records = (*copy)->allRecords();
  ASSERT_TRUE(records.ok());
  EXPECT_EQ(records->size(), 2u);

  // A bad line: an error naming the line, and nothing of the file kept.
  std::string bad = tempPath("bad.jsonl");
  std::ofstream(bad) << all.str() << "{\"table\": \"record\", \"id\": 3}\n";
  auto empty = TuningDatabase::open(tempPath("empty.db"), true);
  auto failed = importJsonLines(**empty, bad);
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.status().message().find("bad.jsonl:"), std::string::npos);
  auto none = (*empty)->allRecords();
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST(TuningDatabase, RefusesWhatIsNotOne) {
  std::string path = tempPath("x.db");
  auto missing = TuningDatabase::open(path, false);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find(path), std::string::npos);
  std::ofstream(path) << "not a database at all, just text\n";
  auto text = TuningDatabase::open(path, true);
  EXPECT_FALSE(text.ok());
}
