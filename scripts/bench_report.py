#!/usr/bin/env python3
"""Regenerates the tables of BENCHMARKS.md and docs/bench-scaling.svg.

Reads what `cargo bench -p switchboard-bench` left in the target directory:
  <target>/criterion/<group>/<function>/<param>/new/estimates.json   (criterion)
  <target>/switchboard-bench/{latency,memory,throughput}/*.json        (the benches' side files)
and rewrites every block of BENCHMARKS.md between
  <!-- BEGIN GENERATED: name --> and <!-- END GENERATED: name -->.
Prose outside those blocks is left alone.

Usage: python3 scripts/bench_report.py [--target DIR] [--no-machine]
  --target      default: $CARGO_TARGET_DIR, else ./target
  --no-machine  keep the machine block as it is (when regenerating elsewhere)

Python 3 standard library only.
"""

import argparse
import glob
import json
import math
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STRATEGIES = ["least_loaded", "longest_idle", "round_robin", "most_proficient", "skill_development",
              "fewest_conversations", "ring", "fixed_order"]
OPS = [100, 1000, 10000]
WAITING = [1000, 100000]
STEPS = ["arrival", "freed"]

# The project's performance targets (written beside each table in BENCHMARKS.md).
G1_P50_NS = 2000
G2_P99_NS = 10000
G1_FLOOR_RATIO = 20
G3_GROWTH = 2.0
G4_PER_S = 1_000_000
G5_PER_S = 500_000
G15_BYTES = 256
G7_MS = 150
G8_US_PER_MOVE = 2.0
G9_FLOOR_SHARE = 0.25
G12_PER_S = 2_000_000
G16_BYTES = 1024


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def criterion(target, group, function, param=None):
    parts = [target, "criterion", group, function] + ([param] if param else []) + ["new", "estimates.json"]
    e = load(os.path.join(*parts))
    if not e:
        return None
    return {"mean": e["mean"]["point_estimate"], "median": e["median"]["point_estimate"]}


def side(target, kind):
    out = {}
    for p in glob.glob(os.path.join(target, "switchboard-bench", kind, "*.json")):
        d = load(p)
        if d is not None:
            out[os.path.basename(p)[:-5]] = d
    return out


def ns(x):
    if x is None:
        return "–"
    if x >= 1e6:
        return f"{x / 1e6:.2f} ms"
    if x >= 1e3:
        return f"{x / 1e3:.2f} µs"
    return f"{x:.0f} ns"


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def fx(x, digits=1):
    return "–" if x is None else f"{x:.{digits}f}×"


def verdict(ok):
    return "–" if ok is None else ("**pass**" if ok else "**miss**")


def param(n, w):
    return f"{n}ops_{w}waiting"


def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=20).stdout.rstrip()
    except (OSError, subprocess.SubprocessError):
        return ""


def machine_block():
    lscpu = sh("lscpu")
    keep = ("Architecture", "Model name", "CPU(s):", "Thread(s) per core", "Core(s) per socket",
            "Hypervisor vendor", "L1d cache", "L2 cache", "L3 cache", "NUMA node(s)", "Flags")
    lines = []
    for line in lscpu.splitlines():
        if line.startswith(keep) and not line.startswith("Flags"):
            lines.append(line)
    return "\n".join([
        "```text",
        "$ lscpu (selected lines)",
        *lines,
        "",
        "$ free -g",
        sh("free -g"),
        "",
        "$ rustc -V; rustc -Vv | grep LLVM; cargo -V",
        sh("rustc -V"),
        sh("rustc -Vv | grep LLVM"),
        sh("cargo -V"),
        "",
        "$ uname -sr; uptime   # at report time",
        sh("uname -sr"),
        sh("uptime"),
        "```",
    ])


def floors(target):
    f = {
        "heap": criterion(target, "floor", "binary_heap_push_pop", "100000"),
        "btree": criterion(target, "floor", "btree_remove_insert", "100000"),
        "scan": criterion(target, "floor", "scan_operator_records", "10000"),
        "timer": criterion(target, "floor", "instant_pair"),
    }
    rows = [
        "| floor (same run) | criterion mean | criterion median | reference anchor |",
        "|---|---:|---:|---:|",
    ]
    names = {
        "heap": ("`BinaryHeap<(u64,u64)>` push+pop at 100k", "102 ns"),
        "btree": ("`BTreeSet<(u64,u64)>` remove+insert at 100k", "411 ns"),
        "scan": ("scan of 10k 32-byte operator records", "31 µs"),
        "timer": ("`Instant::now()` + `elapsed()` (per-decision timer overhead)", "–"),
    }
    for k, (label, anchor) in names.items():
        v = f[k]
        rows.append(f"| {label} | {ns(v and v['mean'])} | {ns(v and v['median'])} | {anchor} |")
    return f, "\n".join(rows)


