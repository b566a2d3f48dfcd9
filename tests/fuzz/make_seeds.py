#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
r"""Write the fuzz seed corpora, derived from files the project already has.

Usage: make_seeds.py SOURCE_DIR OUT_DIR

Writes OUT_DIR/<target>/<name> for each fuzz target (replacing what was there) and touches
OUT_DIR/stamp. The build runs it (tests/fuzz/CMakeLists.txt), so the seeds follow the golden
files; nothing generated is committed. Seeds:

  tokenizer  tests/golden/tokenizer/*.in (exact bytes) and the ssh_original_command column of
             tests/corpus/escape_public.tsv, decoded by tests/support/corpus_decode.py
             (<UNSET> rows skipped; NUL bytes kept: the tokenizer must refuse them itself)
  policy     tests/golden/policy/*.yaml, policy/*.yaml, tests/integration/policies/*.yaml
  matcher    argv joined by NUL: each request of tests/golden/decisions/*.in (TAB-separated
             words, \xHH escapes), and each escape-corpus request that Python's shlex can
             split (an approximation of the tokenizer, good enough for seeds)
  redaction  a read-size byte, then command output: tests/golden/redaction/input.txt whole and
             one seed per line of it, and the tokenizer golden inputs as output
  policy_cache  the policy seeds (the target encodes each policy that loads, then damages it)
  mcp        a chunk-size byte, then JSON-RPC lines: a session's handshake, and a tools/call
             run_command per tokenizer golden input (as "command") and per decision request
             (as "argv"); bytes that are not UTF-8 stay raw, so the parser sees them

Hand-written seeds and the reproducers of fixed crashes live in tests/fuzz/corpus/<target>/
and are replayed alongside these.
"""
import glob
import hashlib
import os
import re
import shlex
import shutil
import sys


def load_corpus_decoder(source):
    sys.path.insert(0, os.path.join(source, "tests", "support"))
    sys.dont_write_bytecode = True   # never write __pycache__ into the source tree
    import corpus_decode  # noqa: E402  (the decoder the integration tests use)
    return corpus_decode


def corpus_rows(source):
    import csv
    path = os.path.join(source, "tests", "corpus", "escape_public.tsv")
    with open(path, newline="", encoding="ascii") as f:
        rows = list(csv.reader(f, delimiter="\t"))
    header, rows = rows[0], rows[1:]
    col = {name: i for i, name in enumerate(header)}
    for row in rows:
        yield row[col["id"]], row[col["ssh_original_command"]]


