#!/usr/bin/env python3
"""Recall of poollint on real connection-pool bugs that projects reported and fixed.

Usage: python benchmarks/bugs/recall.py [--cases PATH] [--poollint CMD] [--work DIR] [--json] [--check] [--opt-in]
                                        [CASE_ID ...]

Each case of cases.toml (or of the file --cases names, e.g. heldout_cases.toml) names a
fixed bug: the buggy statement in the tree before the fix (file, line, enclosing function)
and the rule that should report it, chosen from the fix, not from what poollint says.
`extract.py` writes the trees to DIR/<case>/{before,after} (default /tmp/poollint-bugs).
poollint runs on each whole tree (`check --format json --no-cache --exit-zero .`, the
default rules; with --opt-in, the opt-in rules too: a case whose rule is opt-in, DBP203, is
caught only then), and

- a case is caught (strict) when a finding with the expected code lands in the buggy
  statement's function in the before tree, or in one of the case's `also` places (the
  callers of a factory, where SPEC.md puts DBP101's finding); caught (family) when the
  finding's code is of the same family (DBP1xx, DBP2xx, DBP3xx, DBP4xx);
- the after tree is silent when no finding of the expected family lands there.

For a configuration file the place is the file and line instead of a function.
`score()` is the entry point for other reports (benchmarks/precision/precision.py).
"""
from __future__ import annotations

import argparse
import ast
import json
import shlex
import subprocess
import sys
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Optional, Sequence

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from extract import DEFAULT_CASES, DEFAULT_OUT, load_cases  # noqa: E402  (a sibling script, not an installed module)

FAMILIES = ("DBP1xx", "DBP2xx", "DBP3xx", "DBP4xx")
MODULE_SCOPE = "<module>"


def family(code: str) -> str:
    return f"{code[:4]}xx"


def _parse_lenient(source: bytes, attempts: int = 20) -> ast.Module:
    """ast.parse, and for syntax newer than this Python (a 3.12 `type X = ...` alias under
    3.11) the same with each offending line replaced by `pass`, so line numbers and the
    other functions' spans stay right. Raises SyntaxError when that does not help."""
    try:
        return ast.parse(source)
    except SyntaxError as error:
        first = error
    lines = source.decode("utf-8", "surrogateescape").splitlines(keepends=True)
    for _ in range(attempts):
        try:
            return ast.parse("".join(lines))
        except SyntaxError as error:
            if not error.lineno or error.lineno > len(lines):
                break
            line = lines[error.lineno - 1]
            blank = line[: len(line) - len(line.lstrip())] + "pass\n"
            if line == blank:
                break
            lines[error.lineno - 1] = blank
    raise first


