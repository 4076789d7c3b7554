//===- ContentHash.cpp - SHA-256 of text, in hex
//---------------------------===//

#include "txl/tuner/ContentHash.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/SHA256.h"

namespace txl::tuner {

std::string contentHash(const std::string &text) {
  std::array<uint8_t, 32> digest = llvm::SHA256::hash(llvm::ArrayRef<uint8_t>(
      reinterpret_cast<const uint8_t *>(text.data()), text.size()));
  static const char *hex = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < 16; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 15];
  }
  return out;
}

} // namespace txl::tuner
