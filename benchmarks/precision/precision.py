#!/usr/bin/env python3
"""Re-runs poollint on the precision corpus and reports precision per rule from labels.csv.

Usage: python benchmarks/precision/precision.py [--corpus DIR ...] [--emit-missing] [--min-overall 95] [--min-rule 90]

Every finding is matched to a label by (package, path, code) and line; when the line
moved, by the SHA-1 of the stripped source line (`line_sha`). Precision is tp / (tp + fp);
`debatable` verdicts are excluded from precision and counted separately. Exit 1 when a
finding has no verdict, or precision is under the bars; exit 2 when a corpus package is missing.
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import json
import subprocess
import sys
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

HERE = Path(__file__).resolve().parent
LABELS = HERE / "labels.csv"
FIELDS = ("package", "version", "path", "line", "line_sha", "code", "verdict", "reason")
VERDICTS = ("tp", "fp", "debatable")
DEFAULT_CORPORA = (Path("/tmp/poollint-precision-corpus/src"), Path("/tmp/poollint-bench-corpus/src"))

# the bench corpus (../shared/bench/fetch_corpus.sh) counts as part of the development corpus
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


def _pins() -> tuple[str, ...]:
    sys.path.insert(0, str(HERE))
    from fetch_corpus import PINS  # noqa: E402  (a sibling script, not an installed module)

    return tuple(PINS) + BENCH_PINS


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


def run_poollint(root: Path, package: str, version: str, poollint: list[str], select: list[str]) -> list[Result]:
    completed = subprocess.run([*poollint, "check", "--format", "json", "--no-cache", "--exit-zero", *select, "."],
                               cwd=root, capture_output=True, text=True)
    print(f"checked {package}-{version}", file=sys.stderr, flush=True)
    if completed.returncode not in (0, 1):
        raise SystemExit(f"poollint failed on {root} ({completed.returncode}):\n{completed.stderr}")
    results = []
    for finding in json.loads(completed.stdout or "[]"):
        relative = Path(finding["path"]).as_posix()
        results.append(Result(package, version, relative, finding["line"], line_sha(root / relative, finding["line"]),
                              finding["code"], finding["message"]))
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


def precision(tp: int, fp: int) -> Optional[float]:
    return 100.0 * tp / (tp + fp) if tp + fp else None


def _percent(value: Optional[float]) -> str:
    return "   n/a" if value is None else f"{value:5.1f}%"


def report(matched: list[tuple[Result, Label]], packages: int, min_overall: float, min_rule: float,
           opt_in: set[str]) -> bool:
    counts: dict[str, Counter] = defaultdict(Counter)
    projects: dict[str, set[str]] = defaultdict(set)
    for result, label in matched:
        counts[result.code][label.verdict] += 1
        projects[result.code].add(result.package)
    total = Counter()
    ok = True
    print(f"{'rule':<8} {'tp':>5} {'fp':>5} {'deb':>5} {'precision':>10} {'projects':>9}")
    for code in sorted(counts):
        c = counts[code]
        value = precision(c["tp"], c["fp"])
        flag = ""
        if value is not None and value < min_rule and code not in opt_in:
            flag, ok = f"  < {min_rule:g}%", False
        note = "  (opt-in)" if code in opt_in else ""
        print(f"{code:<8} {c['tp']:>5} {c['fp']:>5} {c['debatable']:>5} {_percent(value):>10} {len(projects[code]):>9}{flag}{note}")
        if code not in opt_in:
            total.update(c)
    overall = precision(total["tp"], total["fp"])
    print(f"{'overall':<8} {total['tp']:>5} {total['fp']:>5} {total['debatable']:>5} {_percent(overall):>10}"
          f"   ({packages} packages; opt-in rules excluded; debatable excluded from precision)")
    strict = precision(total["tp"], total["fp"] + total["debatable"])
    print(f"{'strict':<8} {'':>17} {_percent(strict):>10}   (debatable counted as false positives)")
    if overall is not None and overall < min_overall:
        print(f"overall precision is under {min_overall:g}%")
        ok = False
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", action="append", type=Path,
                        help="directory holding <name>-<version>/ trees (repeatable; default both corpora)")
    parser.add_argument("--labels", type=Path, default=LABELS)
    parser.add_argument("--poollint", default=f"{sys.executable} -m poollint", help="command that runs poollint")
    parser.add_argument("--emit-missing", action="store_true", help="print CSV rows (verdict empty) for unlabelled findings")
    parser.add_argument("--min-overall", type=float, default=95.0)
    parser.add_argument("--min-rule", type=float, default=90.0)
    parser.add_argument("--parallel", type=int, default=4, help="packages checked at once (default 4)")
    args = parser.parse_args()
    corpora = args.corpus or list(DEFAULT_CORPORA)
    opt_in = _opt_in_codes()
    # opt-in rules are measured too (named explicitly) and reported apart from the overall figure
    select = ["--select", ",".join(["DBP", *sorted(opt_in)])]
    poollint = args.poollint.split()
    labels = load_labels(args.labels)
    results: list[Result] = []
    missing_packages = []
    jobs = []
    for pin in _pins():
        norm, version, directory = package_dir_name(pin)
        root = next((corpus / directory for corpus in corpora if (corpus / directory).is_dir()), None)
        if root is None:
            missing_packages.append(pin)
        else:
            jobs.append((root, norm, version))
    with ThreadPoolExecutor(max_workers=args.parallel) as pool:
        for found in pool.map(lambda job: run_poollint(*job, poollint, select), jobs):
            results.extend(found)
    if missing_packages:
        print("missing corpus packages (run fetch_corpus.py and ../shared/bench/fetch_corpus.sh): "
              + ", ".join(missing_packages), file=sys.stderr)
        return 2
    matched, unmatched, stale = match(results, labels)
    ok = report(matched, len(_pins()), args.min_overall, args.min_rule, opt_in)
    if stale:
        print(f"\n{len(stale)} labels match no finding (fixed false positive, or a lost true positive):")
        for label in stale:
            print(f"  {label.package}-{label.version}/{label.path}:{label.line}: {label.code} [{label.verdict}] {label.reason}")
    if unmatched:
        print(f"\n{len(unmatched)} findings have no verdict in {args.labels.name}:")
        for result in unmatched:
            print(f"  {result.package}-{result.version}/{result.path}:{result.line}: {result.code} {result.message}")
        if args.emit_missing:
            writer = csv.writer(sys.stdout, lineterminator="\n")
            for result in unmatched:
                writer.writerow([result.package, result.version, result.path, result.line, result.line_sha,
                                 result.code, "", result.message])
        return 1
    return 0 if ok else 1


def _opt_in_codes() -> set[str]:
    from poollint.rules import ALL_RULES

    return {rule.code for rule in ALL_RULES if getattr(rule, "opt_in", False)}


if __name__ == "__main__":
    sys.exit(main())
