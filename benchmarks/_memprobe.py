"""Peak memory of one tool's call, measured in a fresh interpreter (run by ``_harness``).

Usage: ``python benchmarks/_memprobe.py W1 10000000 "scipy ttest_ind" [arrays.npz]``; prints one
JSON line.

Steps: (1) call the tool on a 1000-row version of the workload, so that lazy imports, thread pools
and caches of module-level state exist before measuring; (2) build the full data with the
workload's fixed seed, or load the same arrays saved by the parent (``arrays.npz``, written with
``numpy.savez``) and rebuild the frames from them; (3) collect garbage, reset the kernel's peak-RSS
counter (write ``5`` to ``/proc/self/clear_refs``, Linux >= 4.0) and read the current RSS; (4) call
the tool once; (5) read the peak RSS (``VmHWM``) and report peak minus the RSS of step (3). If the
counter cannot be reset, ``ru_maxrss`` is used instead and the method says so (the result is then
an upper bound that may include the data building's own peak).
"""

from __future__ import annotations

import gc
import json
import resource
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np
from workloads import WORKLOADS


def _status_kib(key: str) -> int:
    """A ``VmRSS``/``VmHWM`` line of ``/proc/self/status``, in KiB."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise KeyError(key)


def _reset_peak() -> bool:
    """Reset the peak RSS of this process to its current RSS; False if the kernel refuses.

    The kernel sets the peak to its own RSS counter, which ``VmRSS`` may show a little lower for
    a moment (per-thread counters are folded in lazily), so the check allows 4 MiB of slack.
    """
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        return False
    return _status_kib("VmHWM") <= _status_kib("VmRSS") + 4096


def main(argv: list[str]) -> None:
    """Measure one call and print ``{"peak_above_data_kib": ..., ...}`` as JSON."""
    key, n, name = argv[0], int(argv[1]), argv[2]
    saved = argv[3] if len(argv) > 3 else None
    workload = WORKLOADS[key]
    tool = workload.tool(name)
    small = workload.build(1000)
    tool.run(small)
    del small
    if saved:
        with np.load(saved) as npz:
            data = workload.frames({k: npz[k] for k in npz.files})
        rows = len(data["arm"] if "arm" in data else data["y"])
        if rows != n:
            raise SystemExit(f"{saved} holds {rows} rows, expected {n}")
    else:
        data = workload.build(n)
    gc.collect()
    reset = _reset_peak() or _reset_peak()
    base = _status_kib("VmRSS")
    out = tool.run(data)
    if reset:
        peak, method = _status_kib("VmHWM"), "VmHWM after clear_refs"
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        method = "ru_maxrss (peak not resettable: upper bound)"
    del out
    result = {
        "peak_above_data_kib": max(peak - base, 0),
        "rss_before_call_kib": base,
        "method": method,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
