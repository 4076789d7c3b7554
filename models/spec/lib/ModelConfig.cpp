//===- ModelConfig.cpp - parse and validate a Transformer-XL config.json --===//
//
// Field checks throw a FieldError that names the file and the field;
// fromJsonString turns it into a Status, so nothing escapes the API.
//
//===----------------------------------------------------------------------===//

#include "txl/models/ModelConfig.h"
#include "txl/support/JsonNesting.h"
#include "txl/support/Limits.h"

#include <nlohmann/json.hpp>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>

namespace txl {
namespace {

using json = nlohmann::json;

/// Fields that size nothing (div_val, clamp_len) stay below this.
constexpr int64_t kMaxSize = INT32_MAX;

struct FieldError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::string describe(const json &value) {
  std::string text = value.dump(-1, ' ', false, json::error_handler_t::replace);
  if (text.size() > 60)
    text = text.substr(0, 57) + "...";
  return std::string(value.type_name()) + " " + text;
}

/// Typed access to the fields of one config object.
class FieldReader {
public:
  FieldReader(const json &root, const std::string &source)
      : root(root), source(source) {}

  [[noreturn]] void fail(const std::string &field,
                         const std::string &what) const {
    throw FieldError(source + ": field '" + field + "': " + what);
  }

  bool has(const std::string &field) const { return root.contains(field); }

  std::optional<int64_t> integer(const std::string &field) const {
    if (!has(field))
      return std::nullopt;
    return toInteger(field, root[field]);
  }

  std::optional<bool> boolean(const std::string &field) const {
    if (!has(field))
      return std::nullopt;
    const json &value = root[field];
    if (!value.is_boolean())
      fail(field, "wrong type, expected a boolean, found " + describe(value));
    return value.get<bool>();
  }

  std::optional<double> number(const std::string &field) const {
    if (!has(field))
      return std::nullopt;
    const json &value = root[field];
    if (!value.is_number())
      fail(field, "wrong type, expected a number, found " + describe(value));
    return value.get<double>();
  }

  std::optional<std::string> string(const std::string &field) const {
    if (!has(field))
      return std::nullopt;
    const json &value = root[field];
    if (!value.is_string())
      fail(field, "wrong type, expected a string, found " + describe(value));
    return value.get<std::string>();
  }

  std::optional<std::vector<int64_t>>
  integerList(const std::string &field) const {
    if (!has(field))
      return std::nullopt;
    const json &value = root[field];
    if (!value.is_array())
      fail(field, "wrong type, expected an array of integers, found " +
                      describe(value));
    std::vector<int64_t> list;
    for (const json &element : value)
      list.push_back(toInteger(field, element, "an array of integers"));
    return list;
  }

  std::optional<std::vector<bool>> booleanList(const std::string &field) const {
    if (!has(field))
      return std::nullopt;
    const json &value = root[field];
    if (!value.is_array())
      fail(field, "wrong type, expected an array of booleans, found " +
                      describe(value));
    std::vector<bool> list;
    for (const json &element : value) {
      if (!element.is_boolean())
        fail(field, "wrong type, expected an array of booleans, found " +
                        describe(element) + " in " + describe(value));
      list.push_back(element.get<bool>());
    }
    return list;
  }

  /// A field that HF also accepts under a second name (its attribute_map, or
  /// the authors' name). Both present must agree.
  template <class T>
  std::optional<T>
  aliased(const std::string &field, const std::string &alias,
          std::optional<T> (FieldReader::*read)(const std::string &)
              const) const {
    std::optional<T> primary = (this->*read)(field);
    std::optional<T> secondary = (this->*read)(alias);
    if (primary && secondary && *primary != *secondary)
      fail(alias, "is another name of '" + field +
                      "' and disagrees with it, "
                      "expected " +
                      root[field].dump() + ", found " + root[alias].dump());
    return primary ? primary : secondary;
  }

private:
  int64_t toInteger(const std::string &field, const json &value,
                    const std::string &expected = "an integer") const {
    if (value.is_number_unsigned()) {
      if (value.get<uint64_t>() > uint64_t(INT64_MAX))
        fail(field, "out of range, expected at most " +
                        std::to_string(INT64_MAX) + ", found " + value.dump());
      return static_cast<int64_t>(value.get<uint64_t>());
    }
    if (value.is_number_integer())
      return value.get<int64_t>();
    fail(field,
         "wrong type, expected " + expected + ", found " + describe(value));
  }

