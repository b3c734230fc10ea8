#!/usr/bin/env python3
"""Times poollint (cold and warm), flake8 and ruff on one corpus in one run and prints ratios.

Usage: python benchmarks/bench.py [CORPUS] [--runs N] [--jobs N]
  CORPUS  default /tmp/poollint-bench-corpus/src (built by ../shared/bench/fetch_corpus.sh)
Needs flake8 and ruff on PATH or beside this interpreter. Semgrep runs too when the
SEMGREP environment variable names its executable, with the one poollint-like rule of
../shared/bench/semgrep-rules.yml (--semgrep-rules), metrics and version check off.
Wall time is whole-process, the median of --runs; peak RSS is the largest single
process (GNU time %M, and every process of the command's tree read from /proc while it runs).
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path


def _tool(name: str) -> str:
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else (shutil.which(name) or name)


class _TreePeak(threading.Thread):
    """The largest peak RSS (VmHWM) of any process of a command's tree, read from /proc every 200 ms
    while it runs (a high-water mark: a process is seen if it lives that long). GNU time's %M sees
    only the processes their parents wait for: poollint's analysis workers are children of a fork
    server, which nobody waits for."""

    def __init__(self, root: int) -> None:
        super().__init__(daemon=True)
        self.root, self.peak_kb, self.done = root, 0, threading.Event()

    def _tree(self) -> set[int]:
        parents: dict[int, int] = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    # the parent's pid is the second field after the command name's closing parenthesis
                    parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                except (OSError, IndexError, ValueError):
                    continue
        tree, grown = {self.root}, True
        while grown:
            found = {pid for pid, parent in parents.items() if parent in tree} - tree
            tree |= found
            grown = bool(found)
        return tree

    def run(self) -> None:
        while not self.done.wait(0.2):
            for pid in self._tree():
                try:
                    status = Path(f"/proc/{pid}/status").read_text()
                except OSError:
                    continue
                for line in status.splitlines():
                    if line.startswith("VmHWM:"):
                        self.peak_kb = max(self.peak_kb, int(line.split()[1]))


def _time(command: list[str], cwd: Path, before=None) -> tuple[float, float]:
    """(wall seconds, peak RSS MB of the largest process or nan)."""
    if before:
        before()
    gnu_time = Path("/usr/bin/time")
    if gnu_time.exists():
        report = cwd / ".bench-time"
        start = time.perf_counter()
        process = subprocess.Popen([str(gnu_time), "-f", "%M", "-o", str(report), *command], cwd=cwd,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        sampler = _TreePeak(process.pid)
        if Path("/proc/self/status").exists():
            sampler.start()
        process.wait()
        wall = time.perf_counter() - start
        sampler.done.set()
        if sampler.is_alive():
            sampler.join()
        peak = max(int(report.read_text().strip().splitlines()[-1]), sampler.peak_kb) / 1024
        report.unlink()
        return wall, peak
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start, float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", default="/tmp/poollint-bench-corpus/src", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--semgrep-rules", type=Path,
                        default=Path(__file__).resolve().parents[2] / "shared" / "bench" / "semgrep-rules.yml")
    args = parser.parse_args()
    corpus: Path = args.corpus.resolve()

    def clear_cache() -> None:
        # every project of the corpus keeps its own index cache beside its pyproject.toml
        for cache in corpus.rglob(".poollint_cache"):
            shutil.rmtree(cache, ignore_errors=True)

    poollint = [sys.executable, "-m", "poollint", "check", "--exit-zero", "-j", str(args.jobs), "."]
    commands = {
        "poollint cold": (poollint, clear_cache),
        "poollint warm": (poollint, None),
        "poollint no-screen": ([*poollint[:-1], "--no-cache", "--no-screen", "."], None),
        "flake8": ([_tool("flake8"), f"-j{args.jobs}", "--exit-zero", "."], None),
        "ruff check": ([_tool("ruff"), "check", "--isolated", "--no-cache", "--exit-zero", "."], None),
    }
    if os.environ.get("BENCH_SKIP_NO_SCREEN"):
        del commands["poollint no-screen"]
    semgrep = os.environ.get("SEMGREP")
    if semgrep and args.semgrep_rules.exists():
        os.environ.update(SEMGREP_ENABLE_VERSION_CHECK="0", SEMGREP_SEND_METRICS="off")
        commands["semgrep -j2"] = ([semgrep, "scan", "--metrics=off", "--disable-version-check",
                                    "--x-ignore-semgrepignore-files", "--config", str(args.semgrep_rules),
                                    "-j", str(args.jobs), "."], None)
    results: dict[str, tuple[float, float]] = {}
    for name, (command, before) in commands.items():
        if name == "poollint warm":
            subprocess.run(poollint, cwd=corpus, stdout=subprocess.DEVNULL)  # prime the cache
        runs = [_time(command, corpus, before) for _ in range(args.runs)]
        results[name] = (statistics.median(r[0] for r in runs), max(r[1] for r in runs))
        print(f"{name:<20} {results[name][0]:8.2f} s  peak {results[name][1]:6.0f} MB", flush=True)
    clear_cache()
    ruff = results["ruff check"][0]
    flake8 = results["flake8"][0]
    print()
    print("| tool | wall s (median) | × ruff | flake8 ÷ tool | peak MB |")
    print("| --- | --- | --- | --- | --- |")
    for name, (wall, peak) in results.items():
        print(f"| {name} | {wall:.2f} | {wall / ruff:.1f} | {flake8 / wall:.1f} | {peak:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
