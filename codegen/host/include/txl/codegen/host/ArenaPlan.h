//===- ArenaPlan.h - arena offsets from buffer lifetimes --------*- C++ -*-===//
//
// The part of the memory plan that does not need IR: every buffer that lives
// in the step's scratch arena is a request (size, first and last kernel that
// touches it); planArena gives each an offset, 64-byte aligned, such that two
// buffers whose lifetimes overlap never share a byte, and buffers whose
// lifetimes are disjoint may (the arena is reused along the kernel sequence).
//
//===----------------------------------------------------------------------===//
#ifndef TXL_CODEGEN_HOST_ARENAPLAN_H
#define TXL_CODEGEN_HOST_ARENAPLAN_H

#include <cstdint>
#include <string>
#include <vector>

namespace txl::codegen::host {

/// Alignment of every arena offset (and of the arena itself, ModelABI.h).
inline constexpr int64_t kArenaAlignment = 64;

/// One buffer of the arena. Lifetimes are closed intervals of positions in
/// the kernel sequence: a buffer written by kernel i and last read by kernel
/// j lives over [i, j]. A kernel's results thus never share space with its
/// inputs (both are live at its position).
struct ArenaRequest {
  int64_t bytes = 0;
  int64_t firstUse = 0;
  int64_t lastUse = 0;
  /// For messages and dumps.
  std::string name;
};

struct ArenaPlan {
  /// One offset per request, in request order; multiples of the alignment.
  std::vector<int64_t> offsets;
  /// The arena size: the end of the highest buffer, rounded up to the
  /// alignment.
  int64_t totalBytes = 0;
  /// The sum of all requests (rounded up): what no reuse would cost.
  int64_t unsharedBytes = 0;
};

/// True when the two lifetimes share a position.
bool lifetimesOverlap(const ArenaRequest &a, const ArenaRequest &b);

/// Rounds `bytes` up to a multiple of `alignment` (a power of two).
int64_t alignTo(int64_t bytes, int64_t alignment = kArenaAlignment);

/// Places the requests: largest first, each at the lowest aligned offset
/// where it overlaps no already placed buffer that is live at the same time.
ArenaPlan planArena(const std::vector<ArenaRequest> &requests,
                    int64_t alignment = kArenaAlignment);

} // namespace txl::codegen::host

#endif // TXL_CODEGEN_HOST_ARENAPLAN_H