  const json &root;
  const std::string &source;
};

void requireRange(const FieldReader &reader, const std::string &field,
                  int64_t value, int64_t low, int64_t high) {
  if (value < low)
    reader.fail(field, (low == 1 ? "must be positive" : "too small") +
                           std::string(", expected >= ") + std::to_string(low) +
                           ", found " + std::to_string(value));
  if (value > high)
    reader.fail(field, "too large, expected <= " + std::to_string(high) +
                           ", found " + std::to_string(value));
}

ModelConfig parseConfig(const json &root, const std::string &source) {
  if (!root.is_object())
    throw FieldError(source + ": wrong type, expected a JSON object, found " +
                     describe(root));
  FieldReader reader(root, source);
  ModelConfig config;

  if (auto type = reader.string("model_type"); type && *type != "transfo-xl")
    reader.fail("model_type", "not a Transformer-XL config, expected "
                              "\"transfo-xl\", found \"" +
                                  *type + "\"");

  // Fields HF also reads under its attribute_map names.
  if (auto v = reader.aliased<int64_t>("vocab_size", "n_token",
                                       &FieldReader::integer))
    config.vocab_size = *v;
  if (auto v = reader.aliased<int64_t>("n_layer", "num_hidden_layers",
                                       &FieldReader::integer))
    config.n_layer = *v;
  if (auto v = reader.aliased<int64_t>("d_model", "hidden_size",
                                       &FieldReader::integer))
    config.d_model = *v;
  if (auto v = reader.aliased<int64_t>("n_head", "num_attention_heads",
                                       &FieldReader::integer))
    config.n_head = *v;
  if (auto v = reader.integer("d_embed"))
    config.d_embed = *v;
  if (auto v = reader.integer("d_head"))
    config.d_head = *v;
  if (auto v = reader.integer("d_inner"))
    config.d_inner = *v;
  if (auto v = reader.integer("mem_len"))
    config.mem_len = *v;
  if (auto v = reader.integer("clamp_len"))
    config.clamp_len = *v;
  if (auto v = reader.integer("div_val"))
    config.div_val = *v;
  if (auto v = reader.integer("tgt_len"))
    config.tgt_len = *v;
  if (auto v = reader.boolean("same_length"))
    config.same_length = *v;
  if (auto v = reader.boolean("pre_lnorm"))
    config.pre_lnorm = *v;
  if (auto v = reader.boolean("untie_r"))
    config.untie_r = *v;
  if (auto v = reader.aliased<bool>("tie_word_embeddings", "tie_weight",
                                    &FieldReader::boolean))
    config.tie_word_embeddings = *v;
  if (auto v = reader.number("layer_norm_epsilon"))
    config.layer_norm_epsilon = *v;
  if (auto v = reader.integerList("cutoffs"))
    config.cutoffs = *v;

  // Read for their types only: HF ignores `adaptive` (the layers are always
  // adaptive), and proj_share_all_but_first only derives tie_projs.
  (void)reader.boolean("adaptive");
  bool shareAllButFirst =
      reader.boolean("proj_share_all_but_first").value_or(true);

  // Refused: not part of inference with the released models.
  if (auto v = reader.integer("attn_type"); v && *v != 0)
    reader.fail("attn_type", "only the relative attention of attn_type 0 is "
                             "implemented, expected 0, found " +
                                 std::to_string(*v));
  if (auto v = reader.integer("ext_len"); v && *v != 0)
    reader.fail("ext_len", "extended context is not supported, expected 0, "
                           "found " +
                               std::to_string(*v));
  if (auto v = reader.integer("sample_softmax"); v && *v > 0)
    reader.fail("sample_softmax", "sampled softmax is training-only, expected "
                                  "<= 0, found " +
                                      std::to_string(*v));

  // docs/RUN.md "Limits": every size computed from these fits int64.
  using namespace limits;
  requireRange(reader, "vocab_size", config.vocab_size, 1, kMaxVocabulary);
  requireRange(reader, "n_layer", config.n_layer, 1, kMaxLayers);
  requireRange(reader, "d_model", config.d_model, 1, kMaxModelWidth);
  requireRange(reader, "d_embed", config.d_embed, 1, kMaxModelWidth);
  requireRange(reader, "n_head", config.n_head, 1, kMaxAttentionWidth);
  requireRange(reader, "d_head", config.d_head, 1, kMaxAttentionWidth);
  if (config.n_head * config.d_head > kMaxAttentionWidth)
    reader.fail("d_head", "n_head * d_head too large, expected <= " +
                              std::to_string(kMaxAttentionWidth) + ", found " +
                              std::to_string(config.n_head) + " * " +
                              std::to_string(config.d_head));
  requireRange(reader, "d_inner", config.d_inner, 1, kMaxInnerWidth);
  requireRange(reader, "div_val", config.div_val, 1, kMaxSize);
  requireRange(reader, "mem_len", config.mem_len, 0, kMaxMemoryLength);
  requireRange(reader, "clamp_len", config.clamp_len, INT64_MIN, kMaxSize);
  if (config.tgt_len)
    requireRange(reader, "tgt_len", *config.tgt_len, 1, kMaxSegmentLength);
  if (config.numClusters() > kMaxCutoffs)
    reader.fail("cutoffs",
                "too many, expected at most " + std::to_string(kMaxCutoffs) +
                    " entries, found " + std::to_string(config.numClusters()));
  if (config.d_model % 2 != 0)
    reader.fail("d_model", "must be even (the positional embedding is half "
                           "sines, half cosines), expected an even number, "
                           "found " +
                               std::to_string(config.d_model));
  if (!std::isfinite(config.layer_norm_epsilon) ||
      config.layer_norm_epsilon <= 0)
    reader.fail("layer_norm_epsilon", "expected a positive finite number, "
                                      "found " +
                                          root["layer_norm_epsilon"].dump());

  for (size_t i = 0; i < config.cutoffs.size(); ++i) {
    int64_t cutoff = config.cutoffs[i];
    std::string where = " at index " + std::to_string(i);
    if (cutoff <= 0)
      reader.fail("cutoffs", "must be positive, expected > 0" + where +
                                 ", found " + std::to_string(cutoff));
    if (cutoff >= config.vocab_size)
      reader.fail("cutoffs", "must lie inside the vocabulary, expected < " +
                                 std::to_string(config.vocab_size) + where +
                                 ", found " + std::to_string(cutoff));
    if (i > 0 && cutoff <= config.cutoffs[i - 1])
      reader.fail("cutoffs", "not strictly increasing, expected > " +
                                 std::to_string(config.cutoffs[i - 1]) + where +
                                 ", found " + std::to_string(cutoff));
  }
  int64_t lastWidth = config.clusterWidth(config.numClusters());
  if (lastWidth < 1)
    reader.fail("div_val", "leaves the last cluster no width, expected "
                           "d_embed / div_val^" +
                               std::to_string(config.numClusters()) +
                               " >= 1, found " + std::to_string(lastWidth));

  // See transformer-xl-semantics §3: every key would be masked.
  if (config.same_length && config.mem_len == 0)
    reader.fail("same_length", "masks every key when mem_len is 0, expected "
                               "false, found true");

  size_t parts = config.cutoffs.size() + 1;
  if (auto tie = reader.booleanList("tie_projs")) {
    if (tie->size() != parts)
      reader.fail("tie_projs", "one entry per cluster, expected " +
                                   std::to_string(parts) + " entries, found " +
                                   std::to_string(tie->size()));
    config.tie_projs = *tie;
  } else {
    // HF TransfoXLConfig: [False] + [proj_share_all_but_first] * n.
    config.tie_projs.assign(parts, shareAllButFirst);
    config.tie_projs[0] = false;
  }
  return config;
}

/// Records the first key that repeats within one object: nlohmann keeps the
/// last, so the file would silently mean something else than it reads.
struct DuplicateKeyFinder {
  std::vector<std::set<std::string>> openObjects;
  std::string topLevelKey, duplicateKey;
  bool found = false;

