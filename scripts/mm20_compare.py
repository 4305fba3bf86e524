#!/usr/bin/env python3
"""Side-by-side speed of the same M/M/20 model (load 0.9, mean handle 1, FIFO):
ciw, SimPy, a hand-written heapq loop, and switchboard's simulator with the
real engine in the loop, run from Rust (the `simulate` example's own timing)
and from Python (`switchboard.sim.simulate`, timed around the call: scenario
conversion, the run with the GIL released, the report's Python objects).
Prints simulated customers per wall second and the ratios. Needs
`pip install ciw==3.2.7 simpy==4.1.2` for the first two and the switchboard
wheel (`pip install ./python`) for the Python row (each skipped with a note
if missing).

Usage: python3 scripts/mm20_compare.py [--customers 200000] [--seeds 3]
"""
import argparse
import heapq
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import deque

C, LAM, MU = 20, 18.0, 1.0


def heapq_run(n, seed):
    rng = random.Random(seed)
    t, busy, queue, events, served, wq = 0.0, 0, deque(), [], 0, 0.0
    heapq.heappush(events, (rng.expovariate(LAM), 0))
    arrivals = 0
    while served < n:
        t, kind = heapq.heappop(events)
        if kind == 0:
            arrivals += 1
            if arrivals < n:
                heapq.heappush(events, (t + rng.expovariate(LAM), 0))
            if busy < C:
                busy += 1
                heapq.heappush(events, (t + rng.expovariate(MU), 1))
            else:
                queue.append(t)
        else:
            served += 1
            if queue:
                wq += t - queue.popleft()
                heapq.heappush(events, (t + rng.expovariate(MU), 1))
            else:
                busy -= 1
    return wq / n


def simpy_run(n, seed):
    import simpy

    rng = random.Random(seed)
    env = simpy.Environment()
    res = simpy.Resource(env, capacity=C)
    waits = []

    def customer(env):
        arrive = env.now
        with res.request() as req:
            yield req
            waits.append(env.now - arrive)
            yield env.timeout(rng.expovariate(MU))

    def source(env):
        for _ in range(n):
            yield env.timeout(rng.expovariate(LAM))
            env.process(customer(env))

    env.process(source(env))
    env.run()
    return sum(waits) / len(waits)


def ciw_run(n, seed):
    import ciw

    ciw.seed(seed)
    net = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(rate=LAM)],
        service_distributions=[ciw.dists.Exponential(rate=MU)],
        number_of_servers=[C],
    )
    sim = ciw.Simulation(net)
    sim.simulate_until_max_customers(n, method="Finish")
    recs = sim.get_all_records()
    return sum(r.waiting_time for r in recs) / len(recs)


def rust_run(n, seed):
    scenario = scenario_for(n, seed)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(scenario, f)
        path = f.name
    exe = os.path.join(os.path.dirname(__file__), "..", "target", "release", "examples", "simulate")
    out = subprocess.run([exe, path, "-r", "1", "--json"], capture_output=True, text=True, check=True)
    os.unlink(path)
    m = re.search(r"(\d+) simulated customers in ([0-9.]+) s", out.stderr)
    customers, secs = int(m.group(1)), float(m.group(2))
    wq = json.loads(out.stdout)[0]["overall"]["wait_mean_s"]["mean"] / 60.0
    return customers / secs, wq


def scenario_for(n, seed):
    # Hours so that about n customers arrive (18 per minute × 60 = 1080 per hour).
    scenario = json.load(open(os.path.join(os.path.dirname(__file__), "..", "examples", "scenarios", "mm20.json")))
    scenario["hours"] = n / 1080.0
    scenario["warmup_minutes"] = 0
    scenario["seed"] = seed
    return scenario


def python_run(n, seed):
    from switchboard import sim

    t0 = time.perf_counter()
    report = sim.simulate(scenario_for(n, seed), replications=1)
    secs = time.perf_counter() - t0
    customers = report.runs()[0]["customers"]
    wq = report.policies[0]["overall"]["wait_mean_s"]["mean"] / 60.0
    return customers / secs, wq


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=200_000)
    ap.add_argument("--seeds", type=int, default=3)
    a = ap.parse_args()
    subprocess.run(["cargo", "build", "--release", "--quiet", "--example", "simulate"], check=True)
    rates = {}
    for name, fn in [("heapq", heapq_run), ("simpy", simpy_run), ("ciw", ciw_run)]:
        per = []
        try:
            for s in range(1, a.seeds + 1):
                t0 = time.perf_counter()
                wq = fn(a.customers, s)
                per.append(a.customers / (time.perf_counter() - t0))
            rates[name] = statistics.median(per)
            print(f"{name:>12}: {rates[name]:>12,.0f} customers/s (median of {a.seeds}; last mean wait {wq:.4f})")
        except ImportError as e:
            print(f"{name:>12}: skipped ({e}); pip install ciw==3.2.7 simpy==4.1.2")
    per = []
    for s in range(1, a.seeds + 1):
        r, wq = rust_run(a.customers, s)
        per.append(r)
    rust = statistics.median(per)
    print(f"{'switchboard':>12}: {rust:>12,.0f} customers/s (median of {a.seeds}; engine in the loop; last mean wait {wq:.4f})")
    try:
        per = []
        for s in range(1, a.seeds + 1):
            r, wq = python_run(a.customers, s)
            per.append(r)
        py = statistics.median(per)
        rates_py = py
        print(f"{'from Python':>12}: {py:>12,.0f} customers/s (median of {a.seeds}; last mean wait {wq:.4f}); "
              f"the Python layer costs {100 * (rust / py - 1):.1f} % over the Rust run")
    except ImportError as e:
        rates_py = None
        print(f"{'from Python':>12}: skipped ({e}); pip install ./python")
    print("Erlang C mean wait: 0.2754")
    for name, r in rates.items():
        line = f"switchboard / {name}: {rust / r:.1f}x"
        if rates_py:
            line += f"; from Python: {rates_py / r:.1f}x"
        print(line)


if __name__ == "__main__":
    sys.exit(main())
