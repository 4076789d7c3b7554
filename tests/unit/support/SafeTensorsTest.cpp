//===- SafeTensorsTest.cpp - safetensors reader, writer, conversions ------===//

#include "txl/support/SafeTensors.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

using namespace txl;
namespace fs = std::filesystem;

namespace {

/// A directory of the running test's own, emptied when the test first asks.
std::string testDir() {
  static std::set<std::string> prepared;
  const auto *test = testing::UnitTest::GetInstance()->current_test_info();
  fs::path dir = fs::path(testing::TempDir()) / "txl-safetensors" /
                 (std::string(test->test_suite_name()) + "." + test->name());
  if (prepared.insert(dir.string()).second) {
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  return dir.string();
}

/// Writes the raw bytes of a safetensors file: length prefix (the header's
/// own size unless `length` overrides it), header text, data.
std::string writeRaw(const std::string &name, const std::string &header,
                     const std::string &data = "",
                     std::optional<uint64_t> length = std::nullopt) {
  std::string path = testDir() + "/" + name;
  uint64_t prefix = length ? *length : header.size();
  std::ofstream out(path, std::ios::binary);
  for (int i = 0; i < 8; ++i)
    out.put(static_cast<char>(prefix >> (8 * i)));
  out << header << data;
  return path;
}

std::string writeBytes(const std::string &name, const std::string &bytes) {
  std::string path = testDir() + "/" + name;
  std::ofstream out(path, std::ios::binary);
  out << bytes;
  return path;
}

/// Opens `path` expecting failure; returns the message.
std::string openError(const std::string &path) {
  auto file = SafeTensorsFile::open(path);
  EXPECT_FALSE(file.ok()) << "expected " << path << " to be refused";
  return file.ok() ? "" : file.status().message();
}

#define EXPECT_CONTAINS(text, part)                                            \
  EXPECT_NE(std::string(text).find(part), std::string::npos)                   \
      << "'" << (text) << "' does not contain '" << (part) << "'"

uint32_t bitsOf(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  return bits;
}

/// A one-tensor file whose data are the given 16-bit words.
std::vector<float> convert16(DType dtype, const std::vector<uint16_t> &words) {
  std::string path = testDir() + "/halves.safetensors";
  Status written = writeSafeTensors(
      path, {{"x", dtype, {int64_t(words.size())}, words.data()}});
  EXPECT_TRUE(written.isOk()) << written.message();
  auto file = SafeTensorsFile::open(path);
  EXPECT_TRUE(file.ok()) << file.status().message();
  return toFloat32(*(*file)->find("x"));
}

TEST(SafeTensors, RoundTripAllDTypesAndMetadata) {
  std::string path = testDir() + "/all.safetensors";
  std::vector<double> f64 = {1.5, -2.25, 1e300};
  std::vector<float> f32 = {1, 2, 3, 4, 5, 6};
  std::vector<uint16_t> f16 = {0x3C00, 0xC100};
  std::vector<uint16_t> bf16 = {0x3F80, 0xC020, 0x0001};
  std::vector<int64_t> i64 = {-1, INT64_MAX};
  std::vector<int32_t> i32 = {7, -8, 9, 10};
  std::vector<int16_t> i16 = {-3};
  std::vector<int8_t> i8 = {-4, 5};
  std::vector<uint8_t> u8 = {1, 2, 255};
  std::vector<uint8_t> flags = {1, 0};
  std::vector<TensorToWrite> tensors = {
      {"f64", DType::F64, {3}, f64.data()},
      {"f32", DType::F32, {2, 3}, f32.data()},
      {"f16", DType::F16, {2}, f16.data()},
      {"bf16", DType::BF16, {3}, bf16.data()},
      {"i64", DType::I64, {2}, i64.data()},
      {"i32", DType::I32, {2, 2}, i32.data()},
      {"i16", DType::I16, {1}, i16.data()},
      {"i8", DType::I8, {2}, i8.data()},
      {"u8", DType::U8, {3}, u8.data()},
      {"bool", DType::BOOL, {2}, flags.data()},
      {"scalar", DType::F32, {}, f32.data()},
      {"empty", DType::F32, {0, 4}, nullptr},
  };
  std::map<std::string, std::string> metadata = {{"format", "pt"},
                                                 {"note", "ünïcode"}};
  Status written = writeSafeTensors(path, tensors, metadata);
  ASSERT_TRUE(written.isOk()) << written.message();
  EXPECT_FALSE(fs::exists(path + ".tmp"));

  auto file = SafeTensorsFile::open(path);
  ASSERT_TRUE(file.ok()) << file.status().message();
  EXPECT_EQ((*file)->metadata(), metadata);
  ASSERT_EQ((*file)->tensors().size(), tensors.size());
  for (const TensorToWrite &expected : tensors) {
    const TensorInfo *info = (*file)->find(expected.name);
    ASSERT_NE(info, nullptr) << expected.name;
    EXPECT_EQ(info->dtype, expected.dtype) << expected.name;
    EXPECT_EQ(info->shape, expected.shape) << expected.name;
    EXPECT_EQ(info->nbytes, info->numElements() * dtypeSize(expected.dtype));
    if (info->nbytes) {
      EXPECT_EQ(std::memcmp(info->data, expected.data, info->nbytes), 0)
          << expected.name;
    }
  }
  EXPECT_EQ((*file)->find("scalar")->numElements(), 1);
  EXPECT_EQ((*file)->find("missing"), nullptr);
  // Tensors come back in data order, which is the order written.
  EXPECT_EQ((*file)->tensors().front().name, "f64");

  // The data section starts 8-byte aligned.
  std::ifstream in(path, std::ios::binary);
  uint64_t headerLength = 0;
  in.read(reinterpret_cast<char *>(&headerLength), 8);
  EXPECT_EQ((8 + headerLength) % 8, 0u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>((*file)->find("f64")->data) % 8, 0u);
}

TEST(SafeTensors, DTypeNames) {
  for (DType dtype :
       {DType::F64, DType::F32, DType::F16, DType::BF16, DType::I64, DType::I32,
        DType::I16, DType::I8, DType::U8, DType::BOOL})
    EXPECT_EQ(parseDType(dtypeName(dtype)), dtype);
  EXPECT_EQ(dtypeName(DType::BF16), "BF16");
  EXPECT_EQ(dtypeSize(DType::BF16), 2u);
  EXPECT_EQ(parseDType("F8_E4M3"), std::nullopt);
}

TEST(SafeTensors, Float16BitPatterns) {
  std::vector<float> values =
      convert16(DType::F16, {0x3C00, 0xC100, 0x0001, 0x03FF, 0x8001, 0x0400,
                             0x7BFF, 0x7C00, 0xFC00, 0x7E00, 0x7C01, 0x8000});
  EXPECT_EQ(values[0], 1.0f);
  EXPECT_EQ(values[1], -2.5f);
  EXPECT_EQ(values[2], std::ldexp(1.0f, -24));    // Smallest subnormal.
  EXPECT_EQ(values[3], std::ldexp(1023.0f, -24)); // Largest subnormal.
  EXPECT_EQ(values[4], -std::ldexp(1.0f, -24));
  EXPECT_EQ(values[5], std::ldexp(1.0f, -14)); // Smallest normal.
  EXPECT_EQ(values[6], 65504.0f);
  EXPECT_EQ(bitsOf(values[7]), 0x7F800000u);
  EXPECT_EQ(bitsOf(values[8]), 0xFF800000u);
  EXPECT_EQ(bitsOf(values[9]), 0x7FC00000u);  // Quiet NaN.
  EXPECT_EQ(bitsOf(values[10]), 0x7F802000u); // Signalling payload kept.
  EXPECT_TRUE(std::isnan(values[10]));
  EXPECT_EQ(bitsOf(values[11]), 0x80000000u);
}

TEST(SafeTensors, Float16EveryFiniteValueMatchesItsDefinition) {
  std::vector<uint16_t> all;
  for (uint32_t bits = 0; bits < 0x10000; ++bits)
    if (((bits >> 10) & 0x1f) != 0x1f)
      all.push_back(static_cast<uint16_t>(bits));
  std::vector<float> values = convert16(DType::F16, all);
  for (size_t i = 0; i < all.size(); ++i) {
    int exponent = (all[i] >> 10) & 0x1f, mantissa = all[i] & 0x3ff;
    double magnitude = exponent ? std::ldexp(1024 + mantissa, exponent - 25)
                                : std::ldexp(mantissa, -24);
    double expected = (all[i] & 0x8000) ? -magnitude : magnitude;
    ASSERT_EQ(values[i], static_cast<float>(expected)) << std::hex << all[i];
  }
}

TEST(SafeTensors, BFloat16BitPatterns) {
  std::vector<float> values = convert16(
      DType::BF16, {0x3F80, 0xC020, 0x0001, 0x7F80, 0xFF80, 0x7FC1, 0x8000});
  EXPECT_EQ(values[0], 1.0f);
  EXPECT_EQ(values[1], -2.5f);
  EXPECT_EQ(bitsOf(values[2]), 0x00010000u); // Subnormal.
  EXPECT_EQ(bitsOf(values[3]), 0x7F800000u);
  EXPECT_EQ(bitsOf(values[4]), 0xFF800000u);
  EXPECT_EQ(bitsOf(values[5]), 0x7FC10000u);
  EXPECT_EQ(bitsOf(values[6]), 0x80000000u);
}

TEST(SafeTensors, Float64AndFloat32Conversion) {
  std::string path = testDir() + "/wide.safetensors";
  std::vector<double> f64 = {0.1, -3.0, 1e-50};
  std::vector<float> f32 = {0.5f, -7.0f};
  std::vector<int64_t> ids = {1, 2};
  ASSERT_TRUE(writeSafeTensors(path, {{"a", DType::F64, {3}, f64.data()},
                                      {"b", DType::F32, {2}, f32.data()},
                                      {"ids", DType::I64, {2}, ids.data()}})
                  .isOk());
  auto file = SafeTensorsFile::open(path);
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(toFloat32(*(*file)->find("a")),
            (std::vector<float>{0.1f, -3.0f, 0.0f}));
  EXPECT_EQ(toFloat32(*(*file)->find("b")), f32);
  EXPECT_TRUE(toFloat32(*(*file)->find("ids")).empty());
  EXPECT_FALSE(isFloatingPoint(DType::I64));
  EXPECT_TRUE(isFloatingPoint(DType::BF16));
}

TEST(SafeTensors, AlignedFloat32IsBorrowedInPlace) {
  std::string path = testDir() + "/aligned.safetensors";
  std::vector<float> f32 = {1, 2, 3};
  std::vector<uint16_t> f16 = {0x3C00};
  ASSERT_TRUE(writeSafeTensors(path, {{"w", DType::F32, {3}, f32.data()},
                                      {"h", DType::F16, {1}, f16.data()}})
                  .isOk());
  auto file = SafeTensorsFile::open(path);
  ASSERT_TRUE(file.ok());
  const TensorInfo *w = (*file)->find("w");
  EXPECT_EQ(asFloat32IfAligned(*w), reinterpret_cast<const float *>(w->data));
  EXPECT_EQ(asFloat32IfAligned(*(*file)->find("h")), nullptr);
}

TEST(SafeTensors, MisalignedFloat32IsNotBorrowedButConverts) {
  // The header is padded so the data section starts 4-byte aligned; "w"
  // then sits one byte past it.
  float value = 2.5f;
  std::string data(1, '\x7f');
  data.append(reinterpret_cast<const char *>(&value), 4);
  std::string header =
      R"({"u":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},)"
      R"("w":{"dtype":"F32","shape":[1],"data_offsets":[1,5]}})";
  while ((8 + header.size()) % 4 != 0)
    header.push_back(' ');
  std::string path = writeRaw("misaligned.safetensors", header, data);
  auto file = SafeTensorsFile::open(path);
  ASSERT_TRUE(file.ok()) << file.status().message();
  const TensorInfo *w = (*file)->find("w");
  ASSERT_NE(w, nullptr);
  ASSERT_NE(reinterpret_cast<uintptr_t>(w->data) % 4, 0u);
  EXPECT_EQ(asFloat32IfAligned(*w), nullptr);
  EXPECT_EQ(toFloat32(*w), std::vector<float>{2.5f});
}

TEST(SafeTensors, UncoveredBytesAndEmptyTensorsAreAllowed) {
  std::string header =
      R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[4,6]},)"
      R"("z":{"dtype":"F32","shape":[0],"data_offsets":[5,5]},)"
      R"("__metadata__":{"k":"v"}})";
  std::string path = writeRaw("gaps.safetensors", header, "0123456789");
  auto file = SafeTensorsFile::open(path);
  ASSERT_TRUE(file.ok()) << file.status().message();
  EXPECT_EQ(
      std::string(reinterpret_cast<const char *>((*file)->find("a")->data), 2),
      "45");
  EXPECT_EQ((*file)->metadata().at("k"), "v");
}

