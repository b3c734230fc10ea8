#!/usr/bin/env python3
"""Precision of poollint on code nobody here wrote, per rule and split, and recall on real bugs.

Usage: python benchmarks/precision/precision.py [--parts development,validation,tuned] [--poollint CMD]
       [--emit-missing] [--no-recall] [--check-bars] [--parallel N] [--no-cache]

Three parts, reported apart:
- development, validation: the application corpus (apps.toml, fetched by fetch_apps.py into
  /tmp/poollint-apps/src). The split was drawn by project before any run; rules are worked
  on with development findings only, validation is only measured.
- tuned: the library corpus the rules were tuned on (fetch_corpus.py and the bench corpus);
  kept to catch regressions, not a measure of precision on unseen code.

Every finding is matched to a verdict in apps_labels.csv (applications) or labels.csv (tuned)
by (package, version, path, code) and line; when the line moved, by the SHA-1 of the stripped
source line (`line_sha`). Strict precision counts `debatable` as false, lenient leaves it out.
Recall per rule family comes from benchmarks/bugs/recall.py when it and its extracted cases exist.
Exit 1 when a finding has no verdict (or, with --check-bars, a default rule is under the bar on
validation); exit 2 when a corpus project is missing.
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import json
import shlex
import subprocess
import sys
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

HERE = Path(__file__).resolve().parent
BUGS = HERE.parent / "bugs"
LABELS = HERE / "labels.csv"
APP_LABELS = HERE / "apps_labels.csv"
FIELDS = ("package", "version", "path", "line", "line_sha", "code", "verdict", "reason")
VERDICTS = ("tp", "fp", "debatable")
PARTS = ("development", "validation", "tuned")
APPS_DIR = Path("/tmp/poollint-apps/src")
DEFAULT_CORPORA = (Path("/tmp/poollint-precision-corpus/src"), Path("/tmp/poollint-bench-corpus/src"))

sys.path.insert(0, str(HERE))
from fetch_apps import load_apps  # noqa: E402  (a sibling script, not an installed module)
from fetch_corpus import PINS  # noqa: E402
from measured import write_measured as write_measured_module  # noqa: E402
sys.path.insert(0, str(BUGS))
from recall import opt_in_codes, score as recall_score  # noqa: E402  (the bug set's sibling script)

# the bench corpus (../shared/bench/fetch_corpus.sh) is the other half of the tuned corpus
BENCH_PINS = (
    "Django==5.1.4",
    "SQLAlchemy==2.0.36",
    "apache-airflow==2.10.4",
    "apache-airflow-providers-common-sql==1.20.0",
    "apache-airflow-providers-postgres==5.14.0",
    "apache-airflow-providers-mysql==5.7.4",
    "celery==5.4.0",
    "pymongo==4.10.1",
    "redis==5.2.1",
)


def package_dir_name(pin: str) -> tuple[str, str, str]:
    name, version = pin.split("==")
    norm = name.lower().replace("-", "_")
    return norm, version, f"{norm}-{version}"


def line_sha(path: Path, line: int) -> str:
    try:
        text = path.read_bytes().decode("utf-8", "replace")
    except OSError:
        return ""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")  # as the tokenizer counts, not str.splitlines
    text = lines[line - 1].strip() if 0 < line <= len(lines) else ""
    return hashlib.sha1(text.encode()).hexdigest()[:10]


@dataclass(frozen=True)
class Label:
    package: str
    version: str
    path: str
    line: int
    line_sha: str
    code: str
    verdict: str
    reason: str


@dataclass(frozen=True)
class Result:
    package: str
    version: str
    path: str
    line: int
    line_sha: str
    code: str
    message: str
    part: str


@dataclass(frozen=True)
class Job:
    root: Path
    package: str
    version: str
    part: str


def load_labels(path: Path) -> list[Label]:
    if not path.exists():
        return []
    labels = []
    with path.open(newline="") as handle:
        for number, row in enumerate(csv.DictReader(handle), start=2):
            if row["verdict"] not in VERDICTS:
                raise SystemExit(f"{path}:{number}: verdict must be one of {', '.join(VERDICTS)}")
            labels.append(Label(row["package"], row["version"], row["path"], int(row["line"]), row["line_sha"],
                                row["code"], row["verdict"], row["reason"]))
    return labels


def run_poollint(job: Job, poollint: list[str], select: list[str], cache: bool) -> list[Result]:
    command = [*poollint, "check", "--format", "json", "--exit-zero", *select, "."]
    if not cache:
        command.insert(-1, "--no-cache")
    completed = subprocess.run(command, cwd=job.root, capture_output=True, text=True)
    print(f"checked {job.package} {job.version}", file=sys.stderr, flush=True)
    if completed.returncode not in (0, 1):
        raise SystemExit(f"poollint failed on {job.root} ({completed.returncode}):\n{completed.stderr}")
    results = []
    for finding in json.loads(completed.stdout or "[]"):
        relative = Path(finding["path"]).as_posix()
        results.append(Result(job.package, job.version, relative, finding["line"],
                              line_sha(job.root / relative, finding["line"]), finding["code"], finding["message"],
                              job.part))
    return results


def match(results: list[Result], labels: list[Label]) -> tuple[list[tuple[Result, Label]], list[Result], list[Label]]:
    """Pairs each finding with one label: same line first, then same line text nearest in the file."""
    free: dict[tuple[str, str, str, str], list[Label]] = defaultdict(list)
    for label in labels:
        free[(label.package, label.version, label.path, label.code)].append(label)
    matched: list[tuple[Result, Label]] = []
    unmatched: list[Result] = []
    pending = []
    for result in results:
        bucket = free[(result.package, result.version, result.path, result.code)]
        exact = next((label for label in bucket if label.line == result.line
                      and (not label.line_sha or label.line_sha == result.line_sha)), None)
        if exact is not None:
            bucket.remove(exact)
            matched.append((result, exact))
        else:
            pending.append(result)
    for result in pending:
        bucket = free[(result.package, result.version, result.path, result.code)]
        candidates = [label for label in bucket if label.line_sha and label.line_sha == result.line_sha]
        if candidates:
            nearest = min(candidates, key=lambda label: abs(label.line - result.line))
            bucket.remove(nearest)
            matched.append((result, nearest))
        else:
            unmatched.append(result)
    stale = [label for bucket in free.values() for label in bucket]
    return matched, unmatched, stale


def ratio(part: int, whole: int) -> Optional[float]:
    return 100.0 * part / whole if whole else None


def _percent(value: Optional[float]) -> str:
    return "n/a" if value is None else f"{value:.0f}%"


@dataclass
class Tally:
    """Verdicts of one rule (or of all default rules) in one part."""

    counts: Counter
    projects: set

    @property
    def findings(self) -> int:
        return sum(self.counts.values())

    @property
    def strict(self) -> Optional[float]:
        c = self.counts
        return ratio(c["tp"], c["tp"] + c["fp"] + c["debatable"])

    @property
    def lenient(self) -> Optional[float]:
        c = self.counts
        return ratio(c["tp"], c["tp"] + c["fp"])


def tally(matched: list[tuple[Result, Label]], unmatched: list[Result], opt_in: set[str]) -> dict[str, dict[str, Tally]]:
    """{part: {code or 'overall': Tally}}; `overall` leaves opt-in rules out; an unlabelled finding counts as `none`."""
    tallies: dict[str, dict[str, Tally]] = defaultdict(dict)
    rows = [(result, label.verdict) for result, label in matched] + [(result, "none") for result in unmatched]
    for result, verdict in rows:
        keys = [result.code] if result.code in opt_in else [result.code, "overall"]
        for key in keys:
            entry = tallies[result.part].setdefault(key, Tally(Counter(), set()))
            entry.counts[verdict] += 1
            entry.projects.add(result.package)
    return tallies


def report_precision(tallies: dict[str, dict[str, Tally]], projects: dict[str, int], opt_in: set[str],
                     min_rule: float) -> list[str]:
    """Prints the precision table; returns the default rules under the bar on validation."""
    under = []
    print("precision: strict counts debatable as false, lenient leaves it out; "
          "N findings in M projects; opt-in rules are left out of overall")
    print(f"{'part':<12} {'rule':<8} {'N':>4} {'M':>4} {'tp':>4} {'fp':>4} {'deb':>4} {'none':>4} "
          f"{'strict':>7} {'lenient':>8}")
    for part in PARTS:
        if part not in projects:
            continue
        rules = tallies.get(part, {})
        label = f"{part} ({projects[part]} projects)"
        print(label)
        if not rules:
            print(f"{'':<12} no findings")
        for code in sorted(rules, key=lambda key: (key == "overall", key)):
            t = rules[code]
            c = t.counts
            note = "  (opt-in)" if code in opt_in else ""
            if part == "validation" and code not in opt_in and code != "overall" and t.strict is not None \
                    and t.strict < min_rule:
                under.append(code)
            print(f"{'':<12} {code:<8} {t.findings:>4} {len(t.projects):>4} {c['tp']:>4} {c['fp']:>4} "
                  f"{c['debatable']:>4} {c['none']:>4} {_percent(t.strict):>7} {_percent(t.lenient):>8}{note}")
    return under


def report_recall(poollint: list[str], parallel: int) -> None:
    print("\nrecall on the bug set (benchmarks/bugs): a case is caught when the expected rule reports in the "
          "buggy statement's function")
    scored = recall_score(poollint, parallel=parallel)
    families = scored["families"]
    print(f"{'family':<8} {'cases':>5} {'caught':>7} {'recall':>7} {'same family':>12} {'after silent':>13}")
    for name, c in families.items():
        total = c["total"]
        print(f"{name:<8} {total:>5} {c['caught_strict']:>7} {_percent(ratio(c['caught_strict'], total)):>7} "
              f"{_percent(ratio(c['caught_family'], total)):>12} {_percent(ratio(c['after_silent'], total)):>13}")
    if scored["missing"]:
        print(f"recall: {len(scored['missing'])} cases not extracted (python benchmarks/bugs/extract.py): "
              + ", ".join(scored["missing"]))
    if scored["errors"]:
        print(f"recall: poollint failed on {len(scored['errors'])} cases: " + ", ".join(scored["errors"]))


def write_measured(tallies: dict[str, dict[str, Tally]], projects: dict[str, int], when: str) -> None:
    """Writes the one data module the rules' documentation reads its measured numbers from (measured.py)."""
    write_measured_module({part: {code: t.counts for code, t in by_code.items()} for part, by_code in tallies.items()},
                          {part: {code: t.projects for code, t in by_code.items()} for part, by_code in tallies.items()},
                          projects, when, '`python benchmarks/precision/precision.py --write-measured "DATE, VERSION"`\n'
                          "(the application corpus: apps.toml, apps_labels.csv)")


