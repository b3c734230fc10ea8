#!/usr/bin/env python3
"""Proves on a real corpus that the screen loses no finding.

Runs `poollint check` twice on CORPUS, uncached: once as users run it (screened, parallel), once
with every file parsed by libcst in a single process (`--no-screen -j 1`), and compares the
findings. Exits 1 when the screened run misses one. The unscreened run takes many minutes on
the benchmark corpus, which is why this is a benchmark and not a test.

Usage: python benchmarks/screen_equivalence.py [CORPUS]
  CORPUS  default /tmp/poollint-bench-corpus/src (built by ../shared/bench/fetch_corpus.sh)
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from poollint.python.screen import passes_screen
from poollint.settings import Settings


def _findings(corpus: Path, *extra: str) -> tuple[set[tuple[str, int, int, str, str]], float]:
    command = [sys.executable, "-m", "poollint", "check", "--exit-zero", "--no-cache", "--format", "json", *extra, "."]
    start = time.perf_counter()
    out = subprocess.run(command, cwd=corpus, capture_output=True, text=True, check=True)
    elapsed = time.perf_counter() - start
    return {(f["path"], f["line"], f["column"], f["code"], f["message"]) for f in json.loads(out.stdout)}, elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", default="/tmp/poollint-bench-corpus/src", type=Path)
    corpus = parser.parse_args().corpus.resolve()
    screened, screened_s = _findings(corpus)
    unscreened, unscreened_s = _findings(corpus, "--no-screen", "-j", "1")
    # The screen never parses a file that names no database library: a syntax error there is
    # not reported (DBP000's documentation says so), and no other rule could fire in it.
    lost, unparsed = [], []
    for finding in sorted(unscreened - screened):
        path, code = finding[0], finding[3]
        unscreenable = code == "DBP000" and not passes_screen((corpus / path).read_bytes(), Settings())
        (unparsed if unscreenable else lost).append(finding)
    extra = sorted(screened - unscreened)
    print(f"screened:   {len(screened)} findings in {screened_s:.1f} s")
    print(f"unscreened: {len(unscreened)} findings in {unscreened_s:.1f} s (one process, every file through libcst)")
    for path, line, column, code, message in lost:
        print(f"LOST  {path}:{line}:{column}: {code} {message}")
    for path, line, column, code, message in unparsed:
        print(f"SKIPPED BY DESIGN (names no database library) {path}:{line}:{column}: {code} {message}")
    for path, line, column, code, message in extra:
        print(f"EXTRA {path}:{line}:{column}: {code} {message}")
    print("the screen lost nothing" if not lost else f"the screen lost {len(lost)} finding(s)")
    return 1 if lost else 0


if __name__ == "__main__":
    sys.exit(main())
