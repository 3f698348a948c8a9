"""Peak resident memory of this process, as the benchmarks report it.

``getrusage(RUSAGE_SELF).ru_maxrss`` is not it for a process started by another: Linux carries the parent's
peak across ``fork``/``vfork`` and ``exec`` into the child's ``ru_maxrss`` (a benchmark that simulated a large
exposure before starting the child reported the parent's 2.7 GB as the child's). ``VmHWM`` in
``/proc/self/status`` is the high-water mark of this process's own address space.
"""

from __future__ import annotations

import resource


def peak_rss_bytes(pid: int | None = None) -> int:
    """Peak resident set size since it started (exec), in bytes, of this process or of process ``pid`` (Linux
    only for another process: its ``/proc/PID/status``)."""
    try:
        with open(f"/proc/{pid or 'self'}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024  # kB
    except OSError:
        if pid is not None:
            raise
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux; not Linux: best available
