# Type stubs of the native module `switchboard._switchboard`. The public API is
# the Python modules beside it (staffing, sim, kpi, engine), which re-export
# the classes declared here; each section below belongs to one of them.

import os
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np
import numpy.typing as npt

__version__: str

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

class Scenario:
    """A validated simulation scenario."""

    def __init__(self, spec: Union[Dict[str, Any], str, "os.PathLike[str]"]) -> None: ...
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



# ---- the engine (src/engine.rs) --------------------------------------------


