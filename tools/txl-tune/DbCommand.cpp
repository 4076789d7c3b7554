//===- DbCommand.cpp - txl-tune db merge|export|import|verify|stats -------===//

#include "Commands.h"

#include "txl/tuner/DatabaseTransfer.h"
#include "txl/tuner/ModelKernels.h"

#include "llvm/Support/FileSystem.h"

#include <fstream>
#include <iostream>

namespace txl::tune {

int runDb(const std::vector<std::string> &argv) {
  if (argv.empty())
    return fail("usage: txl-tune db merge|export|import|verify|stats ...");
  std::string verb = argv[0];
  std::vector<std::string> rest(argv.begin() + 1, argv.end());
  auto args = Arguments::parse(rest, {"o"}, {"best-only"});
  if (!args.ok())
    return fail(args.status().message());
  const std::vector<std::string> &pos = args->positional;
  auto open = [](const std::string &where, bool create) {
    return tuner::TuningDatabase::open(where, create);
  };

  if (verb == "merge") {
    if (pos.size() < 2)
      return fail("usage: txl-tune db merge TARGET.db SOURCE.db...");
    auto target = open(pos[0], true);
    if (!target.ok())
      return fail(target.status().message());
    for (size_t i = 1; i < pos.size(); ++i) {
      auto source = open(pos[i], false);
      if (!source.ok())
        return fail(source.status().message());
      auto counts = tuner::mergeDatabases(**target, **source);
      if (!counts.ok())
        return fail(counts.status().message());
      std::cout << pos[i] << ": " << counts->rows << " rows, " << counts->added
                << " new\n";
    }
    return 0;
  }
  if (verb == "export") {
    if (pos.size() != 1)
      return fail("usage: txl-tune db export DB [--best-only] [-o FILE]");
    auto db = open(pos[0], false);
    if (!db.ok())
      return fail(db.status().message());
    std::string out = args->get("o", "-");
    if (out == "-") {
      Status s =
          tuner::exportJsonLines(**db, std::cout, args->has("best-only"));
      return s.isOk() ? 0 : fail(s.message());
    }
    // All or nothing: written beside, renamed into place.
    std::string partial = out + ".partial";
    {
      std::ofstream file(partial);
      if (!file)
        return fail(out + ": cannot write");
      Status s = tuner::exportJsonLines(**db, file, args->has("best-only"));
      if (!s.isOk()) {
        llvm::sys::fs::remove(partial);
        return fail(out + ": " + s.message());
      }
    }
    if (std::error_code e = llvm::sys::fs::rename(partial, out))
      return fail(out + ": " + e.message());
    return 0;
  }
  if (verb == "import") {
    if (pos.size() < 2)
      return fail("usage: txl-tune db import DB FILE.jsonl...");
    auto db = open(pos[0], true);
    if (!db.ok())
      return fail(db.status().message());
    for (size_t i = 1; i < pos.size(); ++i) {
      auto counts = tuner::importJsonLines(**db, pos[i]);
      if (!counts.ok())
        return fail(counts.status().message());
      std::cout << pos[i] << ": " << counts->rows << " rows, " << counts->added
                << " new\n";
    }
    return 0;
  }
  if (verb == "verify") {
    if (pos.size() != 1)
      return fail("usage: txl-tune db verify DB");
    auto db = open(pos[0], false);
    if (!db.ok())
      return fail(db.status().message());
    mlir::DialectRegistry registry;
    tuner::registerModelDialects(registry);
    mlir::MLIRContext context(registry);
    context.loadAllAvailableDialects();
    std::vector<std::string> problems;
    int64_t checked = 0;
    Status s = tuner::verifyDatabase(**db, context, problems, checked);
    if (!s.isOk())
      return fail(s.message());
    for (const std::string &p : problems)
      std::cout << pos[0] << ": " << p << "\n";
    std::cout << pos[0] << ": " << checked << " records checked, "
              << problems.size() << " problem(s)\n";
    return problems.empty() ? 0 : 1;
  }
  if (verb == "stats") {
    if (pos.size() != 1)
      return fail("usage: txl-tune db stats DB");
    auto db = open(pos[0], false);
    if (!db.ok())
      return fail(db.status().message());
    auto text = tuner::databaseStats(**db);
    if (!text.ok())
      return fail(text.status().message());
    std::cout << *text;
    return 0;
  }
  return fail("unknown db command '" + verb +
              "' (merge, export, import, verify, stats)");
}

} // namespace txl::tune
