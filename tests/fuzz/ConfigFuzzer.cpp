//===- ConfigFuzzer.cpp - config.json and the parameter list it implies ---===//
//
// Input: a config.json. ModelConfig must refuse it or accept a config inside
// the limits of support/Limits.h; for an accepted one the parameter list and
// its shapes are computed (UBSan sees any overflow) and every shape is
// checked to be positive.
//
//===----------------------------------------------------------------------===//

#include "txl/models/ModelConfig.h"
#include "txl/models/ParameterSpec.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

using namespace txl;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string text(reinterpret_cast<const char *>(data), size);
  auto config = ModelConfig::fromJsonString(text, "config.json");
  if (!config.ok())
    return 0;
  for (const ParameterSpec &param : expectedParameters(*config))
    for (int64_t dim : param.shape)
      if (dim < 1) {
        std::fprintf(stderr, "accepted config gives %s a dimension %lld\n",
                     param.name.c_str(), (long long)dim);
        std::abort();
      }
  (void)ignoredBufferNames(*config);
  return 0;
}
