//===- Status.h - errors as values across the public API --------*- C++ -*-===//
//
// txl code may throw internally (nlohmann-json, the reference kernels) but
// never across a public function: errors come back as a Status, which carries
// a message meant for the user (it names the file, the tensor or the field).
//
//===----------------------------------------------------------------------===//
#ifndef TXL_SUPPORT_STATUS_H
#define TXL_SUPPORT_STATUS_H

#include <cassert>
#include <optional>
#include <string>
#include <utility>

namespace txl {

/// Success, or an error with a message.
class Status {
public:
  static Status ok() { return Status(); }
  static Status error(std::string message) {
    Status status;
    status.failed = true;
    status.text = std::move(message);
    return status;
  }

  bool isOk() const { return !failed; }
  /// Empty for a success.
  const std::string &message() const { return text; }

private:
  Status() = default;
  bool failed = false;
  std::string text;
};

/// A value of type T, or the error Status that says why there is none.
template <class T> class StatusOr {
public:
  StatusOr(const T &value) : result(value), errorStatus(Status::ok()) {}
  StatusOr(T &&value) : result(std::move(value)), errorStatus(Status::ok()) {}
  /// From an error. An OK status carries no value, so it becomes an error too
  /// rather than a StatusOr that claims a value it does not hold.
  StatusOr(Status status) : errorStatus(std::move(status)) {
    if (errorStatus.isOk())
      errorStatus = Status::error("internal error: StatusOr built from an OK "
                                  "status without a value");
  }

  bool ok() const { return result.has_value(); }
  const Status &status() const { return errorStatus; }

  T &value() & {
    assert(ok() && "StatusOr::value() on an error");
    return *result;
  }
  const T &value() const & {
    assert(ok() && "StatusOr::value() on an error");
    return *result;
  }
  T &&value() && {
    assert(ok() && "StatusOr::value() on an error");
    return std::move(*result);
  }

  T &operator*() & { return value(); }
  const T &operator*() const & { return value(); }
  T &&operator*() && { return std::move(*this).value(); }
  T *operator->() { return &value(); }
  const T *operator->() const { return &value(); }

private:
  std::optional<T> result;
  Status errorStatus;
};

} // namespace txl

#endif // TXL_SUPPORT_STATUS_H
