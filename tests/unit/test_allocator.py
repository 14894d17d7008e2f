"""The dashboard server keeps large blocks mapped, so freed frames go back to the system."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dashboard.allocator import glibc

ROOT = Path(__file__).resolve().parents[2]

# In a fresh process: free a 4 MiB block (which, by glibc's default, raises the mmap
# threshold to 4 MiB), optionally run `setup`, then hold eight 512 KiB blocks and report how
# many of them glibc served with a mapping of their own (mallinfo2's count of mapped blocks;
# threads the setup started may map or unmap a block meanwhile, hence eight).
PROBE = """
import ctypes, json
fields = "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost"
class Info(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in fields.split()]
libc = ctypes.CDLL("libc.so.6")
libc.mallinfo2.restype = Info
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
libc.free(libc.malloc(4 << 20))
{setup}
mapped = libc.mallinfo2().hblks
blocks = [libc.malloc(512 << 10) for _ in range(8)]
print(json.dumps(libc.mallinfo2().hblks - mapped))
for block in blocks:
    libc.free(block)
"""


def glibc_with_mallinfo2() -> bool:
    libc = glibc()
    return libc is not None and hasattr(libc, "mallinfo2")


def blocks_mapped(setup: str) -> int:
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(setup=setup)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return int(json.loads(done.stdout.strip().splitlines()[-1]))


@pytest.mark.skipif(not glibc_with_mallinfo2(), reason="glibc's malloc only")
def test_by_default_a_freed_large_block_moves_the_threshold_up() -> None:
    assert blocks_mapped("") <= 0


@pytest.mark.skipif(not glibc_with_mallinfo2(), reason="glibc's malloc only")
def test_the_server_module_keeps_large_blocks_mapped() -> None:
    assert blocks_mapped("import dashboard.server") >= 6


@pytest.mark.skipif(not glibc_with_mallinfo2(), reason="glibc's malloc only")
def test_map_large_blocks_says_it_applied() -> None:
    applied = "from dashboard.allocator import map_large_blocks\nassert map_large_blocks()"
    assert blocks_mapped(applied) == 8
