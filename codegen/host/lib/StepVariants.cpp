//===- StepVariants.cpp - merge a step for fewer tokens into a program ----===//

#include "txl/codegen/host/StepVariants.h"

#include <algorithm>
#include <map>

namespace txl::codegen::host {
namespace {

/// The variant's indices of weights, prepared tensors and constants in the
/// merged program.
struct IndexMaps {
  std::map<int64_t, int64_t> weights, prepared, constants;
};

Status remap(Place &place, const IndexMaps &maps) {
  const std::map<int64_t, int64_t> *map = nullptr;
  const char *what = "";
  switch (place.kind) {
  case Place::Kind::Weight:
    map = &maps.weights, what = "weight";
    break;
  case Place::Kind::Prepared:
    map = &maps.prepared, what = "prepared tensor";
    break;
  case Place::Kind::Constant:
    map = &maps.constants, what = "constant";
    break;
  default:
    return Status::ok(); // scratch (the variant's arena), states, outputs
  }
  auto found = map->find(place.index);
  if (found == map->end())
    return Status::error(std::string("internal error: the step variant reads "
                                     "a ") +
                         what + " #" + std::to_string(place.index) +
                         " that nothing provides");
  place.index = found->second;
  return Status::ok();
}

Status remap(KernelCall &call, const IndexMaps &maps) {
  for (CallArgument &argument : call.arguments)
    if (argument.kind == CallArgument::Kind::Tensor ||
        argument.kind == CallArgument::Kind::Loaded)
      if (Status status = remap(argument.tensor.place, maps); !status.isOk())
        return status;
  for (TensorView &result : call.results)
    if (Status status = remap(result.place, maps); !status.isOk())
      return status;
  return Status::ok();
}

bool samePlace(const Place &a, const Place &b) {
  return a.kind == b.kind && a.index == b.index && a.byteOffset == b.byteOffset;
}

/// A prepare call that reads only weights, constants and prepared tensors
/// and writes only prepared tensors: one the program may already make.
bool onlyPreparedResults(const KernelCall &call) {
  for (const CallArgument &argument : call.arguments)
    if (argument.kind != CallArgument::Kind::Tensor ||
        (argument.tensor.place.kind != Place::Kind::Weight &&
         argument.tensor.place.kind != Place::Kind::Constant &&
         argument.tensor.place.kind != Place::Kind::Prepared))
      return false;
  return std::all_of(call.results.begin(), call.results.end(),
                     [](const TensorView &result) {
                       return result.place.kind == Place::Kind::Prepared;
                     });
}

/// Whether `mine` (remapped) computes what `theirs` does: the same code on
/// the same inputs, into results of the same shapes.
bool sameCall(const KernelCall &theirs, const KernelCall &mine,
              const SameKernelCode &sameKernelCode) {
  if (theirs.kernelName != mine.kernelName ||
      theirs.arguments.size() != mine.arguments.size() ||
      theirs.results.size() != mine.results.size())
    return false;
  for (size_t a = 0; a < mine.arguments.size(); ++a) {
    const CallArgument &x = theirs.arguments[a], &y = mine.arguments[a];
    if (x.kind != y.kind || !samePlace(x.tensor.place, y.tensor.place) ||
        x.tensor.shape != y.tensor.shape ||
        x.tensor.strides != y.tensor.strides)
      return false;
  }
  for (size_t r = 0; r < mine.results.size(); ++r)
    if (theirs.results[r].place.kind != Place::Kind::Prepared ||
        theirs.results[r].shape != mine.results[r].shape)
      return false;
  return sameKernelCode(theirs, mine);
}

} // namespace

Status addStepVariant(StepProgram &program, const StepProgram &variant,
                      const std::string &symbol,
                      const SameKernelCode &sameKernelCode) {
  auto fail = [&](const std::string &what) {
    return Status::error(
        "internal error: the step for " + std::to_string(variant.tgtLen) +
        " token(s) is not a variant of the segment step: " + what);
  };
  if (variant.batch != program.batch || variant.memLen != program.memLen ||
      variant.numLayers != program.numLayers ||
      variant.dModel != program.dModel ||
      variant.vocabSize != program.vocabSize)
    return fail("other shapes");
  if (variant.tgtLen < 1 || variant.tgtLen >= program.tgtLen)
    return fail("its length is not below the segment's");
  for (const StepVariant &other : program.variants)
    if (other.tgtLen == variant.tgtLen)
      return fail("the program has one of that length already");
  if (variant.stateCapacity != program.stateCapacity)
    return fail("state buffers of " + std::to_string(variant.stateCapacity) +
                " rows, not " + std::to_string(program.stateCapacity));
  if (variant.states.size() != program.states.size())
    return fail("other states");
  for (size_t s = 0; s < variant.states.size(); ++s)
    if (variant.states[s].role != program.states[s].role ||
        variant.states[s].layer != program.states[s].layer ||
        variant.states[s].shape != program.states[s].shape)
      return fail("state #" + std::to_string(s) + " differs");

  StepProgram merged = program;
  IndexMaps maps;
  for (size_t i = 0; i < variant.weights.size(); ++i) {
    const WeightEntry &weight = variant.weights[i];
    auto found = std::find_if(
        merged.weights.begin(), merged.weights.end(),
        [&](const WeightEntry &entry) { return entry.name == weight.name; });
    if (found == merged.weights.end() || found->shape != weight.shape)
      return fail("weight '" + weight.name + "' is not the segment step's");
    maps.weights[i] = found - merged.weights.begin();
  }
  for (size_t i = 0; i < variant.constants.size(); ++i) {
    auto found =
        std::find_if(merged.constants.begin(), merged.constants.end(),
                     [&](const ConstantTensor &constant) {
                       return constant.value == variant.constants[i].value;
                     });
    if (found == merged.constants.end()) {
      maps.constants[i] = merged.constants.size();
      merged.constants.push_back(variant.constants[i]);
    } else {
      maps.constants[i] = found - merged.constants.begin();
    }
  }

  // @prepare: what the program computes already is shared, the rest is the
  // variant's own, computed after the program's (in its own arena: nothing
  // of the program's arena is live by then).
  size_t programPrepareCalls = program.prepareCalls.size();
  bool ownPrepare = false;
  for (const KernelCall &original : variant.prepareCalls) {
    KernelCall call = original;
    std::vector<int64_t> resultIndices;
    for (TensorView &result : call.results)
      resultIndices.push_back(result.place.index);
    // Results are assigned below; remap the arguments only.
    KernelCall arguments = call;
    arguments.results.clear();
    if (Status status = remap(arguments, maps); !status.isOk())
      return status;
    call.arguments = arguments.arguments;
    if (onlyPreparedResults(call)) {
      auto shared =
          std::find_if(merged.prepareCalls.begin(),
                       merged.prepareCalls.begin() + programPrepareCalls,
                       [&](const KernelCall &theirs) {
                         return sameCall(theirs, call, sameKernelCode);
                       });
      if (shared != merged.prepareCalls.begin() + programPrepareCalls) {
        for (size_t r = 0; r < call.results.size(); ++r)
          maps.prepared[resultIndices[r]] = shared->results[r].place.index;
        continue;
      }
    }
    for (TensorView &result : call.results)
      if (result.place.kind == Place::Kind::Prepared) {
        int64_t index = merged.prepared.size();
        WeightEntry entry = variant.prepared[result.place.index];
        entry.name = "t" + std::to_string(variant.tgtLen) + ":" + entry.name;
        merged.prepared.push_back(entry);
        maps.prepared[result.place.index] = index;
        result.place.index = index;
      }
    merged.prepareCalls.push_back(call);
    ownPrepare = true;
  }
  if (ownPrepare)
    merged.prepareScratchBytes =
        std::max(merged.prepareScratchBytes, variant.prepareScratchBytes);

  StepVariant step;
  step.tgtLen = variant.tgtLen;
  step.symbol = symbol;
  step.calls = variant.calls;
  for (KernelCall &call : step.calls)
    if (Status status = remap(call, maps); !status.isOk())
      return status;
  step.copies = variant.copies;
  for (FinalCopy &copy : step.copies)
    for (Place *place : {&copy.from, &copy.to})
      if (Status status = remap(*place, maps); !status.isOk())
        return status;
  step.appends = variant.appends;
  for (StateAppend &append : step.appends)
    if (Status status = remap(append.from, maps); !status.isOk())
      return status;
  step.arena = variant.arena;
  step.scratchBytes = variant.scratchBytes;
  auto position = std::find_if(
      merged.variants.begin(), merged.variants.end(),
      [&](const StepVariant &other) { return other.tgtLen > step.tgtLen; });
  merged.variants.insert(position, std::move(step));
  program = std::move(merged);
  return Status::ok();
}

} // namespace txl::codegen::host
