//===- StepVariants.h - steps for fewer tokens in one model -----*- C++ -*-===//
//
// A compiled model carries its segment step (T tokens per call) and may
// carry steps compiled for fewer tokens (ModelABI.h, "Step variants"): the
// same model built, lowered and planned for T_v, whose program is merged
// into the segment's here. The variant keeps its kernel calls, copies,
// appends and arena; its weights, states and constants are the program's;
// its prepared tensors are the program's where its @prepare computes the
// same thing (the packed weights), else its own, appended to the prepared
// list (the positions projected for mem_len + T_v keys) with the calls of
// @prepare that compute them.
//
//===----------------------------------------------------------------------===//
#ifndef TXL_CODEGEN_HOST_STEPVARIANTS_H
#define TXL_CODEGEN_HOST_STEPVARIANTS_H

#include "txl/codegen/host/StepProgram.h"
#include "txl/support/Status.h"

#include <functional>
#include <string>

namespace txl::codegen::host {

/// Whether kernel `variantCall` of the variant's @prepare compiles to the
/// same code as `programCall` of the program's (both outlined functions,
/// names aside); their arguments are compared here.
using SameKernelCode = std::function<bool(const KernelCall &programCall,
                                          const KernelCall &variantCall)>;

/// Merges `variant` (a program of the same model with tgtLen < the
/// program's, its kernel symbols distinct from the program's) into
/// `program` as the step variant exported as `symbol`. Fails, changing
/// nothing, when the two are not the same model (shapes, states, weights).
Status addStepVariant(StepProgram &program, const StepProgram &variant,
                      const std::string &symbol,
                      const SameKernelCode &sameKernelCode);

} // namespace txl::codegen::host

#endif // TXL_CODEGEN_HOST_STEPVARIANTS_H
