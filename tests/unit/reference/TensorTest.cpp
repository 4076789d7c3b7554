//===- TensorTest.cpp - Tensor and ConstTensorRef basics ------------------===//

#include "txl/reference/Tensor.h"

#include <gtest/gtest.h>

using namespace txl::reference;

TEST(Tensor, ShapeConstructorZeroFills) {
  Tensor t({2, 3});
  EXPECT_EQ(t.numElements(), 6);
  EXPECT_EQ(t.rank(), 2);
  EXPECT_EQ(t.dim(1), 3);
  EXPECT_EQ(t.data, std::vector<float>(6, 0.0f));
}

TEST(Tensor, AtIsRowMajorAndBoundsChecked) {
  Tensor t({2, 3}, {0, 1, 2, 3, 4, 5});
  EXPECT_EQ(t.at({1, 2}), 5.0f);
  EXPECT_EQ(t.at({1, 0}), 3.0f);
  t.at({0, 1}) = 7.0f;
  EXPECT_EQ(t.data[1], 7.0f);
  EXPECT_THROW(t.at({2, 0}), std::out_of_range);
  EXPECT_THROW(t.at({0}), std::out_of_range);
}

TEST(Tensor, DataMustMatchShape) {
  EXPECT_THROW(Tensor({2, 2}, {1, 2, 3}), std::invalid_argument);
  EXPECT_THROW(Tensor({-1}), std::invalid_argument);
  EXPECT_EQ(Tensor({2, 0, 4}).numElements(), 0);
}

TEST(ConstTensorRef, ViewsATensorWithoutCopying) {
  Tensor t({2, 2}, {1, 2, 3, 4});
  ConstTensorRef view(t);
  EXPECT_EQ(view.data, t.data.data());
  EXPECT_EQ(view.shape, t.shape);
  EXPECT_EQ(view.at({1, 0}), 3.0f);
}
