//===- Linker.cpp - objects to a library or program with cc ---------------===//

#include "txl/codegen/host/Linker.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Program.h"

#include <cstdio>
#include <optional>

namespace txl::codegen::host {

Status linkObjects(const std::vector<std::string> &objects,
                   const std::string &output, LinkKind kind,
                   const std::vector<std::string> &archives) {
  auto cc = llvm::sys::findProgramByName("cc");
  if (!cc)
    return Status::error("cannot link " + output +
                         ": no 'cc' on PATH (a C compiler driver is needed "
                         "to run the system linker)");
  std::string temporary = output + ".tmp";
  std::vector<std::string> args = {*cc};
  if (kind == LinkKind::SharedLibrary)
    args.push_back("-shared");
  else if (kind == LinkKind::Relocatable)
    args.push_back("-r");
  args.push_back("-o");
  args.push_back(temporary);
  args.insert(args.end(), objects.begin(), objects.end());
  if (kind == LinkKind::Executable) {
    // The archives come after the objects: they resolve what the objects
    // leave undefined (and supply main()); their own C++ needs libstdc++.
    args.insert(args.end(), archives.begin(), archives.end());
    args.push_back("-lstdc++");
  }
  if (kind != LinkKind::Relocatable) {
    args.push_back("-lpthread");
    args.push_back("-ldl");
    args.push_back("-lm");
  }
  std::string command;
  for (const std::string &arg : args)
    command += (command.empty() ? "" : " ") + arg;

  llvm::SmallString<128> log;
  if (std::error_code error =
          llvm::sys::fs::createTemporaryFile("txl-link", "log", log))
    return Status::error("cannot create a temporary file: " + error.message());
  std::vector<llvm::StringRef> argRefs(args.begin(), args.end());
  std::optional<llvm::StringRef> redirects[] = {std::nullopt, log.str(),
                                                log.str()};
  std::string error;
  int rc =
      llvm::sys::ExecuteAndWait(*cc, argRefs, std::nullopt, redirects,
                                /*SecondsToWait=*/0, /*MemoryLimit=*/0, &error);
  std::string messages;
  if (auto buffer = llvm::MemoryBuffer::getFile(log))
    messages = (*buffer)->getBuffer().str();
  llvm::sys::fs::remove(log);
  if (rc != 0) {
    llvm::sys::fs::remove(temporary);
    return Status::error("linking " + output + " failed (" + command + ")" +
                         (error.empty() ? "" : ": " + error) +
                         (messages.empty() ? "" : ":\n" + messages));
  }
  if (std::error_code renameError = llvm::sys::fs::rename(temporary, output)) {
    llvm::sys::fs::remove(temporary);
    return Status::error(output + ": cannot write: " + renameError.message());
  }
  return Status::ok();
}

} // namespace txl::codegen::host
