//===- SafeTensors.cpp - read (mmap) and write .safetensors files ---------===//
//
// Header validation reports `<path>: tensor '<name>': <what>, expected <x>,
// found <y>`; nlohmann-json exceptions stay inside this file.
//
//===----------------------------------------------------------------------===//

#include "txl/support/SafeTensors.h"
#include "txl/support/JsonNesting.h"
#include "txl/support/Limits.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <set>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

// Tensors are used in place from the mapping, and the format is little-endian.
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "txl reads safetensors data in place and needs a little-endian host"
#endif

namespace txl {
namespace {

using json = nlohmann::json;

struct DTypeEntry {
  DType dtype;
  const char *name;
  size_t size;
};

constexpr DTypeEntry kDTypes[] = {
    {DType::F64, "F64", 8},   {DType::F32, "F32", 4}, {DType::F16, "F16", 2},
    {DType::BF16, "BF16", 2}, {DType::I64, "I64", 8}, {DType::I32, "I32", 4},
    {DType::I16, "I16", 2},   {DType::I8, "I8", 1},   {DType::U8, "U8", 1},
    {DType::BOOL, "BOOL", 1}};

const DTypeEntry &entryOf(DType dtype) {
  for (const DTypeEntry &entry : kDTypes)
    if (entry.dtype == dtype)
      return entry;
  return kDTypes[0]; // Unreachable: every enumerator has an entry.
}

std::string knownDTypeList() {
  std::string list;
  for (const DTypeEntry &entry : kDTypes)
    list += (list.empty() ? "" : ", ") + std::string(entry.name);
  return list;
}

std::string shapeString(const std::vector<int64_t> &shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

/// A JSON value as the user wrote it, shortened for messages.
std::string describe(const json &value) {
  std::string text = value.dump(-1, ' ', false, json::error_handler_t::replace);
  if (text.size() > 60)
    text = text.substr(0, 57) + "...";
  return std::string(value.type_name()) + " " + text;
}

/// Product of the dimensions times the element size; nullopt on overflow or
/// a negative dimension.
std::optional<uint64_t> byteSize(const std::vector<int64_t> &shape,
                                 size_t elementSize) {
  uint64_t bytes = elementSize;
  for (int64_t dim : shape) {
    if (dim < 0 ||
        __builtin_mul_overflow(bytes, static_cast<uint64_t>(dim), &bytes))
      return std::nullopt;
  }
  return bytes;
}

/// Records the first key that repeats within one JSON object: nlohmann keeps
/// only one of them, which would silently hide a tensor.
struct DuplicateKeyFinder {
  std::vector<std::set<std::string>> openObjects;
  std::string currentTensor;
  std::string duplicateKey;
  std::string duplicateOwner; // The tensor entry holding it; empty at top.
  bool found = false;

  bool operator()(int, json::parse_event_t event, json &parsed) {
    switch (event) {
    case json::parse_event_t::object_start:
      openObjects.emplace_back();
      break;
    case json::parse_event_t::object_end:
      if (!openObjects.empty())
        openObjects.pop_back();
      break;
    case json::parse_event_t::key: {
      std::string key = parsed.get<std::string>();
      if (!openObjects.empty() && !openObjects.back().insert(key).second &&
          !found) {
        found = true;
        duplicateKey = key;
        duplicateOwner = openObjects.size() == 1 ? "" : currentTensor;
      }
      if (openObjects.size() == 1)
        currentTensor = key;
      break;
    }
    default:
      break;
    }
    return true;
  }
};

/// A tensor entry as parsed, before it is placed in the mapping.
struct ParsedEntry {
  TensorInfo info;
  uint64_t begin = 0, end = 0;
};

Status parseEntry(const std::string &path, const std::string &name,
                  const json &entry, uint64_t dataSize, ParsedEntry &out) {
  std::string prefix = path + ": tensor '" + name + "': ";
  auto fail = [&](const std::string &what) {
    return Status::error(prefix + what);
  };
  if (!entry.is_object())
    return fail("header entry has the wrong type, expected an object, found " +
                describe(entry));
  for (const char *key : {"dtype", "shape", "data_offsets"})
    if (!entry.contains(key))
      return fail(std::string("header entry is missing '") + key + "'");

  const json &dtypeValue = entry["dtype"];
  if (!dtypeValue.is_string())
    return fail("'dtype' has the wrong type, expected a string, found " +
                describe(dtypeValue));
  std::optional<DType> dtype = parseDType(dtypeValue.get<std::string>());
  if (!dtype)
    return fail("unknown dtype, expected one of " + knownDTypeList() +
                ", found \"" + dtypeValue.get<std::string>() + "\"");

  const json &shapeValue = entry["shape"];
  if (!shapeValue.is_array())
    return fail("'shape' has the wrong type, expected an array of integers, "
                "found " +
                describe(shapeValue));
  std::vector<int64_t> shape;
  for (const json &dim : shapeValue) {
    if (dim.is_number_unsigned()) {
      if (dim.get<uint64_t>() > uint64_t(INT64_MAX))
        return fail("dimension too large, expected at most " +
                    std::to_string(INT64_MAX) + ", found " + dim.dump());
      shape.push_back(static_cast<int64_t>(dim.get<uint64_t>()));
    } else if (dim.is_number_integer()) {
      return fail("negative dimension, expected >= 0, found " + dim.dump() +
                  " in shape " + shapeValue.dump());
    } else {
      return fail("'shape' has the wrong type, expected an array of integers, "
                  "found " +
                  describe(dim) + " in shape " + describe(shapeValue));
    }
  }

  const json &offsets = entry["data_offsets"];
  if (!offsets.is_array() || offsets.size() != 2 ||
      !offsets[0].is_number_integer() || !offsets[1].is_number_integer())
    return fail("'data_offsets' has the wrong type, expected [begin, end] "
                "(two integers), found " +
                describe(offsets));
  if (!offsets[0].is_number_unsigned() || !offsets[1].is_number_unsigned())
    return fail("negative data offset, expected >= 0, found " + offsets.dump());
  uint64_t begin = offsets[0].get<uint64_t>(), end = offsets[1].get<uint64_t>();
  if (begin > end)
    return fail("data_offsets begin after end, expected begin <= end, found " +
                offsets.dump());
  if (end > dataSize)
    return fail("data_offsets beyond the data section, expected end <= " +
                std::to_string(dataSize) + ", found " + std::to_string(end));
  size_t elementSize = dtypeSize(*dtype);
  std::optional<uint64_t> expected = byteSize(shape, elementSize);
  if (!expected)
    return fail("shape too large, expected a byte size that fits 64 bits, "
                "found shape " +
                shapeString(shape));
  if (end - begin != *expected)
    return fail("data size does not match shape and dtype, expected " +
                std::to_string(*expected) + " bytes (" + shapeString(shape) +
                " x " + dtypeName(*dtype) + "), found " +
                std::to_string(end - begin) + " bytes");

  out.info.name = name;
  out.info.dtype = *dtype;
  out.info.shape = std::move(shape);
  out.info.nbytes = static_cast<size_t>(end - begin);
  out.begin = begin;
  out.end = end;
  return Status::ok();
}

/// Parses and checks the header; fills tensors (in data order, pointing into
/// `dataSection`) and metadata.
Status parseHeader(const std::string &path, const char *headerText,
                   size_t headerSize, const uint8_t *dataSection,
                   uint64_t dataSize, std::vector<TensorInfo> &tensors,
                   std::map<std::string, std::string> &metadata) {
  // Before parsing: quoting a deeper value in an error would recurse.
  if (auto deep = findExcessiveJsonNesting({headerText, headerSize})) {
    std::string where = deep->topLevelKey.empty() ? "header"
                        : deep->topLevelKey == "__metadata__"
                            ? "'__metadata__'"
                            : "tensor '" + deep->topLevelKey + "'";
    return Status::error(path + ": " + where + ": " + deep->message());
  }
  DuplicateKeyFinder duplicates;
  json header;
  try {
    header =
        json::parse(headerText, headerText + headerSize, std::ref(duplicates));
  } catch (const json::parse_error &error) {
    return Status::error(path + ": header is not valid JSON: " + error.what());
  }
  if (!header.is_object())
    return Status::error(path +
                         ": header has the wrong type, expected a JSON "
                         "object, found " +
                         describe(header));
  if (duplicates.found) {
    if (duplicates.duplicateOwner.empty())
      return Status::error(path + ": tensor '" + duplicates.duplicateKey +
                           "': duplicate name in the header, expected each "
                           "name once, found it more than once");
    return Status::error(path + ": tensor '" + duplicates.duplicateOwner +
                         "': duplicate key '" + duplicates.duplicateKey +
                         "' in its header entry");
  }

  std::vector<ParsedEntry> entries;
  for (const auto &item : header.items()) {
    if (item.key() == "__metadata__") {
      if (!item.value().is_object())
        return Status::error(path +
                             ": '__metadata__' has the wrong type, "
                             "expected an object of strings, found " +
                             describe(item.value()));
      for (const auto &field : item.value().items()) {
        if (!field.value().is_string())
          return Status::error(path + ": '__metadata__' key '" + field.key() +
                               "' has the wrong type, expected a string, "
                               "found " +
                               describe(field.value()));
        metadata[field.key()] = field.value().get<std::string>();
      }
      continue;
    }
    ParsedEntry entry;
    Status status = parseEntry(path, item.key(), item.value(), dataSize, entry);
    if (!status.isOk())
      return status;
    entries.push_back(std::move(entry));
  }

  std::sort(entries.begin(), entries.end(),
            [](const ParsedEntry &a, const ParsedEntry &b) {
              if (a.begin != b.begin)
                return a.begin < b.begin;
              if (a.end != b.end)
                return a.end < b.end;
              return a.info.name < b.info.name;
            });
  // Empty tensors own no bytes and may sit anywhere, even inside another.
  const ParsedEntry *previous = nullptr;
  for (const ParsedEntry &entry : entries) {
    if (entry.begin == entry.end)
      continue;
    if (previous && entry.begin < previous->end)
      return Status::error(
          path + ": tensor '" + entry.info.name + "': data overlaps tensor '" +
          previous->info.name +
          "', expected begin >= " + std::to_string(previous->end) + ", found " +
          std::to_string(entry.begin));
    previous = &entry;
  }

  tensors.clear();
  for (ParsedEntry &entry : entries) {
    entry.info.data = dataSection + entry.begin;
    tensors.push_back(std::move(entry.info));
  }
  return Status::ok();
}

uint16_t loadU16(const uint8_t *bytes) {
  return static_cast<uint16_t>(bytes[0] | (bytes[1] << 8));
}

float fromBits(uint32_t bits) {
  float value;
  std::memcpy(&value, &bits, sizeof(value));
  return value;
}

/// IEEE binary16 -> binary32; exact for every input.
float halfToFloat(uint16_t half) {
  uint32_t sign = static_cast<uint32_t>(half & 0x8000u) << 16;
  uint32_t exponent = (half >> 10) & 0x1fu;
  uint32_t mantissa = half & 0x3ffu;
  if (exponent == 0x1f) // Inf / NaN, payload kept.
    return fromBits(sign | 0x7f800000u | (mantissa << 13));
  if (exponent != 0) // Rebias 15 -> 127.
    return fromBits(sign | ((exponent + 112) << 23) | (mantissa << 13));
  if (mantissa == 0)
    return fromBits(sign);
  // Subnormal m * 2^-24: shift m up to a leading 1 at bit 10; every half
  // subnormal is a normal float.
  uint32_t shift = 0;
  while (!(mantissa & 0x400u)) {
    mantissa <<= 1;
    ++shift;
  }
  return fromBits(sign | ((113 - shift) << 23) | ((mantissa & 0x3ffu) << 13));
}

float bfloat16ToFloat(uint16_t value) {
  return fromBits(static_cast<uint32_t>(value) << 16);
}

} // namespace

size_t dtypeSize(DType dtype) { return entryOf(dtype).size; }

std::string dtypeName(DType dtype) { return entryOf(dtype).name; }

std::optional<DType> parseDType(const std::string &name) {
  for (const DTypeEntry &entry : kDTypes)
    if (name == entry.name)
      return entry.dtype;
  return std::nullopt;
}

bool isFloatingPoint(DType dtype) {
  return dtype == DType::F32 || dtype == DType::F16 || dtype == DType::BF16 ||
         dtype == DType::F64;
}

StatusOr<std::unique_ptr<SafeTensorsFile>>
SafeTensorsFile::open(const std::string &path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return Status::error(path + ": cannot open: " + std::strerror(errno));
  struct stat info;
  if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    ::close(fd);
    return Status::error(path + ": not a regular file");
  }
  uint64_t fileSize = static_cast<uint64_t>(info.st_size);
  if (fileSize < 8) {
    ::close(fd);
    return Status::error(path +
                         ": file too short for a safetensors header, "
                         "expected at least 8 bytes, found " +
                         std::to_string(fileSize));
  }
  void *mapping = ::mmap(nullptr, fileSize, PROT_READ, MAP_PRIVATE, fd, 0);
  int mapErrno = errno;
  ::close(fd); // The mapping keeps the file alive.
  if (mapping == MAP_FAILED)
    return Status::error(path + ": cannot map: " + std::strerror(mapErrno));

