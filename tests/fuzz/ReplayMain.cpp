//===- ReplayMain.cpp - run a fuzz target over saved inputs, no libFuzzer -===//
//
// The CI side of the fuzz targets: linked with a target instead of
// libFuzzer, it runs LLVMFuzzerTestOneInput once on every file of the
// folders (and files) named on the command line — the seed corpus and every
// past crash input — so any build (gcc, the sanitizer job) replays them in
// seconds. A folder that holds no input is an error (a replay of nothing
// would pass whatever the code does), except after `--`: the folders there
// (the past crash inputs) may be empty or absent.
//
//===----------------------------------------------------------------------===//

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

namespace fs = std::filesystem;

int main(int argc, char **argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR_OR_FILE...\n", argv[0]);
    return 2;
  }
  size_t replayed = 0;
  bool optional = false;
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--") {
      optional = true;
      continue;
    }
    std::vector<fs::path> inputs;
    std::error_code error;
    if (optional && !fs::exists(argv[i], error))
      continue;
    if (fs::is_directory(argv[i], error)) {
      for (const auto &entry : fs::directory_iterator(argv[i]))
        if (entry.is_regular_file() &&
            entry.path().filename().native().front() != '.')
          inputs.push_back(entry.path());
      if (inputs.empty() && !optional) {
        std::fprintf(stderr, "%s: no inputs in %s\n", argv[0], argv[i]);
        return 1;
      }
    } else if (fs::is_regular_file(argv[i], error)) {
      inputs.push_back(argv[i]);
    } else {
      std::fprintf(stderr, "%s: %s: not a file or folder\n", argv[0], argv[i]);
      return 1;
    }
    std::sort(inputs.begin(), inputs.end());
    for (const fs::path &input : inputs) {
      std::ifstream in(input, std::ios::binary);
      std::string bytes((std::istreambuf_iterator<char>(in)), {});
      // A copy of exactly `size` bytes (at least one allocated), so ASan sees
      // a read past the end.
      std::unique_ptr<uint8_t[]> data(
          new uint8_t[bytes.size() + !bytes.size()]);
      std::memcpy(data.get(), bytes.data(), bytes.size());
      LLVMFuzzerTestOneInput(data.get(), bytes.size());
      ++replayed;
    }
  }
  std::printf("%s: replayed %zu inputs\n", argv[0], replayed);
  return 0;
}
