//===- Tensor.h - the reference executor's float32 tensors ------*- C++ -*-===//
//
// `Tensor` owns row-major float32 activations; `ConstTensorRef` is a read-only
// view used for weights, which may live in a memory-mapped file that is never
// copied. Both are deliberately plain: no strides, no views into views.
//
//===----------------------------------------------------------------------===//
#ifndef TXL_REFERENCE_TENSOR_H
#define TXL_REFERENCE_TENSOR_H

#include <cstdint>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace txl::reference {

/// Product of the dimensions (1 for a scalar); throws on a negative dimension.
inline int64_t numElementsOf(const std::vector<int64_t> &shape) {
  int64_t count = 1;
  for (int64_t d : shape) {
    if (d < 0)
      throw std::invalid_argument("negative dimension in a tensor shape");
    count *= d;
  }
  return count;
}

/// "[2, 3, 4]".
inline std::string shapeString(const std::vector<int64_t> &shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

/// Row-major offset of `index` in `shape`, bounds-checked.
inline int64_t rowMajorOffset(const std::vector<int64_t> &shape,
                              std::initializer_list<int64_t> index) {
  if (index.size() != shape.size())
    throw std::out_of_range("index of rank " + std::to_string(index.size()) +
                            " into a tensor of shape " + shapeString(shape));
  int64_t offset = 0;
  size_t d = 0;
  for (int64_t i : index) {
    if (i < 0 || i >= shape[d])
      throw std::out_of_range("index " + std::to_string(i) + " out of range " +
                              "in dimension " + std::to_string(d) +
                              " of shape " + shapeString(shape));
    offset = offset * shape[d++] + i;
  }
  return offset;
}

/// An owned, row-major, contiguous float32 tensor.
struct Tensor {
  std::vector<int64_t> shape;
  std::vector<float> data;

  Tensor() = default;
  /// Zero-filled.
  explicit Tensor(std::vector<int64_t> shape)
      : shape(std::move(shape)), data(numElementsOf(this->shape), 0.0f) {}
  Tensor(std::vector<int64_t> shape, std::vector<float> data)
      : shape(std::move(shape)), data(std::move(data)) {
    if (static_cast<int64_t>(this->data.size()) != numElementsOf(this->shape))
      throw std::invalid_argument(
          "tensor of shape " + shapeString(this->shape) + " given " +
          std::to_string(this->data.size()) + " values");
  }

  int64_t rank() const { return static_cast<int64_t>(shape.size()); }
  int64_t dim(int64_t i) const { return shape.at(i); }
  int64_t numElements() const { return numElementsOf(shape); }

  float &at(std::initializer_list<int64_t> index) {
    return data[rowMajorOffset(shape, index)];
  }
  float at(std::initializer_list<int64_t> index) const {
    return data[rowMajorOffset(shape, index)];
  }
};

/// A read-only view of row-major float32 data owned elsewhere (a Tensor, or a
/// mapped weight file). It must not outlive that storage.
struct ConstTensorRef {
  const float *data = nullptr;
  std::vector<int64_t> shape;

  ConstTensorRef() = default;
  ConstTensorRef(const float *data, std::vector<int64_t> shape)
      : data(data), shape(std::move(shape)) {}
  ConstTensorRef(const Tensor &tensor)
      : data(tensor.data.data()), shape(tensor.shape) {}
  /// A view of a temporary would dangle at the end of the full expression.
  ConstTensorRef(Tensor &&) = delete;

  int64_t rank() const { return static_cast<int64_t>(shape.size()); }
  int64_t dim(int64_t i) const { return shape.at(i); }
  int64_t numElements() const { return numElementsOf(shape); }

  float at(std::initializer_list<int64_t> index) const {
    return data[rowMajorOffset(shape, index)];
  }
};

} // namespace txl::reference

#endif // TXL_REFERENCE_TENSOR_H
