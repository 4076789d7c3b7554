//===- TileKnobs.cpp - the knobs' defaults, ranges and legality -----------===//

#include "txl/Passes/Tiling/TileKnobs.h"

#include <algorithm>
#include <functional>

namespace txl::tiling {
namespace {

/// One knob: its name, where it lives and its range on a target.
struct KnobField {
  const char *name;
  std::function<int64_t &(TileKnobs &)> field;
  std::function<KnobRange(const target::TargetInfo &)> range;
};

int64_t width(const target::TargetInfo &t) {
  return std::max<int64_t>(1, t.vectorWidthF32);
}
/// The longest position block or clamp run: 16 vectors on a CPU; on a GPU
/// (one lane per thread) 64 distances, which hold the CPU's default of 48.
int64_t maxBlock(const target::TargetInfo &t) {
  return std::max<int64_t>(16 * width(t), 64);
}
/// Registers a register tile may fill: all but those holding the other
/// operand's vectors and the broadcast value.
int64_t tileRegisters(const target::TargetInfo &t) {
  return std::max<int64_t>(1, t.vectorRegisters - 4);
}

const std::vector<KnobField> &knobFields() {
  using T = const target::TargetInfo &;
  static const std::vector<KnobField> fields = {
      {"layout.panel_width",
       [](TileKnobs &k) -> int64_t & { return k.layout.panelWidth; },
       [](T) {
         return KnobRange{"", 1, 64};
       }},
      {"layout.position_block",
       [](TileKnobs &k) -> int64_t & { return k.layout.positionBlock; },
       [](T t) {
         return KnobRange{"", width(t), maxBlock(t), width(t)};
       }},
      {"layout.clamp_run",
       [](TileKnobs &k) -> int64_t & { return k.layout.clampRun; },
       [](T t) {
         return KnobRange{"", width(t), maxBlock(t), width(t)};
       }},
      {"gemm.accumulator_registers",
       [](TileKnobs &k) -> int64_t & { return k.gemm.accumulatorRegisters; },
       [](T t) {
         return KnobRange{"", 1, tileRegisters(t)};
       }},
      {"gemm.tile_rows",
       [](TileKnobs &k) -> int64_t & { return k.gemm.tileRows; },
       [](T) {
         return KnobRange{"", 0, 32};
       }},
      {"gemm.tile_panels",
       [](TileKnobs &k) -> int64_t & { return k.gemm.tilePanels; },
       [](T) {
         return KnobRange{"", 0, 16};
       }},
      {"gemm.l1_weight_bytes",
       [](TileKnobs &k) -> int64_t & { return k.gemm.l1WeightBytes; },
       [](T) {
         return KnobRange{"", 1 << 10, 1 << 20, 1 << 10};
       }},
      {"gemm.l2_weight_bytes",
       [](TileKnobs &k) -> int64_t & { return k.gemm.l2WeightBytes; },
       [](T) {
         return KnobRange{"", 16 << 10, 64 << 20, 1 << 10};
       }},
      {"gemm.accumulator_rows",
       [](TileKnobs &k) -> int64_t & { return k.gemm.accumulatorRows; },
       [](T) {
         return KnobRange{"", 8, 1024};
       }},
      {"gemm.min_tiles",
       [](TileKnobs &k) -> int64_t & { return k.gemm.minTiles; },
       [](T) {
         return KnobRange{"", 1, 256};
       }},
      {"gemm.min_epilogue_block_rows",
       [](TileKnobs &k) -> int64_t & { return k.gemm.minEpilogueBlockRows; },
       [](T) {
         return KnobRange{"", 1, 1024};
       }},
      {"attention.query_rows",
       [](TileKnobs &k) -> int64_t & { return k.attention.queryRows; },
       [](T) {
         return KnobRange{"", 1, 64};
       }},
      {"attention.score_vectors",
       [](TileKnobs &k) -> int64_t & { return k.attention.scoreVectors; },
       [](T t) {
         return KnobRange{"", 1, tileRegisters(t)};
       }},
      {"attention.score_accumulators",
       [](TileKnobs &k) -> int64_t & { return k.attention.scoreAccumulators; },
       [](T t) {
         return KnobRange{"", 1, tileRegisters(t)};
       }},
      {"attention.value_rows",
       [](TileKnobs &k) -> int64_t & { return k.attention.valueRows; },
       [](T) {
         return KnobRange{"", 1, 32};
       }},
      {"attention.gather_rows",
       [](TileKnobs &k) -> int64_t & { return k.attention.gatherRows; },
       [](T) {
         return KnobRange{"", 1, 4096};
       }},
      {"rows.rows_per_task",
       [](TileKnobs &k) -> int64_t & { return k.rows.rowsPerTask; },
       [](T) {
         return KnobRange{"", 1, 1024};
       }},
      {"elementwise.parallel_elements",
       [](TileKnobs &k) -> int64_t & { return k.elementwise.parallelElements; },
       [](T) {
         return KnobRange{"", 1, int64_t(1) << 30};
       }},
      {"elementwise.task_elements",
       [](TileKnobs &k) -> int64_t & { return k.elementwise.taskElements; },
       [](T) {
         return KnobRange{"", 1, int64_t(1) << 30};
       }},
  };
  return fields;
}

Status knobError(const std::string &name, int64_t value,
                 const std::string &rule) {
  return Status::error("tiling knob " + name + " = " + std::to_string(value) +
                       ": " + rule);
}

} // namespace

TileKnobs defaultKnobs(const target::TargetInfo &target) {
  TileKnobs knobs;
  int64_t lanes = width(target);
  // The measured choices, in the units of the target: 16-wide panels and
  // runs (one AVX-512 vector; two AVX2 vectors), position blocks of 48
  // distances (3 AVX-512 vectors, 6 AVX2 ones).
  knobs.layout.panelWidth = std::max<int64_t>(16, lanes);
  knobs.layout.positionBlock = 48 % lanes == 0 ? 48 : 3 * lanes;
  knobs.layout.clampRun = std::max<int64_t>(16, lanes);
  // Of 32 registers (AVX-512) 24 hold accumulators; of 16, 12.
  knobs.gemm.accumulatorRegisters = target.vectorRegisters * 3 / 4;
  knobs.attention.scoreAccumulators = target.vectorRegisters * 3 / 4;
  // Half of each cache: the other half holds the rows and the results.
  if (target.caches.l1d > 0)
    knobs.gemm.l1WeightBytes = target.caches.l1d / 2;
  if (target.caches.l2 > 0)
    knobs.gemm.l2WeightBytes = target.caches.l2 / 2;
  // 8 tiles leave at most 1/8 of a thread idle at the end with two.
  knobs.gemm.minTiles = std::max<int64_t>(8, 4 * target.cores);
  return knobs;
}

std::vector<KnobRange> tileKnobRanges(const target::TargetInfo &target) {
  std::vector<KnobRange> ranges;
  for (const KnobField &field : knobFields()) {
    KnobRange range = field.range(target);
    range.name = field.name;
    ranges.push_back(range);
  }
  return ranges;
}

Status checkKnobs(const TileKnobs &knobs, const target::TargetInfo &target) {
  TileKnobs copy = knobs;
  for (const KnobField &field : knobFields()) {
    KnobRange range = field.range(target);
    int64_t value = field.field(copy);
    if (value < range.minimum || value > range.maximum)
      return knobError(field.name, value,
                       "out of range [" + std::to_string(range.minimum) + ", " +
                           std::to_string(range.maximum) + "] on " +
                           target.name);
    if (value % range.step != 0)
      return knobError(field.name, value,
                       "not a multiple of " + std::to_string(range.step));
  }
  int64_t lanes = width(target);
  const LayoutKnobs &layout = knobs.layout;
  if (layout.panelWidth % lanes != 0 && lanes % layout.panelWidth != 0)
    return knobError("layout.panel_width", layout.panelWidth,
                     "must be a multiple or a divisor of the vector width " +
                         std::to_string(lanes));
  if (layout.positionBlock % layout.clampRun != 0)
    return knobError("layout.clamp_run", layout.clampRun,
                     "must divide layout.position_block = " +
                         std::to_string(layout.positionBlock));
  const GemmKnobs &gemm = knobs.gemm;
  if ((gemm.tileRows == 0) != (gemm.tilePanels == 0))
    return knobError("gemm.tile_rows", gemm.tileRows,
                     "gemm.tile_rows and gemm.tile_panels are set together "
                     "(both 0: chosen per GEMM)");
  int64_t vectorsPerPanel = std::max<int64_t>(1, layout.panelWidth / lanes);
  if (gemm.tileRows * gemm.tilePanels * vectorsPerPanel >
      gemm.accumulatorRegisters)
    return knobError("gemm.tile_rows", gemm.tileRows,
                     "a " + std::to_string(gemm.tileRows) + " x " +
                         std::to_string(gemm.tilePanels) +
                         " register tile needs more accumulators than "
                         "gemm.accumulator_registers = " +
                         std::to_string(gemm.accumulatorRegisters));
  const AttentionKnobs &attention = knobs.attention;
  if (attention.scoreVectors > attention.scoreAccumulators)
    return knobError("attention.score_vectors", attention.scoreVectors,
                     "a register tile of one row needs more accumulators "
                     "than attention.score_accumulators = " +
                         std::to_string(attention.scoreAccumulators));
  return Status::ok();
}

Status setKnobs(TileKnobs &knobs, const std::string &spec) {
  size_t start = 0;
  while (start < spec.size()) {
    size_t end = spec.find(',', start);
    if (end == std::string::npos)
      end = spec.size();
    std::string item = spec.substr(start, end - start);
    start = end + 1;
    if (item.empty())
      continue;
    size_t equals = item.find('=');
    if (equals == std::string::npos)
      return Status::error("tiling knobs: '" + item + "' is not name=value");
    std::string name = item.substr(0, equals), text = item.substr(equals + 1);
    auto field =
        std::find_if(knobFields().begin(), knobFields().end(),
                     [&](const KnobField &f) { return name == f.name; });
    if (field == knobFields().end()) {
      std::string known;
      for (const KnobField &f : knobFields())
        known += (known.empty() ? "" : ", ") + std::string(f.name);
      return Status::error("tiling knobs: unknown knob '" + name +
                           "' (expected one of: " + known + ")");
    }
    // Digits only, at most 18 of them: fits in int64_t.
    bool parsed = !text.empty() && text.size() <= 18 &&
                  text.find_first_not_of("0123456789") == std::string::npos;
    if (!parsed)
      return Status::error("tiling knobs: " + name +
                           ": expected a non-negative integer, got '" + text +
                           "'");
    int64_t value = 0;
    for (char digit : text)
      value = value * 10 + (digit - '0');
    field->field(knobs) = value;
  }
  return Status::ok();
}

std::string printKnobs(const TileKnobs &knobs) {
  TileKnobs copy = knobs;
  std::string out;
  for (const KnobField &field : knobFields())
    out += (out.empty() ? "" : ",") + std::string(field.name) + "=" +
           std::to_string(field.field(copy));
  return out;
}

} // namespace txl::tiling
