//===- HalideNames.h - the words of a Halide 14 target string ---*- C++ -*-===//
//
// Halide 14 refuses a target string with a word it does not know; txl refuses
// it earlier, when the target is parsed, with the list of accepted words.
// These lists are Halide 14's (Target.cpp's arch, OS and feature maps).
//
//===----------------------------------------------------------------------===//
#ifndef TXL_TARGET_LIB_HALIDENAMES_H
#define TXL_TARGET_LIB_HALIDENAMES_H

#include <string>
#include <vector>

namespace txl::target {

/// Sorted, as Halide prints them.
const std::vector<std::string> &halideArchitectures();
const std::vector<std::string> &halideOperatingSystems();
const std::vector<std::string> &halideFeatures();

bool isHalideArchitecture(const std::string &word);
bool isHalideOperatingSystem(const std::string &word);
bool isHalideFeature(const std::string &word);

/// "a, b, c": the accepted words in an error message.
std::string joinWords(const std::vector<std::string> &words);

} // namespace txl::target

#endif // TXL_TARGET_LIB_HALIDENAMES_H
