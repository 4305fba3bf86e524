# Type stubs of the native module `switchboard._switchboard`. The public API is
# the Python modules beside it (staffing, sim, kpi, engine), which re-export
# the classes declared here; each section below belongs to one of them.

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

from typing import final

@final
class RecordTable:
    """Conversation records as Arrow record batches (see switchboard.records)."""

    def __arrow_c_stream__(self, requested_schema: Optional[object] = None) -> object: ...
    def __arrow_c_schema__(self) -> object: ...
    def __len__(self) -> int: ...
    @property
    def column_names(self) -> List[str]: ...
    @property
    def num_batches(self) -> int: ...
    def to_numpy(self, nulls: str = "nan") -> Dict[str, Any]: ...
    def columns(self, nulls: str = "nan") -> Dict[str, Any]: ...
    def to_pyarrow(self) -> Any: ...
    def to_pandas(self) -> Any: ...
    def to_polars(self) -> Any: ...

def read_records(records: Any, ignore_unknown: bool = False) -> RecordTable: ...
def columns_table(
    columns: Dict[str, npt.NDArray[Any]],
    masks: Optional[Dict[str, npt.NDArray[np.bool_]]] = None,
    tags: Optional[List[List[str]]] = None,
) -> RecordTable: ...

@final
class KpiAccumulator:
    def __new__(cls, config: Optional[Any] = None) -> KpiAccumulator: ...
    def add_table(
        self,
        records: Any,
        strict_order: bool = False,
        detect_duplicates: bool = False,
        skip_bad_rows: bool = False,
        ignore_unknown: bool = False,
    ) -> int: ...
    def add_csv(
        self,
        path: str,
        strict_order: bool = False,
        detect_duplicates: bool = False,
        skip_bad_rows: bool = False,
    ) -> int: ...
    def merge(self, other: KpiAccumulator) -> None: ...
    def to_bytes(self) -> bytes: ...
    @staticmethod
    def from_bytes(data: bytes) -> KpiAccumulator: ...
    def report(self) -> Dict[str, Any]: ...
    def config(self) -> Dict[str, Any]: ...
    @property
    def records(self) -> int: ...
    @property
    def out_of_period(self) -> int: ...
    @property
    def skipped(self) -> Dict[str, int]: ...
    @property
    def skipped_total(self) -> int: ...
    def __eq__(self, value: object, /) -> bool: ...

def kpi_config(config: Optional[Any] = None) -> Dict[str, Any]: ...


# ---- simulation, fitting, forecasting (src/sim.rs) -------------------------



# ---- the engine (src/engine.rs) --------------------------------------------