class FunctionIndex:
    """Maps a line of a Python file to the qualified name of its innermost function."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._spans: dict[str, list[tuple[int, int, str]]] = {}

    def _load(self, path: str) -> list[tuple[int, int, str]]:
        spans: list[tuple[int, int, str]] = []
        try:
            tree = _parse_lenient((self.root / path).read_bytes())
        except (OSError, SyntaxError, ValueError):
            return spans

        def visit(node: ast.AST, prefix: str) -> None:
            for child in ast.iter_child_nodes(node):
                if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    name = f"{prefix}{child.name}"
                    if not isinstance(child, ast.ClassDef):
                        # decorators belong to the function they decorate
                        first = min([child.lineno, *(d.lineno for d in child.decorator_list)])
                        spans.append((first, child.end_lineno or child.lineno, name))
                    visit(child, f"{name}.")
                else:
                    visit(child, prefix)

        visit(tree, "")
        return spans

    def function_at(self, path: str, line: int) -> str:
        if not path.endswith((".py", ".pyi")):
            return ""
        if path not in self._spans:
            self._spans[path] = self._load(path)
        inside = [span for span in self._spans[path] if span[0] <= line <= span[1]]
        if not inside:
            return MODULE_SCOPE
        return max(inside, key=lambda span: span[0])[2]  # the innermost starts last


def opt_in_codes(poollint: Sequence[str]) -> set[str]:
    """The opt-in rules of the poollint that runs (it may be another version): `poollint rules` marks them."""
    listing = subprocess.run([*poollint, "rules"], capture_output=True, text=True)
    return {line.split()[0] for line in listing.stdout.splitlines() if "(opt-in)" in line and line.split()}


def run_poollint(poollint: Sequence[str], tree: Path, select: Sequence[str] = ()) -> list[dict]:
    completed = subprocess.run([*poollint, "check", "--format", "json", "--no-cache", "--exit-zero", *select, "."],
                               cwd=tree, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if completed.returncode not in (0, 1):
        raise RuntimeError(f"poollint failed on {tree} ({completed.returncode}): {completed.stderr[-2000:]}")
    findings = json.loads(completed.stdout or "[]")
    for finding in findings:
        path = finding["path"].replace("\\", "/")
        finding["path"] = path[2:] if path.startswith("./") else path
    return findings


def _places(case: dict, side: str) -> list[dict]:
    """The places where a finding counts: the buggy statement and the `also` places."""
    main = dict(case["location"])
    places = [main, *case.get("also", [])]
    if side == "after":
        after = case.get("after", {})
        places = [{**main, **after}, *case.get("after_also", case.get("also", []))]
    return places


def _lands(finding: dict, place: dict, index: FunctionIndex) -> bool:
    if finding["path"] != place["path"]:
        return False
    function = place.get("function", "")
    if not function:  # a configuration file: the line itself
        return "line" not in place or finding["line"] == place["line"]
    return index.function_at(finding["path"], finding["line"]) == function


def judge(case: dict, before: list[dict], after: list[dict], before_root: Path, after_root: Path) -> dict:
    expected = case["rule"]
    before_index, after_index = FunctionIndex(before_root), FunctionIndex(after_root)
    landed = [f for f in before if any(_lands(f, p, before_index) for p in _places(case, "before"))]
    landed_after = [f for f in after if any(_lands(f, p, after_index) for p in _places(case, "after"))]
    return {
        "id": case["id"],
        "repo": case["repo"],
        "rule": expected,
        "family": family(expected),
        "kind": case["kind"],
        "caught_strict": any(f["code"] == expected for f in landed),
        "caught_family": any(family(f["code"]) == family(expected) for f in landed),
        "after_silent": not any(family(f["code"]) == family(expected) for f in landed_after),
        "codes_at_bug": sorted({f["code"] for f in landed}),
        "codes_after": sorted({f["code"] for f in landed_after}),
        "findings_before": len(before),
        "findings_after": len(after),
    }


def score_case(case: dict, poollint: Sequence[str], work_dir: Path, select: Sequence[str] = ()) -> dict:
    before_root, after_root = work_dir / case["id"] / "before", work_dir / case["id"] / "after"
    if not before_root.is_dir() or not after_root.is_dir():
        return {"id": case["id"], "rule": case["rule"], "family": family(case["rule"]), "kind": case["kind"],
                "missing": True}
    started = time.monotonic()
    try:
        before = run_poollint(poollint, before_root, select)
        after = run_poollint(poollint, after_root, select)
    except (RuntimeError, json.JSONDecodeError) as error:
        return {"id": case["id"], "rule": case["rule"], "family": family(case["rule"]), "kind": case["kind"],
                "error": str(error)}
    result = judge(case, before, after, before_root, after_root)
    result["seconds"] = round(time.monotonic() - started, 1)
    return result


def summarize(results: list[dict]) -> dict:
    families: dict[str, dict[str, int]] = {name: defaultdict(int) for name in (*FAMILIES, "overall")}
    for result in results:
        if result.get("missing") or result.get("error"):
            continue
        for name in (result["family"], "overall"):
            counts = families[name]
            counts["total"] += 1
            counts["caught_strict"] += result["caught_strict"]
            counts["caught_family"] += result["caught_family"]
            counts["after_silent"] += result["after_silent"]
    return {name: {key: counts.get(key, 0) for key in ("total", "caught_strict", "caught_family", "after_silent")}
            for name, counts in families.items()}


def score(poollint_cmd: Sequence[str], work_dir: Path = DEFAULT_OUT, case_ids: Optional[Sequence[str]] = None,
          parallel: int = 2, cases_path: Path = DEFAULT_CASES, opt_in: bool = False) -> dict:
    """Runs poollint on every extracted case and returns per-family counts and per-case results.

    Returns {"families": {"DBP1xx": {"total", "caught_strict", "caught_family", "after_silent"},
    ..., "overall": {...}}, "cases": [per-case dicts], "missing": [ids not extracted],
    "errors": [ids where poollint failed]}.
    """
    cases = [case for case in load_cases(cases_path) if not case_ids or case["id"] in case_ids]
    # the default rules unless asked: what a user who selects nothing is told
    select = ["--select", ",".join(["DBP", *sorted(opt_in_codes(poollint_cmd))])] if opt_in else []
    with ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
        results = list(pool.map(lambda case: score_case(case, list(poollint_cmd), Path(work_dir), select), cases))
    return {
        "families": summarize(results),
        "cases": results,
        "missing": [r["id"] for r in results if r.get("missing")],
        "errors": [r["id"] for r in results if r.get("error")],
    }


def check_locations(work_dir: Path = DEFAULT_OUT, cases_path: Path = DEFAULT_CASES) -> list[str]:
    """Problems with a cases file: a location whose line is not in the function it names."""
    problems = []
    for case in load_cases(cases_path):
        root = Path(work_dir) / case["id"] / "before"
        if not root.is_dir():
            continue
        location = case["location"]
        if not (root / location["path"]).is_file():
            problems.append(f"{case['id']}: no file {location['path']}")
            continue
        if location.get("function"):
            found = FunctionIndex(root).function_at(location["path"], location["line"])
            if found != location["function"]:
                problems.append(f"{case['id']}: line {location['line']} is in {found}, not {location['function']}")
    return problems


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "-"


def render(report: dict) -> str:
    lines = [f"{'case':<42} {'rule':<7} {'kind':<4} {'strict':<6} {'family':<6} {'after':<6} at bug"]
    for r in report["cases"]:
        if r.get("missing") or r.get("error"):
            lines.append(f"{r['id']:<42} {r['rule']:<7} {r['kind'][:4]:<4} "
                         f"{'not extracted' if r.get('missing') else 'error: ' + r['error'][:60]}")
            continue
        yes = {True: "yes", False: "-"}
        lines.append(f"{r['id']:<42} {r['rule']:<7} {r['kind'][:4]:<4} {yes[r['caught_strict']]:<6} "
                     f"{yes[r['caught_family']]:<6} {'silent' if r['after_silent'] else 'FIRES':<6} "
                     f"{','.join(r['codes_at_bug']) or '-'}")
    lines.append("")
    lines.append(f"{'family':<8} {'total':>5} {'strict':>12} {'family':>12} {'after silent':>14}")
    for name, c in report["families"].items():
        total = c["total"]
        lines.append(f"{name:<8} {total:>5} {c['caught_strict']:>4} ({_percent(c['caught_strict'], total):>4}) "
                     f"{c['caught_family']:>4} ({_percent(c['caught_family'], total):>4}) "
                     f"{c['after_silent']:>6} ({_percent(c['after_silent'], total):>4})")
    if report["missing"]:
        lines.append(f"not extracted ({len(report['missing'])}): run benchmarks/bugs/extract.py")
    return "\n".join(lines)


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", dest="cases_file", type=Path, default=DEFAULT_CASES,
                        help="the cases file (default: cases.toml; heldout_cases.toml for the held-out set)")
    parser.add_argument("--poollint", default=f"{sys.executable} -m poollint",
                        help="the poollint executable or command (default: this Python's poollint)")
    parser.add_argument("--work", type=Path, default=DEFAULT_OUT, help="where extract.py wrote the trees")
    parser.add_argument("--parallel", type=int, default=2, help="cases checked at once")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--opt-in", action="store_true",
                        help="also select the opt-in rules (DBP203...); the default is the default rules")
    parser.add_argument("--check", action="store_true",
                        help="only check that each case's line lies in the function it names")
    parser.add_argument("cases", nargs="*", help="case ids (default: all)")
    args = parser.parse_args(argv)
    if args.check:
        problems = check_locations(args.work, args.cases_file)
        print("\n".join(problems) or "locations ok")
        return 1 if problems else 0
    report = score(shlex.split(args.poollint), args.work, args.cases, args.parallel, args.cases_file, args.opt_in)
    print(json.dumps(report, indent=2) if args.json else render(report))
    return 2 if report["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