TEST(SafeTensors, EmptyHeaderIsAnEmptyFile) {
  auto file = SafeTensorsFile::open(writeRaw("empty.safetensors", "{}"));
  ASSERT_TRUE(file.ok()) << file.status().message();
  EXPECT_TRUE((*file)->tensors().empty());
}

TEST(SafeTensorsErrors, MissingFile) {
  std::string path = testDir() + "/absent.safetensors";
  std::string message = openError(path);
  EXPECT_CONTAINS(message, path);
  EXPECT_CONTAINS(message, "cannot open");
}

TEST(SafeTensorsErrors, FileShorterThanEightBytes) {
  for (std::string bytes : {std::string(), std::string("abcde")}) {
    std::string path = writeBytes("short.safetensors", bytes);
    std::string message = openError(path);
    EXPECT_CONTAINS(message, path + ": file too short");
    EXPECT_CONTAINS(message, "found " + std::to_string(bytes.size()));
  }
}

TEST(SafeTensorsErrors, HeaderLengthLargerThanFile) {
  std::string path = writeRaw("long.safetensors", "{}", "", 1000);
  std::string message = openError(path);
  EXPECT_CONTAINS(message, path + ": header length larger than the file");
  EXPECT_CONTAINS(message, "expected at most 2, found 1000");
  // A length whose 8 + N overflows.
  EXPECT_CONTAINS(
      openError(writeRaw("huge.safetensors", "{}", "", ~uint64_t(0) - 3)),
      "header length larger than the file");
}

