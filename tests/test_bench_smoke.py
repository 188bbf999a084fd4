"""The benchmark runs end to end on a small region (bench.run.smoke), so it cannot rot unnoticed:
the generator's rows fit the models (every foreign key checked) and every step of bench/run.py runs."""

from bench.run import SMOKE_PATIENTS, smoke


def test_every_benchmark_step_runs_on_a_small_region(tmp_path):
    r = smoke(tmp_path)
    assert r["patients"] == SMOKE_PATIENTS and r["slots"] > 0 and r["dispenses"] > 0
    assert r["roster_entries"] > 0
    assert r["dispense_errors"] == 0
    assert r["burst_201_per_slot"] == [1]  # exactly once, also here
    assert r["max_dispenses_per_slot"] == 1 and r["max_handouts_per_day"] == 1
    assert r["labels"] > 0