def jobs_for(parts: list[str], apps_dir: Path, corpora: list[Path]) -> tuple[list[Job], list[str], dict[str, int]]:
    jobs, missing = [], []
    projects: dict[str, int] = Counter()
    for app in load_apps():
        if app.split not in parts:
            continue
        projects[app.split] += 1
        root = apps_dir / app.directory
        if root.is_dir():
            jobs.append(Job(root, app.name, app.label_version, app.split))
        else:
            missing.append(f"{app.name} {app.label_version} (fetch_apps.py)")
    if "tuned" in parts:
        for pin in (*PINS, *BENCH_PINS):
            norm, version, directory = package_dir_name(pin)
            projects["tuned"] += 1
            root = next((corpus / directory for corpus in corpora if (corpus / directory).is_dir()), None)
            if root is None:
                missing.append(f"{pin} (fetch_corpus.py, ../shared/bench/fetch_corpus.sh)")
            else:
                jobs.append(Job(root, norm, version, "tuned"))
    return jobs, missing, projects


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", default=",".join(PARTS), help="comma-separated parts (default: all three)")
    parser.add_argument("--apps", type=Path, default=APPS_DIR, help="where fetch_apps.py unpacked the applications")
    parser.add_argument("--corpus", action="append", type=Path,
                        help="directory holding the tuned corpus's <name>-<version>/ trees (repeatable)")
    parser.add_argument("--poollint", default=f"{sys.executable} -m poollint", help="command that runs poollint")
    parser.add_argument("--emit-missing", action="store_true", help="print CSV rows (verdict empty) for unlabelled findings")
    parser.add_argument("--no-recall", action="store_true", help="leave out the bug-set recall")
    parser.add_argument("--check-bars", action="store_true",
                        help="exit 1 when a default rule is under --min-rule strict precision on validation")
    parser.add_argument("--min-rule", type=float, default=90.0)
    parser.add_argument("--parallel", type=int, default=3, help="projects checked at once (default 3)")
    parser.add_argument("--no-cache", action="store_true", help="pass --no-cache to poollint")
    parser.add_argument("--save-results", type=Path, help="also write the run's findings to this JSON file")
    parser.add_argument("--from-results", type=Path,
                        help="report on findings saved by --save-results instead of running poollint (after triage)")
    parser.add_argument("--write-measured", metavar="DATE_AND_VERSION",
                        help="rewrite src/poollint/rules/measured.py (the rules' documented numbers) from this "
                             "run's development and validation tallies, e.g. '2026-12-02, main at abc1234'")
    args = parser.parse_args()
    parts = [part.strip() for part in args.parts.split(",") if part.strip()]
    if not set(parts) <= set(PARTS):
        parser.error(f"--parts takes {', '.join(PARTS)}")
    poollint = shlex.split(args.poollint)
    opt_in = opt_in_codes(poollint)
    # opt-in rules are measured too (named explicitly) and reported apart from the overall figure
    select = ["--select", ",".join(["DBP", *sorted(opt_in)])]
    jobs, missing, projects = jobs_for(parts, args.apps, args.corpus or list(DEFAULT_CORPORA))
    if missing:
        print("missing corpus projects:\n  " + "\n  ".join(missing), file=sys.stderr)
        return 2
    results: list[Result] = []
    if args.from_results:
        results = [Result(**row) for row in json.loads(args.from_results.read_text(encoding="utf-8"))
                   if row["part"] in parts]
    else:
        # the largest projects first, so that the slowest run does not start last
        jobs.sort(key=lambda job: -sum(1 for _ in job.root.rglob("*.py")))
        with ThreadPoolExecutor(max_workers=args.parallel) as pool:
            for found in pool.map(lambda job: run_poollint(job, poollint, select, not args.no_cache), jobs):
                results.extend(found)
    if args.save_results:
        args.save_results.write_text(json.dumps([vars(result) for result in results], indent=1), encoding="utf-8")
    labels = load_labels(APP_LABELS) + load_labels(LABELS)
    matched, unmatched, stale = match(results, labels)
    under = report_precision(tally(matched, unmatched, opt_in), projects, opt_in, args.min_rule)
    if under:
        print(f"under {args.min_rule:g}% strict on validation: {', '.join(under)}")
    if args.write_measured:
        if any(result.part != "tuned" for result in unmatched):
            print("\nmeasured.py not written: triage the findings without a verdict first", file=sys.stderr)
        else:
            write_measured(tally(matched, unmatched, opt_in), projects, args.write_measured)
    if not args.no_recall:
        report_recall(poollint, args.parallel)
    checked = {(job.package, job.version) for job in jobs}
    stale = [label for label in stale if (label.package, label.version) in checked]
    if stale:
        print(f"\n{len(stale)} labels match no finding (a fixed false positive, a lost true positive, "
              "or a verdict kept for another poollint version):")
        for label in stale:
            print(f"  {label.package} {label.version} {label.path}:{label.line}: {label.code} [{label.verdict}]")
    if unmatched:
        print(f"\n{len(unmatched)} findings have no verdict (apps_labels.csv, labels.csv):")
        for result in unmatched:
            print(f"  [{result.part}] {result.package} {result.version} {result.path}:{result.line}: "
                  f"{result.code} {result.message}")
        if args.emit_missing:
            writer = csv.writer(sys.stdout, lineterminator="\n")
            for result in unmatched:
                writer.writerow([result.package, result.version, result.path, result.line, result.line_sha,
                                 result.code, "", result.message])
    else:
        print("\nevery finding has a verdict")
    if unmatched or (args.check_bars and under):
        return 1
    return 0



if __name__ == "__main__":
    sys.exit(main())