  bool operator()(int, json::parse_event_t event, json &parsed) {
    if (event == json::parse_event_t::object_start) {
      openObjects.emplace_back();
    } else if (event == json::parse_event_t::object_end) {
      if (!openObjects.empty())
        openObjects.pop_back();
    } else if (event == json::parse_event_t::key && !openObjects.empty()) {
      std::string key = parsed.get<std::string>();
      if (openObjects.size() == 1 && !found)
        topLevelKey = key;
      if (!openObjects.back().insert(key).second && !found) {
        found = true;
        duplicateKey = key;
      }
    }
    return true;
  }
};

} // namespace

std::vector<int64_t> ModelConfig::clusterEnds() const {
  std::vector<int64_t> ends = {0};
  ends.insert(ends.end(), cutoffs.begin(), cutoffs.end());
  ends.push_back(vocab_size);
  return ends;
}

int64_t ModelConfig::clusterWidth(int64_t cluster) const {
  int64_t width = d_embed;
  for (int64_t i = 0; i < cluster && width > 0; ++i)
    width /= div_val;
  return width;
}

StatusOr<ModelConfig>
ModelConfig::fromJsonString(const std::string &text,
                            const std::string &sourceName) {
  try {
    if (text.size() > size_t(limits::kMaxConfigFileBytes))
      return Status::error(sourceName +
                           ": file too large for a config, "
                           "expected at most " +
                           std::to_string(limits::kMaxConfigFileBytes) +
                           " bytes, found " + std::to_string(text.size()));
    // Before parsing: quoting a deeper value in an error would recurse.
    if (auto deep = findExcessiveJsonNesting(text))
      return Status::error(sourceName +
                           (deep->topLevelKey.empty()
                                ? ""
                                : ": field '" + deep->topLevelKey + "'") +
                           ": " + deep->message());
    json root;
    DuplicateKeyFinder duplicates;
    try {
      root = json::parse(text, std::ref(duplicates));
    } catch (const json::parse_error &error) {
      return Status::error(sourceName + ": not valid JSON: " + error.what());
    }
    if (duplicates.found)
      return Status::error(
          sourceName + ": field '" + duplicates.topLevelKey +
          "': duplicate key '" + duplicates.duplicateKey +
          "', expected each key once in an object, found it more than once");
    return parseConfig(root, sourceName);
  } catch (const FieldError &error) {
    return Status::error(error.what());
  } catch (const std::exception &error) {
    return Status::error(sourceName + ": " + error.what());
  }
}

StatusOr<ModelConfig> ModelConfig::fromJsonFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return Status::error(path + ": cannot read: " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad())
    return Status::error(path + ": cannot read: " + std::strerror(errno));
  return fromJsonString(text.str(), path);
}

} // namespace txl
