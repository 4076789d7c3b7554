//===- VectorCases.h - the cases of tests/vectors and their bar -*- C++ -*-===//
//
// One list for every suite that runs the independent PyTorch vectors
// (tests/torch_reference/make_vectors.py writes them).
//
//===----------------------------------------------------------------------===//
#ifndef TXL_TESTS_UNIT_VECTORCASES_H
#define TXL_TESTS_UNIT_VECTORCASES_H

namespace txl::testing {

inline const char *kVectorCases[] = {"plain_postln",      "plain_sameln_clamp",
                                     "adaptive_div1",     "adaptive_div4",
                                     "prelnorm_shared_r", "untied_all",
                                     "long_memory_clamp"};

/// The acceptance bar against the PyTorch vectors; measured errors are
/// ~1e-6.
constexpr double kVectorTolerance = 1e-4;

} // namespace txl::testing

#endif // TXL_TESTS_UNIT_VECTORCASES_H
