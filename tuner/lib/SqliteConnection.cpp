//===- SqliteConnection.cpp - SqlConnection on an SQLite file -------------===//

#include "txl/tuner/SqlConnection.h"

#include <sqlite3.h>
#include <sys/stat.h>

namespace txl::tuner {
namespace {

class SqliteConnection : public SqlConnection {
public:
  SqliteConnection(sqlite3 *db, std::string path)
      : db(db), path(std::move(path)) {}
  ~SqliteConnection() override { sqlite3_close(db); }
  std::string engine() const override { return "sqlite"; }

  StatusOr<std::vector<SqlRow>>
  query(const std::string &sql, const std::vector<SqlValue> &params) override {
    sqlite3_stmt *statement = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &statement, nullptr) !=
        SQLITE_OK)
      return error("cannot prepare: " + sql);
    for (size_t i = 0; i < params.size(); ++i) {
      int slot = int(i) + 1;
      const SqlValue &v = params[i];
      if (std::holds_alternative<std::nullptr_t>(v))
        sqlite3_bind_null(statement, slot);
      else if (auto *n = std::get_if<int64_t>(&v))
        sqlite3_bind_int64(statement, slot, *n);
      else if (auto *d = std::get_if<double>(&v))
        sqlite3_bind_double(statement, slot, *d);
      else
        sqlite3_bind_text(statement, slot, std::get<std::string>(v).c_str(), -1,
                          SQLITE_TRANSIENT);
    }
    std::vector<SqlRow> rows;
    int rc;
    while ((rc = sqlite3_step(statement)) == SQLITE_ROW) {
      SqlRow row;
      for (int c = 0; c < sqlite3_column_count(statement); ++c) {
        const unsigned char *text = sqlite3_column_text(statement, c);
        if (sqlite3_column_type(statement, c) == SQLITE_NULL || !text)
          row.push_back(std::nullopt);
        else
          row.push_back(std::string(reinterpret_cast<const char *>(text)));
      }
      rows.push_back(std::move(row));
    }
    sqlite3_finalize(statement);
    if (rc != SQLITE_DONE)
      return error("failed: " + sql.substr(0, 60));
    return rows;
  }

  Status script(const std::string &sql) override {
    char *message = nullptr;
    if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message) !=
        SQLITE_OK) {
      std::string text = message ? message : "?";
      sqlite3_free(message);
      return Status::error(path + ": " + text);
    }
    return Status::ok();
  }

private:
  Status error(const std::string &what) {
    return Status::error(path + ": " + sqlite3_errmsg(db) + " (" + what + ")");
  }
  sqlite3 *db;
  std::string path;
};

} // namespace

StatusOr<std::unique_ptr<SqlConnection>> openSqlite(const std::string &path,
                                                    bool create) {
  struct stat info;
  if (!create && stat(path.c_str(), &info) != 0)
    return Status::error(path + ": no such tuning database");
  sqlite3 *db = nullptr;
  int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0);
  if (sqlite3_open_v2(path.c_str(), &db, flags, nullptr) != SQLITE_OK) {
    std::string message = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return Status::error(path + ": cannot open: " + message);
  }
  // Several processes (a tuner, a compile, a merge) may share the file.
  sqlite3_busy_timeout(db, 30000);
  auto connection = std::make_unique<SqliteConnection>(db, path);
  // WAL: a writer never blocks readers, and a kill -9 loses at most the
  // transaction in flight. synchronous=NORMAL is durable in WAL mode
  // against a process kill (not a power cut).
  Status status =
      connection->script("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                         "PRAGMA foreign_keys=ON;");
  if (!status.isOk())
    return status;
  return std::unique_ptr<SqlConnection>(std::move(connection));
}

bool isPostgresUrl(const std::string &location) {
  return location.rfind("postgresql://", 0) == 0 ||
         location.rfind("postgres://", 0) == 0;
}

} // namespace txl::tuner
