//===- ScheduleParser.cpp - the txl.schedule attribute, parsed and checked ===//
//
// Every field is checked for its type and every dictionary for unknown keys,
// so a typo in a hand-written or tuned schedule fails loudly with the path of
// the field (`txl.schedule.funcs[1].pure.vectorize[0].width`).
//
//===----------------------------------------------------------------------===//

#include "txl/Dialect/AttrNames.h"
#include "txl/schedule/ScheduleAttr.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Operation.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/Support/raw_ostream.h"

#include <set>

using namespace mlir;

namespace txl::schedule {
namespace {

std::string attrText(Attribute attr) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << attr;
  return text;
}

/// Parses one dictionary, tracking the field path for messages.
class FieldReader {
public:
  FieldReader(DictionaryAttr dict, std::string path)
      : dict(dict), path(std::move(path)) {}

  Status error(const std::string &field, const std::string &message) const {
    return Status::error(path + "." + field + ": " + message);
  }
  std::string pathOf(const std::string &field) const {
    return path + "." + field;
  }
  Attribute get(const std::string &field) {
    seen.insert(field);
    return dict.get(field);
  }

  Status string(const std::string &field, std::string &out,
                bool required = false) {
    Attribute attr = get(field);
    if (!attr)
      return required ? error(field, "missing") : Status::ok();
    auto str = dyn_cast<StringAttr>(attr);
    if (!str || str.getValue().empty())
      return error(field, "expected a non-empty string, got " + attrText(attr));
    out = str.str();
    return Status::ok();
  }

  Status integer(const std::string &field, int64_t &out, bool required,
                 int64_t minimum) {
    Attribute attr = get(field);
    if (!attr)
      return required ? error(field, "missing") : Status::ok();
    auto value = dyn_cast<IntegerAttr>(attr);
    if (!value)
      return error(field, "expected an integer, got " + attrText(attr));
    int64_t v = value.getValue().getSExtValue();
    if (v < minimum)
      return error(field, "expected an integer >= " + std::to_string(minimum) +
                              ", got " + std::to_string(v));
    out = v;
    return Status::ok();
  }

  Status boolean(const std::string &field, bool &out) {
    Attribute attr = get(field);
    if (!attr)
      return Status::ok();
    if (isa<UnitAttr>(attr)) {
      out = true;
      return Status::ok();
    }
    auto value = dyn_cast<BoolAttr>(attr);
    if (!value)
      return error(field, "expected true or false, got " + attrText(attr));
    out = value.getValue();
    return Status::ok();
  }

  Status tail(const std::string &field, std::optional<TailKind> &out) {
    std::string text;
    Status status = string(field, text);
    if (!status.isOk() || text.empty())
      return status;
    for (TailKind kind :
         {TailKind::Auto, TailKind::Guard, TailKind::ShiftInwards,
          TailKind::RoundUp, TailKind::Predicate})
      if (text == tailKindName(kind)) {
        out = kind;
        return Status::ok();
      }
    return error(field, "unknown tail strategy '" + text +
                            "' (expected guard, shift_inwards, round_up, "
                            "predicate or auto)");
  }

  /// A string or an array of strings.
  Status strings(const std::string &field, std::vector<std::string> &out) {
    Attribute attr = get(field);
    if (!attr)
      return Status::ok();
    if (auto str = dyn_cast<StringAttr>(attr)) {
      out.push_back(str.str());
      return Status::ok();
    }
    auto array = dyn_cast<ArrayAttr>(attr);
    if (!array)
      return error(field, "expected a string or an array of strings, got " +
                              attrText(attr));
    for (auto [i, element] : llvm::enumerate(array)) {
      auto str = dyn_cast<StringAttr>(element);
      if (!str || str.getValue().empty())
        return error(field + "[" + std::to_string(i) + "]",
                     "expected a loop name, got " + attrText(element));
      out.push_back(str.str());
    }
    return Status::ok();
  }

  /// A dictionary or an array of dictionaries; calls `parse` on each.
  Status dictionaries(
      const std::string &field,
      const std::function<Status(DictionaryAttr, const std::string &)> &parse,
      bool allowStrings = false,
      const std::function<Status(StringAttr, const std::string &)>
          &parseString = nullptr) {
    Attribute attr = get(field);
    if (!attr)
      return Status::ok();
    std::vector<std::pair<Attribute, std::string>> items;
    if (auto array = dyn_cast<ArrayAttr>(attr)) {
      for (auto [i, element] : llvm::enumerate(array))
        items.push_back(
            {element, pathOf(field) + "[" + std::to_string(i) + "]"});
    } else {
      items.push_back({attr, pathOf(field)});
    }
    for (auto &[element, itemPath] : items) {
      if (auto dict = dyn_cast<DictionaryAttr>(element)) {
        Status status = parse(dict, itemPath);
        if (!status.isOk())
          return status;
      } else if (allowStrings && isa<StringAttr>(element)) {
        Status status = parseString(cast<StringAttr>(element), itemPath);
        if (!status.isOk())
          return status;
      } else {
        return Status::error(
            itemPath + ": expected a dictionary" +
            std::string(allowStrings ? " or a loop name" : "") + ", got " +
            attrText(element));
      }
    }
    return Status::ok();
  }