TEST(SafeTensorsErrors, HeaderLongerThanTheFormatAllows) {
  std::string path = writeRaw("long-header.safetensors", "{}", "", 100000001);
  fs::resize_file(path, 8 + 100000001); // Sparse: no disk used.
  EXPECT_CONTAINS(openError(path), path + ": header length too large, "
                                          "expected at most 100000000 bytes, "
                                          "found 100000001");
}

// Quoting a 100,000-deep value in a message recursed until the stack ran out.
TEST(SafeTensorsErrors, DeepNestingIsRefusedNotACrash) {
  std::string deep = std::string(100000, '[') + std::string(100000, ']');
  std::string path = writeRaw("deep.safetensors", deep);
  EXPECT_CONTAINS(openError(path), path + ": header: nested too deeply, "
                                          "expected at most 32 levels");
  path = writeRaw("deep-entry.safetensors", R"({"w": )" + deep + "}");
  EXPECT_CONTAINS(openError(path), path + ": tensor 'w': nested too deeply");
  path = writeRaw("deep-shape.safetensors",
                  R"({"w": {"dtype": "F32", "shape": )" + deep + "}}");
  EXPECT_CONTAINS(openError(path), path + ": tensor 'w': nested too deeply");
  path = writeRaw("deep-meta.safetensors",
                  R"({"__metadata__": {"a": )" + deep + "}}");
  EXPECT_CONTAINS(openError(path),
                  path + ": '__metadata__': nested too deeply");
  // Brackets inside strings do not count.
  path = writeRaw("brackets.safetensors",
                  R"({"__metadata__": {"a": ")" + deep + R"("}})");
  auto file = SafeTensorsFile::open(path);
  ASSERT_TRUE(file.ok()) << file.status().message();
  EXPECT_EQ((*file)->metadata().at("a"), deep);
}

