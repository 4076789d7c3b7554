//===- SqlConnection.h - the SQL the tuning database needs ------*- C++ -*-===//
//
// The tuning database speaks one SQL to two engines: SQLite (a file, the
// default) and PostgreSQL (a server shared by machines that tune together).
// Statements use `?` placeholders (rewritten to $1.. for PostgreSQL) and
// only syntax both accept (INSERT ... ON CONFLICT DO NOTHING, DOUBLE
// PRECISION, TEXT, BIGINT).
//
//===----------------------------------------------------------------------===//
#ifndef TXL_TUNER_SQLCONNECTION_H
#define TXL_TUNER_SQLCONNECTION_H

#include "txl/support/Status.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace txl::tuner {

using SqlValue = std::variant<std::nullptr_t, int64_t, double, std::string>;
/// A row: each column's text, or none for NULL.
using SqlRow = std::vector<std::optional<std::string>>;

class SqlConnection {
public:
  virtual ~SqlConnection() = default;
  /// "sqlite" or "postgresql".
  virtual std::string engine() const = 0;
  virtual StatusOr<std::vector<SqlRow>>
  query(const std::string &sql, const std::vector<SqlValue> &params = {}) = 0;
  /// A statement whose rows, if any, are not wanted.
  Status exec(const std::string &sql,
              const std::vector<SqlValue> &params = {}) {
    auto rows = query(sql, params);
    return rows.ok() ? Status::ok() : rows.status();
  }
  /// Several statements separated by `;`, no parameters.
  virtual Status script(const std::string &sql) = 0;
};

/// Opens (creating if asked) an SQLite file in WAL mode.
StatusOr<std::unique_ptr<SqlConnection>> openSqlite(const std::string &path,
                                                    bool create);

/// Connects to PostgreSQL (`postgresql://...` or a libpq connection string).
StatusOr<std::unique_ptr<SqlConnection>> openPostgres(const std::string &url);

/// Whether `location` names a PostgreSQL database rather than a file.
bool isPostgresUrl(const std::string &location);

} // namespace txl::tuner

#endif // TXL_TUNER_SQLCONNECTION_H
