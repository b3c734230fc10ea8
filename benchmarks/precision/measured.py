#!/usr/bin/env python3
"""Writes the rules' measured precision (src/poollint/rules/measured.py) from the application samples.

Usage: python benchmarks/precision/measured.py --when "DATE, main at VERSION" TALLY.json...

Each TALLY.json is what `heldout.py --tally-json` wrote for one sample (apps-2026-12-04 ...): per split
and rule, the findings, the applications they were found in, and their verdicts. The sums over every
sample given are what `poollint explain` and docs/rules.md show; regenerate docs/rules.md after it
(`python -m poollint.docs > docs/rules.md`). precision.py --write-measured writes the same module from
the older application corpus (apps.toml).
"""
from __future__ import annotations

import argparse
import json
from collections import Counter, defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
MEASURED_MODULE = HERE.parents[1] / "src" / "poollint" / "rules" / "measured.py"
SPLITS = ("validation", "development")


def write_measured(counts: dict[str, dict[str, Counter]], projects: dict[str, dict[str, set]],
                   applications: dict[str, int], when: str, source: str) -> None:
    """The one data module the rules' documentation reads its measured numbers from. `counts[split][code]`:
    verdicts; `projects[split][code]`: the applications with a finding."""
    rows = []
    for code in sorted({code for split in SPLITS for code in counts.get(split, {})} - {"overall"}):
        cells = []
        for split in SPLITS:
            c = counts.get(split, {}).get(code, Counter())
            found = len(projects.get(split, {}).get(code, ()))
            cells.append(f'"{split}": ({sum(c.values())}, {found}, {c["tp"]}, {c["fp"]}, {c["debatable"]})')
        rows.append(f'    "{code}": {{{", ".join(cells)}}},')
    MEASURED_MODULE.write_text(f'''"""Measured precision of each rule on applications nobody here wrote: the one place these numbers live.

Written by {source}
from the triaged findings of the applications; never edited by hand. Rule documentation
(`poollint explain`, docs/rules.md) renders them.
"""
from __future__ import annotations

MEASURED_ON = "{when}"
APPLICATIONS = {{"validation": {applications.get("validation", 0)}, "development": {applications.get("development", 0)}}}

# code: {{split: (findings, projects with a finding, tp, fp, debatable)}}; a rule absent here had no finding
MEASURED: dict[str, dict[str, tuple[int, int, int, int, int]]] = {{
{chr(10).join(rows)}
}}
''', encoding="utf-8")
    print(f"wrote {MEASURED_MODULE.relative_to(HERE.parents[1])}; regenerate docs/rules.md (python -m poollint.docs)")


def main(argv: "list[str] | None" = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--when", required=True, help='what was measured: "DATE, main at VERSION"')
    parser.add_argument("tallies", nargs="+", type=Path, help="heldout.py --tally-json outputs, one per sample")
    args = parser.parse_args(argv)
    counts: dict[str, dict[str, Counter]] = defaultdict(lambda: defaultdict(Counter))
    projects: dict[str, dict[str, set]] = defaultdict(lambda: defaultdict(set))
    applications: Counter = Counter()
    for path in args.tallies:
        tally = json.loads(path.read_text(encoding="utf-8"))
        if tally.get("none"):
            raise SystemExit(f"{path}: {tally['none']} findings without a verdict: triage them first")
        applications.update(tally["applications"])
        for split, by_code in tally["rules"].items():
            for code, entry in by_code.items():
                counts[split][code].update(entry["verdicts"])
                projects[split][code].update(f"{tally['set']}/{repo}" for repo in entry["applications"])
    names = sorted(json.loads(p.read_text(encoding="utf-8"))["set"] for p in args.tallies)
    samples = names[0] if len(names) == 1 else f"{names[0]} to {names[-1]}, {len(names)} samples"
    write_measured(counts, projects, applications, args.when,
                   f"`python benchmarks/precision/measured.py`\n({samples})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
