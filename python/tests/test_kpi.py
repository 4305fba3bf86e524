"""KPIs from Python: the Rust calculators over tables (pyarrow, pandas,
polars), dicts of numpy columns and CSV files, all giving the same report and
the same accumulator bytes; merging, encoding, configs and bad input."""

import csv
import os
import pickle
import random
from pathlib import Path

import numpy as np
import pytest

from switchboard import BadEncoding, InvalidInput, kpi, records

INTERCHANGE = [
    "conversation_id",
    "channel",
    "tier",
    "team",
    "operator",
    "asked_at",
    "assigned_at",
    "first_response_at",
    "resolved_at",
    "abandoned_at",
    "message_left",
    "transfers",
    "tags",
    "satisfaction",
    "missed_offers",
    "offered_at",
    "queue",
]


def generated_rows(n=400, seed=7):
    """A dict of columns (lists, None for absent) of ``n`` valid records:
    answered (with and without a response), abandoned, messages left (some
    answered later), closed unassigned and pending; tiers, channels, teams,
    queues, tags and ratings."""
    rng = random.Random(seed)
    cols = {c: [] for c in INTERCHANGE}
    t = 1_714_000_000_000
    for i in range(n):
        t += rng.randint(0, 90_000)
        ask = t
        offered = assigned = first = resolved = abandoned = None
        message_left = False
        kind = rng.random()
        if kind < 0.6:
            offered = ask + rng.randint(0, 5_000) if rng.random() < 0.5 else None
            assigned = (offered or ask) + rng.randint(0, 90_000)
            first = assigned + rng.randint(0, 40_000) if rng.random() < 0.85 else None
            resolved = assigned + rng.randint(60_000, 900_000) if rng.random() < 0.9 else None
            if first is None and rng.random() < 0.3:
                abandoned = assigned + rng.randint(1_000, 20_000)
        elif kind < 0.8:
            abandoned = ask + rng.randint(0, 180_000)
        elif kind < 0.9:
            message_left = True
            abandoned = ask + rng.randint(0, 40_000)
            if rng.random() < 0.5:
                assigned = abandoned + rng.randint(60_000, 3_600_000)
                first = assigned + rng.randint(0, 60_000)
                resolved = first + rng.randint(0, 300_000)
        elif kind < 0.95:
            resolved = ask + rng.randint(0, 600_000)
        answered = assigned is not None
        cols["conversation_id"].append(10_000 + i)
        cols["channel"].append(rng.choice([0, 1, 3]))
        cols["tier"].append(rng.choice([1, 2, 3]))
        cols["team"].append(rng.choice([10, 20, None]))
        cols["operator"].append(rng.choice([101, 102, 103, 104]) if answered else None)
        cols["asked_at"].append(ask)
        cols["assigned_at"].append(assigned)
        cols["first_response_at"].append(first)
        cols["resolved_at"].append(resolved)
        cols["abandoned_at"].append(abandoned)
        cols["message_left"].append(message_left)
        cols["transfers"].append(rng.choice([0, 0, 0, 1, 2]) if answered else 0)
        cols["tags"].append(rng.sample(["billing", "bug", "vip", "refund"], rng.randint(0, 2)))
        cols["satisfaction"].append(rng.randint(1, 5) if answered and rng.random() < 0.4 else None)
        cols["missed_offers"].append(rng.choice([0, 0, 1]) if answered else 0)
        cols["offered_at"].append(offered)
        cols["queue"].append(rng.choice([None, 1, 2]))
    return cols


def write_csv(path, cols):
    """The rows of ``cols`` in the interchange CSV format."""
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(list(cols))
        n = len(next(iter(cols.values())))
        for i in range(n):
            row = []
            for c, values in cols.items():
                v = values[i]
                if v is None:
                    row.append("")
                elif c == "tags":
                    row.append(";".join(v))
                elif isinstance(v, bool):
                    row.append("true" if v else "false")
                else:
                    row.append(str(v))
            w.writerow(row)
    return path


@pytest.fixture(scope="session")
def rows():
    return generated_rows()


