# lit configuration for txl's IR tests (run through ctest or `ninja check-txl-lit`).
import os

import lit.formats
from lit.llvm import llvm_config

config.name = "txl"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.excludes = ["CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py", "Inputs"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.txl_obj_root, "tests", "lit")

llvm_config.use_default_substitutions()
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
llvm_config.add_tool_substitutions(
    ["txl-opt", "txl-run", "txlc", "txl-tune"], [config.txl_tools_dir, config.llvm_tools_dir])
config.substitutions.append(("%txl_src_root", config.txl_src_root))
config.substitutions.append(("%vectors", os.path.join(config.txl_src_root, "tests", "vectors")))
# The reference model (ModelABI.h on the reference kernels), a stand-in for a compiled model.so.
config.substitutions.append(
    ("%txl_reference_model", os.path.join(config.txl_lib_dir, "libtxl_reference_model.so")))
# txl-tune's path, for scripts that start it themselves.
config.substitutions.append(("%txl_tune_path", os.path.join(config.txl_tools_dir, "txl-tune")))
