#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
r"""Filter `journalctl -o json` output (stdin) for the integration tests.

Usage: journal_query.py [--since USEC] [--match FIELD=VALUE]... ACTION
  --since USEC         keep records sent at or after USEC (microseconds since the epoch;
                       _SOURCE_REALTIME_TIMESTAMP, else __REALTIME_TIMESTAMP)
  --match FIELD=VALUE  keep records whose FIELD equals VALUE (repeatable; all must hold)
ACTIONS
  count                number of records kept
  filter               the records kept, as JSON lines
  get FIELD            FIELD of every record kept, one per line ("" when absent)
  bash                 bash assignments for harness.sh: REC_N (records kept), REC_N_DECISION,
                       REC_N_RESULT, REC_N_DENY (decision deny), REC_N_REFUSED (decisions
                       other than allow: deny, or error for an unparsable request), and arrays
                       REC_DECISION / REC_RESULT holding the fields of the first decision /
                       result record
  dump                 every record kept, one line each, BRIDLE_* fields only (diagnostics)
  command-is RAWFILE   exit 0 when the first record's BRIDLE_COMMAND is the escaped form of
                       the bytes in RAWFILE (bridle's escape_text, src/common/text.cpp; a
                       value cut with "...(N bytes)" counts when its prefix matches and N is
                       the raw length); else print both and exit 1
  escape RAWFILE       print the escaped form of RAWFILE (no stdin read)
journalctl encodes a value that is not valid UTF-8 (or holds control bytes) as a JSON array
of byte values; such values are turned back into bytes here.
"""
import json
import re
import sys


def value_bytes(v):
    if v is None:
        return b""
    if isinstance(v, list):  # binary-safe encoding, or a field that occurs several times
        if all(isinstance(x, int) for x in v):
            return bytes(v)
        return b"\n".join(value_bytes(x) for x in v)
    return str(v).encode("utf-8", "surrogateescape")


def decode_utf8(b, i):
    """Mirror of bridle::decode_utf8: (codepoint, length) or None."""
    lead = b[i]
    if lead < 0x80:
        return lead, 1
    if lead & 0xE0 == 0xC0:
        n, val, minimum = 2, lead & 0x1F, 0x80
    elif lead & 0xF0 == 0xE0:
        n, val, minimum = 3, lead & 0x0F, 0x800
    elif lead & 0xF8 == 0xF0:
        n, val, minimum = 4, lead & 0x07, 0x10000
    else:
        return None
    if i + n > len(b):
        return None
    for k in range(1, n):
        if b[i + k] & 0xC0 != 0x80:
            return None
        val = (val << 6) | (b[i + k] & 0x3F)
    if val < minimum or val > 0x10FFFF or 0xD800 <= val <= 0xDFFF:
        return None
    return val, n


def forbidden(cp):
    return (cp < 0x20 or cp == 0x7F or 0x80 <= cp <= 0x9F or cp in (0x061C, 0x200E, 0x200F)
            or 0x202A <= cp <= 0x202E or 0x2066 <= cp <= 0x2069 or 0x200B <= cp <= 0x200D
            or cp in (0x2060, 0xFEFF, 0x00AD) or 0x2061 <= cp <= 0x2064
            or 0xFFF9 <= cp <= 0xFFFB or cp in (0x2028, 0x2029))


def escape_text(b: bytes) -> bytes:
    """Mirror of bridle::escape_text without the length cut."""
    out = bytearray()
    i = 0
    while i < len(b):
        c = b[i]
        if c in (0x5C, 0x22):
            out += b"\\" + bytes([c])
            i += 1
        elif 0x20 <= c < 0x7F:
            out.append(c)
            i += 1
        elif c in (0x0A, 0x09, 0x0D):
            out += {0x0A: b"\\n", 0x09: b"\\t", 0x0D: b"\\r"}[c]
            i += 1
        else:
            cp = decode_utf8(b, i)
            if cp and cp[1] > 1 and not forbidden(cp[0]):
                out += b[i:i + cp[1]]
                i += cp[1]
            elif cp and cp[1] > 1:
                out += ("\\u{%04X}" % cp[0]).encode()
                i += cp[1]
            else:
                out += ("\\x%02X" % c).encode()
                i += 1
    return bytes(out)


