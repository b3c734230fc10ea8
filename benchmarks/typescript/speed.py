#!/usr/bin/env python3
"""Measures the TypeScript/JavaScript front end on the extracted corpus (extract.py).

Usage: python benchmarks/typescript/speed.py [DIR]   (default /tmp/poollint-ts-corpus)

1. Throughput after the bytes screen, on one core (CPU time of this process): every file that names Prisma is parsed
   with tree-sitter and judged by every code rule (DBP101-DBP302, DBP201 following calls into
   other modules); MB/s of screened TypeScript/JavaScript. Target: at least 5 MB/s.
2. Cold runs of `poollint check --no-cache` (a new process, nothing cached) on the largest
   repositories (3,000+ TypeScript/JavaScript files). Target: under 2 s each.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from poollint.catalog.javascript import javascript_catalog
from poollint.engine.files import discover
from poollint.engine.jscheck import javascript_files, mentions_prisma
from poollint.javascript.module import JsModule
from poollint.javascript.project import JsProject
from poollint.rules.javascript import Judge


def throughput(repository: Path) -> tuple[int, int, float]:
    """(files through the bytes screen, their bytes, CPU seconds to parse and judge them)."""
    files = [path.absolute() for path in javascript_files(list(discover([repository])))]
    screened = []
    for path in files:
        data = path.read_bytes()
        if mentions_prisma(data):
            screened.append((path, data))
    project = JsProject(repository.absolute())
    project.register_packages(files)
    judge = Judge(project, javascript_catalog(), str)
    start = time.process_time()
    modules = []
    for path, data in screened:
        module = JsModule(path, data)
        project.add(module)
        modules.append(module)
    for module in modules:
        sites = judge.constructions(module)
        judge.judge_creation(sites, is_test=project.is_test(module.path), is_script=project.is_script(module))
        judge.judge_transactions(module)
    elapsed = time.process_time() - start
    return len(screened), sum(len(d) for _, d in screened), elapsed


def cold_run(repository: Path) -> tuple[float, float]:
    """(wall clock, CPU seconds) of one `poollint check` process."""
    before = os.times()
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "poollint", "check", "--no-cache", "--jobs", "1", "."],
                   cwd=repository, capture_output=True, check=False)
    wall = time.perf_counter() - start
    after = os.times()
    return wall, (after.children_user - before.children_user) + (after.children_system - before.children_system)


def main() -> int:
    # The rules' messages come from the Python rule classes (libcst included), imported on the
    # first finding: a fixed start-up cost, counted in the cold runs below, not in the throughput.
    from poollint.rules import RULES_BY_CODE

    assert RULES_BY_CODE
    corpus = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/poollint-ts-corpus")
    repositories = sorted(p for p in corpus.iterdir() if p.is_dir())
    total_files = total_bytes = 0
    total_seconds = 0.0
    print("repository\tscreened files\tKB\tCPU seconds\tMB/s")
    for repository in repositories:
        count, size, seconds = throughput(repository)
        total_files, total_bytes, total_seconds = total_files + count, total_bytes + size, total_seconds + seconds
        if count:
            print(f"{repository.name}\t{count}\t{size // 1024}\t{seconds:.3f}\t{size / seconds / 1e6:.1f}")
    print(f"all\t{total_files}\t{total_bytes // 1024}\t{total_seconds:.3f}\t{total_bytes / total_seconds / 1e6:.1f}")
    print("\ncold `poollint check --no-cache --jobs 1`, best of 3 (CPU seconds also: the machine may be shared)")
    for repository in repositories:
        files = len(javascript_files(list(discover([repository]))))
        if files >= 3000:
            runs = [cold_run(repository) for _ in range(3)]
            print(f"{repository.name}\t{files} files\twall {min(w for w, _ in runs):.2f} s"
                  f"\tCPU {min(c for _, c in runs):.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
