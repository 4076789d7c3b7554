# Fails when runtime/ includes a models/ header or TxlRuntime links a models
# library (runtime.layering in CMakeLists.txt).
#   cmake -DRUNTIME_DIR=<runtime/> -DLINKED=<TxlRuntime's links, '|'-separated>
#         -P check_layering.cmake
file(GLOB_RECURSE sources "${RUNTIME_DIR}/*")
set(problems "")
foreach(source IN LISTS sources)
  file(STRINGS "${source}" includes REGEX "#[ \t]*include[ \t]*[<\"]txl/models/")
  foreach(line IN LISTS includes)
    string(APPEND problems "\n  ${source}: ${line}")
  endforeach()
endforeach()
string(REPLACE "|" ";" linked "${LINKED}")
foreach(library IN LISTS linked)
  if(library MATCHES "^TxlModelSpec$|^TxlGraphBuilder$")
    string(APPEND problems "\n  TxlRuntime links ${library}")
  endif()
endforeach()
if(problems)
  message(FATAL_ERROR "the runtime must build on support/ alone, not on "
                      "models/ (it binds weights from the descriptor):"
                      "${problems}")
endif()
message(STATUS "runtime/: no models/ include, TxlRuntime links: ${LINKED}")
