#!/usr/bin/env python3
"""How fast poollint could be with its present design: the parses it cannot skip, timed beside ruff.

Runs `poollint check` on CORPUS once, uncached, and records what it parses: the files the project
index reads with `ast` (the facts of every module that may build a client, define a factory or a
scope, or make a call DBP2xx follows from another module) and the text libcst parses for the rules
(each screened file, sliced). Then times `ast.parse` of those files alone and `libcst.parse_module`
of those texts alone, each on --jobs worker processes as poollint runs them, and `ruff check` on
the corpus in the same run. The two parses are a floor: a cold run that parses as much can be no
faster, whatever else it saves (facts, screening, the rules' walk, the main process's serial work).

Usage: python benchmarks/floor.py [CORPUS] [--jobs N]
  CORPUS  default /tmp/poollint-bench-corpus/src (built by ../shared/bench/fetch_corpus.sh)
"""
from __future__ import annotations

import argparse
import ast
import os
import shutil
import subprocess
import sys
import tempfile
import time
import multiprocessing
from multiprocessing import get_context
from pathlib import Path

_SEPARATOR = "\0"


def _record(corpus: Path, record_dir: Path) -> tuple[list[Path], list[str]]:
    """The files the index parsed (each once) and the texts libcst parsed, in one uncached run."""
    import poollint.engine.analyze as analyze
    import poollint.engine.index as index
    import poollint.engine.runner as runner
    from poollint.cli import main as poollint_main

    indexed: dict[Path, None] = {}
    index_files = index._index_files

    def recording_index_files(jobs, *args, **kwargs):  # type: ignore[no-untyped-def]
        indexed.update((Path(root) / relative, None) for root, relative, *_ in jobs)
        return index_files(jobs, *args, **kwargs)

    analyze_source = analyze.analyze_source

    def recording_analyze_source(path, shown, data, settings, **kwargs):  # type: ignore[no-untyped-def]
        text = kwargs.get("parse_text")
        text = text if text is not None else data.decode("utf-8", "replace")
        with open(record_dir / f"{os.getpid()}.txt", "a", encoding="utf-8") as out:  # a worker's own file
            out.write(text.replace(_SEPARATOR, "") + _SEPARATOR)
        return analyze_source(path, shown, data, settings, **kwargs)

    index._index_files = recording_index_files  # type: ignore[assignment]
    analyze.analyze_source = recording_analyze_source  # type: ignore[assignment]
    # the analysis workers start from a fork server, which imports the analysis afresh and would not
    # record: forked from here they keep the recording function (which texts they parse is the same)
    worker_context = runner._worker_context
    runner._worker_context = lambda: multiprocessing.get_context("fork")  # type: ignore[assignment]
    cwd = os.getcwd()
    os.chdir(corpus)
    try:
        poollint_main(["check", "--no-cache", "--quiet", "--exit-zero", "--output-file", os.devnull, "."])
    except SystemExit:
        pass
    finally:
        os.chdir(cwd)
        index._index_files = index_files  # type: ignore[assignment]
        analyze.analyze_source = analyze_source  # type: ignore[assignment]
        runner._worker_context = worker_context  # type: ignore[assignment]
    texts = [text for part in sorted(record_dir.glob("*.txt"))
             for text in part.read_text(encoding="utf-8").split(_SEPARATOR) if text]
    return list(indexed), texts


def _ast_parse(path: Path) -> int:
    data = path.read_bytes()
    try:
        ast.parse(data)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        pass
    return len(data)


def _libcst_parse(text: str) -> int:
    import libcst

    try:
        libcst.parse_module(text)
    except Exception:  # noqa: BLE001 - a text libcst rejects still took its time
        pass
    return len(text)


def _timed_pool(function, items: list, jobs: int) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    with get_context("fork").Pool(jobs) as pool:
        pool.map(function, items, chunksize=8)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", default="/tmp/poollint-bench-corpus/src", type=Path)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    corpus: Path = args.corpus.resolve()
    for cache in corpus.rglob(".poollint_cache"):
        shutil.rmtree(cache, ignore_errors=True)
    with tempfile.TemporaryDirectory() as record_dir:
        indexed, texts = _record(corpus, Path(record_dir))
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    start = time.perf_counter()
    subprocess.run([ruff, "check", "--isolated", "--no-cache", "--exit-zero", "."], cwd=corpus,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ruff_s = time.perf_counter() - start
    ast_s = _timed_pool(_ast_parse, indexed, args.jobs)
    cst_s = _timed_pool(_libcst_parse, texts, args.jobs)
    indexed_mb = sum(path.stat().st_size for path in indexed) / 1e6
    print(f"ast.parse of the {len(indexed)} files the index reads ({indexed_mb:.1f} MB): "
          f"{ast_s:.2f} s ({ast_s / ruff_s:.1f}x ruff)")
    print(f"libcst of the {len(texts)} texts the rules read ({sum(map(len, texts)) / 1e6:.1f} M characters): "
          f"{cst_s:.2f} s ({cst_s / ruff_s:.1f}x ruff)")
    print(f"both: {ast_s + cst_s:.2f} s ({(ast_s + cst_s) / ruff_s:.1f}x ruff); ruff check {ruff_s:.2f} s, "
          f"{args.jobs} worker processes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
