"""Minimal safetensors reader/writer (our own; no dependency on the `safetensors` package).

File layout:
  8 bytes   little-endian u64 N = header length
  N bytes   UTF-8 JSON header:
              {"<name>": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...,
               "__metadata__": {"<str>": "<str>"}}            (metadata optional)
            padded with trailing spaces so that the data section starts 8-byte aligned
  rest      raw little-endian tensor data, C order; offsets are relative to the start
            of the data section; the tensors cover the data section without holes.

Writer: tensors are laid out sorted by (descending element size, name), so every tensor
starts at a multiple of its element size; the output is byte-deterministic.
Reader: returns name -> numpy array. BF16 is returned widened to float32 (numpy has no
bfloat16); use load_raw() to get the exact dtype tag and bytes.
"""

import json
import struct

import numpy as np

# safetensors dtype tag -> numpy little-endian dtype (BF16 is handled separately)
_TAG_TO_NP = {
    "F64": np.dtype("<f8"),
    "F32": np.dtype("<f4"),
    "F16": np.dtype("<f2"),
    "I64": np.dtype("<i8"),
    "I32": np.dtype("<i4"),
    "I16": np.dtype("<i2"),
    "I8": np.dtype("i1"),
    "U8": np.dtype("u1"),
    "BOOL": np.dtype("?"),
}
_NP_KIND_TO_TAG = {np.dtype(v).newbyteorder("="): k for k, v in _TAG_TO_NP.items()}
_TAG_SIZE = {k: v.itemsize for k, v in _TAG_TO_NP.items()}
_TAG_SIZE["BF16"] = 2


def _to_tag_and_bytes(value):
    """Return (dtype tag, shape, raw little-endian bytes) for a numpy array or torch tensor."""
    try:
        import torch  # optional: only needed for torch inputs / BF16
    except ImportError:  # pragma: no cover
        torch = None
    if torch is not None and isinstance(value, torch.Tensor):
        t = value.detach().cpu().contiguous()
        if t.dtype == torch.bfloat16:
            raw = t.view(torch.int16).numpy().astype("<i2").tobytes(order="C")
            return "BF16", list(t.shape), raw
        value = t.numpy()
    arr = np.asarray(value)
    native = arr.dtype.newbyteorder("=")
    if native not in _NP_KIND_TO_TAG:
        raise TypeError("unsupported dtype %s" % arr.dtype)
    tag = _NP_KIND_TO_TAG[native]
    raw = np.ascontiguousarray(arr, dtype=_TAG_TO_NP[tag]).tobytes(order="C")
    return tag, list(arr.shape), raw


def save(path, tensors, metadata=None):
    """Write `tensors` (dict name -> numpy array / torch tensor) to `path`."""
    entries = []
    for name, value in tensors.items():
        if name == "__metadata__":
            raise ValueError("'__metadata__' is reserved")
        tag, shape, raw = _to_tag_and_bytes(value)
        entries.append((name, tag, shape, raw))
    entries.sort(key=lambda e: (-_TAG_SIZE[e[1]], e[0]))

    header = {}
    if metadata:
        for k, v in metadata.items():
            if not isinstance(k, str) or not isinstance(v, str):
                raise TypeError("metadata must map str -> str")
        header["__metadata__"] = dict(sorted(metadata.items()))
    offset = 0
    for name, tag, shape, raw in entries:
        header[name] = {"dtype": tag, "shape": shape,
                        "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)

    hbytes = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hbytes += b" " * ((-(8 + len(hbytes))) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hbytes)))
        f.write(hbytes)
        for _, _, _, raw in entries:
            f.write(raw)


def _read(path):
    with open(path, "rb") as f:
        buf = f.read()
    if len(buf) < 8:
        raise ValueError("%s: too short for a safetensors file" % path)
    (n,) = struct.unpack("<Q", buf[:8])
    if 8 + n > len(buf):
        raise ValueError("%s: header length %d exceeds file size" % (path, n))
    header = json.loads(buf[8:8 + n].decode("utf-8"))
    data = memoryview(buf)[8 + n:]
    return header, data


def load_raw(path):
    """Return (metadata dict, {name: (dtype tag, shape, bytes)}), validating the layout."""
    header, data = _read(path)
    metadata = header.pop("__metadata__", {}) or {}
    spans = []
    out = {}
    for name, info in header.items():
        tag, shape = info["dtype"], [int(s) for s in info["shape"]]
        begin, end = (int(x) for x in info["data_offsets"])
        if tag not in _TAG_SIZE:
            raise ValueError("%s: tensor %s has unsupported dtype %s" % (path, name, tag))
        count = int(np.prod(shape, dtype=np.int64)) if shape else 1
        if end - begin != count * _TAG_SIZE[tag] or begin < 0 or end > len(data):
            raise ValueError("%s: tensor %s has bad data_offsets" % (path, name))
        spans.append((begin, end))
        out[name] = (tag, shape, bytes(data[begin:end]))
    # the tensors must cover the data section exactly, without holes or overlaps
    pos = 0
    for begin, end in sorted(spans):
        if begin != pos:
            raise ValueError("%s: hole or overlap in data section at %d" % (path, pos))
        pos = end
    if pos != len(data):
        raise ValueError("%s: trailing bytes after the last tensor" % path)
    return metadata, out


def load(path):
    """Return dict name -> numpy array (BF16 widened to float32)."""
    _, raw = load_raw(path)
    result = {}
    for name, (tag, shape, b) in raw.items():
        if tag == "BF16":
            u16 = np.frombuffer(b, dtype="<u2").astype(np.uint32)
            arr = (u16 << 16).view(np.float32)
        else:
            arr = np.frombuffer(b, dtype=_TAG_TO_NP[tag]).astype(_TAG_TO_NP[tag].newbyteorder("="))
        result[name] = arr.reshape(shape).copy()
    return result


def load_metadata(path):
    """Return the optional '__metadata__' dict (empty if absent)."""
    header, _ = _read(path)
    return header.get("__metadata__", {}) or {}
