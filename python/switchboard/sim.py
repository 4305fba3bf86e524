"""Scenarios and the discrete-event simulator (the Rust engine itself decides
every assignment).

>>> from switchboard import sim
>>> report = sim.simulate(sim.Scenario.builtin("mm20"), replications=2, seed=7,
...                       stop={"customers": 2000})
>>> report.policy_names
['fifo']
>>> summary = report.summary()          # pandas.DataFrame(summary) for a table
>>> sorted(set(summary["metric"]))[:3]
['abandonment_pct', 'first_response_mean_s', 'first_response_p90_s']

A scenario is JSON (the format of the repository's ``examples/scenarios/``):
build one from a dict, JSON text or a file path, or start from a built-in one
and edit its ``to_dict()``.
"""

from ._switchboard import Fit, Report, Scenario, fit, forecast, simulate

__all__ = ["Scenario", "Report", "simulate", "forecast", "fit", "Fit"]