  /// Fails on fields nobody asked for.
  Status finish(const std::vector<std::string> &known) const {
    for (NamedAttribute named : dict) {
      std::string name = named.getName().str();
      if (seen.count(name))
        continue;
      std::string list;
      for (const std::string &k : known)
        list += (list.empty() ? "" : ", ") + k;
      return Status::error(path + ": unknown field '" + name +
                           "' (expected one of: " + list + ")");
    }
    return Status::ok();
  }

private:
  DictionaryAttr dict;
  std::string path;
  std::set<std::string> seen;
};

#define TXL_TRY(expr)                                                          \
  do {                                                                         \
    Status status_ = (expr);                                                   \
    if (!status_.isOk())                                                       \
      return status_;                                                          \
  } while (false)

Status parseSplit(DictionaryAttr dict, const std::string &path,
                  LoopSplit &split) {
  FieldReader reader(dict, path);
  TXL_TRY(reader.string("loop", split.loop, /*required=*/true));
  TXL_TRY(reader.integer("factor", split.factor, /*required=*/true, 1));
  TXL_TRY(reader.string("inner", split.inner));
  TXL_TRY(reader.tail("tail", split.tail));
  if (split.inner.empty())
    split.inner = split.loop + "i";
  return reader.finish({"loop", "factor", "inner", "tail"});
}

Status parseAnnotation(DictionaryAttr dict, const std::string &path,
                       const std::string &factorName, LoopAnnotation &out) {
  FieldReader reader(dict, path);
  TXL_TRY(reader.string("loop", out.loop, /*required=*/true));
  TXL_TRY(reader.integer(factorName, out.factor, /*required=*/false, 1));
  TXL_TRY(reader.tail("tail", out.tail));
  return reader.finish({"loop", factorName, "tail"});
}

Status parseStage(DictionaryAttr dict, const std::string &path,
                  StageSchedule &stage) {
  FieldReader reader(dict, path);
  std::optional<TailKind> tileTail;
  TXL_TRY(reader.tail("tile_tail", tileTail));
  if (Attribute tile = reader.get("tile")) {
    auto tileDict = dyn_cast<DictionaryAttr>(tile);
    if (!tileDict)
      return reader.error("tile", "expected a dictionary {loop = size}, got " +
                                      attrText(tile));
    for (NamedAttribute entry : tileDict) {
      auto size = dyn_cast<IntegerAttr>(entry.getValue());
      if (!size || size.getValue().getSExtValue() < 1)
        return Status::error(
            reader.pathOf("tile") + "." + entry.getName().str() +
            ": expected a positive integer, got " + attrText(entry.getValue()));
      LoopSplit split;
      split.loop = entry.getName().str();
      split.factor = size.getValue().getSExtValue();
      split.inner = split.loop + "i";
      split.tail = tileTail;
      stage.tile.push_back(split);
    }
  }
  TXL_TRY(
      reader.dictionaries("split", [&](DictionaryAttr d, const std::string &p) {
        LoopSplit split;
        TXL_TRY(parseSplit(d, p, split));
        stage.splits.push_back(split);
        return Status::ok();
      }));
  TXL_TRY(
      reader.dictionaries("fuse", [&](DictionaryAttr d, const std::string &p) {
        FieldReader fuseReader(d, p);
        LoopFuse fuse;
        TXL_TRY(fuseReader.string("outer", fuse.outer, true));
        TXL_TRY(fuseReader.string("inner", fuse.inner, true));
        TXL_TRY(fuseReader.string("into", fuse.fused, true));
        TXL_TRY(fuseReader.finish({"outer", "inner", "into"}));
        stage.fuses.push_back(fuse);
        return Status::ok();
      }));
  TXL_TRY(reader.strings("order", stage.order));
  if (Attribute rf = reader.get("rfactor")) {
    auto rfDict = dyn_cast<DictionaryAttr>(rf);
    if (!rfDict)
      return reader.error(
          "rfactor", "expected {loop = ..., width = ...}, got " + attrText(rf));
    FieldReader rfReader(rfDict, reader.pathOf("rfactor"));
    ReductionFactor factor;
    TXL_TRY(rfReader.string("loop", factor.loop, /*required=*/true));
    TXL_TRY(rfReader.integer("width", factor.width, /*required=*/true, 2));
    TXL_TRY(rfReader.finish({"loop", "width"}));
    stage.rfactor = factor;
  }
  if (Attribute gpu = reader.get("gpu_tile")) {
    auto gpuDict = dyn_cast<DictionaryAttr>(gpu);
    if (!gpuDict)
      return reader.error("gpu_tile",
                          "expected a dictionary, got " + attrText(gpu));
    FieldReader gpuReader(gpuDict, reader.pathOf("gpu_tile"));
    GpuTile tile;
    TXL_TRY(gpuReader.strings("loops", tile.loops));
    if (Attribute sizes = gpuReader.get("sizes")) {
      auto array = dyn_cast<ArrayAttr>(sizes);
      if (!array)
        return gpuReader.error("sizes", "expected an array of integers");
      for (Attribute size : array) {
        auto value = dyn_cast<IntegerAttr>(size);
        if (!value || value.getValue().getSExtValue() < 1)
          return gpuReader.error("sizes", "expected positive integers, got " +
                                              attrText(size));
        tile.sizes.push_back(value.getValue().getSExtValue());
      }
    }
    TXL_TRY(gpuReader.tail("tail", tile.tail));
    TXL_TRY(gpuReader.finish({"loops", "sizes", "tail"}));
    if (tile.loops.empty() || tile.loops.size() > 3 ||
        tile.loops.size() != tile.sizes.size())
      return reader.error("gpu_tile", "expected 1 to 3 loops and as many "
                                      "sizes");
    stage.gpuTile = tile;
  }
  TXL_TRY(reader.dictionaries(
      "vectorize", [&](DictionaryAttr d, const std::string &p) {
        LoopAnnotation annotation;
        TXL_TRY(parseAnnotation(d, p, "width", annotation));
        stage.vectorize.push_back(annotation);
        return Status::ok();
      }));
  TXL_TRY(reader.dictionaries(
      "unroll",
      [&](DictionaryAttr d, const std::string &p) {
        LoopAnnotation annotation;
        TXL_TRY(parseAnnotation(d, p, "factor", annotation));
        stage.unroll.push_back(annotation);
        return Status::ok();
      },
      /*allowStrings=*/true,
      [&](StringAttr name, const std::string &) {
        LoopAnnotation annotation;
        annotation.loop = name.str();
        stage.unroll.push_back(annotation);
        return Status::ok();
      }));
  TXL_TRY(reader.strings("parallel", stage.parallel));
  TXL_TRY(reader.boolean("atomic", stage.atomic));
  return reader.finish({"tile", "tile_tail", "split", "fuse", "order",
                        "rfactor", "gpu_tile", "vectorize", "unroll",
                        "parallel", "atomic"});
}

Status parseFunc(DictionaryAttr dict, const std::string &path,
                 bool isAccumulator, FuncSchedule &func) {
  FieldReader reader(dict, path);
  if (!isAccumulator)
    TXL_TRY(reader.string("name", func.name, /*required=*/true));
  std::string compute;
  TXL_TRY(reader.string("compute", compute));
  if (compute == "root")
    func.compute.kind = ComputeLocation::Kind::Root;
  else if (compute == "inline")
    func.compute.kind = ComputeLocation::Kind::Inline;
  else if (!compute.empty())
    return reader.error("compute", "expected \"root\" or \"inline\" (use "
                                   "compute_at for a loop), got \"" +
                                       compute + "\"");
  if (Attribute at = reader.get("compute_at")) {
    if (!compute.empty())
      return reader.error("compute_at",
                          "conflicts with compute = \"" + compute + "\"");
    auto atDict = dyn_cast<DictionaryAttr>(at);
    if (!atDict)
      return reader.error("compute_at", "expected {func = ..., loop = ..., "
                                        "stage = ...}, got " +
                                            attrText(at));
    FieldReader atReader(atDict, reader.pathOf("compute_at"));
    func.compute.kind = ComputeLocation::Kind::At;
    TXL_TRY(atReader.string("func", func.compute.func,
                            /*required=*/!isAccumulator));
    TXL_TRY(atReader.string("loop", func.compute.loop, /*required=*/true));
    std::string stage;
    TXL_TRY(atReader.string("stage", stage));
    if (stage == "pure")
      func.compute.stage = 0;
    else if (stage == "update")
      func.compute.stage = 1;
    else if (stage.empty() || stage == "last")
      func.compute.stage = -1;
    else
      return atReader.error("stage", "expected pure, update or last, got \"" +
                                         stage + "\"");
    TXL_TRY(atReader.finish({"func", "loop", "stage"}));
  }
  // {loop = positive integer, ...}: storage extents, alignment moduli.
  auto loopSizes = [&](const char *key, const char *meaning,
                       std::vector<std::pair<std::string, int64_t>> &out) {
    Attribute attr = reader.get(key);
    if (!attr)
      return Status::ok();
    auto sizes = dyn_cast<DictionaryAttr>(attr);
    if (!sizes)
      return reader.error(key, std::string("expected a dictionary {loop = ") +
                                   meaning + "}, got " + attrText(attr));
    for (NamedAttribute entry : sizes) {
      auto size = dyn_cast<IntegerAttr>(entry.getValue());
      if (!size || size.getInt() < 1)
        return Status::error(reader.pathOf(key) + "." + entry.getName().str() +
                             ": expected a positive integer, got " +
                             attrText(entry.getValue()));
      out.push_back({entry.getName().str(), size.getInt()});
    }
    return Status::ok();
  };
  TXL_TRY(loopSizes("storage", "extent", func.storage));
  TXL_TRY(loopSizes("align", "modulus", func.align));
  for (const char *stageName : {"pure", "update"}) {
    Attribute attr = reader.get(stageName);
    if (!attr)
      continue;
    auto stageDict = dyn_cast<DictionaryAttr>(attr);
    if (!stageDict)
      return reader.error(stageName,
                          "expected a dictionary, got " + attrText(attr));
    StageSchedule stage;
    TXL_TRY(parseStage(stageDict, reader.pathOf(stageName), stage));
    (std::string(stageName) == "pure" ? func.pure : func.update) = stage;
  }
  if (!isAccumulator) {
    if (Attribute attr = reader.get("accumulator")) {
      auto accDict = dyn_cast<DictionaryAttr>(attr);
      if (!accDict)
        return reader.error("accumulator",
                            "expected a dictionary, got " + attrText(attr));
      auto accumulator = std::make_shared<FuncSchedule>();
      TXL_TRY(parseFunc(accDict, reader.pathOf("accumulator"),
                        /*isAccumulator=*/true, *accumulator));
      if (accumulator->compute.kind == ComputeLocation::Kind::Inline)
        return reader.error("accumulator", "an accumulator cannot be inline");
      accumulator->name = func.name + ".accumulator";
      func.accumulator = accumulator;
    }
    return reader.finish({"name", "compute", "compute_at", "storage", "align",
                          "pure", "update", "accumulator"});
  }
  return reader.finish(
      {"compute", "compute_at", "storage", "align", "pure", "update"});
}

} // namespace

