"""Records as Arrow tables: the schema, round trips through pyarrow, pandas
and polars, numpy columns, and every bad input naming its column (and row)."""

import math

import numpy as np
import pytest

import switchboard
from switchboard import InvalidInput, RecordTable, records


def small():
    return {
        "conversation_id": [1, 2, 3, 2**60],
        "channel": [0, 1, 1, 3],
        "tier": [1, 2, 2, 1],
        "team": [10, None, 20, None],
        "operator": [101, None, 102, 2**62 + 1],
        "asked_at": [1_000, 2_000, 3_000, 1_714_000_000_123],
        "assigned_at": [1_500, None, 3_100, 1_714_000_000_200],
        "first_response_at": [1_700, None, None, None],
        "resolved_at": [9_000, None, 3_200, None],
        "abandoned_at": [None, 2_500, None, None],
        "message_left": [False, True, False, False],
        "transfers": [0, 0, 2, 0],
        "tags": [["billing", "vip"], [], ["bug"], ["a b"]],
        "satisfaction": [5, None, 3, None],
        "missed_offers": [0, 0, 1, 0],
        "offered_at": [1_200, None, None, None],
        "queue": [None, 4, None, 1],
        "started_at": [900, None, None, None],
    }


def test_schema_is_the_record_row():
    pa = pytest.importorskip("pyarrow")
    t = records.table(small())
    assert isinstance(t, RecordTable) and isinstance(t, switchboard.RecordTable)
    assert t.column_names == list(records.COLUMNS)
    s = pa.schema(t)  # __arrow_c_schema__
    assert s.field("conversation_id").type == pa.uint64()
    assert not s.field("conversation_id").nullable
    assert s.field("channel").type == pa.uint32()
    assert s.field("asked_at").type == pa.uint64()
    assert s.field("assigned_at").type == pa.uint64() and s.field("assigned_at").nullable
    assert s.field("message_left").type == pa.bool_()
    assert s.field("tags").type == pa.list_(pa.string())
    assert s.field("satisfaction").type == pa.uint8()
    assert len(t) == 4
    assert repr(t).startswith("RecordTable(rows=4, columns=[conversation_id, channel")


def test_values_round_trip_exactly_through_pyarrow():
    pa = pytest.importorskip("pyarrow")
    t = pa.table(records.table(small()))
    d = t.to_pydict()
    for name, values in small().items():
        assert d[name] == values, name
    again = pa.table(records.table(t))
    assert again.equals(t)


def test_round_trip_through_pandas():
    pytest.importorskip("pyarrow")
    pd = pytest.importorskip("pandas")
    t = records.table(small())
    df = t.to_pandas()
    assert isinstance(df, pd.DataFrame) and len(df) == 4
    # Nullable ints come as float NaN (pyarrow's default); ids stay exact where
    # they have no nulls.
    assert math.isnan(df["assigned_at"][1])
    assert df["conversation_id"].dtype == np.uint64
    assert int(df["conversation_id"][3]) == 2**60
    back = records.table(df)
    d = pytest.importorskip("pyarrow").table(back).to_pydict()
    for name, values in small().items():
        if name == "operator":  # 2**62 + 1 with a null: float64 in pandas, not exact
            assert d[name][:3] == values[:3]
            continue
        assert d[name] == values, name


def test_round_trip_through_polars():
    pa = pytest.importorskip("pyarrow")
    pl = pytest.importorskip("polars")
    t = records.table(small())
    df = t.to_polars()
    assert isinstance(df, pl.DataFrame) and df.shape == (4, 18)
    assert df["tags"].to_list() == small()["tags"]
    back = records.table(df)
    assert pa.table(back).equals(pa.table(t))
    # polars' own frame (string views, large lists, Int64 with nulls) reads too.
    native = pl.DataFrame({k: v for k, v in small().items()})
    assert pa.table(records.table(native)).equals(pa.table(t))


def test_to_numpy_nulls_as_nan_or_masked():
    t = records.table(small())
    cols = t.to_numpy()
    assert cols["conversation_id"].dtype == np.uint64
    assert cols["conversation_id"][3] == 2**60
    assert cols["channel"].dtype == np.uint32
    assert cols["message_left"].dtype == np.bool_ and cols["message_left"].tolist() == [
        False, True, False, False]
    assert cols["assigned_at"].dtype == np.float64
    assert np.isnan(cols["assigned_at"][1]) and cols["assigned_at"][0] == 1_500
    assert cols["tags"] == small()["tags"]
    masked = t.columns(nulls="mask")
    op = masked["operator"]
    assert isinstance(op, np.ma.MaskedArray) and op.dtype == np.uint64
    assert op.mask.tolist() == [False, True, False, False]
    assert int(op[3]) == 2**62 + 1  # exact, unlike float64
    # Masked columns read back exactly.
    pa = pytest.importorskip("pyarrow")
    assert pa.table(records.table(masked)).equals(pa.table(t))
    with pytest.raises(InvalidInput) as e:
        t.to_numpy(nulls="zero")
    assert e.value.field == "nulls"


