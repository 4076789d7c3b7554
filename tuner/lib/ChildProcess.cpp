//===- ChildProcess.cpp - posix_spawn, wait with a deadline, kill ---------===//

#include "txl/tuner/ChildProcess.h"

#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <spawn.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char **environ;

namespace txl::tuner {

std::string ChildResult::describe() const {
  if (timedOut)
    return "timed out";
  if (exited)
    return "exit " + std::to_string(exitCode);
  return "killed by signal " + std::to_string(signal) + " (" +
         strsignal(signal) + ")";
}

int startChild(const std::vector<std::string> &argv,
               const std::vector<std::string> &environment,
               const std::string &stdoutPath, const std::string &stderrPath) {
  std::vector<char *> args;
  for (const std::string &a : argv)
    args.push_back(const_cast<char *>(a.c_str()));
  args.push_back(nullptr);
  std::vector<std::string> envText;
  for (char **e = environ; *e; ++e) {
    std::string entry = *e;
    bool replaced = false;
    for (const std::string &add : environment)
      if (entry.substr(0, entry.find('=') + 1) ==
          add.substr(0, add.find('=') + 1))
        replaced = true;
    if (!replaced)
      envText.push_back(entry);
  }
  for (const std::string &add : environment)
    envText.push_back(add);
  std::vector<char *> env;
  for (std::string &e : envText)
    env.push_back(e.data());
  env.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, stdoutPath.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, stderrPath.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid;
  int rc =
      posix_spawn(&pid, args[0], &actions, nullptr, args.data(), env.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    std::ofstream(stderrPath, std::ios::app)
        << "cannot run " << argv[0] << ": " << strerror(rc) << "\n";
    return -1;
  }
  return pid;
}

bool childEnded(int pid, ChildResult &result) {
  int status = 0;
  pid_t done = waitpid(pid, &status, WNOHANG);
  if (done == 0 || (done < 0 && errno == EINTR))
    return false;
  if (done == pid && WIFEXITED(status)) {
    result.exited = true;
    result.exitCode = WEXITSTATUS(status);
  } else if (done == pid && WIFSIGNALED(status)) {
    result.signal = WTERMSIG(status);
  }
  return true;
}

ChildResult runChild(const std::vector<std::string> &argv,
                     const std::vector<std::string> &environment,
                     const std::string &stdoutPath,
                     const std::string &stderrPath, double timeoutSeconds) {
  ChildResult result;
  int pid = startChild(argv, environment, stdoutPath, stderrPath);
  if (pid < 0) {
    result.exited = true;
    result.exitCode = 127;
    return result;
  }
  auto deadline = std::chrono::steady_clock::now() +
                  std::chrono::milliseconds(int64_t(timeoutSeconds * 1000));
  while (!childEnded(pid, result)) {
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      int status;
      waitpid(pid, &status, 0);
      result.timedOut = true;
      result.signal = SIGKILL;
      return result;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return result;
}

std::string tailOfFile(const std::string &path, int lines) {
  std::ifstream in(path);
  std::vector<std::string> all;
  for (std::string line; std::getline(in, line);)
    all.push_back(line);
  std::string out;
  for (size_t i = all.size() > size_t(lines) ? all.size() - lines : 0;
       i < all.size(); ++i)
    out += (out.empty() ? "" : " | ") + all[i];
  return out;
}

} // namespace txl::tuner
