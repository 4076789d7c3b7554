//===- PostgresConnection.cpp - SqlConnection on a PostgreSQL server ------===//

#include "txl/tuner/SqlConnection.h"

#include <libpq-fe.h>

namespace txl::tuner {
namespace {

/// `?` placeholders as PostgreSQL's $1, $2, ... (none sit inside literals in
/// the tuner's statements).
std::string numberedPlaceholders(const std::string &sql) {
  std::string out;
  int n = 0;
  for (char c : sql) {
    if (c == '?')
      out += "$" + std::to_string(++n);
    else
      out += c;
  }
  return out;
}

class PostgresConnection : public SqlConnection {
public:
  PostgresConnection(PGconn *conn, std::string url)
      : conn(conn), url(std::move(url)) {}
  ~PostgresConnection() override { PQfinish(conn); }
  std::string engine() const override { return "postgresql"; }

  StatusOr<std::vector<SqlRow>>
  query(const std::string &sql, const std::vector<SqlValue> &params) override {
    std::vector<std::string> texts(params.size());
    std::vector<const char *> values(params.size(), nullptr);
    for (size_t i = 0; i < params.size(); ++i) {
      const SqlValue &v = params[i];
      if (std::holds_alternative<std::nullptr_t>(v))
        continue;
      if (auto *n = std::get_if<int64_t>(&v))
        texts[i] = std::to_string(*n);
      else if (auto *d = std::get_if<double>(&v)) {
        char buffer[64];
        std::snprintf(buffer, sizeof buffer, "%.17g", *d);
        texts[i] = buffer;
      } else
        texts[i] = std::get<std::string>(v);
      values[i] = texts[i].c_str();
    }
    PGresult *result = PQexecParams(conn, numberedPlaceholders(sql).c_str(),
                                    int(params.size()), nullptr, values.data(),
                                    nullptr, nullptr, 0);
    ExecStatusType status = PQresultStatus(result);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      std::string message = PQresultErrorMessage(result);
      PQclear(result);
      while (!message.empty() && message.back() == '\n')
        message.pop_back();
      return Status::error("postgresql: " + message + " (" + sql.substr(0, 60) +
                           ")");
    }
    std::vector<SqlRow> rows;
    for (int r = 0; r < PQntuples(result); ++r) {
      SqlRow row;
      for (int c = 0; c < PQnfields(result); ++c)
        row.push_back(
            PQgetisnull(result, r, c)
                ? std::nullopt
                : std::optional<std::string>(PQgetvalue(result, r, c)));
      rows.push_back(std::move(row));
    }
    PQclear(result);
    return rows;
  }

  Status script(const std::string &sql) override {
    PGresult *result = PQexec(conn, sql.c_str());
    ExecStatusType status = PQresultStatus(result);
    std::string message = PQresultErrorMessage(result);
    PQclear(result);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)
      return Status::error("postgresql: " + message);
    return Status::ok();
  }

private:
  PGconn *conn;
  std::string url;
};

} // namespace

StatusOr<std::unique_ptr<SqlConnection>> openPostgres(const std::string &url) {
  PGconn *conn = PQconnectdb(url.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string message = PQerrorMessage(conn);
    PQfinish(conn);
    while (!message.empty() && message.back() == '\n')
      message.pop_back();
    return Status::error(url + ": cannot connect: " + message);
  }
  // Quiet NOTICEs ("relation already exists, skipping").
  PQexec(conn, "SET client_min_messages = warning");
  return std::unique_ptr<SqlConnection>(
      std::make_unique<PostgresConnection>(conn, url));
}

} // namespace txl::tuner
