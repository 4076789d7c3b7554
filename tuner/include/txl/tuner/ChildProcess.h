//===- ChildProcess.h - a command with a time limit -------------*- C++ -*-===//
#ifndef TXL_TUNER_CHILDPROCESS_H
#define TXL_TUNER_CHILDPROCESS_H

#include <string>
#include <vector>

namespace txl::tuner {

struct ChildResult {
  /// Ran to its end and exited with this code.
  bool exited = false;
  int exitCode = -1;
  /// Killed by this signal (ours on a timeout, or its own crash).
  int signal = 0;
  bool timedOut = false;
  /// One line: "exit 3", "killed by signal 11 (Segmentation fault)", ...
  std::string describe() const;
};

/// Runs `argv` with `environment` added, stdout to `stdoutPath` and stderr
/// to `stderrPath` (both truncated), killing it (SIGKILL) after
/// `timeoutSeconds`.
ChildResult runChild(const std::vector<std::string> &argv,
                     const std::vector<std::string> &environment,
                     const std::string &stdoutPath,
                     const std::string &stderrPath, double timeoutSeconds);

/// Starts `argv` as runChild does, without waiting: its pid, or -1 (with
/// the reason in `stderrPath`).
int startChild(const std::vector<std::string> &argv,
               const std::vector<std::string> &environment,
               const std::string &stdoutPath, const std::string &stderrPath);
/// Whether `pid` has ended (then `result` says how); never blocks.
bool childEnded(int pid, ChildResult &result);

/// The last `lines` lines of a file.
std::string tailOfFile(const std::string &path, int lines);

} // namespace txl::tuner

#endif // TXL_TUNER_CHILDPROCESS_H