def test_timestamps_and_other_widths_read_as_ms():
    pa = pytest.importorskip("pyarrow")
    base = {"conversation_id": [1, 2], "channel": [0, 0], "tier": [0, 0]}
    ms = [1_714_000_000_123, 1_714_000_001_000]
    for unit, scale in (("s", 1 / 1000), ("ms", 1), ("us", 1000), ("ns", 1_000_000)):
        asked = [int(v * scale) for v in ms] if unit != "s" else [v // 1000 for v in ms]
        t = pa.table({**{k: pa.array(v, pa.int8()) for k, v in base.items()},
                      "asked_at": pa.array(asked, pa.timestamp(unit, tz="UTC"))})
        got = records.table(t).to_numpy()["asked_at"].tolist()
        want = [v // 1000 * 1000 for v in ms] if unit == "s" else ms
        assert got == want, unit
    # numpy datetime64 in a dict, NaT as "not happened".
    d = {**base, "asked_at": np.array(ms, dtype="datetime64[ms]"),
         "resolved_at": np.array([ms[0] + 5, 0], dtype="datetime64[ms]")}
    d["resolved_at"][1] = np.datetime64("NaT")
    cols = records.table(d).to_numpy()
    assert cols["asked_at"].tolist() == ms
    assert cols["resolved_at"][0] == ms[0] + 5 and np.isnan(cols["resolved_at"][1])


def test_tags_as_a_string_column_split_on_semicolons():
    pa = pytest.importorskip("pyarrow")
    t = pa.table({"conversation_id": [1, 2, 3], "channel": [0, 0, 0], "tier": [0, 0, 0],
                  "asked_at": [1, 2, 3], "tags": ["a; b", None, ""]})
    assert records.table(t).to_numpy()["tags"] == [["a", "b"], [], []]


def test_extra_columns_of_a_simulator_table_are_left_out():
    pa = pytest.importorskip("pyarrow")
    t = pa.table(records.table(small()))
    with_policy = t.add_column(0, "policy", pa.array(["fifo"] * 4))
    with pytest.raises(InvalidInput) as e:
        records.table(with_policy)
    assert e.value.field == "policy"
    assert pa.table(records.table(with_policy, ignore_unknown=True)).equals(t)
    # Named in the schema metadata (as batch_of writes it): left out silently.
    tagged = with_policy.replace_schema_metadata({"switchboard.extra_columns": "policy"})
    assert pa.table(records.table(tagged)).equals(t)


# ---- bad input ------------------------------------------------------------


def test_missing_required_column():
    d = small()
    del d["asked_at"]
    with pytest.raises(InvalidInput) as e:
        records.table(d)
    assert e.value.field == "asked_at"
    assert isinstance(e.value, ValueError)


def test_wrong_type():
    pa = pytest.importorskip("pyarrow")
    d = small()
    d["channel"] = ["web", "chat", "web", "mail"]
    with pytest.raises(InvalidInput) as e:
        records.table(d)
    assert e.value.field == "channel"
    t = pa.table({"conversation_id": [1], "channel": ["web"], "tier": [0], "asked_at": [1]})
    with pytest.raises(InvalidInput) as e:
        records.table(t)
    assert e.value.field == "channel" and "utf8" in str(e.value).lower()
    with pytest.raises(InvalidInput) as e:
        records.table({**small(), "tags": [[1], [], [], []]})
    assert e.value.field == "tags"


@pytest.mark.parametrize(
    "column, row, value",
    [
        ("asked_at", 2, -5),
        ("transfers", 1, -1),
        ("resolved_at", 3, 1.5e12 + 0.5),
        ("channel", 0, 2**32),
        ("satisfaction", 2, 300),
    ],
)
def test_negative_fractional_or_too_large_values_name_column_and_row(column, row, value):
    d = small()
    d[column] = list(d[column])
    d[column][row] = value
    with pytest.raises(InvalidInput) as e:
        records.table(d)
    assert e.value.field == column
    assert e.value.row == row
    assert f"row {row}" in str(e.value)


def test_nan_in_required_column_is_an_error_in_optional_one_absent():
    d = small()
    d["asked_at"] = np.array([1_000, np.nan, 3_000, 4_000])
    with pytest.raises(InvalidInput) as e:
        records.table(d)
    assert (e.value.field, e.value.row) == ("asked_at", 1)
    d = small()
    d["assigned_at"] = np.array([1_500, np.nan, np.nan, 1_714_000_000_200])
    cols = records.table(d).to_numpy()
    assert np.isnan(cols["assigned_at"][2])
    d["conversation_id"] = [1, None, 3, 4]
    with pytest.raises(InvalidInput) as e:
        records.table(d)
    assert (e.value.field, e.value.row) == ("conversation_id", 1)


def test_columns_of_mismatched_length():
    d = small()
    d["tier"] = [1, 2, 3]
    with pytest.raises(InvalidInput) as e:
        records.table(d)
    assert e.value.field == "tier"
    d = small()
    d["tags"] = [[]]
    with pytest.raises(InvalidInput) as e:
        records.table(d)
    assert e.value.field == "tags"


def test_unknown_and_two_dimensional_columns():
    with pytest.raises(InvalidInput) as e:
        records.table({**small(), "colour": [1, 2, 3, 4]})
    assert e.value.field == "colour"
    with pytest.raises(InvalidInput) as e:
        records.table({**small(), "tier": np.zeros((4, 2))})
    assert e.value.field == "tier"


def test_empty_table_reads_as_no_records():
    pa = pytest.importorskip("pyarrow")
    t = records.table({"conversation_id": [], "channel": [], "tier": [], "asked_at": []})
    assert len(t) == 0
    assert pa.table(t).num_rows == 0