def decisions(target, lat, fl):
    heap = fl["heap"]["mean"] if fl.get("heap") else None
    rows = [
        "| step | strategy | scale | mean (criterion) | p50 | p99 | p50 ÷ heap floor | scan mean | scan p50 | scan p50 ÷ indexed p50 |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    data = {}
    for step in STEPS:
        for s in STRATEGIES:
            for n in OPS:
                for w in WAITING:
                    p = param(n, w)
                    c = criterion(target, step, s, p)
                    cs = criterion(target, step, s + "_scan", p)
                    l = lat.get(f"{step}__{s}__{p}")
                    ls = lat.get(f"{step}__{s}_scan__{p}")
                    if not (c or l):
                        continue
                    p50 = l and l["p50_ns"]
                    p99 = l and l["p99_ns"]
                    sp50 = ls and ls["p50_ns"]
                    data[(step, s, n, w)] = {"mean": c and c["mean"], "p50": p50, "p99": p99,
                                             "scan_mean": cs and cs["mean"], "scan_p50": sp50}
                    rows.append(
                        f"| {step} | {s} | {n:,} × {w:,} | {ns(c and c['mean'])} | {ns(p50)} | {ns(p99)} | "
                        f"{fx(ratio(p50, heap))} | {ns(cs and cs['mean'])} | {ns(sp50)} | {fx(ratio(sp50, p50))} |")
    return data, "\n".join(rows)


def scaling(data):
    rows = [
        "| step | strategy | p50 1k ops: 1k → 100k waiting | p50 1k → 10k ops (1k waiting) | p50 1k → 10k ops (100k waiting) | G3 (≤ 2×) |",
        "|---|---|---:|---:|---:|---|",
    ]
    verdicts = []
    for step in STEPS:
        for s in STRATEGIES:
            def g(n, w):
                d = data.get((step, s, n, w))
                return d and d["p50"]
            r1 = ratio(g(1000, 100000), g(1000, 1000))
            r2 = ratio(g(10000, 1000), g(1000, 1000))
            r3 = ratio(g(10000, 100000), g(1000, 100000))
            rs = [r for r in (r1, r2, r3) if r is not None]
            if not rs:
                continue
            ok = all(r <= G3_GROWTH for r in rs)
            verdicts.append(ok)
            rows.append(f"| {step} | {s} | {fx(r1, 2)} | {fx(r2, 2)} | {fx(r3, 2)} | {verdict(ok)} |")
    return verdicts, "\n".join(rows)


def throughput_block(tp):
    rows = [
        "| stream | business events | inputs (incl. `Assign`) | decisions | waiting before → after | median s per stream | decisions/s | business events/s | inputs/s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for key in sorted(tp, key=lambda k: int(k.split("ops")[0])):
        t = tp[key]
        rows.append(
            f"| {t['param']} | {t['business_events']:,} | {t['inputs']:,} | {t['decisions']:,} | "
            f"{t['waiting_before']:,} → {t['waiting_after']:,} | {t['median_s']:.3f} | {t['decisions_per_s']:,} | "
            f"{t['business_events_per_s']:,} | {t['inputs_per_s']:,} |")
    return "\n".join(rows)


def memory_block(mem):
    m = mem.get("engine")
    if not m:
        return "(no memory results)"
    return "\n".join([
        f"Counting global allocator, live heap bytes divided by count ({m['operators']:,} operators, "
        f"{m['waiting']:,} waiting conversations):",
        "",
        "| what | bytes each | target | verdict |",
        "|---|---:|---:|---|",
        f"| available operator (5 skills, chat/email/call capacities, indexed on 3 channels) | "
        f"{m['bytes_per_available_operator']:.0f} | ≤ {G16_BYTES} | {verdict(m['bytes_per_available_operator'] <= G16_BYTES)} |",
        f"| away operator (same, in no facet) | {m['bytes_per_away_operator']:.0f} | – | – |",
        f"| waiting conversation, backlog mix (record + slot map + bucket) | {m['bytes_per_waiting_conversation']:.0f} | "
        f"≤ {G15_BYTES} | {verdict(m['bytes_per_waiting_conversation'] <= G15_BYTES)} |",
        f"| waiting conversation, all with identical requirements (one bucket) | "
        f"{m.get('bytes_per_waiting_one_bucket', float('nan')):.0f} | – | – |",
        f"| requirement buckets created by the backlog mix | {m.get('distinct_requirements', '–')} | – | – |",
    ])


def criterion_glob(target, group, prefix):
    """Criterion estimates of every benchmark in `group` whose id starts with `prefix`
    (criterion turns the id's slashes into underscores in its directory names)."""
    out = {}
    for p in sorted(glob.glob(os.path.join(target, "criterion", group, prefix + "_*", "new", "estimates.json"))):
        e = load(p)
        if e:
            name = os.path.basename(os.path.dirname(os.path.dirname(p)))
            out[name[len(prefix) + 1:]] = {"mean": e["mean"]["point_estimate"], "median": e["median"]["point_estimate"]}
    return out


def other_targets(target):
    """G7, G8 (rebalance), G9 (KPI pass) and G12 (simulator) rows from the same run."""
    rows = []
    reb = side(target, "rebalance")
    for name, est in criterion_glob(target, "rebalance", "from_scratch").items():
        ms = est["median"] / 1e6
        rows.append(f"| G7 rebalance from scratch, {name} | ≤ {G7_MS} ms | {ms:.0f} ms (criterion median) | "
                    f"{verdict(ms <= G7_MS)} |")
    for name, est in criterion_glob(target, "rebalance", "skew_full").items():
        moves = reb.get("skew_full__" + name, {}).get("moves")
        if moves:
            per = est["median"] / 1e3 / moves
            rows.append(f"| G8 skew rebalance, {name} ({moves:,} moves) | ≤ {G8_US_PER_MOVE:g} µs per move | "
                        f"{per:.2f} µs per move ({est['median'] / 1e6:.0f} ms) | {verdict(per <= G8_US_PER_MOVE)} |")
    for name, k in sorted(side(target, "kpi").items()):
        if name.startswith("aggregate_vs_floor"):
            rows.append(f"| G9 KPI pass ({k['records']:,} records of {k['record_bytes']} B) | ≥ {G9_FLOOR_SHARE:.0%} of the "
                        f"sequential-read floor | {k['records_per_s'] / 1e6:.1f} M records/s = {k['ratio']:.1%} of the floor | "
                        f"{verdict(k['ratio'] >= G9_FLOOR_SHARE)} |")
    for name, est in criterion_glob(target, "sim", "mm20_load0.9").items():
        m = re.search(r"(\d+)customers", name)
        if m:
            per_s = int(m.group(1)) / (est["median"] / 1e9)
            rows.append(f"| G12 simulator, M/M/20 ρ = 0.9, engine in the loop | ≥ {G12_PER_S:,} customers/s | "
                        f"{per_s:,.0f} customers/s | {verdict(per_s >= G12_PER_S)} |")
    return rows


def targets_block(data, fl, scale_verdicts, tp, mem, target):
    heap = fl["heap"]["mean"] if fl.get("heap") else None
    rows = ["| goal | target | measured (this run) | verdict |", "|---|---|---|---|"]
    for step in STEPS:
        p50s = {s: data.get((step, s, 10000, 100000), {}).get("p50") for s in STRATEGIES}
        p99s = {s: data.get((step, s, 10000, 100000), {}).get("p99") for s in STRATEGIES}
        got = [v for v in p50s.values() if v is not None]
        if got:
            worst = max(got)
            best = min(got)
            rows.append(f"| G1 decision p50, {step}, 10k × 100k | ≤ 2 µs | {ns(best)} – {ns(worst)} over strategies | "
                        f"{verdict(worst <= G1_P50_NS)} |")
            rows.append(f"| G1 as ratio, {step} | p50 ≤ {G1_FLOOR_RATIO}× heap push+pop (same run: {ns(heap)}) | "
                        f"{fx(ratio(best, heap))} – {fx(ratio(worst, heap))} | "
                        f"{verdict(heap is not None and worst <= G1_FLOOR_RATIO * heap)} |")
        got99 = [v for v in p99s.values() if v is not None]
        if got99:
            rows.append(f"| G2 decision p99, {step}, 10k × 100k | ≤ 10 µs | {ns(min(got99))} – {ns(max(got99))} | "
                        f"{verdict(max(got99) <= G2_P99_NS)} |")
    if scale_verdicts:
        n_ok = sum(scale_verdicts)
        rows.append(f"| G3 growth 1k→100k waiting, 1k→10k operators | ≤ 2× | {n_ok} of {len(scale_verdicts)} "
                    f"(step, strategy) rows within 2× | {verdict(all(scale_verdicts))} |")
    for key, goal, tgt in (("1000ops_1000waiting", "G4 sustained, 1k operators", G4_PER_S),
                           ("10000ops_100000waiting", "G5 sustained, 10k × 100k", G5_PER_S)):
        t = tp.get(key)
        if t:
            rows.append(f"| {goal} | ≥ {tgt:,} decisions/s | {t['decisions_per_s']:,} decisions/s "
                        f"({t['business_events_per_s']:,} business events/s) | {verdict(t['decisions_per_s'] >= tgt)} |")
    m = mem.get("engine")
    if m:
        rows.append(f"| G15 memory per waiting conversation | ≤ {G15_BYTES} B | "
                    f"{m['bytes_per_waiting_conversation']:.0f} B | {verdict(m['bytes_per_waiting_conversation'] <= G15_BYTES)} |")
        rows.append(f"| G16 memory per operator (5 skills) | ≤ {G16_BYTES} B | "
                    f"{m['bytes_per_available_operator']:.0f} B | {verdict(m['bytes_per_available_operator'] <= G16_BYTES)} |")
    rows.extend(other_targets(target))
    return "\n".join(rows)


# ---------------------------------------------------------------- SVG chart

def svg(data, fl):
    W, H = 980, 430
    pw, ph = 380, 300
    panels = [(70, 50), (560, 50)]
    ymin, ymax = 100.0, 1e8  # ns, log scale
    colors = {"arrival": "#1f77b4", "freed": "#d62728"}
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" '
           f'font-family="sans-serif" font-size="11">',
           f'<rect width="{W}" height="{H}" fill="white"/>',
           f'<text x="{W / 2}" y="20" text-anchor="middle" font-size="14">'
           f'switchboard: one routing decision, p50 (least_loaded), indexed (solid) vs reference scan (dashed)</text>']

    def ymap(v):
        v = min(max(v, ymin), ymax)
        return ph * (1 - (math.log10(v) - math.log10(ymin)) / (math.log10(ymax) - math.log10(ymin)))

    def axes(x0, y0, xs, xlabel, title):
        out.append(f'<g transform="translate({x0},{y0})">')
        out.append(f'<text x="{pw / 2}" y="-12" text-anchor="middle" font-size="12">{title}</text>')
        out.append(f'<rect width="{pw}" height="{ph}" fill="none" stroke="#333"/>')
        for e in range(2, 9):
            y = ymap(10 ** e)
            out.append(f'<line x1="0" x2="{pw}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>')
            label = {2: "100 ns", 3: "1 µs", 4: "10 µs", 5: "100 µs", 6: "1 ms", 7: "10 ms", 8: "100 ms"}[e]
            out.append(f'<text x="-6" y="{y + 4:.1f}" text-anchor="end">{label}</text>')
        for i, (xv, xl) in enumerate(xs):
            x = pw * (i + 0.5) / len(xs)
            out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{ph}" y2="{ph + 5}" stroke="#333"/>')
            out.append(f'<text x="{x:.1f}" y="{ph + 18}" text-anchor="middle">{xl}</text>')
        out.append(f'<text x="{pw / 2}" y="{ph + 34}" text-anchor="middle">{xlabel}</text>')
        # Reference lines.
        y = ymap(G1_P50_NS)
        out.append(f'<line x1="0" x2="{pw}" y1="{y:.1f}" y2="{y:.1f}" stroke="#2ca02c" stroke-width="1.5"/>')
        out.append(f'<text x="{pw - 4}" y="{y - 4:.1f}" text-anchor="end" fill="#2ca02c">G1 target 2 µs</text>')
        if fl.get("heap"):
            y = ymap(fl["heap"]["mean"])
            out.append(f'<line x1="0" x2="{pw}" y1="{y:.1f}" y2="{y:.1f}" stroke="#888" stroke-dasharray="2,3"/>')
            out.append(f'<text x="{pw - 4}" y="{y - 4:.1f}" text-anchor="end" fill="#666">heap push+pop @100k (same run)</text>')

    def series(xs, pts, color, dashed, label, ly):
        coords = []
        for i, v in enumerate(pts):
            if v is None:
                continue
            coords.append((pw * (i + 0.5) / len(xs), ymap(v)))
        if not coords:
            return
        dash = ' stroke-dasharray="6,4"' if dashed else ""
        out.append(f'<polyline fill="none" stroke="{color}" stroke-width="2"{dash} points="'
                   + " ".join(f"{x:.1f},{y:.1f}" for x, y in coords) + '"/>')
        for x, y in coords:
            out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{color}"/>')
        out.append(f'<line x1="8" x2="30" y1="{ly}" y2="{ly}" stroke="{color}" stroke-width="2"{dash}/>')
        out.append(f'<text x="34" y="{ly + 4}">{label}</text>')

    def p(step, n, w, scan):
        d = data.get((step, "least_loaded", n, w))
        if not d:
            return None
        return d["scan_p50"] if scan else d["p50"]

    # Panel 1: vs operators.
    xs = [(n, f"{n:,}") for n in OPS]
    axes(*panels[0], xs, "operators", "p50 vs operators")
    ly = 14
    for step in STEPS:
        for w, op in ((1000, 1.0), (100000, 0.55)):
            for scan in (False, True):
                pts = [p(step, n, w, scan) for n in OPS]
                color = colors[step]
                series(xs, pts, color if op == 1.0 else lighten(color), scan,
                       f"{step}, {w:,} waiting{' (scan)' if scan else ''}", ly)
                ly += 14
    out.append("</g>")
    # Panel 2: vs waiting.
    xs = [(w, f"{w:,}") for w in WAITING]
    axes(*panels[1], xs, "waiting conversations", "p50 vs waiting conversations")
    ly = 14
    for step in STEPS:
        for n, shade in ((1000, False), (10000, True)):
            for scan in (False, True):
                pts = [p(step, n, w, scan) for w in WAITING]
                color = lighten(colors[step]) if shade else colors[step]
                series(xs, pts, color, scan, f"{step}, {n:,} ops{' (scan)' if scan else ''}", ly)
                ly += 14
    out.append("</g>")
    out.append(f'<text x="{W / 2}" y="{H - 8}" text-anchor="middle" fill="#555">'
               f'Generated by scripts/bench_report.py from cargo bench -p switchboard-bench (per-decision Instant timer); log scale.</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def lighten(hexcolor):
    r, g, b = (int(hexcolor[i:i + 2], 16) for i in (1, 3, 5))
    return "#%02x%02x%02x" % tuple(int(c + (255 - c) * 0.5) for c in (r, g, b))


# ---------------------------------------------------------------- main

def replace_block(text, name, body):
    pat = re.compile(r"(<!-- BEGIN GENERATED: %s -->\n).*?(<!-- END GENERATED: %s -->)" % (name, name), re.S)
    if not pat.search(text):
        print(f"warning: no generated block '{name}' in BENCHMARKS.md", file=sys.stderr)
        return text
    return pat.sub(lambda m: m.group(1) + body.rstrip("\n") + "\n" + m.group(2), text)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--target", default=os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")))
    ap.add_argument("--no-machine", action="store_true")
    args = ap.parse_args()
    target = args.target

    lat = side(target, "latency")
    mem = side(target, "memory")
    tp = side(target, "throughput")
    fl, floor_table = floors(target)
    data, decision_table = decisions(target, lat, fl)
    scale_verdicts, scaling_table = scaling(data)

    path = os.path.join(ROOT, "BENCHMARKS.md")
    with open(path) as f:
        text = f.read()
    if not args.no_machine:
        text = replace_block(text, "machine", machine_block())
    text = replace_block(text, "targets", targets_block(data, fl, scale_verdicts, tp, mem, target))
    text = replace_block(text, "floors", floor_table)
    text = replace_block(text, "decisions", decision_table)
    text = replace_block(text, "scaling", scaling_table)
    text = replace_block(text, "throughput", throughput_block(tp))
    text = replace_block(text, "memory", memory_block(mem))
    with open(path, "w") as f:
        f.write(text)
    os.makedirs(os.path.join(ROOT, "docs"), exist_ok=True)
    with open(os.path.join(ROOT, "docs", "bench-scaling.svg"), "w") as f:
        f.write(svg(data, fl))
    print(f"wrote {path} and docs/bench-scaling.svg from {target}")


if __name__ == "__main__":
    main()
