//===- SafeTensors.h - read (mmap) and write .safetensors files -*- C++ -*-===//
//
// The safetensors format: an 8-byte little-endian header length N, N bytes of
// JSON `{"name": {"dtype", "shape", "data_offsets": [begin, end]}, ...,
// "__metadata__": {...}}`, then the data section (offsets are relative to it).
//
// The reader maps the file read-only and hands out pointers into the mapping,
// so F32 weights are used in place; a file already in memory (weights
// embedded in a compiled model) is read in place the same way. It checks the
// header strictly (every tensor inside the data section, sized by its shape
// and dtype, no overlaps, no duplicate names) because everything downstream
// trusts these pointers.
//
//===----------------------------------------------------------------------===//
#ifndef TXL_SUPPORT_SAFETENSORS_H
#define TXL_SUPPORT_SAFETENSORS_H

#include "txl/support/Status.h"

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace txl {

/// Element types of the safetensors format that txl knows.
enum class DType { F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL };

/// Bytes per element.
size_t dtypeSize(DType dtype);
/// The format's spelling: "F32", "BF16", "BOOL", ...
std::string dtypeName(DType dtype);
/// Parses the format's spelling; nullopt for a dtype txl does not know.
std::optional<DType> parseDType(const std::string &name);
/// F32, F16, BF16 or F64: the dtypes toFloat32 converts.
bool isFloatingPoint(DType dtype);

/// One tensor of an open file; `data` points into the file's mapping.
struct TensorInfo {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  const uint8_t *data = nullptr;
  size_t nbytes = 0;

  int64_t numElements() const {
    int64_t count = 1;
    for (int64_t dim : shape)
      count *= dim;
    return count;
  }
};

/// A safetensors file mapped into memory. Pointers in its TensorInfo stay
/// valid as long as the object lives.
class SafeTensorsFile {
public:
  /// Maps `path` and validates its header; errors name the file and tensor.
  static StatusOr<std::unique_ptr<SafeTensorsFile>>
  open(const std::string &path);
  /// The same for a safetensors file already in memory (e.g. weights
  /// embedded in a compiled model): validated as strictly as a file, used in
  /// place, never copied or freed. `data` must outlive the object; `name`
  /// stands for the file in messages and path().
  static StatusOr<std::unique_ptr<SafeTensorsFile>>
  fromMemory(const std::string &name, const void *data, size_t size);

  ~SafeTensorsFile();
  SafeTensorsFile(const SafeTensorsFile &) = delete;
  SafeTensorsFile &operator=(const SafeTensorsFile &) = delete;

  const std::string &path() const { return filePath; }
  /// nullptr when the file has no tensor of that name.
  const TensorInfo *find(const std::string &name) const;
  /// All tensors, in the order of their data in the file.
  const std::vector<TensorInfo> &tensors() const { return tensorList; }
  /// The optional "__metadata__" string map.
  const std::map<std::string, std::string> &metadata() const {
    return metadataMap;
  }

private:
  SafeTensorsFile() = default;
  /// Reads the header of the `size` bytes at `bytes` (the file's contents).
  Status parse(const uint8_t *bytes, uint64_t size);

  std::string filePath;
  /// The file's mapping, owned; nullptr for a file read from memory.
  void *mapping = nullptr;
  size_t mappingSize = 0;
  std::vector<TensorInfo> tensorList;
  std::map<std::string, size_t> indexByName;
  std::map<std::string, std::string> metadataMap;
};

/// The values of an F32, F16, BF16 or F64 tensor as float32. F16 and BF16
/// convert exactly (subnormals, infinities and NaN payloads included); F64
/// rounds to nearest. Empty for any other dtype.
std::vector<float> toFloat32(const TensorInfo &tensor);

/// Whether two tensors of the same shape hold the same values (as float32
/// where their dtypes differ): the check that tied copies agree.
bool sameValues(const TensorInfo &a, const TensorInfo &b);

/// Of the tensors `names` of `file` (copies of one tied parameter, all
/// present), the first whose values differ from names[0]'s; none when they
/// all agree.
std::optional<std::string>
firstDifferingCopy(const SafeTensorsFile &file,
                   const std::vector<std::string> &names);

/// The mapped data itself when the tensor is F32 and 4-byte aligned (no
/// copy); nullptr otherwise (convert with toFloat32 instead).
const float *asFloat32IfAligned(const TensorInfo &tensor);

/// One tensor to write; `data` holds numElements * dtypeSize bytes in
/// row-major order.
struct TensorToWrite {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  const void *data = nullptr;
};

/// Whether `path` may be replaced by an output file: absent, or a regular
/// file. Anything else (a device such as /dev/full, a directory, a symbolic
/// link) is refused, naming the path.
Status checkReplaceableOutput(const std::string &path);

/// Writes a safetensors file with the tensors in the given order. It refuses
/// to replace anything but a regular file (checkReplaceableOutput). The header
/// is padded with spaces so the data section starts 8-byte aligned. The file
/// is written to `path + ".tmp"` and renamed, so a failure leaves no partial
/// file at `path`.
Status
writeSafeTensors(const std::string &path,
                 const std::vector<TensorToWrite> &tensors,
                 const std::map<std::string, std::string> &metadata = {});

} // namespace txl

#endif // TXL_SUPPORT_SAFETENSORS_H
