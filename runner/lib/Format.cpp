//===- Format.cpp - numbers as the run summaries print them ---------------===//

#include "txl/runner/Format.h"

#include <cmath>
#include <cstdio>

namespace txl {

std::string formatFixed(double value, int decimals) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
  return buffer;
}

std::string withThousands(int64_t value) {
  std::string digits = std::to_string(value < 0 ? -value : value), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0)
      out += ',';
    out += digits[i];
  }
  return value < 0 ? "-" + out : out;
}

std::string formatRate(double perSecond) {
  if (!std::isfinite(perSecond))
    return "-";
  if (perSecond < 100)
    return formatFixed(perSecond, 1);
  return withThousands(static_cast<int64_t>(std::llround(perSecond)));
}

} // namespace txl