def command_matches(recorded: bytes, raw: bytes) -> bool:
    full = escape_text(raw)
    if recorded == full:
        return True
    m = re.fullmatch(rb"(.*)\.\.\.\((\d+) bytes\)", recorded, re.S)
    if m and int(m.group(2)) == len(raw):
        # The cut is made on the raw bytes; the escaped prefix must be a prefix of the
        # escaped whole (modulo a multi-byte sequence split at the cut).
        prefix = m.group(1)
        return full.startswith(prefix) or full.startswith(prefix.rsplit(b"\\x", 1)[0])
    return False


def main(argv):
    args = argv[1:]
    since = None
    matches = []
    while args and args[0].startswith("--"):
        opt = args.pop(0)
        if opt == "--since":
            since = int(args.pop(0))
        elif opt == "--match":
            k, _, v = args.pop(0).partition("=")
            matches.append((k, v.encode("utf-8", "surrogateescape")))
        else:
            print(f"journal_query: unknown option {opt}", file=sys.stderr)
            return 2
    if not args:
        print(__doc__, file=sys.stderr)
        return 2
    action = args.pop(0)
    out = sys.stdout.buffer
    if action == "escape":
        with open(args[0], "rb") as f:
            out.write(escape_text(f.read()) + b"\n")
        return 0

    records = []
    lines = []
    for line in sys.stdin.buffer:
        line = line.strip()
        if not line:
            continue
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        # When the record was sent: the kernel's receive time of the datagram when journald
        # has it (_SOURCE_REALTIME_TIMESTAMP), else when journald stored it. A record that
        # waited in the socket buffer must not count for the next request.
        sent = rec.get("_SOURCE_REALTIME_TIMESTAMP") or rec.get("__REALTIME_TIMESTAMP", "0")
        if since is not None and int(value_bytes(sent) or b"0") < since:
            continue
        if all(value_bytes(rec.get(k)) == v for k, v in matches):
            records.append(rec)
            lines.append(line)

    if action == "filter":
        for line in lines:
            out.write(line + b"\n")
    elif action == "count":
        out.write(b"%d\n" % len(records))
    elif action == "get":
        for rec in records:
            out.write(value_bytes(rec.get(args[0])) + b"\n")
    elif action == "bash":
        import shlex

        def q(b):
            return shlex.quote(b.decode("utf-8", "surrogateescape")).encode("utf-8", "surrogateescape")

        def events(name):
            return [r for r in records if value_bytes(r.get("BRIDLE_EVENT")) == name]

        decisions, results = events(b"decision"), events(b"result")
        deny = [r for r in decisions if value_bytes(r.get("BRIDLE_DECISION")) == b"deny"]
        refused = [r for r in decisions if value_bytes(r.get("BRIDLE_DECISION")) != b"allow"]
        out.write(b"REC_N=%d REC_N_DECISION=%d REC_N_RESULT=%d REC_N_DENY=%d REC_N_REFUSED=%d\n"
                  % (len(records), len(decisions), len(results), len(deny), len(refused)))
        for var, recs in ((b"REC_DECISION", decisions), (b"REC_RESULT", results)):
            out.write(b"declare -gA " + var + b"=()\n")
            if recs:
                for k, v in recs[0].items():
                    if re.fullmatch(r"[A-Za-z0-9_]+", k):
                        out.write(var + b"[" + k.encode() + b"]=" + q(value_bytes(v)) + b"\n")
    elif action == "dump":
        for rec in records:
            fields = sorted(k for k in rec if k.startswith("BRIDLE_") or k in ("MESSAGE", "PRIORITY"))
            out.write(b" ".join(k.encode() + b"=" + value_bytes(rec[k]) for k in fields) + b"\n")
    elif action == "command-is":
        with open(args[0], "rb") as f:
            raw = f.read()
        if not records:
            out.write(b"no record\n")
            return 1
        recorded = value_bytes(records[0].get("BRIDLE_COMMAND"))
        if not command_matches(recorded, raw):
            out.write(b"recorded BRIDLE_COMMAND=" + recorded[:300] + b"\nexpected escape_text=" +
                      escape_text(raw)[:300] + b"\n")
            return 1
    else:
        print(f"journal_query: unknown action {action}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
