//===- ContentHash.h - hashes of text for keys and caches -------*- C++ -*-===//
#ifndef TXL_TUNER_CONTENTHASH_H
#define TXL_TUNER_CONTENTHASH_H

#include <string>

namespace txl::tuner {

/// Hex SHA-256 of `text`, first 32 digits (128 bits).
std::string contentHash(const std::string &text);

} // namespace txl::tuner

#endif // TXL_TUNER_CONTENTHASH_H
