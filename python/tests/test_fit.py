"""Fitting from records in Python: simulated records of a known model come back
with its parameters, the bank's call-log format reads as records, and a fit
becomes a scenario that simulates."""

import pytest

import switchboard
from switchboard import kpi, records, sim


@pytest.fixture(scope="module")
def mm20_records():
    report = sim.simulate(sim.Scenario.builtin("mm20"), replications=1, seed=5,
                          keep_records=True, stop={"customers": 20000})
    return report.records()


def test_simulated_records_are_a_table_with_run_columns(mm20_records):
    t = mm20_records
    assert t.column_names[:3] == ["policy", "replication", "conversation_id"]
    assert len(t) >= 20000
    cols = t.to_numpy()
    assert set(cols["policy"]) == {"fifo"}
    assert cols["asked_at"].min() >= 0
    # The KPIs of the kept records are the run's own.
    assert kpi.report(t)["overall"]["offered"] == len(t)


def test_records_need_keep_records():
    report = sim.simulate(sim.Scenario.builtin("mm20"), replications=1, stop={"customers": 500})
    with pytest.raises(switchboard.InvalidInput) as e:
        report.records()
    assert e.value.field == "keep_records"


def test_fit_recovers_the_model_that_made_the_records(mm20_records):
    f = sim.fit(mm20_records).to_dict()
    ht = f["handle_time"]["fit"]
    # Exponential service of mean 60 s: AIC picks the exponential family.
    assert ht["chosen"] == "exponential"
    assert ht["exponential"]["mean_secs"] == pytest.approx(60.0, rel=0.05)
    # 1080 arrivals per hour, after the two-hour warm-up.
    rates = sorted(c["per_hour"] for c in f["arrivals"]["by_weekday"] if c["start_minute"] >= 180 and c["asks"] > 0)
    assert len(rates) >= 10
    assert abs(rates[len(rates) // 2] - 1080) / 1080 < 0.05, rates
    # Nobody abandons in M/M/20: every wait is censored.
    assert f["patience"]["fit"]["left"] == 0


def test_a_fit_becomes_a_scenario_that_simulates(mm20_records):
    base = sim.Scenario.builtin("mm20")
    fitted = sim.fit(mm20_records, interval_minutes=30).to_scenario(base)
    d = fitted.to_dict()
    assert d["handle_time"]["exponential"]["mean_secs"] == pytest.approx(60.0, rel=0.05)
    assert d["policies"] == base.to_dict()["policies"]
    report = sim.simulate(fitted, replications=1, stop={"customers": 2000})
    assert report.replications == 1


@pytest.mark.parametrize(
    "kwargs, field",
    [
        (dict(interval_minutes=7), "interval_minutes"),
        (dict(min_asks="ten"), "options.min_asks"),
        (dict(colour="red"), "options.colour"),
    ],
)
def test_bad_fit_options_name_the_option(mm20_records, kwargs, field):
    with pytest.raises(switchboard.InvalidInput) as e:
        sim.fit(mm20_records, **kwargs)
    assert e.value.field == field, str(e.value)


def test_fit_refuses_no_records_and_records_out_of_order(mm20_records):
    empty = {c: [] for c in ("conversation_id", "channel", "tier", "asked_at")}
    with pytest.raises(switchboard.InvalidInput) as e:
        sim.fit(records.table(empty))
    assert e.value.field == "records"
    # A record resolved before it was assigned (the table itself reads: the fit checks).
    t = mm20_records.to_pandas().drop(columns=["policy", "replication"]).head(100).copy()
    t.loc[5, "resolved_at"] = t.loc[5, "assigned_at"] - 1
    with pytest.raises(switchboard.InvalidInput) as e:
        sim.fit(t)
    assert e.value.field.startswith("records."), e.value.field


BANK = """vru+line\tcall_id\tcustomer_id\tpriority\ttype\tdate\tvru_entry\tvru_exit\tvru_time\tq_start\tq_exit\tq_time\toutcome\tser_start\tser_exit\tser_time\tserver
AA0101\t1\t111\t2\tPS\t990104\t9:00:00\t9:00:10\t10\t9:00:10\t9:00:40\t30\tAGENT\t9:00:40\t9:05:40\t300\tMICHAL
AA0101\t2\t222\t2\tPS\t990104\t9:01:00\t9:01:05\t5\t9:01:05\t9:03:05\t120\tHANG\t0:00:00\t0:00:00\t0\tNO_SERVER
AA0101\t3\t0\t0\tPS\t990104\t9:02:00\t9:02:20\t20\t0:00:00\t0:00:00\t0\tHANG\t0:00:00\t0:00:00\t0\tNO_SERVER
AA0101\t4\t333\t2\tPS\t990104\t9:03:00\t9:03:02\t2\t9:03:02\t9:03:02\t0\tAGENT\t9:03:02\t9:04:02\t60\tDARMON
"""


def test_read_bank_converts_the_call_log(tmp_path):
    path = tmp_path / "bank.txt"
    path.write_text(BANK)
    table, summary = records.read_bank(path)
    assert summary["data_rows"] == 4
    assert summary["hung_up_in_vru"] == 1
    assert summary["converted"] == 3
    cols = table.to_numpy()
    assert len(table) == 3
    assert list(cols["operator"][~(cols["operator"] != cols["operator"])]) != []  # someone served
    report = kpi.report(table)
    assert report["overall"]["offered"] == 3
    with pytest.raises(switchboard.InvalidInput) as e:
        records.read_bank(tmp_path / "missing.txt")
    assert e.value.field == "path"
