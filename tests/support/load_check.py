#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Check a load run of tests/integration/audit_load.sh against the journal.

Usage: load_check.py SENT_FILE < journalctl -o json (bridle's records since the run began)
SENT_FILE: one line per request, "TEXT<TAB>EXPECTED_STATUS<TAB>ACTUAL_STATUS<TAB>STDOUT".
Prints one line per problem and a summary; exits 1 on any problem:
- a request whose exit status or output was not the expected one;
- a request with no decision record, or more than one (a lost or a duplicated record);
- an allowed request with no result record or more than one, or a result whose request id
  has no decision;
- a record that belongs to no request that was sent.
"""
import collections
import json
import sys


def main():
    sent = []
    with open(sys.argv[1], encoding="utf-8") as f:
        for line in f:
            text, want, got, out = line.rstrip("\n").split("\t")
            sent.append((text, int(want), got, out))
    decisions = collections.defaultdict(list)   # command -> [request ids]
    results = collections.defaultdict(list)     # request id -> [result records]
    decision_ids = collections.Counter()
    total = 0
    for line in sys.stdin:
        if not line.strip():
            continue
        rec = json.loads(line)
        total += 1
        event = rec.get("BRIDLE_EVENT")
        rid = rec.get("BRIDLE_REQUEST_ID")
        if event == "decision":
            decisions[rec.get("BRIDLE_COMMAND")].append(rid)
            decision_ids[rid] += 1
        elif event == "result":
            results[rid].append(rec)
    problems = []
    expected_records = 0
    texts = set()
    for text, want, got, out in sent:
        texts.add(text)
        allowed = want == 0
        expected_records += 2 if allowed else 1
        if got != str(want):
            problems.append(f"{text!r}: exit status {got}, want {want}")
        if allowed and out != text.split(" ", 1)[1]:
            problems.append(f"{text!r}: output {out!r}")
        ids = decisions.get(text, [])
        if len(ids) != 1:
            problems.append(f"{text!r}: {len(ids)} decision records, want 1")
            continue
        n = len(results.get(ids[0], []))
        if n != (1 if allowed else 0):
            problems.append(f"{text!r}: {n} result records, want {1 if allowed else 0}")
    for command in decisions:
        if command not in texts:
            problems.append(f"a decision for {command!r}, which was never sent")
    for rid in results:
        if decision_ids[rid] != 1:
            problems.append(f"a result for request {rid}, which has {decision_ids[rid]} decisions")
    for p in problems[:40]:
        print(p)
    print(f"requests sent: {len(sent)}; records expected: {expected_records}; records found: {total}; "
          f"problems: {len(problems)}")
    if total != expected_records and not problems:
        print("record count differs")
        return 1
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