TEST(SafeTensorsErrors, HeaderNotJson) {
  std::string path = writeRaw("bad.safetensors", R"({"a": )");
  EXPECT_CONTAINS(openError(path), path + ": header is not valid JSON");
}

TEST(SafeTensorsErrors, HeaderNotAnObject) {
  std::string path = writeRaw("array.safetensors", "[1, 2]");
  std::string message = openError(path);
  EXPECT_CONTAINS(message, path + ": header has the wrong type");
  EXPECT_CONTAINS(message, "expected a JSON object, found array");
}

TEST(SafeTensorsErrors, EntryMissingAField) {
  struct Case {
    const char *header;
    const char *missing;
  } cases[] = {
      {R"({"w":{"shape":[1],"data_offsets":[0,4]}})", "'dtype'"},
      {R"({"w":{"dtype":"F32","data_offsets":[0,4]}})", "'shape'"},
      {R"({"w":{"dtype":"F32","shape":[1]}})", "'data_offsets'"},
  };
  for (const Case &c : cases) {
    std::string path = writeRaw("missing.safetensors", c.header, "abcd");
    std::string message = openError(path);
    EXPECT_CONTAINS(message, path + ": tensor 'w': header entry is missing " +
                                 std::string(c.missing));
  }
}

TEST(SafeTensorsErrors, WrongJsonTypes) {
  struct Case {
    const char *header;
    const char *what;
  } cases[] = {
      {R"({"w":[1]})", "header entry has the wrong type, expected an object"},
      {R"({"w":{"dtype":4,"shape":[1],"data_offsets":[0,4]}})",
       "'dtype' has the wrong type, expected a string, found number 4"},
      {R"({"w":{"dtype":"F32","shape":"1","data_offsets":[0,4]}})",
       "'shape' has the wrong type"},
      {R"({"w":{"dtype":"F32","shape":[1.0],"data_offsets":[0,4]}})",
       "'shape' has the wrong type, expected an array of integers"},
      {R"({"w":{"dtype":"F32","shape":[true],"data_offsets":[0,4]}})",
       "'shape' has the wrong type"},
      {R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}})",
       "'data_offsets' has the wrong type, expected [begin, end]"},
      {R"({"w":{"dtype":"F32","shape":[1],"data_offsets":"0-4"}})",
       "'data_offsets' has the wrong type"},
      {R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[-4,4]}})",
       "negative data offset"},
  };
  for (const Case &c : cases) {
    std::string path = writeRaw("types.safetensors", c.header, "abcd");
    std::string message = openError(path);
    EXPECT_CONTAINS(message, path + ": tensor 'w': ");
    EXPECT_CONTAINS(message, c.what);
  }
}

