#!/usr/bin/env python3
"""Split a write benchmark's CPU per row into the write path's components.

Usage: scripts/cpu-components.py BINARY PROFILE CPU_US_PER_ROW [BINARY PROFILE CPU_US_PER_ROW ...]

Each PROFILE is a CPU profile of BenchmarkAPI (api/, -test.cpuprofile, one
sub-benchmark a run) or BenchmarkPropose (node/, GRIDCRM_BENCH_CPUPROFILE),
BINARY the test binary that wrote it, CPU_US_PER_ROW the cpu-µs/row the run
reported (getrusage: every thread, the kernel's time in fsync included). Every
sample is counted once, under the first component below that has a matching
frame on its stack (a component with patterns joined by && needs all of
them); the samples of setting the cluster up (logins' bcrypt) are left out.
Each component's share of the samples times CPU_US_PER_ROW is its CPU per
row; the rows sum to the total. Prints a markdown table, one column a profile.
"""
import re
import subprocess
import sys

SETUP = "setup"
COMPONENTS = [  # (row, patterns): the first that matches a sample takes it; rows may repeat
    (SETUP, r"testcluster\.New|bcrypt|api\.\(\*Server\)\.login|Readyz|BenchmarkAPI$|BenchmarkPropose$|node\.Start|prefill"),
    ("the in-process clients", r"gridcrm/internal/load\.|BenchmarkPropose\.func|BenchmarkAPI\.func"),
    ("GC", r"runtime\.gcBgMarkWorker|runtime\.bgsweep|runtime\.bgscavenge|runtime\.gcAssistAlloc|runtime\.markroot"),
    ("Pebble flush + compaction", r"pebble/v2\.\(\*DB\)\.(flush|compact|runCompaction)|sstable\.\(\*layoutWriter\)|DeleteCleaner"),
    ("Pebble WAL write + fsync (raft log and state share it)", r"record\.\(\*LogWriter\)\.flushLoop"),
    ("raft (replication, transport, heartbeats) + log store", r"gridcrm/store\.\(\*LogStore\)"),
    ("FSM: Pebble batch commit (memtable inserts)", r"replication\.\(\*Txn\)\.commit|replication\.\(\*txnBuffer\)\.commit"),
    ("FSM: search entries", r"crm\.searchChange|eachSearchKey"),
    ("FSM: card", r"crm\.cardChange|crm\.cardUpdate|crm\.bumpCardVersion"),
    ("FSM: audit entry", r"crm\.auditApplied|crm\.auditRefused"),
    ("FSM: counters (aggregates)", r"AggregateDeltas|ApplyDeltas|linkDomain\.Deltas|crm\.Fold|customerCounters"),
    ("FSM: change feed", r"link\.\(\*FeedTxn\)\.(record|Flush)|AppendChange|appendChange"),
    ("FSM: management check", r"crm\.mayWrite|crm\.managementRules"),
    ("FSM: checks, uniques, field indexes, record-exists read",
     r"crm\.check$|crm\.noteAccount|crm\.customerWritten|crm\.write$|checkStateChange|crm\.byIndex"),
    ("FSM: command and record decode, result encode (JSON)", r"jsoncodec|crm\.decodeFast|crm\.unmarshal|DecodeStrict"),
    ("FSM: command and record decode, result encode (JSON)",
     r"node\.mustJSON|^encoding/json\.Unmarshal$&&replication\.\(\*fsm\)\.ApplyBatch"),
    ("FSM: checks, uniques, field indexes, record-exists read", r"crm\.create$"),
    ("FSM: write buffers (overlay, txnBuffer, indexed batch)",
     r"crm\.\(\*overlay\)|replication\.\(\*txnBuffer\)|replication\.\(\*Txn\)|replication\.\(\*fsm\)\.ApplyBatch|node\.\(\*applier\)"),
    ("raft (replication, transport, heartbeats) + log store", r"hashicorp/raft"),
    ("HTTP: follower's forward to the leader", r"replication\.\(\*Group\)\.forward|Security\)\.Require|replication\.\(\*Group\)\.routes"),
    ("HTTP: auth (token keys, user, session reads; HMAC)",
     r"api\.\(\*Server\)\.verify|api\.\(\*Server\)\.caller|api\.\(\*Server\)\.signingKey|liveSession"),
    ("HTTP: validation before propose (CheckNew)", r"CheckNew|checkInput|api\.\(\*scanner\)"),
    ("HTTP: request, gin, TLS, propose, response",
     r"net/http|gin-gonic|crypto/tls|gridcrm/api|node\.\(\*Node\)\.Propose|replication\.\(\*Group\)\.Propose"),
    ("Pebble: other (reads outside the FSM, table cache)", r"cockroachdb/pebble"),
    ("Go runtime (scheduler, netpoll) and the rest", r"."),
]
RULES = [(name, [re.compile(p) for p in pats.split("&&")]) for name, pats in COMPONENTS]
VALUE = re.compile(r"\s*([\d.]+)(ns|us|µs|ms|s)\s+(\S.*)")
UNIT = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0}


def shares(binary, profile):
    """Seconds of samples per component."""
    out = subprocess.run(["go", "tool", "pprof", "-traces", binary, profile],
                         capture_output=True, text=True, check=True).stdout
    total = dict.fromkeys((name for name, _ in RULES), 0.0)
    for block in out.split("-----------+-------------------------------------------------------")[1:]:
        lines = [l for l in block.split("\n") if l.strip()]
        # Label lines (pprof.Do's, Pebble's) come before the sample's value.
        k = next((i for i, l in enumerate(lines) if VALUE.match(l)), None)
        if k is None:
            continue
        m = VALUE.match(lines[k])
        seconds = float(m.group(1)) * UNIT[m.group(2)]
        frames = [m.group(3).strip()] + [l.strip() for l in lines[k + 1:]]
        for name, pats in RULES:
            if all(any(p.search(f) for f in frames) for p in pats):
                total[name] += seconds
                break
    return total


def main(args):
    if len(args) == 0 or len(args) % 3:
        sys.exit(__doc__)
    cols = []
    for i in range(0, len(args), 3):
        s = shares(args[i], args[i + 1])
        work = sum(v for name, v in s.items() if name != SETUP)
        cols.append({name: v / work * float(args[i + 2]) for name, v in s.items()})
    print("| CPU µs a row | " + " | ".join(args[i + 1] for i in range(0, len(args), 3)) + " |")
    print("|---|" + "---:|" * len(cols))
    for name in dict.fromkeys(name for name, _ in RULES):
        if name != SETUP:
            print(f"| {name} | " + " | ".join(f"{c[name]:,.0f}" for c in cols) + " |")
    print("| **total** | " + " | ".join(f"**{float(args[i + 2]):,.0f}**" for i in range(0, len(args), 3)) + " |")


if __name__ == "__main__":
    main(sys.argv[1:])
