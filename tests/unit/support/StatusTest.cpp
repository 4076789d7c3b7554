//===- StatusTest.cpp - Status and StatusOr -------------------------------===//

#include "txl/support/Status.h"

#include <gtest/gtest.h>

#include <memory>

using namespace txl;

namespace {

StatusOr<int> half(int value) {
  if (value % 2)
    return Status::error("odd: " + std::to_string(value));
  return value / 2;
}

TEST(Status, OkAndError) {
  EXPECT_TRUE(Status::ok().isOk());
  EXPECT_TRUE(Status::ok().message().empty());
  Status error = Status::error("boom");
  EXPECT_FALSE(error.isOk());
  EXPECT_EQ(error.message(), "boom");
}

TEST(StatusOr, HoldsValueOrError) {
  StatusOr<int> good = half(8);
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 4);
  EXPECT_EQ(good.value(), 4);
  EXPECT_TRUE(good.status().isOk());

  StatusOr<int> bad = half(3);
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "odd: 3");
}

TEST(StatusOr, MoveOnlyValueAndArrow) {
  StatusOr<std::unique_ptr<std::string>> held =
      std::make_unique<std::string>("abc");
  ASSERT_TRUE(held.ok());
  EXPECT_EQ((*held)->size(), 3u);
  std::unique_ptr<std::string> taken = std::move(*held);
  EXPECT_EQ(*taken, "abc");

  StatusOr<std::string> text = std::string("xyz");
  EXPECT_EQ(text->size(), 3u);
}

TEST(StatusOr, OkStatusWithoutValueIsAnError) {
  StatusOr<int> confused = Status::ok();
  EXPECT_FALSE(confused.ok());
  EXPECT_FALSE(confused.status().isOk());
}

} // namespace
