#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
r"""Decode rows of tests/corpus/escape_public.tsv for tests/integration/corpus.sh.

The TSV is written in Python csv style (tab-separated, fields holding a double quote are
quoted and the quote doubled). The ssh_original_command column uses the corpus conventions
(tests/corpus/README.md):
  printable ASCII as itself; \\ a backslash; \n \r \t \v \f control characters;
  \xHH one raw byte; @@REPEAT(s,n)@@ s repeated n times; <UNSET> no command at all;
  an empty field the empty string.

Usage: corpus_decode.py TSV OUTDIR PREFIX...
Writes OUTDIR/ID.cmd (the decoded bytes, exactly) for every row whose id starts with one of
the PREFIXes (e.g. "SH-"), and prints one manifest line per row on stdout:
  ID <TAB> EXPECTED <TAB> KIND <TAB> LENGTH
KIND is
  set       the request is OUTDIR/ID.cmd, byte for byte
  unset     <UNSET>: the client sends no command (SSH_ORIGINAL_COMMAND unset)
  nul-tail  the bytes end in NUL(s) and hold no other NUL: sshd reads the exec request with
            sshbuf_get_cstring, which accepts a string whose only NUL is the last byte, so
            the server sees the text before it. ID.cmd holds that text (what sshd hands on).
  nul-inner a NUL inside the text: sshd rejects the packet and drops the connection; no
            OpenSSH client can send it (argv strings cannot hold NUL). ID.cmd holds the
            bytes before the first NUL.
Exits 2 on a malformed escape, so a typo in the corpus fails the test instead of being
sent as something else.
"""
import csv
import os
import re
import sys

REPEAT = re.compile(r"@@REPEAT\((.*?),(\d+)\)@@", re.S)
SIMPLE = {"\\": 0x5C, "n": 0x0A, "r": 0x0D, "t": 0x09, "v": 0x0B, "f": 0x0C}


def unescape(text: str) -> bytes:
    out = bytearray()
    i = 0
    while i < len(text):
        c = text[i]
        if c != "\\":
            if not (0x20 <= ord(c) < 0x7F):
                raise ValueError(f"non-printable character {c!r} at {i}: the corpus is pure ASCII")
            out.append(ord(c))
            i += 1
            continue
        if i + 1 >= len(text):
            raise ValueError("trailing backslash")
        e = text[i + 1]
        if e == "x":
            h = text[i + 2:i + 4]
            if len(h) != 2 or not re.fullmatch(r"[0-9A-Fa-f]{2}", h):
                raise ValueError(f"bad \\x escape at {i}")
            out.append(int(h, 16))
            i += 4
        elif e in SIMPLE:
            out.append(SIMPLE[e])
            i += 2
        else:
            raise ValueError(f"unknown escape \\{e} at {i}")
    return bytes(out)


def decode(field: str):
    """Returns None for <UNSET>, else the exact bytes."""
    if field == "<UNSET>":
        return None
    expanded = REPEAT.sub(lambda m: m.group(1) * int(m.group(2)), field)
    return unescape(expanded)


def main(argv):
    if len(argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    tsv, outdir, prefixes = argv[1], argv[2], tuple(argv[3:])
    os.makedirs(outdir, exist_ok=True)
    with open(tsv, newline="", encoding="ascii") as f:
        rows = list(csv.reader(f, delimiter="\t"))
    header, rows = rows[0], rows[1:]
    col = {name: i for i, name in enumerate(header)}
    for name in ("id", "ssh_original_command", "expected"):
        if name not in col:
            print(f"corpus: missing column {name}", file=sys.stderr)
            return 2
    for row in rows:
        rid = row[col["id"]]
        if not rid.startswith(prefixes):
            continue
        if not re.fullmatch(r"[A-Za-z0-9-]+", rid):
            print(f"corpus: odd id {rid!r}", file=sys.stderr)
            return 2
        try:
            data = decode(row[col["ssh_original_command"]])
        except ValueError as err:
            print(f"corpus: {rid}: {err}", file=sys.stderr)
            return 2
        if data is None:
            kind, data = "unset", b""
        elif b"\0" in data:
            head = data.split(b"\0", 1)[0]
            kind = "nul-tail" if data.rstrip(b"\0") == head and data.count(b"\0") == 1 else "nul-inner"
            data = head
        else:
            kind = "set"
        with open(os.path.join(outdir, rid + ".cmd"), "wb") as out:
            out.write(data)
        print(f"{rid}\t{row[col['expected']]}\t{kind}\t{len(data)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