StatusOr<KernelSchedule> parseSchedule(DictionaryAttr attr) {
  KernelSchedule schedule;
  if (!attr)
    return schedule;
  FieldReader reader(attr, attr::kSchedule);
  int64_t width = 0;
  TXL_TRY(reader.integer("vector_width", width, /*required=*/false, 1));
  if (width > 0)
    schedule.vectorWidth = width;
  std::optional<TailKind> tail;
  TXL_TRY(reader.tail("tail", tail));
  if (tail)
    schedule.defaultTail = *tail;
  TXL_TRY(reader.boolean("fast_exp", schedule.fastExp));
  std::set<std::string> names;
  TXL_TRY(reader.dictionaries(
      "funcs", [&](DictionaryAttr dict, const std::string &path) {
        FuncSchedule func;
        TXL_TRY(parseFunc(dict, path, /*isAccumulator=*/false, func));
        if (!names.insert(func.name).second)
          return Status::error(path + ".name: '" + func.name +
                               "' is scheduled twice");
        schedule.funcs.push_back(func);
        return Status::ok();
      }));
  TXL_TRY(reader.finish({"vector_width", "tail", "fast_exp", "funcs"}));
  return schedule;
}

StatusOr<std::optional<KernelSchedule>> readKernelSchedule(Operation *kernel) {
  Attribute attr = kernel->getAttr(attr::kSchedule);
  if (!attr)
    return std::optional<KernelSchedule>();
  // A kernel func is named by its symbol; a txl.kernel's diagnostics name
  // the op already.
  std::string where;
  if (auto name =
          kernel->getAttrOfType<StringAttr>(SymbolTable::getSymbolAttrName()))
    where = "kernel '" + name.str() + "': ";
  auto dict = dyn_cast<DictionaryAttr>(attr);
  if (!dict)
    return Status::error(where + attr::kSchedule +
                         " must be a dictionary, got " + attrText(attr));
  StatusOr<KernelSchedule> schedule = parseSchedule(dict);
  if (!schedule.ok())
    return Status::error(where + schedule.status().message());
  return std::optional<KernelSchedule>(std::move(schedule).value());
}

} // namespace txl::schedule