  std::unique_ptr<SafeTensorsFile> file(new SafeTensorsFile());
  file->filePath = path;
  file->mapping = mapping;
  file->mappingSize = fileSize;
  Status status = file->parse(static_cast<const uint8_t *>(mapping), fileSize);
  if (!status.isOk())
    return status;
  return file;
}

StatusOr<std::unique_ptr<SafeTensorsFile>>
SafeTensorsFile::fromMemory(const std::string &name, const void *data,
                            size_t size) {
  if (!data && size)
    return Status::error(name + ": no data, expected " + std::to_string(size) +
                         " bytes, found nullptr");
  if (size < 8)
    return Status::error(name +
                         ": too short for a safetensors header, "
                         "expected at least 8 bytes, found " +
                         std::to_string(size));
  std::unique_ptr<SafeTensorsFile> file(new SafeTensorsFile());
  file->filePath = name;
  Status status = file->parse(static_cast<const uint8_t *>(data), size);
  if (!status.isOk())
    return status;
  return file;
}

Status SafeTensorsFile::parse(const uint8_t *bytes, uint64_t size) {
  const std::string &path = filePath;
  uint64_t headerSize = 0;
  for (int i = 7; i >= 0; --i)
    headerSize = (headerSize << 8) | bytes[i];
  if (headerSize > size - 8)
    return Status::error(path +
                         ": header length larger than the file, "
                         "expected at most " +
                         std::to_string(size - 8) + ", found " +
                         std::to_string(headerSize));
  if (headerSize > uint64_t(limits::kMaxSafeTensorsHeaderBytes))
    return Status::error(path + ": header length too large, expected at most " +
                         std::to_string(limits::kMaxSafeTensorsHeaderBytes) +
                         " bytes, found " + std::to_string(headerSize));
  try {
    Status status = parseHeader(path, reinterpret_cast<const char *>(bytes + 8),
                                headerSize, bytes + 8 + headerSize,
                                size - 8 - headerSize, tensorList, metadataMap);
    if (!status.isOk())
      return status;
  } catch (const std::exception &error) {
    return Status::error(path + ": cannot read the header: " + error.what());
  }
  for (size_t i = 0; i < tensorList.size(); ++i)
    indexByName[tensorList[i].name] = i;
  return Status::ok();
}

SafeTensorsFile::~SafeTensorsFile() {
  if (mapping)
    ::munmap(mapping, mappingSize);
}

const TensorInfo *SafeTensorsFile::find(const std::string &name) const {
  auto it = indexByName.find(name);
  return it == indexByName.end() ? nullptr : &tensorList[it->second];
}

std::vector<float> toFloat32(const TensorInfo &tensor) {
  size_t count = static_cast<size_t>(tensor.numElements());
  std::vector<float> values;
  const uint8_t *bytes = tensor.data;
  switch (tensor.dtype) {
  case DType::F32:
    values.resize(count);
    if (count)
      std::memcpy(values.data(), bytes, count * sizeof(float));
    break;
  case DType::F16:
    values.resize(count);
    for (size_t i = 0; i < count; ++i)
      values[i] = halfToFloat(loadU16(bytes + 2 * i));
    break;
  case DType::BF16:
    values.resize(count);
    for (size_t i = 0; i < count; ++i)
      values[i] = bfloat16ToFloat(loadU16(bytes + 2 * i));
    break;
  case DType::F64:
    values.resize(count);
    for (size_t i = 0; i < count; ++i) {
      double value;
      std::memcpy(&value, bytes + 8 * i, sizeof(value));
      values[i] = static_cast<float>(value);
    }
    break;
  default:
    break;
  }
  return values;
}

bool sameValues(const TensorInfo &a, const TensorInfo &b) {
  if (a.dtype == b.dtype)
    return a.nbytes == b.nbytes && std::memcmp(a.data, b.data, a.nbytes) == 0;
  std::vector<float> x = toFloat32(a), y = toFloat32(b);
  return x.size() == y.size() &&
         std::memcmp(x.data(), y.data(), x.size() * sizeof(float)) == 0;
}

std::optional<std::string>
firstDifferingCopy(const SafeTensorsFile &file,
                   const std::vector<std::string> &names) {
  const TensorInfo *first = file.find(names.front());
  for (size_t i = 1; i < names.size(); ++i)
    if (!sameValues(*first, *file.find(names[i])))
      return names[i];
  return std::nullopt;
}

const float *asFloat32IfAligned(const TensorInfo &tensor) {
  if (tensor.dtype != DType::F32 ||
      reinterpret_cast<uintptr_t>(tensor.data) % alignof(float) != 0)
    return nullptr;
  return reinterpret_cast<const float *>(tensor.data);
}

namespace {

Status writeFile(const std::string &path, const std::string &tmpPath,
                 const std::vector<TensorToWrite> &tensors,
                 const std::map<std::string, std::string> &metadata) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty())
    header["__metadata__"] = metadata;
  std::set<std::string> names;
  std::vector<uint64_t> sizes;
  uint64_t offset = 0;
  for (const TensorToWrite &tensor : tensors) {
    std::string prefix = path + ": tensor '" + tensor.name + "': ";
    if (tensor.name.empty() || tensor.name == "__metadata__")
      return Status::error(prefix + "reserved or empty tensor name");
    if (!names.insert(tensor.name).second)
      return Status::error(prefix + "duplicate name, expected each name "
                                    "once, found it more than once");
    for (int64_t dim : tensor.shape)
      if (dim < 0)
        return Status::error(prefix +
                             "negative dimension, expected >= 0, "
                             "found " +
                             std::to_string(dim) + " in shape " +
                             shapeString(tensor.shape));
    std::optional<uint64_t> bytes =
        byteSize(tensor.shape, dtypeSize(tensor.dtype));
    if (!bytes)
      return Status::error(prefix + "shape too large, found " +
                           shapeString(tensor.shape));
    if (*bytes && !tensor.data)
      return Status::error(prefix + "no data, expected " +
                           std::to_string(*bytes) + " bytes, found nullptr");
    header[tensor.name] = {{"dtype", dtypeName(tensor.dtype)},
                           {"shape", tensor.shape},
                           {"data_offsets", {offset, offset + *bytes}}};
    offset += *bytes;
    sizes.push_back(*bytes);
  }
  std::string text = header.dump();
  // Readers can then use F64/I64 data in place.
  while ((8 + text.size()) % 8 != 0)
    text.push_back(' ');

