#!/usr/bin/env python3
"""Runs a version of poollint on the applications of every sample (apps-2026-12-*) where some rule was
triaged, and tallies its findings against the samples' verdicts: detail for development applications,
counts only for validation ones.

Usage: python benchmarks/precision/subset.py --codes DBP304,DBP302 [--src /tmp/frozen/src] [--out DIR]
       python benchmarks/precision/subset.py --split development [--show DBP202,DBP101] ...
       python benchmarks/precision/subset.py --split all --tally-json DIR    (then measured.py DIR/*.json)

A rule change is tried on the applications its rule fired on (`--codes`: those with a triaged finding of
one of the codes, in either part), or on every application of one part with any triaged finding
(`--split`; `all`: both parts), in minutes instead of the hour all fourteen samples take. `--tally-json` writes
each sample's tally as `heldout.py --tally-json` does, for measured.py: exact as long as the applications
left out report nothing, which holds while every finding of the last whole run has a verdict and rules
have only been narrowed since (otherwise run heldout.py on every sample). Each application is unpacked from
its mirror with heldout.py's `unpack` into /tmp/<sample>/ and run with `--no-cache`; `--src` runs the
poollint of a frozen copy of `src` (PYTHONPATH), to compare two versions while the tree changes.

Prints, for development applications, every finding of the `--show` codes (default: `--codes`) with its
verdict (NEW when the sample has none: triage it before quoting a number), then per part and rule
tp/fp/debatable/new and strict precision. Validation findings are only counted, never listed: rule work
may not look at them (README.md, "The split").
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from heldout import unpack  # noqa: E402  (a sibling script, not an installed module)


def _samples() -> list[str]:
    return sorted(p.name[:-len("-repos.tsv")] for p in HERE.glob("apps-2026-12-*-repos.tsv"))


def applications(codes: set[str], split: str) -> list[tuple[str, str, str, str]]:
    """(sample, repo, commit, part) of each application with a triaged finding of one of `codes` (any
    part), or with any triaged finding in part `split`."""
    chosen = []
    for sample in _samples():
        with open(HERE / f"{sample}-repos.tsv", newline="") as handle:
            repos = {row["repo"]: (row["commit"], row.get("split") or "all")
                     for row in csv.DictReader(handle, delimiter="\t")}
        with open(HERE / f"{sample}.tsv", newline="") as handle:
            triaged = {(row["repo"], row["code"]) for row in csv.DictReader(handle, delimiter="\t")}
        for repo in sorted({repo for repo, code in triaged
                            if (code in codes if codes else split in ("all", repos.get(repo, ("", ""))[1]))}):
            if repo in repos:
                chosen.append((sample, repo, *repos[repo]))
    return chosen


def verdicts() -> dict[tuple[str, str, str, int, str], str]:
    found = {}
    for sample in _samples():
        with open(HERE / f"{sample}.tsv", newline="") as handle:
            for row in csv.DictReader(handle, delimiter="\t"):
                found[(sample, row["repo"], row["path"], int(row["line"]), row["code"])] = row["verdict"]
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--codes", default="", help="applications with a triaged finding of these codes")
    parser.add_argument("--split", default="", help="or: every application of this part (`all`: of both) with a "
                        "triaged finding")
    parser.add_argument("--tally-json", type=Path, help="write each sample's tally here, for measured.py")
    parser.add_argument("--show", default="", help="codes whose development findings are listed (default --codes)")
    parser.add_argument("--src", type=Path, help="run the poollint of this `src` folder (default: the installed one)")
    parser.add_argument("--out", type=Path, default=Path("/tmp/poollint-subset"), help="where each run's JSON goes")
    parser.add_argument("--mirrors", type=Path, default=Path("/work/.mirror"))
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    codes = {code for code in args.codes.split(",") if code}
    if not codes and not args.split:
        parser.error("give --codes or --split")
    shown = {code for code in (args.show or args.codes).split(",") if code}
    env = dict(os.environ, PYTHONPATH=str(args.src)) if args.src else None

    def run(application: tuple[str, str, str, str]) -> tuple[tuple[str, str, str, str], list[dict]]:
        sample, repo, commit, _ = application
        tree = unpack(args.mirrors, Path("/tmp") / sample, repo, commit)
        completed = subprocess.run([sys.executable, "-m", "poollint", "check", "--format", "json", "--no-cache",
                                    "--exit-zero", "."], cwd=tree, env=env, capture_output=True, text=True, check=False)
        if completed.returncode != 0:
            raise SystemExit(f"poollint failed on {repo}: {completed.stderr.strip()[-500:]}")
        target = args.out / sample / f"{repo.replace('/', '+')}.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(completed.stdout, encoding="utf-8")
        return application, json.loads(completed.stdout)

    known = verdicts()
    tally: dict[tuple[str, str], Counter] = defaultdict(Counter)
    by_sample: dict[str, dict[tuple[str, str], Counter]] = defaultdict(lambda: defaultdict(Counter))
    found_in: dict[str, dict[tuple[str, str], set[str]]] = defaultdict(lambda: defaultdict(set))
    with ThreadPoolExecutor(args.jobs) as pool:
        for (sample, repo, _, part), found in pool.map(run, applications(codes, args.split)):
            for finding in found:
                verdict = known.get((sample, repo, finding["path"], finding["line"], finding["code"]), "new")
                tally[(part, finding["code"])][verdict] += 1
                by_sample[sample][(part, finding["code"])][verdict] += 1
                found_in[sample][(part, finding["code"])].add(repo)
                if part == "development" and finding["code"] in shown:
                    print(f"{verdict:10} {sample} {repo} {finding['path']}:{finding['line']}: {finding['code']} "
                          f"{finding['message'][:140]}")
    print(f"\n{'part':<12} {'rule':<8} {'N':>4} {'tp':>4} {'fp':>4} {'deb':>4} {'new':>4} {'strict':>7}")
    for (part, code), counts in sorted(tally.items()):
        judged = counts["tp"] + counts["fp"] + counts["debatable"]
        strict = f"{100 * counts['tp'] / judged:.0f}%" if judged else "-"
        print(f"{part:<12} {code:<8} {sum(counts.values()):>4} {counts['tp']:>4} {counts['fp']:>4} "
              f"{counts['debatable']:>4} {counts['new']:>4} {strict:>7}")
    if args.tally_json is not None:
        _write_tallies(args.tally_json, by_sample, found_in)
    return 1 if any(counts["new"] for counts in tally.values()) else 0


def _write_tallies(directory: Path, by_sample: dict[str, dict[tuple[str, str], Counter]],
                   found_in: dict[str, dict[tuple[str, str], set[str]]]) -> None:
    """One JSON per sample in heldout.py's `--tally-json` form; `applications` counts every application
    of the sample by part, run or not."""
    directory.mkdir(parents=True, exist_ok=True)
    for sample in _samples():
        with open(HERE / f"{sample}-repos.tsv", newline="") as handle:
            parts = Counter(row.get("split") or "all" for row in csv.DictReader(handle, delimiter="\t"))
        rules: dict[str, dict[str, dict]] = defaultdict(dict)
        for (part, code), counts in by_sample.get(sample, {}).items():
            rules[part][code] = {"verdicts": {k: v for k, v in counts.items() if k != "new"},
                                 "applications": sorted(found_in[sample][(part, code)])}
        none = sum(counts["new"] for counts in by_sample.get(sample, {}).values())
        (directory / f"{sample}.json").write_text(json.dumps(
            {"set": sample, "applications": parts, "rules": rules, "none": none}, indent=1), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
