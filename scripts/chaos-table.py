#!/usr/bin/env python3
"""Merge the report.json files of several `make chaos` runs into one markdown table.

Usage: scripts/chaos-table.py RUN_DIR [RUN_DIR ...]
"""
import json
import sys
from collections import defaultdict


def main(dirs):
    runs = [json.load(open(d.rstrip("/") + "/report.json")) for d in dirs]
    faults = defaultdict(int)
    avail = defaultdict(lambda: defaultdict(float))
    w = defaultdict(int)
    anomalies, lin_ops, divergences = [], 0, 0
    for r in runs:
        for k in r["fault_kinds"]:
            faults[k["kind"]] += k["ran"]
        for a in r["availability"]:
            x = avail[a["kind"]]
            x["attempts"] += a["attempts"]
            x["succeeded"] += a["succeeded"]
            x["creates"] += a["creates"]
            x["acked"] += a["creates_acknowledged"]
            x["longest"] = max(x["longest"], a["longest_outage"] / 1e9)
        for key in ("creates", "acknowledged", "via_duplicate", "unknown", "not_applied", "refused"):
            w[key] += r["writes"].get(key, 0)
        for status, n in r["writes"].get("answers_by_status", {}).items():
            w["answer " + status] += n
        anomalies += r.get("anomalies") or []
        lin_ops += r["checks"].get("linearizability", {}).get("ops", 0)
        divergences += r["checks"].get("divergences", 0)
    print("Seeds: " + ", ".join(str(r["seed"]) for r in runs) + f"; faults injected: {sum(faults.values())}; anomalies: {len(anomalies)}")
    print()
    print("| fault kind | injected | write attempts answered | creates acknowledged | longest write outage |")
    print("|---|---:|---:|---:|---:|")
    for kind in sorted(avail, key=lambda k: (k in ("startup", "settle"), k)):
        x = avail[kind]
        frac = x["succeeded"] / x["attempts"] if x["attempts"] else 1
        print(f"| {kind} | {faults.get(kind, '–')} | {int(x['succeeded']):,}/{int(x['attempts']):,} ({frac:.3f}) | "
              f"{int(x['acked']):,}/{int(x['creates']):,} | {x['longest']:.1f} s |")
    print()
    print(f"Creates {w['creates']:,}: acknowledged {w['acknowledged']:,} (of which {w['via_duplicate']:,} learned from a "
          f"duplicate on retry), unknown outcome {w['unknown']:,}, not applied {w['not_applied']:,}, refused {w['refused']:,}. "
          f"Linearizability checked over {lin_ops:,} register operations; replica divergences {divergences}.")
    answers = {k[7:]: v for k, v in w.items() if k.startswith("answer ")}
    print()
    print("Answers: " + ", ".join(f"{k}: {v:,}" for k, v in sorted(answers.items(), key=lambda kv: -kv[1])))
    for a in anomalies:
        print(f"- anomaly: {a}")


if __name__ == "__main__":
    main(sys.argv[1:])
