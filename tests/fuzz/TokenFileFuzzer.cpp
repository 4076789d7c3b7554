//===- TokenFileFuzzer.cpp - txl-run's --tokens file ----------------------===//
//
// Input: a tokens safetensors file, read as txl-run reads it (from a path:
// a memfd stands in for the file) against a vocabulary of 40. An accepted
// table must hold B x N ids inside the vocabulary.
//
//===----------------------------------------------------------------------===//

#include "txl/runner/TokenFile.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

using namespace txl;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int fd = memfd_create("tokens.safetensors", 0);
  static std::string path = "/proc/self/fd/" + std::to_string(fd);
  if (fd < 0 || ftruncate(fd, 0) != 0 ||
      pwrite(fd, data, size, 0) != ssize_t(size)) {
    std::perror("memfd");
    std::abort();
  }
  auto table = readTokens(path, 40);
  if (!table.ok())
    return 0;
  if (table->batch < 1 || table->length < 1 ||
      int64_t(table->ids.size()) != table->batch * table->length)
    std::abort();
  for (int64_t id : table->ids)
    if (id < 0 || id >= 40)
      std::abort();
  return 0;
}