@pytest.fixture(scope="session")
def rows_csv(tmp_path_factory, rows):
    return write_csv(tmp_path_factory.mktemp("records") / "rows.csv", rows)


@pytest.fixture(scope="session")
def sample_csv():
    """The repository's example records (examples/data/sample.csv)."""
    repo = os.environ.get("SWITCHBOARD_REPO")
    if repo is None:
        repo = Path(__file__).resolve().parents[2]
    path = Path(repo) / "examples" / "data" / "sample.csv"
    if not path.exists():
        pytest.skip(f"{path} not found")
    return path


def as_numpy(cols):
    """The columns as numpy arrays, as a numpy user holds them: absent values
    NaN in float columns, tags a list."""
    out = {}
    for name, values in cols.items():
        if name == "tags":
            out[name] = values
        elif any(v is None for v in values):
            out[name] = np.array([np.nan if v is None else v for v in values], dtype=np.float64)
        elif name == "message_left":
            out[name] = np.array(values, dtype=bool)
        else:
            out[name] = np.array(values, dtype=np.uint64)
    return out


def acc_of(source, config=None, **options):
    a = kpi.Accumulator(config)
    a.add(source, **options)
    return a


# ---- the same numbers from every input ------------------------------------


def test_worked_example_of_the_rust_docs():
    rows = {
        "conversation_id": [1, 2],
        "channel": [0, 0],
        "tier": [1, 1],
        "operator": [7, None],
        "asked_at": [0, 1_000],
        "assigned_at": [15_000, None],
        "first_response_at": [45_000, None],
        "resolved_at": [300_000, None],
        "abandoned_at": [None, 31_000],
    }
    r = kpi.report(rows)
    assert r["records"] == 2
    assert r["overall"]["offered"] == 2
    assert r["overall"]["first_response"]["p50"] == 45_000
    assert r["overall"]["abandonment"]["per_offered"]["ratio"] == 0.5
    assert r["overall"]["service_levels"][0]["default"]["ratio"] == 0.5
    assert [row["operator"] for row in r["operators"]] == [7]
    assert r["operators"][0]["handled"] == 1


def test_every_input_gives_the_same_report_and_bytes(rows, rows_csv):
    pa = pytest.importorskip("pyarrow")
    pd = pytest.importorskip("pandas")
    pl = pytest.importorskip("polars")
    sources = {
        "csv path": rows_csv,
        "csv str": str(rows_csv),
        "dict of lists": rows,
        "dict of numpy": as_numpy(rows),
        "pyarrow": pa.table(rows),
        "pandas": pd.DataFrame(rows),
        "polars": pl.DataFrame(rows),
        "record table": records.table(rows),
    }
    import pyarrow.csv as pacsv

    sources["pyarrow from csv"] = pacsv.read_csv(rows_csv)
    sources["pandas from csv"] = pd.read_csv(rows_csv)
    sources["polars from csv"] = pl.read_csv(rows_csv)
    expected = acc_of(rows_csv)  # the Rust CSV reader
    assert expected.records == len(rows["asked_at"])
    want = expected.report()
    assert want["overall"]["answered"] > 0 and want["overall"]["abandoned"] > 0
    assert want["overall"]["messages_left"] > 0 and want["by_team"]
    for name, src in sources.items():
        a = acc_of(src)
        assert a.to_bytes() == expected.to_bytes(), name
        assert a.report() == want, name


def test_repository_sample_from_csv_pyarrow_pandas_polars(sample_csv):
    pd = pytest.importorskip("pandas")
    pl = pytest.importorskip("polars")
    import pyarrow.csv as pacsv

    want = kpi.report(sample_csv)
    assert want["records"] == 52
    assert kpi.report(pacsv.read_csv(sample_csv)) == want
    assert kpi.report(pd.read_csv(sample_csv)) == want
    assert kpi.report(pl.read_csv(sample_csv)) == want


