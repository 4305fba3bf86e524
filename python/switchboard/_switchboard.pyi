# Type stubs of the native module `switchboard._switchboard`. The public API is
# the Python modules beside it (staffing, sim, kpi, engine), which re-export
# the classes declared here; each section below belongs to one of them.

import os
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple, Union, final

import numpy as np
import numpy.typing as npt

__version__: str
__all__ = [
    "__version__",
    "forecast",
    "Scenario",
    "Report",
    "simulate",
    "erlang_b_array",
    "erlang_c_array",
    "erlang_c_measures",
    "erlang_a_measures",
    "operators_needed_array",
]

# ---- staffing (src/staffing.rs) -------------------------------------------

def erlang_b_array(
    operators: npt.NDArray[np.float64], load: npt.NDArray[np.float64], indexed: bool
) -> npt.NDArray[np.float64]: ...
def erlang_c_array(
    operators: npt.NDArray[np.float64], load: npt.NDArray[np.float64], indexed: bool
) -> npt.NDArray[np.float64]: ...
def erlang_c_measures(
    operators: npt.NDArray[np.float64],
    arrival_rate: npt.NDArray[np.float64],
    mean_handle_time: npt.NDArray[np.float64],
    threshold: npt.NDArray[np.float64],
    indexed: bool,
) -> Dict[str, npt.NDArray[np.float64]]: ...
def erlang_a_measures(
    operators: npt.NDArray[np.float64],
    arrival_rate: npt.NDArray[np.float64],
    mean_handle_time: npt.NDArray[np.float64],
    mean_patience: npt.NDArray[np.float64],
    threshold: npt.NDArray[np.float64],
    indexed: bool,
) -> Dict[str, npt.NDArray[np.float64]]: ...
def operators_needed_array(
    arrival_rate: npt.NDArray[np.float64],
    mean_handle_time: npt.NDArray[np.float64],
    threshold: npt.NDArray[np.float64],
    service_level: npt.NDArray[np.float64],
    max_occupancy: npt.NDArray[np.float64],
    mean_patience: npt.NDArray[np.float64],
    max_abandonment: npt.NDArray[np.float64],
    indexed: bool,
) -> npt.NDArray[np.int64]: ...

# ---- records and KPIs (src/records.rs, src/kpi.rs) ------------------------



# ---- simulation, fitting, forecasting (src/sim.rs) -------------------------

@final
class Scenario:
    """A validated simulation scenario."""

    def __new__(cls, spec: Union[Dict[str, Any], str, "os.PathLike[str]"]) -> "Scenario": ...
    @staticmethod
    def builtin(name: str = "cx-team") -> "Scenario": ...
    @staticmethod
    def builtin_names() -> List[str]: ...
    def to_dict(self) -> Dict[str, Any]: ...
    def to_json(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def seed(self) -> int: ...
    @property
    def policies(self) -> List[str]: ...

@final
class Report:
    """What a simulation produced."""

    @property
    def scenario(self) -> str: ...
    @property
    def seed(self) -> int: ...
    @property
    def replications(self) -> int: ...
    @property
    def policy_names(self) -> List[str]: ...
    @property
    def policies(self) -> List[Dict[str, Any]]: ...
    @property
    def stop(self) -> Dict[str, Any]: ...
    def runs(self) -> List[Dict[str, Any]]: ...
    def summary(self) -> Dict[str, List[Any]]: ...
    def to_dict(self) -> Dict[str, Any]: ...
    def to_json(self) -> str: ...

def simulate(
    scenario: Union[Scenario, Dict[str, Any], str, "os.PathLike[str]"],
    replications: int = 5,
    seed: Optional[int] = None,
    keep_records: bool = False,
    stop: Optional[Union[Dict[str, Any], str]] = None,
    progress: Optional[Callable[[int, int], Any]] = None,
) -> Report: ...
def forecast(
    engine: Any,
    scenario: Union[Scenario, Dict[str, Any], str, "os.PathLike[str]"],
    horizon_minutes: float = 60.0,
    replications: int = 20,
    rates: Optional[Sequence[float]] = None,
    rate_interval_minutes: float = 15.0,
    policy: Optional[str] = None,
    clock_hour: Optional[float] = None,
    seed: Optional[int] = None,
) -> Dict[str, Any]: ...



# ---- the engine (src/engine.rs) --------------------------------------------


