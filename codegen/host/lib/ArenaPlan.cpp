//===- ArenaPlan.cpp - offsets in the scratch arena from buffer lifetimes -===//

#include "txl/codegen/host/ArenaPlan.h"

#include <algorithm>
#include <numeric>

namespace txl::codegen::host {

bool lifetimesOverlap(const ArenaRequest &a, const ArenaRequest &b) {
  return a.firstUse <= b.lastUse && b.firstUse <= a.lastUse;
}

int64_t alignTo(int64_t bytes, int64_t alignment) {
  return (bytes + alignment - 1) / alignment * alignment;
}

ArenaPlan planArena(const std::vector<ArenaRequest> &requests,
                    int64_t alignment) {
  ArenaPlan plan;
  plan.offsets.assign(requests.size(), 0);
  std::vector<size_t> order(requests.size());
  std::iota(order.begin(), order.end(), 0);
  // Largest first (ties: earliest first, then request order) keeps the
  // result deterministic and packs well in practice.
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (requests[a].bytes != requests[b].bytes)
      return requests[a].bytes > requests[b].bytes;
    return requests[a].firstUse < requests[b].firstUse;
  });

  std::vector<size_t> placed;
  for (size_t index : order) {
    const ArenaRequest &request = requests[index];
    int64_t size = alignTo(std::max<int64_t>(request.bytes, 0), alignment);
    plan.unsharedBytes += size;
    // The buffers live at the same time, by offset: try the lowest gap.
    std::vector<std::pair<int64_t, int64_t>> busy;
    for (size_t other : placed)
      if (lifetimesOverlap(request, requests[other]))
        busy.push_back(
            {plan.offsets[other],
             plan.offsets[other] + alignTo(requests[other].bytes, alignment)});
    std::sort(busy.begin(), busy.end());
    int64_t offset = 0;
    for (const auto &[begin, end] : busy) {
      if (offset + size <= begin)
        break;
      offset = std::max(offset, end);
    }
    plan.offsets[index] = offset;
    plan.totalBytes = std::max(plan.totalBytes, offset + size);
    placed.push_back(index);
  }
  return plan;
}

} // namespace txl::codegen::host