TEST(SafeTensorsErrors, UnknownDType) {
  std::string path = writeRaw(
      "dtype.safetensors",
      R"({"w":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[0,1]}})", "a");
  std::string message = openError(path);
  EXPECT_CONTAINS(message, path + ": tensor 'w': unknown dtype, expected one "
                                  "of F64, F32, F16, BF16");
  EXPECT_CONTAINS(message, "found \"F8_E4M3\"");
}

TEST(SafeTensorsErrors, NegativeDimension) {
  std::string path = writeRaw(
      "neg.safetensors",
      R"({"w":{"dtype":"F32","shape":[2,-3],"data_offsets":[0,4]}})", "abcd");
  std::string message = openError(path);
  EXPECT_CONTAINS(message, path + ": tensor 'w': negative dimension");
  EXPECT_CONTAINS(message, "expected >= 0, found -3");
}

TEST(SafeTensorsErrors, BeginAfterEnd) {
  std::string path = writeRaw(
      "order.safetensors",
      R"({"w":{"dtype":"U8","shape":[0],"data_offsets":[4,0]}})", "abcd");
  std::string message = openError(path);
  EXPECT_CONTAINS(message, path + ": tensor 'w': data_offsets begin after end");
  EXPECT_CONTAINS(message, "found [4,0]");
}

TEST(SafeTensorsErrors, EndBeyondDataSection) {
  std::string path = writeRaw(
      "beyond.safetensors",
      R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", "abcd");
  std::string message = openError(path);
  EXPECT_CONTAINS(message,
                  path + ": tensor 'w': data_offsets beyond the data section");
  EXPECT_CONTAINS(message, "expected end <= 4, found 8");
}

TEST(SafeTensorsErrors, SizeDoesNotMatchShapeAndDType) {
  std::string path =
      writeRaw("size.safetensors",
               R"({"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}})",
               std::string(24, 'x'));
  std::string message = openError(path);
  EXPECT_CONTAINS(message, path + ": tensor 'w': data size does not match "
                                  "shape and dtype");
  EXPECT_CONTAINS(message, "expected 24 bytes ([2, 3] x F32), found 20 bytes");
}

