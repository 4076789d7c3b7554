//===- Progress.cpp - a progress bar on a terminal's stderr ---------------===//

#include "txl/runner/Progress.h"
#include "txl/runner/Format.h"

#include <cstdio>
#include <unistd.h>

namespace txl {

ProgressBar::ProgressBar(int64_t total, std::string unit, int64_t steps,
                         int64_t minimumSteps)
    : total(total), unit(std::move(unit)),
      active(steps > minimumSteps && total > 0 && isatty(STDERR_FILENO)),
      begin(Clock::now()), lastDrawn(begin) {}

ProgressBar::~ProgressBar() { finish(); }

void ProgressBar::update(int64_t done) {
  if (!active)
    return;
  Clock::time_point now = Clock::now();
  if (done < total && now - lastDrawn < std::chrono::milliseconds(100))
    return;
  lastDrawn = now;
  constexpr int kWidth = 30;
  int filled = static_cast<int>(kWidth * done / total);
  double seconds = std::chrono::duration<double>(now - begin).count();
  std::string line =
      "[" + std::string(filled, '=') + std::string(kWidth - filled, ' ') +
      "] " + std::to_string(100 * done / total) + "% " + withThousands(done) +
      "/" + withThousands(total) + " " + unit;
  if (seconds > 0)
    line += ", " + formatRate(done / seconds) + "/s";
  // Pad over what the previous draw left.
  size_t width = line.size();
  if (line.size() < drawnWidth)
    line += std::string(drawnWidth - line.size(), ' ');
  drawnWidth = width;
  std::fprintf(stderr, "\r%s", line.c_str());
  std::fflush(stderr);
}

void ProgressBar::finish() {
  if (!active)
    return;
  if (drawnWidth)
    std::fprintf(stderr, "\r%s\r", std::string(drawnWidth, ' ').c_str());
  std::fflush(stderr);
  active = false;
}

} // namespace txl
