#!/usr/bin/env python3
"""Strict precision by where a finding's code runs: DBP201/DBP202 (the function that holds the connection)
and DBP304 (the function that opens it), on the development applications of every sample.

Usage: python benchmarks/precision/contexts.py [--codes DBP201,DBP202,DBP304] [--list]

Each finding's function is sorted by the role poollint gives it (roles.FunctionRole: a request handler, a
task, paced code, run-once code) and, when it has no per-call role of its own, by whether a chain of
project callers at most four deep (in its module and in the modules that import it, as the rules place
callers) reaches a function with one: "reached from a request handler", or "no per-call caller shown".
Then each group's tp/debatable/fp and strict precision, against the samples' verdicts. It asks whether
a structural context separates the true findings from the debatable ones (which the triage counts as
false), before a rule is narrowed to that context.

Runs poollint in this process on each tree (unpacked from its mirror into /tmp/<sample>/, as subset.py
does), the rules' `report` wrapped to note the function, and counts what the run reports of it (not what
the engine drops afterwards: code nothing calls, `# noqa`); only development applications: validation
findings are not to be looked at one by one (README.md, "The split").
"""
from __future__ import annotations

import argparse
import os
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Optional

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from heldout import unpack  # noqa: E402  (sibling scripts, not installed modules)
from subset import applications, verdicts  # noqa: E402

import libcst as cst  # noqa: E402

from poollint.engine.runner import RunOptions, check_paths  # noqa: E402
from poollint.python.cst.roles import function_role  # noqa: E402
from poollint.python.cst.walk import visit as cst_visit  # noqa: E402
from poollint.rules import client_flow, holding, release  # noqa: E402
from poollint.rules.base import FileRule  # noqa: E402
from poollint.settings import load_settings  # noqa: E402

RULES = {"DBP201": holding.ExternalCallInTransaction, "DBP202": holding.ExternalCallWhileHoldingConnection,
         "DBP304": release.CheckoutNotReleased}


# the function has no use the rules can place as a call (a project decorator registers it, a star import
# brings it in): the engine keeps its findings, since something names it
NO_PLACED_CALLER = "no caller the rules place"


def _reached_per_call(context: Any, function: cst.FunctionDef, klass: Optional[cst.ClassDef], depth: int,
                      seen: set[int]) -> str:
    """The per-call role of the function or of the first caller found up a chain of project callers, "" when
    none is found, or NO_PLACED_CALLER for a function (depth 0) without any use placed as a call. Callers are
    placed as client_flow places them for the run-once question (its private helpers: this is the same walk,
    asked whether some chain, not every one, starts per call)."""
    if id(function) in seen:
        return ""
    seen.add(id(function))
    role = function_role(context, function, klass)
    if role.per_call or depth > 3:
        return role.per_call
    name = function.name.value
    if klass is not None and name == "__init__":
        uses, elsewhere = client_flow._constructor_uses(context, klass, depth)
    else:
        references = client_flow._References(name) if klass is None else client_flow._MethodReferences(name)
        cst_visit(context.module, references)
        uses = [(context, caller) for caller in references.callers]
        elsewhere = client_flow._uses_in_importers(context, name, klass)
    if depth == 0 and not uses and elsewhere is not None and not elsewhere:
        return NO_PLACED_CALLER
    for where, caller in (*uses, *(elsewhere or [])):
        if caller is None or caller[0] is client_flow.AT_IMPORT_SCOPE or caller[0] is function:
            continue
        found = _reached_per_call(where, caller[0], caller[1], depth + 1, seen)
        if found:
            return found
    return ""


def _function_at(context: Any, line: int) -> Optional[tuple[cst.FunctionDef, Optional[cst.ClassDef]]]:
    """The module function or module-level class's method whose lines hold `line` (for a nested function,
    the one it is nested in: what runs it decides how often it runs)."""
    positions = context._positions()
    for top in context.module.body:
        members = [(top, None)] if isinstance(top, cst.FunctionDef) else [
            (member, top) for member in (top.body.body if isinstance(top, cst.ClassDef)
                                         and isinstance(top.body, cst.IndentedBlock) else ())
            if isinstance(member, cst.FunctionDef)]
        for function, klass in members:
            span = positions[function]
            if span.start.line <= line <= span.end.line:
                return function, klass
    return None


def _context_of(rule: FileRule, line: int) -> str:
    found = _function_at(rule.context, line)
    if found is None:
        return "module scope"
    function, klass = found
    role = function_role(rule.context, function, klass)
    if role.per_call:
        return role.per_call
    if role.runs_once:
        return "run-once code"
    if role.paced:
        return "paced code"
    reached = _reached_per_call(rule.context, function, klass, 0, set())
    if reached == NO_PLACED_CALLER:
        return reached
    return f"reached from {reached}" if reached else "no per-call caller shown"


def _relative(path: str) -> str:
    return path[2:] if path.startswith("./") else path


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--codes", default="DBP201,DBP202,DBP304")
    parser.add_argument("--list", action="store_true", help="print each finding with its verdict and context")
    parser.add_argument("--mirrors", type=Path, default=Path("/work/.mirror"))
    args = parser.parse_args(argv)
    codes = [code for code in args.codes.split(",") if code]
    noted: list[tuple[str, str, int, str]] = []

    def noting(rule_class: type) -> None:
        def report(self: FileRule, node: cst.CSTNode, **fields: Any) -> None:
            FileRule.report(self, node, **fields)
            finding = self.findings[-1]
            noted.append((finding.code, finding.path, finding.line, _context_of(self, finding.line)))
        rule_class.report = report

    for code in codes:
        noting(RULES[code])
    known = verdicts()
    table: dict[tuple[str, str], Counter] = defaultdict(Counter)
    for sample, repo, commit, part in applications(set(codes), ""):
        if part != "development":
            continue
        tree = unpack(args.mirrors, Path("/tmp") / sample, repo, commit)
        noted.clear()
        here = os.getcwd()
        os.chdir(tree)
        try:
            result = check_paths([Path(".")], load_settings(Path(".")), options=RunOptions(cache=False, jobs=1))
        finally:
            os.chdir(here)
        # what the run reports: the engine drops some of what rules report (code nothing calls, noqa)
        kept = {(finding.code, _relative(finding.path), finding.line) for finding in result.findings}
        for code, path, line, where in dict.fromkeys(noted):
            path = _relative(path)
            if (code, path, line) not in kept:
                continue
            verdict = known.get((sample, repo, path, line, code), "new")
            table[(code, where)][verdict] += 1
            if args.list:
                print(verdict, code, repo, f"{path}:{line}", where, sep="\t")
    print(f"{'rule':7} {'context':45} {'n':>4} {'tp':>4} {'deb':>4} {'fp':>4} {'new':>4} strict")
    for (code, where), counts in sorted(table.items(), key=lambda item: (item[0][0], -sum(item[1].values()))):
        total = sum(counts.values())
        print(f"{code:7} {where:45} {total:4} {counts['tp']:4} {counts['debatable']:4} {counts['fp']:4} "
              f"{counts['new']:4} {counts['tp'] / total:6.0%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
