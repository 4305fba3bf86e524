"""Manual picking against auto-assignment on switchboard's default scenario
(a virtual CX team of 16, four customer tiers, an 8-hour day), with the
same routing engine a host embeds deciding every assignment.

    pip install "./python[examples]"
    python python/examples/compare.py            # writes compare.png
    python python/examples/compare.py --replications 10 --out frt.png

Prints mean first response time per tier and policy with its 95 % interval,
abandonment and service level, and draws first response time per tier (bars
with interval whiskers) and the handled counts per operator (spread, the
"cherry-picking" effect) with matplotlib.
"""

from __future__ import annotations

import argparse
import sys
import time

import matplotlib

matplotlib.use("Agg")  # no display needed
import matplotlib.pyplot as plt

from switchboard import sim


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--replications", type=int, default=5)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--out", default="compare.png")
    a = ap.parse_args()

    scenario = sim.Scenario.builtin("cx-team")
    tiers = {t["id"]: t["name"] for t in scenario.to_dict()["policy"]["tiers"]}
    started = time.perf_counter()
    report = sim.simulate(
        scenario,
        replications=a.replications,
        seed=a.seed,
        progress=lambda done, total: print(f"\r{done}/{total} runs", end="", file=sys.stderr),
    )
    print(f"\r{len(report.runs())} runs in {time.perf_counter() - started:.1f} s", file=sys.stderr)

    policies = report.policies
    names = [p["name"] for p in policies]
    print(f"{scenario.name}: {report.replications} replications, seed {report.seed}\n")
    header = f"{'policy':<26}" + "".join(f"{tiers[t['tier']]:>18}" for t in policies[0]["by_tier"])
    print("Mean first response time, s (95 % interval)")
    print(header)
    for p in policies:
        cells = "".join(
            f"{t['first_response_mean_s']['mean']:>11.1f} ± {t['first_response_mean_s']['half_width']:<4.1f}"
            for t in p["by_tier"]
        )
        print(f"{p['name']:<26}{cells}")
    print()
    print(f"{'policy':<26}{'abandoned %':>12}{'SL 20 s %':>12}{'handled max/min':>18}")
    for p in policies:
        o = p["overall"]
        handled = [op["handled"]["mean"] for op in p["operators"]]
        spread = f"{max(handled):.0f}/{min(handled):.0f}" if handled else "-"
        print(
            f"{p['name']:<26}{o['abandonment_pct']['mean']:>12.1f}"
            f"{o['service_level_20s_pct']['mean']:>12.1f}{spread:>18}"
        )

    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    width = 0.8 / len(policies)
    tier_ids = [t["tier"] for t in policies[0]["by_tier"]]
    for k, p in enumerate(policies):
        xs = [i + (k - (len(policies) - 1) / 2) * width for i in range(len(tier_ids))]
        means = [t["first_response_mean_s"]["mean"] for t in p["by_tier"]]
        errs = [t["first_response_mean_s"]["half_width"] for t in p["by_tier"]]
        left.bar(xs, means, width, yerr=errs, capsize=3, label=p["name"])
    left.set_xticks(range(len(tier_ids)), [tiers[t] for t in tier_ids])
    left.set_ylabel("mean first response time, s")
    left.set_title("First response by tier (95 % interval)")
    top = max(t["first_response_mean_s"]["mean"] + t["first_response_mean_s"]["half_width"]
              for p in policies for t in p["by_tier"])
    left.set_ylim(0, top * 1.45)  # room for the legend above the bars
    left.legend(fontsize=8, ncol=2, loc="upper center")
    right.boxplot([[op["handled"]["mean"] for op in p["operators"]] for p in policies])
    right.set_xticks(range(1, len(names) + 1), [n.replace(", ", "\n") for n in names])
    right.set_ylabel("conversations handled per operator")
    right.set_title("Who does the work")
    fig.suptitle(f"{scenario.name} — {report.replications} replications")
    fig.tight_layout()
    fig.savefig(a.out, dpi=110)
    print(f"\nchart: {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
