"""Large blocks of the dashboard process go back to the system when freed (glibc malloc).

glibc serves an allocation of at least its mmap threshold with a mapping of its own, which
it unmaps when the block is freed; smaller ones come from its heaps (one per group of
threads), which keep freed memory for later. By default the threshold is dynamic: each
time a mapped block is freed, it rises to that block's size (up to 32 MiB). The dashboard's
reads build column buffers of a few hundred kilobytes to a few megabytes (pandas, numpy, the
database driver's rows) in a fresh script thread per page, so after the first such page
they all landed in the heaps and stayed there once freed: at 10M events / 5,000 people the
heaps of a server that had shown every page held about 90 MB of free memory.

Fixing the threshold at glibc's starting value (128 KiB) keeps large blocks mapped, so a
page's frames are returned when it is done, at the cost of a system call and fresh pages
for each of them.
"""

from __future__ import annotations

import ctypes
import sys

M_MMAP_THRESHOLD = -3  # mallopt's parameter number (malloc.h)
MMAP_THRESHOLD_BYTES = 128 * 1024


def glibc() -> ctypes.CDLL | None:
    """The process's C library when it is glibc, else None (macOS, musl)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return None
    return libc if hasattr(libc, "gnu_get_libc_version") else None


def map_large_blocks() -> bool:
    """Fix glibc's mmap threshold at MMAP_THRESHOLD_BYTES; False where the C library is not
    glibc (macOS, musl), which is then left as it is."""
    libc = glibc()
    if libc is None or not hasattr(libc, "mallopt"):
        return False
    libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    libc.mallopt.restype = ctypes.c_int
    return bool(libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES))
