"""The server process's garbage-collector settings (dispensing.runtime)."""

import gc

from dispensing.runtime import GEN0_THRESHOLD, tune_garbage_collector


def test_tuning_freezes_the_app_and_collects_young_objects_in_larger_batches():
    before = gc.get_threshold()
    try:
        tune_garbage_collector()
        assert gc.get_threshold() == (GEN0_THRESHOLD, *before[1:])
        assert gc.get_freeze_count() > 0  # what was alive when the app was built is never scanned again
        cycle = []
        cycle.append(cycle)
        del cycle
        assert gc.collect() >= 1  # cyclic garbage made afterwards is still collected
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
