"""Tampers with a safetensors file for txlc's --embed-weights tests (stdlib only).

  tamper.py transpose IN OUT NAME   copy IN with the shape of 2-D tensor NAME reversed
  tamper.py drop IN OUT NAME        copy IN without tensor NAME
  tamper.py truncate IN OUT BYTES   copy IN without its last BYTES bytes
"""
import json
import struct
import sys


def main(argv):
    command, source, target = argv[1], argv[2], argv[3]
    with open(source, "rb") as f:
        blob = f.read()
    if command == "truncate":
        blob = blob[: len(blob) - int(argv[4])]
    else:
        (n,) = struct.unpack("<Q", blob[:8])
        header = json.loads(blob[8 : 8 + n])
        if command == "transpose":
            header[argv[4]]["shape"].reverse()
        elif command == "drop":
            del header[argv[4]]
        else:
            raise SystemExit(f"unknown command {command}")
        # Same data section: only the header changes.
        text = json.dumps(header).encode()
        text += b" " * (-len(text) % 8)
        blob = struct.pack("<Q", len(text)) + text + blob[8 + n :]
    with open(target, "wb") as f:
        f.write(blob)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
