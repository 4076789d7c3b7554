"""Crafts and compares small safetensors files for the txl-run lit tests (stdlib only).

  safetensors_tool.py tokens OUT ROWS          write `tokens` I64; ROWS like "1,2,3;4,5,6"
  safetensors_tool.py drop IN OUT NAME          copy IN without tensor NAME
  safetensors_tool.py set IN OUT NAME INDEX VALUE  copy IN with element INDEX of F32 NAME set
  safetensors_tool.py compare EXPECTED ACTUAL TOL NAME...   max |a-b| per F32 tensor
"""
import array
import json
import struct
import sys


def read(path):
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8 : 8 + n])
    header.pop("__metadata__", None)
    data = blob[8 + n :]
    return {k: (v, data[v["data_offsets"][0] : v["data_offsets"][1]]) for k, v in header.items()}


def write(path, tensors):
    header, chunks, offset = {}, [], 0
    for name, (info, raw) in tensors.items():
        header[name] = {"dtype": info["dtype"], "shape": info["shape"],
                        "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(chunks))


def main(argv):
    if argv[1] == "tokens":
        rows = [[int(x) for x in r.split(",")] for r in argv[3].split(";")]
        raw = struct.pack("<%dq" % sum(map(len, rows)), *[x for r in rows for x in r])
        write(argv[2], {"tokens": ({"dtype": "I64", "shape": [len(rows), len(rows[0])]}, raw)})
    elif argv[1] == "drop":
        tensors = read(argv[2])
        del tensors[argv[4]]
        write(argv[3], tensors)
    elif argv[1] == "set":
        tensors = read(argv[2])
        info, raw = tensors[argv[4]]
        values = array.array("f", raw)
        values[int(argv[5])] = float(argv[6])
        tensors[argv[4]] = (info, values.tobytes())
        write(argv[3], tensors)
    elif argv[1] == "compare":
        expected, actual, tol = read(argv[2]), read(argv[3]), float(argv[4])
        ok = True
        for name in argv[5:]:
            (ei, eraw), (ai, araw) = expected[name], actual[name]
            if ei["shape"] != ai["shape"]:
                print(f"{name}: shape {ai['shape']} != {ei['shape']}")
                ok = False
                continue
            e, a = array.array("f", eraw), array.array("f", araw)
            err = max((abs(x - y) for x, y in zip(e, a)), default=0.0)
            print(f"{name}: max abs error {'below' if err <= tol else 'ABOVE'} {tol}")
            ok &= err <= tol
        return 0 if ok else 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