  std::FILE *out = std::fopen(tmpPath.c_str(), "wb");
  if (!out)
    return Status::error(tmpPath + ": cannot create: " + std::strerror(errno));
  uint8_t lengthBytes[8];
  uint64_t length = text.size();
  for (int i = 0; i < 8; ++i)
    lengthBytes[i] = static_cast<uint8_t>(length >> (8 * i));
  bool written = std::fwrite(lengthBytes, 1, 8, out) == 8 &&
                 std::fwrite(text.data(), 1, text.size(), out) == text.size();
  for (size_t i = 0; written && i < tensors.size(); ++i)
    written = sizes[i] == 0 ||
              std::fwrite(tensors[i].data, 1, sizes[i], out) == sizes[i];
  int writeErrno = errno;
  if (std::fclose(out) != 0 && written) {
    written = false;
    writeErrno = errno;
  }
  if (!written)
    return Status::error(tmpPath +
                         ": cannot write: " + std::strerror(writeErrno));
  if (std::rename(tmpPath.c_str(), path.c_str()) != 0)
    return Status::error(path + ": cannot rename " + tmpPath +
                         " into place: " + std::strerror(errno));
  return Status::ok();
}

} // namespace

Status checkReplaceableOutput(const std::string &path) {
  struct stat info;
  if (::lstat(path.c_str(), &info) != 0)
    return Status::ok(); // Nothing there (or unreadable: creating says why).
  if (!S_ISREG(info.st_mode))
    return Status::error(path + ": exists and is not a regular file (a "
                                "device, directory or link), refusing to "
                                "replace it");
  return Status::ok();
}

Status writeSafeTensors(const std::string &path,
                        const std::vector<TensorToWrite> &tensors,
                        const std::map<std::string, std::string> &metadata) {
  if (Status replaceable = checkReplaceableOutput(path); !replaceable.isOk())
    return replaceable;
  std::string tmpPath = path + ".tmp";
  Status status = Status::ok();
  try {
    status = writeFile(path, tmpPath, tensors, metadata);
  } catch (const std::exception &error) {
    // e.g. a name that is not valid UTF-8 (nlohmann refuses to dump it).
    status = Status::error(path + ": cannot write the header: " + error.what());
  }
  if (!status.isOk())
    std::remove(tmpPath.c_str());
  return status;
}

} // namespace txl
