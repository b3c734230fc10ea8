#!/usr/bin/env python3
"""Proves on the application samples that the screen loses no finding.

For each application of the chosen samples and part, runs `poollint check` twice, uncached: as
users run it (screened) and with every file parsed by libcst (`--no-screen`), and prints every
finding only one of the two gives (`LOST`: the screen dropped it; `EXTRA`: only the screened run
has it). A DBP000 the screened run does not give is expected: the screen never parses a file that
names no database library (DBP000's documentation). Exits 1 when a finding of another rule is lost.

Run it on development parts: a loss found there may be fixed; one found on a validation part is
reported, not fixed from (benchmarks/precision/README.md).

Usage:
  python benchmarks/precision/screen_equivalence_apps.py [--part development] [--poollint CMD] SET...
  SET  a sample name (`apps-2026-12-04`); its checkouts are read from /tmp/<SET>/<owner>+<name>
"""
from __future__ import annotations

import argparse
import csv
import json
import shlex
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _findings(command: list[str], directory: Path, *extra: str) -> set[tuple[str, int, str]]:
    out = subprocess.run([*command, "check", "--exit-zero", "--no-cache", "--format", "json", *extra, "."],
                         cwd=directory, capture_output=True, text=True, check=True)
    return {(f["path"], f["line"], f["code"]) for f in json.loads(out.stdout)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sets", nargs="+")
    parser.add_argument("--part", default="development", choices=("development", "validation"))
    parser.add_argument("--poollint", default=f"{shlex.quote(sys.executable)} -m poollint",
                        help="the command that runs poollint (default: this interpreter's)")
    args = parser.parse_args()
    command = shlex.split(args.poollint)
    lost_other = 0
    for name in args.sets:
        with open(HERE / f"{name}-repos.tsv", newline="") as table:
            repos = [row["repo"] for row in csv.DictReader(table, delimiter="\t") if row.get("split") == args.part]
        for repo in repos:
            directory = Path("/tmp") / name / repo.replace("/", "+")
            if not directory.is_dir():
                print(f"missing  {name} {repo}")
                continue
            screened = _findings(command, directory)
            unscreened = _findings(command, directory, "--no-screen")
            for path, line, code in sorted(unscreened - screened):
                print(f"LOST     {name} {repo} {path}:{line} {code}")
                lost_other += code != "DBP000"
            for path, line, code in sorted(screened - unscreened):
                print(f"EXTRA    {name} {repo} {path}:{line} {code}")
            print(f"checked  {name} {repo}: {len(screened)} screened, {len(unscreened)} unscreened", flush=True)
    return 1 if lost_other else 0


if __name__ == "__main__":
    sys.exit(main())