TEST(SafeTensorsErrors, ShapeOverflow) {
  std::string path =
      writeRaw("overflow.safetensors",
               R"({"w":{"dtype":"F32","shape":[4294967296,4294967296],)"
               R"("data_offsets":[0,0]}})");
  EXPECT_CONTAINS(openError(path), path + ": tensor 'w': shape too large");
}

TEST(SafeTensorsErrors, OverlappingTensors) {
  std::string path =
      writeRaw("overlap.safetensors",
               R"({"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]},)"
               R"("a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})",
               std::string(12, 'x'));
  std::string message = openError(path);
  EXPECT_CONTAINS(message, path + ": tensor 'b': data overlaps tensor 'a'");
  EXPECT_CONTAINS(message, "expected begin >= 8, found 4");
}

TEST(SafeTensorsErrors, DuplicateTensorName) {
  std::string path =
      writeRaw("dup.safetensors",
               R"({"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},)"
               R"("w":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})",
               "ab");
  std::string message = openError(path);
  EXPECT_CONTAINS(message, path + ": tensor 'w': duplicate name");
}

TEST(SafeTensorsErrors, DuplicateKeyInAnEntry) {
  std::string path = writeRaw(
      "dupkey.safetensors",
      R"({"w":{"dtype":"U8","dtype":"F32","shape":[1],"data_offsets":[0,1]}})",
      "a");
  EXPECT_CONTAINS(openError(path),
                  path + ": tensor 'w': duplicate key 'dtype'");
}

TEST(SafeTensorsErrors, MetadataMustBeStrings) {
  std::string path =
      writeRaw("meta.safetensors", R"({"__metadata__":{"epoch":3}})");
  std::string message = openError(path);
  EXPECT_CONTAINS(message, path + ": '__metadata__' key 'epoch'");
  EXPECT_CONTAINS(message, "expected a string, found number 3");
}

TEST(SafeTensorsWriter, RefusesDuplicatesAndLeavesNothing) {
  std::string path = testDir() + "/dup.safetensors";
  float value = 1;
  Status status = writeSafeTensors(
      path, {{"w", DType::F32, {1}, &value}, {"w", DType::F32, {1}, &value}});
  ASSERT_FALSE(status.isOk());
  EXPECT_CONTAINS(status.message(), path + ": tensor 'w': duplicate name");
  EXPECT_FALSE(fs::exists(path));
  EXPECT_FALSE(fs::exists(path + ".tmp"));
}

TEST(SafeTensorsWriter, RefusesBadShapesAndMissingData) {
  std::string path = testDir() + "/bad.safetensors";
  EXPECT_CONTAINS(
      writeSafeTensors(path, {{"w", DType::F32, {-1}, nullptr}}).message(),
      "tensor 'w': negative dimension");
  EXPECT_CONTAINS(
      writeSafeTensors(path, {{"w", DType::F32, {2}, nullptr}}).message(),
      "tensor 'w': no data");
  EXPECT_FALSE(fs::exists(path));
}

TEST(SafeTensorsWriter, UnwritableDirectoryIsAnError) {
  std::string path = testDir() + "/no/such/dir/x.safetensors";
  float value = 1;
  Status status = writeSafeTensors(path, {{"w", DType::F32, {1}, &value}});
  ASSERT_FALSE(status.isOk());
  EXPECT_CONTAINS(status.message(), "cannot create");
}

// As root, --out /dev/full replaced the device node with a regular file.
TEST(SafeTensorsWriter, RefusesToReplaceAnythingButARegularFile) {
  std::string dir = testDir();
  fs::create_directories(dir + "/a-directory");
  fs::create_symlink(dir + "/target", dir + "/a-link");
  float value = 1;
  for (std::string path :
       {dir + "/a-directory", dir + "/a-link", std::string("/dev/null")}) {
    Status status = writeSafeTensors(path, {{"x", DType::F32, {1}, &value}});
    ASSERT_FALSE(status.isOk()) << path;
    EXPECT_CONTAINS(status.message(),
                    path + ": exists and is not a regular file");
  }
  EXPECT_TRUE(fs::is_directory(dir + "/a-directory"));
  EXPECT_TRUE(fs::is_symlink(dir + "/a-link"));
  EXPECT_FALSE(fs::exists(dir + "/target"));
  EXPECT_TRUE(fs::is_character_file("/dev/null"));
}

