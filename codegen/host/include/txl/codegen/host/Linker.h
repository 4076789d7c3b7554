//===- Linker.h - objects to a library or program with cc -------*- C++ -*-===//
//
// Runs `cc` (the system compiler driver, which knows the platform's linker
// and C runtime): a shared library for `txlc --emit=so`, one relocatable
// object for `--emit=obj`, a standalone executable for `--emit=exe`. Output
// goes to a temporary name that is renamed into place only on success, so a
// failed link leaves nothing half-written.
//
//===----------------------------------------------------------------------===//
#ifndef TXL_CODEGEN_HOST_LINKER_H
#define TXL_CODEGEN_HOST_LINKER_H

#include "txl/support/Status.h"

#include <string>
#include <vector>

namespace txl::codegen::host {

enum class LinkKind {
  /// `cc -shared -o OUT objects... -lpthread -ldl -lm`
  SharedLibrary,
  /// `cc -r -o OUT objects...`: one object to link into an executable.
  Relocatable,
  /// `cc -o OUT objects... archives... -lstdc++ -lpthread -ldl -lm`: a
  /// program; `archives` supply main() and the runtime (the static library
  /// TxlExecutableSupport for txlc).
  Executable,
};

/// Links `objects` (then `archives`, for an executable) into `output`. The
/// error names the command and carries the linker's messages.
Status linkObjects(const std::vector<std::string> &objects,
                   const std::string &output, LinkKind kind,
                   const std::vector<std::string> &archives = {});

} // namespace txl::codegen::host

#endif // TXL_CODEGEN_HOST_LINKER_H
