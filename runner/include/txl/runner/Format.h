//===- Format.h - numbers as the run summaries print them -------*- C++ -*-===//
#ifndef TXL_RUNNER_FORMAT_H
#define TXL_RUNNER_FORMAT_H

#include <cstdint>
#include <string>

namespace txl {

/// printf("%.<decimals>f").
std::string formatFixed(double value, int decimals);
/// 39716 -> "39,716".
std::string withThousands(int64_t value);
/// A rate with thousands separators: 12345.6 -> "12,346"; below 100 with
/// one decimal ("42.5"), so that slow runs still show a useful number.
std::string formatRate(double perSecond);

} // namespace txl

#endif // TXL_RUNNER_FORMAT_H