TEST(SafeTensorsWriter, ReplacesAnExistingFile) {
  std::string path = testDir() + "/replace.safetensors";
  float one = 1, two = 2;
  ASSERT_TRUE(writeSafeTensors(path, {{"a", DType::F32, {1}, &one}}).isOk());
  ASSERT_TRUE(writeSafeTensors(path, {{"b", DType::F32, {1}, &two}}).isOk());
  auto file = SafeTensorsFile::open(path);
  ASSERT_TRUE(file.ok());
  EXPECT_EQ((*file)->find("a"), nullptr);
  EXPECT_EQ(toFloat32(*(*file)->find("b")), std::vector<float>{2});
}

//===----------------------------------------------------------------------===//
// From memory (weights embedded in a compiled model)
//===----------------------------------------------------------------------===//

std::string readBytes(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

TEST(SafeTensorsMemory, ReadsInPlaceLikeAFile) {
  std::string path = testDir() + "/blob.safetensors";
  std::vector<float> weights = {1.5f, -2.0f, 3.25f, 0.0f, 7.0f, 8.0f};
  std::vector<int64_t> ids = {4, -9};
  ASSERT_TRUE(writeSafeTensors(path,
                               {{"w", DType::F32, {2, 3}, weights.data()},
                                {"ids", DType::I64, {2}, ids.data()}},
                               {{"format", "pt"}})
                  .isOk());
  // 64-byte aligned storage, as an embedded blob would be.
  std::string bytes = readBytes(path);
  std::vector<uint64_t> storage((bytes.size() + 7) / 8);
  std::memcpy(storage.data(), bytes.data(), bytes.size());

  auto blob = SafeTensorsFile::fromMemory("model.so:embedded-weights",
                                          storage.data(), bytes.size());
  ASSERT_TRUE(blob.ok()) << blob.status().message();
  EXPECT_EQ((*blob)->path(), "model.so:embedded-weights");
  EXPECT_EQ((*blob)->metadata().at("format"), "pt");
  const TensorInfo *w = (*blob)->find("w");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(toFloat32(*w), weights);
  // No copy: the data points into the caller's bytes.
  const float *inPlace = asFloat32IfAligned(*w);
  ASSERT_NE(inPlace, nullptr);
  EXPECT_GE(reinterpret_cast<const void *>(inPlace),
            static_cast<const void *>(storage.data()));
  EXPECT_LT(reinterpret_cast<const void *>(inPlace),
            static_cast<const void *>(storage.data() + storage.size()));
  const TensorInfo *idInfo = (*blob)->find("ids");
  ASSERT_NE(idInfo, nullptr);
  EXPECT_EQ(std::memcmp(idInfo->data, ids.data(), 16), 0);
  // The caller's bytes are untouched when the object goes away.
  blob->reset();
  EXPECT_EQ(std::memcmp(storage.data(), bytes.data(), bytes.size()), 0);
}

TEST(SafeTensorsMemory, ValidatesLikeAFile) {
  std::string path = testDir() + "/blob.safetensors";
  std::vector<float> weights(6, 1.0f);
  ASSERT_TRUE(
      writeSafeTensors(path, {{"w", DType::F32, {2, 3}, weights.data()}})
          .isOk());
  std::string bytes = readBytes(path);

  auto error = [](const void *data, size_t size) {
    auto blob = SafeTensorsFile::fromMemory("embedded", data, size);
    EXPECT_FALSE(blob.ok());
    return blob.ok() ? std::string() : blob.status().message();
  };
  EXPECT_CONTAINS(error(bytes.data(), bytes.size() - 4),
                  "embedded: tensor 'w': data_offsets beyond the data "
                  "section, expected end <= 20, found 24");
  EXPECT_CONTAINS(error(bytes.data(), 20),
                  "embedded: header length larger than the file");
  EXPECT_CONTAINS(error(bytes.data(), 5),
                  "embedded: too short for a safetensors header, expected at "
                  "least 8 bytes, found 5");
  EXPECT_CONTAINS(error(nullptr, 64), "embedded: no data");
  std::string notJson = bytes;
  notJson[8] = '[';
  EXPECT_CONTAINS(error(notJson.data(), notJson.size()),
                  "embedded: header is not valid JSON");
}

} // namespace
