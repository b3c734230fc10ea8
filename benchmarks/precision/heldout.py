#!/usr/bin/env python3
"""Re-runs poollint on a held-out set of applications and compares with its triaged findings.

Usage: python benchmarks/precision/heldout.py [--set heldout-2026-12-02] [--dir /tmp/heldout]
                                              [--mirrors /work/.mirror] [--poollint "python -m poollint"]

The set is two files beside this script: `<set>-repos.tsv` (repo, commit, ...) and `<set>.tsv`
(repo, commit, path, line, code, verdict, reason: every finding of the run that made the set,
triaged by reading the code). Each repository must be mirrored first (the session's `fetch` tool,
or `git clone --bare`) as MIRRORS/<owner>+<name>/repo (or repo/.git); its commit is unpacked
with `git archive` into DIR/<owner>+<name>/ (idempotent). The code is third-party: never commit it.

Prints every finding with its verdict, the findings the set has no verdict for (NEW: triage them
before quoting any number) and the triaged findings that are gone (GONE), then per split (the
repos file's `split` column, when it has one) and rule: tp, fp, debatable, none and strict precision. Exit 1 when a finding
is new. Nothing here is tuned on: a rule is never changed because of what this prints.
"""
from __future__ import annotations

import argparse
import csv
import json
import shlex
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from fetch_apps import write_present_blobs  # noqa: E402  (a sibling script, not an installed module)


def _git_dir(mirrors: Path, repo: str) -> Path:
    base = mirrors / repo.replace("/", "+") / "repo"
    return base / ".git" if (base / ".git").is_dir() else base


def unpack(mirrors: Path, directory: Path, repo: str, commit: str) -> Path:
    target = directory / repo.replace("/", "+")
    if target.is_dir() and any(target.iterdir()):
        return target
    target.mkdir(parents=True, exist_ok=True)
    git_dir = _git_dir(mirrors, repo)
    archive = subprocess.run(["git", "--git-dir", str(git_dir), "archive", commit],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    if archive.returncode == 0:
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)
    elif not write_present_blobs(git_dir, commit, target):  # a snapshot without its largest files
        raise SystemExit(f"cannot unpack {repo}@{commit[:12]}: {archive.stderr.decode(errors='replace').strip()}"
                         " (mirror it first)")
    return target


def findings(poollint: list[str], tree: Path) -> list[dict]:
    completed = subprocess.run([*poollint, "check", "--format", "json", "--no-cache", "--exit-zero", "."],
                               cwd=tree, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, check=False)
    if completed.returncode != 0:
        raise SystemExit(f"poollint failed on {tree}: {completed.stderr.strip()[-500:]}")
    return json.loads(completed.stdout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", default="heldout-2026-12-02", help="name of the set's TSV files beside this script")
    parser.add_argument("--dir", type=Path, default=Path("/tmp/heldout"), help="where the trees are unpacked")
    parser.add_argument("--mirrors", type=Path, default=Path("/work/.mirror"))
    parser.add_argument("--poollint", default=f"{sys.executable} -m poollint", help="command that runs poollint")
    parser.add_argument("--tally-json", type=Path, help="also write the tally per split and rule, with the "
                        "applications of each, for measured.py (the rules' documented precision)")
    args = parser.parse_args(argv)
    poollint = shlex.split(args.poollint)

    with open(HERE / f"{args.set}-repos.tsv", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    repos = [(row["repo"], row["commit"]) for row in rows]
    split_of = {row["repo"]: row.get("split") or "all" for row in rows}
    with open(HERE / f"{args.set}.tsv", newline="") as handle:
        verdicts = {(row["repo"], row["path"], int(row["line"]), row["code"]): row["verdict"]
                    for row in csv.DictReader(handle, delimiter="\t")}

    seen: set[tuple[str, str, int, str]] = set()
    new = 0
    tally: dict[tuple[str, str], Counter] = defaultdict(Counter)  # (split, code) -> verdicts
    found_in: dict[tuple[str, str], set[str]] = defaultdict(set)  # (split, code) -> applications
    for repo, commit in repos:
        tree = unpack(args.mirrors, args.dir, repo, commit)
        for finding in findings(poollint, tree):
            key = (repo, finding["path"], finding["line"], finding["code"])
            seen.add(key)
            verdict = verdicts.get(key)
            if verdict is None:
                new += 1
            for code in (finding["code"], "overall"):
                tally[(split_of[repo], code)][verdict or "none"] += 1
                found_in[(split_of[repo], code)].add(repo)
            print(f"{verdict or 'NEW':10} {repo} {finding['path']}:{finding['line']}: {finding['code']} "
                  f"{finding['message'][:160]}")
    for key in sorted(set(verdicts) - seen):
        repo, path, line, code = key
        print(f"{'GONE':10} {repo} {path}:{line}: {code} (was {verdicts[key]})")
    print(f"{len(seen)} findings in {len(repos)} applications; {new} without a verdict; "
          f"{len(set(verdicts) - seen)} triaged findings gone")
    print(f"\n{'split':<12} {'rule':<8} {'N':>4} {'tp':>4} {'fp':>4} {'deb':>4} {'none':>5} {'strict':>7}")
    for (split, code), counts in sorted(tally.items(), key=lambda item: (item[0][0], item[0][1] == "overall", item[0][1])):
        judged = counts["tp"] + counts["fp"] + counts["debatable"]
        strict = f"{100 * counts['tp'] / judged:.0f}%" if judged else "-"
        print(f"{split:<12} {code:<8} {sum(counts.values()):>4} {counts['tp']:>4} {counts['fp']:>4} "
              f"{counts['debatable']:>4} {counts['none']:>5} {strict:>7}")
    if args.tally_json is not None:
        rules: dict[str, dict[str, dict]] = defaultdict(dict)
        for (split, code), counts in tally.items():
            if code != "overall":
                rules[split][code] = {"verdicts": dict(counts), "applications": sorted(found_in[(split, code)])}
        args.tally_json.write_text(json.dumps({"set": args.set, "applications": Counter(split_of.values()),
                                               "rules": rules, "none": new}, indent=1), encoding="utf-8")
    return 1 if new else 0


if __name__ == "__main__":
    sys.exit(main())
