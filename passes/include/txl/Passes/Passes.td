//===- Passes.td - txl's passes ----------------------------*- tablegen -*-===//
//
// Every pass of txl, with the reason it exists and a before/after example.
// Each runs alone from txl-opt (`txl-opt --<flag>`), and each has a lit test
// named after its flag in tests/lit/Passes/.
//
//===----------------------------------------------------------------------===//

#ifndef TXL_PASSES_TD
#define TXL_PASSES_TD

include "mlir/Pass/PassBase.td"

def TxlWindowMemory : Pass<"txl-window-memory", "mlir::ModuleOp"> {
  let summary = "Give the segment step fixed-capacity memory windows (the compiled ABI's form)";
  let description = [{
    At model level a step's memories are tensors of dynamic length
    (`tensor<B x ? x D>`) that grow from 0 rows to `mem_len` and are rebuilt
    by `txl.mem_update` every segment. Compiled code cannot allocate and
    concatenate like that on every step: it keeps each layer's memory in a
    buffer of fixed capacity `mem_len`, right-aligned, plus the number of rows
    held, and updates it in place (see runtime/include/txl/runtime/ModelABI.h).

    This pass rewrites the step into that form. The step gains two `index`
    arguments after the tokens, `n` (tokens in this segment, at most T: a
    stream's last segment may be shorter) and `M` (memory rows held);
    memories become windows `tensor<B x mem_len x D>`; attention reads its
    memory as `%window[%M]`; `txl.mem_update` becomes `txl.window_update`.
    Functions that scan the step (`txl.segment_scan`) are removed: in
    compiled form the runtime drives the recurrence, one step per call.

    Before:
    ```mlir
    func.func @step(%tok: tensor<1x4xi64>, %mem: tensor<1x?x8xf32>)
        -> (tensor<1x4x8xf32>, tensor<1x4x30xf32>, tensor<1x?x8xf32>) {
      %h = txl.embed %tok ...
      %a = txl.rel_attention %h, %mem, %pos, ... {mem_len = 6 : i64, ...}
      %m1 = txl.mem_update %mem, %h {mem_len = 6 : i64} : ...
      ...
    }
    ```
    After:
    ```mlir
    func.func @step(%tok: tensor<1x4xi64>, %n: index, %M: index,
                    %mem: tensor<1x6x8xf32>)
        -> (tensor<1x4x8xf32>, tensor<1x4x30xf32>, tensor<1x6x8xf32>) {
      %h = txl.embed %tok ...
      %a = txl.rel_attention %h, %mem[%M], %pos, ... {mem_len = 6 : i64, ...}
      %m1 = txl.window_update %mem[%M], %h[%n] {mem_len = 6 : i64} : ...
      ...
    }
    ```
  }];
  let options = [
    Option<"stepName", "step", "std::string", /*default=*/"\"step\"",
           "the segment step function to rewrite">
  ];
  let dependentDialects = ["txl::TxlDialect"];
}

#endif // TXL_PASSES_TD