def decode_decision_line(line):
    words, word, i = [], bytearray(), 0
    raw = line.encode("utf-8", "surrogateescape")
    while i < len(raw):
        c = raw[i]
        if c == 0x09:
            words.append(bytes(word))
            word = bytearray()
        elif c == 0x5C and raw[i + 1:i + 2] == b"x" and re.fullmatch(rb"[0-9A-Fa-f]{2}", raw[i + 2:i + 4] or b""):
            word.append(int(raw[i + 2:i + 4], 16))
            i += 3
        else:
            word.append(c)
        i += 1
    words.append(bytes(word))
    return words


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    source, out = argv[1], argv[2]
    seeds = {"tokenizer": {}, "policy": {}, "matcher": {}, "mcp": {}, "redaction": {}}

    def add(target, name, data):
        seeds[target][re.sub(r"[^A-Za-z0-9._-]", "_", name)] = data

    def read(path):
        with open(path, "rb") as f:
            return f.read()

    for path in sorted(glob.glob(os.path.join(source, "tests/golden/tokenizer/*.in"))):
        add("tokenizer", "golden-" + os.path.basename(path), read(path))
    for pattern, prefix in (("tests/golden/policy/*.yaml", "golden-"), ("policy/*.yaml", "shipped-"),
                            ("tests/integration/policies/*.yaml", "integration-")):
        for path in sorted(glob.glob(os.path.join(source, pattern))):
            add("policy", prefix + os.path.basename(path), read(path))
    for path in sorted(glob.glob(os.path.join(source, "tests/golden/decisions/*.in"))):
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            for number, line in enumerate(f.read().split("\n"), 1):
                if line and not line.startswith("#"):
                    add("matcher", f"decision-{os.path.basename(path)}-{number}",
                        b"\0".join(decode_decision_line(line)))

    golden_output = read(os.path.join(source, "tests/golden/redaction/input.txt"))
    for size in (0, 6, 63, 255):
        add("redaction", f"golden-reads-of-{size + 1}", bytes([size]) + golden_output)
    for number, line in enumerate(golden_output.split(b"\n"), 1):
        add("redaction", f"golden-line-{number}", bytes([number % 256]) + line + b"\n")
    for path in sorted(glob.glob(os.path.join(source, "tests/golden/tokenizer/*.in"))):
        add("redaction", "tokenizer-" + os.path.basename(path), b"\x03" + read(path))

    handshake = (b'{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25",'
                 b'"capabilities":{},"clientInfo":{"name":"seed","version":"1"}}}\n'
                 b'{"jsonrpc":"2.0","method":"notifications/initialized"}\n'
                 b'{"jsonrpc":"2.0","id":1,"method":"tools/list"}\n')

    def json_string(raw):
        # JSON string syntax around raw bytes: escapes for what JSON requires, the rest raw.
        out = bytearray(b'"')
        for c in raw:
            if c in (0x22, 0x5C):
                out += b"\\" + bytes([c])
            elif c < 0x20:
                out += b"\\u%04x" % c
            else:
                out.append(c)
        return bytes(out + b'"')

    def call(number, arguments):
        return (b'{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"run_command",'
                b'"arguments":%s,"_meta":{"progressToken":"p%d"}}}\n' % (number, arguments, number))

    for i, path in enumerate(sorted(glob.glob(os.path.join(source, "tests/golden/tokenizer/*.in")))):
        add("mcp", "command-" + os.path.basename(path),
            bytes([i % 256]) + handshake + call(2, b'{"command":' + json_string(read(path)) + b'}'))
    for path in sorted(glob.glob(os.path.join(source, "tests/golden/decisions/*.in"))):
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            for number, line in enumerate(f.read().split("\n"), 1):
                if line and not line.startswith("#"):
                    words = b",".join(json_string(w) for w in decode_decision_line(line))
                    add("mcp", f"argv-{os.path.basename(path)}-{number}",
                        bytes([number % 256]) + handshake + call(number, b'{"argv":[' + words + b'],"timeout_seconds":5}'))

    decoder = load_corpus_decoder(source)
    for rid, field in corpus_rows(source):
        data = decoder.decode(field)
        if data is None:
            continue
        add("tokenizer", "escape-" + rid, data)
        try:
            words = shlex.split(data.decode("utf-8", "surrogateescape"), posix=True)
        except ValueError:
            continue
        if words:
            add("matcher", "escape-" + rid,
                b"\0".join(w.encode("utf-8", "surrogateescape") for w in words))

    # The cache reader's target reads each input as a YAML policy too (and as a cache body): the
    # policy seeds are its seeds; encoded bodies are committed in corpus/policy_cache/.
    seeds["policy_cache"] = dict(seeds["policy"])

    for target, files in seeds.items():
        directory = os.path.join(out, target)
        shutil.rmtree(directory, ignore_errors=True)
        os.makedirs(directory)
        seen = set()
        for name, data in sorted(files.items()):
            digest = hashlib.sha1(data).hexdigest()
            if digest in seen:
                continue   # identical inputs add nothing
            seen.add(digest)
            with open(os.path.join(directory, name), "wb") as f:
                f.write(data)
        if not os.listdir(directory):
            print(f"make_seeds: no seeds for {target}", file=sys.stderr)
            return 1
    with open(os.path.join(out, "stamp"), "w") as f:
        f.write("".join(f"{t} {len(os.listdir(os.path.join(out, t)))}\n" for t in seeds))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
