"""Process settings for a long-running server (`dispensing serve`, and the benchmarks that stand in for it)."""

import gc

# A roster of 400 creates ~100,000 container objects (ORM rows, entries, the page). With Python's
# default gen-0 threshold of 700 that is ~140 collections per request, and the occasional full
# collection walks the whole heap of the app (tens of ms) wherever it falls: in the middle of a
# dispense that holds the audit chain's lock, every other nurse waits for it.
GEN0_THRESHOLD = 50_000


def tune_garbage_collector() -> None:
    """Call once the app is built: move what lives for the whole process out of the collector's way,
    and collect young objects in larger batches. Cyclic garbage is still collected, just less often."""
    gc.collect()
    gc.freeze()  # modules, routes, templates, mappers: never garbage, never scanned again
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(GEN0_THRESHOLD, gen1, gen2)