def test_config_thresholds_and_breakdowns(rows, rows_csv):
    cfg = {"service_level_thresholds": [10_000, 30_000, 60_000], "short_abandon": 5_000}
    r = kpi.report(rows, cfg)
    assert r == kpi.report(rows_csv, cfg)
    sl = [s["threshold"] for s in r["overall"]["service_levels"]]
    assert sl == [10_000, 30_000, 60_000]
    within = [s["answered_within"] for s in r["overall"]["service_levels"]]
    assert within == sorted(within) and within[0] < within[-1]
    assert set(r["by_tier"]) == {1, 2, 3}
    assert set(r["by_channel"]) == {0, 1, 3}
    assert set(r["by_team"]) == {10, 20}
    assert set(r["by_operator"]) == {101, 102, 103, 104}
    queues = [q for q, _ in r["by_queue"]]
    assert queues[0] is None and sorted(queues[1:]) == [1, 2]
    assert sum(s["offered"] for _, s in r["by_queue"]) == r["overall"]["offered"]
    assert sum(s["offered"] for s in r["by_tier"].values()) == r["overall"]["offered"]
    tags = {t["tag"]: t["count"] for t in r["overall"]["tags"]}
    assert tags["billing"] == sum("billing" in t for t in rows["tags"])


def test_period_counts_records_out_of_it(rows):
    asks = rows["asked_at"]
    mid = asks[len(asks) // 2]
    a = acc_of(rows, {"period": {"start": asks[0], "end": mid}})
    inside = sum(asks[0] <= t < mid for t in asks)
    assert a.report()["overall"]["offered"] == inside
    assert a.out_of_period == len(asks) - inside
    assert a.records == len(asks)


def test_config_is_normalised():
    c = kpi.config({"short_abandon": 5000})
    assert c["service_level_thresholds"] == [20_000]
    assert c["short_abandon"] == 5000
    assert kpi.Accumulator('{"service_level_thresholds": [1000]}').config[
        "service_level_thresholds"
    ] == [1000]


# ---- merging and bytes ----------------------------------------------------


def test_merged_halves_equal_one_over_all_rows_byte_for_byte(rows):
    pa = pytest.importorskip("pyarrow")
    t = pa.table(rows)
    n = len(t)
    whole = acc_of(t)
    first, second = acc_of(t.slice(0, n // 3)), acc_of(t.slice(n // 3))
    first.merge(second)
    assert first.to_bytes() == whole.to_bytes()
    assert first == whole and first.report() == whole.report()
    # Either order, and through the bytes.
    a, b = acc_of(t.slice(n // 3)), acc_of(t.slice(0, n // 3))
    a.merge(kpi.Accumulator.from_bytes(b.to_bytes()))
    assert a.to_bytes() == whole.to_bytes()
    # Adding in parts is merging.
    c = kpi.Accumulator()
    c.add(t.slice(0, 100))
    c.add(t.slice(100))
    assert c.to_bytes() == whole.to_bytes()


def test_bytes_round_trip_and_pickle(rows):
    a = acc_of(rows, {"service_level_thresholds": [15_000, 45_000]})
    b = kpi.Accumulator.from_bytes(a.to_bytes())
    assert b == a and b.report() == a.report()
    assert b.config["service_level_thresholds"] == [15_000, 45_000]
    assert kpi.Accumulator.from_bytes(bytearray(a.to_bytes())) == a
    c = pickle.loads(pickle.dumps(a))
    assert c == a and c.records == a.records
    assert a != kpi.Accumulator()


def test_empty_accumulator_report():
    r = kpi.Accumulator().report()
    assert r["records"] == 0 and r["overall"]["offered"] == 0
    assert r["overall"]["response_rate"]["ratio"] is None


# ---- options: order, duplicates, skipping ---------------------------------


def bad_rows():
    return {
        "conversation_id": [1, 2, 2, 4, 5],
        "channel": [0, 0, 0, 0, 0],
        "tier": [1, 1, 1, 1, 1],
        "asked_at": [1_000, 3_000, 4_000, 2_000, 5_000],
        "assigned_at": [1_500, None, None, None, 4_000],
        "satisfaction": [None, None, None, None, None],
    }


def test_refused_row_names_field_and_row_and_changes_nothing():
    a = acc_of({"conversation_id": [9], "channel": [0], "tier": [0], "asked_at": [0]})
    before = a.to_bytes()
    with pytest.raises(InvalidInput) as e:
        a.add(bad_rows())
    assert e.value.field == "assigned_at"
    assert e.value.row == 4
    assert "row 4" in str(e.value)
    assert a.to_bytes() == before and a.records == 1


def test_skip_bad_rows_counts_by_reason():
    a = acc_of(bad_rows(), skip_bad_rows=True, strict_order=True, detect_duplicates=True)
    assert a.records == 2
    assert a.skipped["before_ask"] == 1
    assert a.skipped["duplicate_id"] == 1
    assert a.skipped["out_of_order"] == 1
    assert a.skipped_total == 3
    assert set(a.skipped) == set(kpi.SKIP_REASONS)
    reasons = {s["reason"]: s["count"] for s in a.report()["skipped_by_reason"]}
    assert reasons == {"before_ask": 1, "duplicate_id": 1, "out_of_order": 1}


def test_duplicates_and_order_are_errors_when_asked():
    rows = bad_rows()
    rows["assigned_at"][4] = None
    kpi.report(rows)  # neither check by default
    with pytest.raises(InvalidInput) as e:
        kpi.report(rows, detect_duplicates=True)
    assert (e.value.field, e.value.row) == ("conversation_id", 2)
    with pytest.raises(InvalidInput) as e:
        kpi.report(rows, strict_order=True)
    assert (e.value.field, e.value.row) == ("asked_at", 3)


def test_csv_rows_name_their_line(tmp_path):
    p = tmp_path / "bad.csv"
    p.write_text("conversation_id,channel,tier,asked_at,resolved_at\n1,0,0,10,20\n2,0,0,10,5\n")
    with pytest.raises(InvalidInput) as e:
        kpi.report(p)
    assert e.value.field == "resolved_at" and e.value.line == 3
    a = acc_of(p, skip_bad_rows=True)
    assert a.records == 1 and a.skipped["before_ask"] == 1


def test_csv_header_and_file_errors(tmp_path):
    p = tmp_path / "h.csv"
    p.write_text("conversation_id,channel,tier\n1,0,0\n")
    with pytest.raises(InvalidInput) as e:
        kpi.report(p)
    assert e.value.field == "asked_at"
    p.write_text("conversation_id,channel,tier,asked_at,colour\n1,0,0,5,red\n")
    with pytest.raises(InvalidInput) as e:
        kpi.report(p)
    assert e.value.field == "colour"
    p.write_text("conversation_id,channel,tier,asked_at\nx,0,0,5\n")
    with pytest.raises(InvalidInput) as e:
        kpi.report(p)
    assert e.value.field == "conversation_id" and e.value.line == 2
    with pytest.raises(FileNotFoundError):
        kpi.report(tmp_path / "missing.csv")


# ---- bad configs, bytes, merges -------------------------------------------


def test_bad_config_names_the_field_path():
    with pytest.raises(InvalidInput) as e:
        kpi.Accumulator({"service_level_thresholds": [20_000, 10_000]})
    assert e.value.field == "config.service_level_thresholds"
    with pytest.raises(InvalidInput) as e:
        kpi.Accumulator({"service_level_thresholds": ["soon"]})
    assert e.value.field.startswith("config.service_level_thresholds")
    with pytest.raises(InvalidInput) as e:
        kpi.Accumulator({"short_abandon": -5})
    assert e.value.field == "config.short_abandon"
    with pytest.raises(InvalidInput) as e:
        kpi.Accumulator({"period": {"start": 10, "end": 5}})
    assert e.value.field == "config.period"
    with pytest.raises(InvalidInput) as e:
        kpi.Accumulator({"anchor": "whenever"})
    assert e.value.field == "config.anchor"


def test_merge_of_different_configs_is_refused():
    a = kpi.Accumulator()
    b = kpi.Accumulator({"service_level_thresholds": [30_000]})
    b.add({"conversation_id": [1], "channel": [0], "tier": [0], "asked_at": [5]})
    with pytest.raises(InvalidInput) as e:
        a.merge(b)
    assert e.value.field == "config"
    assert a.records == 0
    with pytest.raises(InvalidInput) as e:
        a.merge(b.to_bytes())  # type: ignore[arg-type]
    assert e.value.field == "other"


def test_bad_bytes_are_bad_encoding():
    good = acc_of({"conversation_id": [1], "channel": [0], "tier": [0], "asked_at": [5]}).to_bytes()
    for bad in (b"", b"nope", good[:-3], good + b"\x00", b"XXXX" + good[4:]):
        with pytest.raises(BadEncoding) as e:
            kpi.Accumulator.from_bytes(bad)
        assert e.value.field == "data"
        assert isinstance(e.value, ValueError)
    newer = bytearray(good)
    newer[4] += 1  # the u16 version after the magic
    with pytest.raises(BadEncoding, match="version"):
        kpi.Accumulator.from_bytes(bytes(newer))
    with pytest.raises(InvalidInput) as e:
        kpi.Accumulator.from_bytes("text")  # type: ignore[arg-type]
    assert e.value.field == "data"


def test_records_of_a_wrong_kind():
    with pytest.raises(InvalidInput) as e:
        kpi.report(42)
    assert e.value.field == "records"
    with pytest.raises(InvalidInput) as e:
        kpi.report([1, 2, 3])
    assert e.value.field == "records"


def test_bad_values_in_a_pandas_frame():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(
        {"conversation_id": [1, 2, 3], "channel": [0, 0, 0], "tier": [1, 1, 1],
         "asked_at": [1_000.0, float("nan"), 3_000.0]}
    )
    with pytest.raises(InvalidInput) as e:
        kpi.report(df)
    assert (e.value.field, e.value.row) == ("asked_at", 1)
    df["asked_at"] = [1_000, 2_000, 3_000]
    df["transfers"] = [0, -1, 0]
    with pytest.raises(InvalidInput) as e:
        kpi.report(df)
    assert (e.value.field, e.value.row) == ("transfers", 1)
    # A filtered frame (its index is written as a column) still reads.
    df["transfers"] = [0, 1, 0]
    assert kpi.report(df[df["tier"] == 1].iloc[1:])["records"] == 2


def test_a_stream_of_many_batches_numbers_rows_across_them(rows):
    pa = pytest.importorskip("pyarrow")
    t = pa.table(rows)
    reader = pa.RecordBatchReader.from_batches(t.schema, t.to_batches(max_chunksize=50))
    assert kpi.report(reader) == kpi.report(rows)
    bad = dict(rows)
    bad["tier"] = list(rows["tier"])
    bad["tier"][123] = -1
    t = pa.table(bad)
    reader = pa.RecordBatchReader.from_batches(t.schema, t.to_batches(max_chunksize=50))
    with pytest.raises(InvalidInput) as e:
        kpi.report(reader)
    assert (e.value.field, e.value.row) == ("tier", 123)
    bad = dict(rows)
    bad["resolved_at"] = list(rows["resolved_at"])
    bad["resolved_at"][321] = rows["asked_at"][321] - 1
    with pytest.raises(InvalidInput) as e:
        kpi.report(pa.table(bad).to_batches(max_chunksize=50)[6:7][0])
    assert (e.value.field, e.value.row) == ("resolved_at", 21)


def test_datetime_columns_of_pandas_and_polars(rows):
    pd = pytest.importorskip("pandas")
    pl = pytest.importorskip("polars")
    want = kpi.report(rows)
    df = pd.DataFrame(rows)
    for c in ("asked_at", "assigned_at", "resolved_at", "abandoned_at"):
        df[c] = pd.to_datetime(df[c], unit="ms")  # NaN -> NaT: not happened
    assert df["assigned_at"].isna().any()
    assert kpi.report(df) == want
    p = pl.DataFrame(rows).with_columns(
        pl.from_epoch(pl.col("asked_at"), time_unit="ms"),
        pl.from_epoch(pl.col("resolved_at"), time_unit="ms"),
    )
    assert isinstance(p["asked_at"].dtype, pl.Datetime)  # microseconds in polars
    assert kpi.report(p) == want


def test_merging_an_accumulator_into_itself_doubles_it(rows):
    a = acc_of(rows)
    a.merge(a)
    b = acc_of(rows)
    b.add(rows)
    assert a == b and a.records == 2 * len(rows["asked_at"])
