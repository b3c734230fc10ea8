"""The `poollint` command: check, rules, explain."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Optional, Sequence

from poollint import __version__
from poollint.engine.baseline import Baseline, BaselineError, write_baseline
from poollint.engine.findings import Finding, printable
from poollint.engine.runner import RunOptions, check_paths
from poollint.reporters import REPORTERS
from poollint.settings import CODE_PATTERN, Settings, SettingsError, load_settings

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> "NoReturn":  # type: ignore[name-defined]  # noqa: F821
        self.print_usage(sys.stderr)
        self.exit(EXIT_ERROR, f"poollint: error: {message}\n")


def _codes(value: str) -> tuple[str, ...]:
    codes = tuple(c.strip().upper() for c in value.split(",") if c.strip())
    for code in codes:
        if not CODE_PATTERN.match(code):
            raise argparse.ArgumentTypeError(f"`{code}` is not a DBP code or prefix")
    return codes


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"`{value}` is not a positive integer")
    return number


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="poollint", description="Find the code and configuration that exhaust database connection pools.")
    parser.add_argument("--version", action="version", version=f"poollint {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    check = commands.add_parser("check", help="check files and directories (default: .)")
    check.add_argument("paths", nargs="*", type=Path, metavar="PATH")
    check.add_argument("--select", type=_codes, help="comma-separated codes or prefixes to enable (replaces the configured list)")
    check.add_argument("--ignore", type=_codes, help="comma-separated codes or prefixes to disable (added to the configured list)")
    check.add_argument("--format", choices=sorted(REPORTERS), default="text", help="output format (default: text)")
    check.add_argument("--exit-zero", action="store_true", help="exit 0 even when there are findings")
    check.add_argument("--config", type=Path, help="a pyproject.toml to read [tool.poollint] from")
    check.add_argument("--jobs", "-j", type=_positive, metavar="N", help="worker processes (default: one per CPU)")
    check.add_argument("--no-cache", action="store_true", help="ignore and do not write .poollint_cache/")
    # for measuring the screen: parse every Python file, not only those naming a database library
    check.add_argument("--no-screen", action="store_true", help=argparse.SUPPRESS)
    baseline = check.add_mutually_exclusive_group()
    baseline.add_argument("--baseline", type=Path, metavar="FILE",
                          help="report only findings not recorded in this baseline file")
    baseline.add_argument("--write-baseline", type=Path, metavar="FILE",
                          help="record every current finding in FILE and exit 0")
    fixing = check.add_mutually_exclusive_group()
    fixing.add_argument("--fix", action="store_true", help="apply safe autofixes, then report what remains")
    fixing.add_argument("--diff", action="store_true",
                        help="print the safe autofixes as unified diffs without applying them; exit 1 if any")

    budget = commands.add_parser("budget", help="print the deployment's connection budget (see DBP407)")
    budget.add_argument("path", nargs="?", type=Path, default=Path("."), metavar="PATH")
    budget.add_argument("--config", type=Path, help="a pyproject.toml to read [tool.poollint] from")

    commands.add_parser("rules", help="list every rule")
    explain = commands.add_parser("explain", help="show a rule's documentation")
    explain.add_argument("code", metavar="CODE")
    return parser


def _settings_for(args: argparse.Namespace) -> Settings:
    start = args.paths[0] if args.paths else Path.cwd()
    settings = load_settings(start if start.exists() else Path.cwd(), args.config)
    overrides = {}
    if args.select is not None:
        overrides["select"] = args.select
        overrides["extend_select"] = ()
    if args.ignore is not None:
        overrides["ignore"] = settings.ignore + args.ignore
    if overrides:
        from dataclasses import replace

        settings = replace(settings, **overrides)
    return settings


def run_check(args: argparse.Namespace) -> int:
    paths = list(args.paths) or [Path(".")]
    missing = [p for p in paths if not p.exists() and not p.is_symlink()]
    if missing:
        print(f"poollint: error: no such file or directory: {missing[0]}", file=sys.stderr)
        return EXIT_ERROR
    if args.config is not None and not args.config.is_file():
        print(f"poollint: error: no such configuration file: {args.config}", file=sys.stderr)
        return EXIT_ERROR
    settings = _settings_for(args)
    options = RunOptions(screen=not args.no_screen, jobs=args.jobs, cache=not args.no_cache)
    if args.write_baseline is not None and (args.fix or args.diff):
        print("poollint: error: --write-baseline cannot be combined with --fix or --diff", file=sys.stderr)
        return EXIT_ERROR
    result = check_paths(paths, settings, options=options)
    for notice in result.notices:
        print(notice, file=sys.stderr)
    if args.fix or args.diff:
        baseline = Baseline.load(args.baseline) if args.baseline is not None else None
        targets = baseline.new_findings(result.findings) if baseline else result.findings
        if args.diff:
            return _show_fixes(targets, settings, paths)
        fixed, unwritten = _apply_fixes(targets, settings, paths)
        if fixed:
            result = check_paths(paths, settings, options=options)
        if unwritten:
            _write(REPORTERS[args.format](result.findings))
            return EXIT_ERROR
    findings = result.findings
    if args.write_baseline is not None:
        count = write_baseline(args.write_baseline, findings)
        print(f"poollint: recorded {count} finding{'s' if count != 1 else ''} in {printable(str(args.write_baseline))}",
              file=sys.stderr)
        return EXIT_ERROR if result.internal_errors else EXIT_CLEAN
    if args.baseline is not None:
        findings = Baseline.load(args.baseline).new_findings(findings)
    _write(REPORTERS[args.format](findings))
    if result.internal_errors:
        return EXIT_ERROR
    if findings and not args.exit_zero:
        return EXIT_FINDINGS
    return EXIT_CLEAN


def _show_fixes(findings: Sequence[Finding], settings: Settings, paths: Sequence[Path]) -> int:
    from poollint.engine.fixes import fix_findings

    fixes = fix_findings(findings, settings, paths)
    for fix in fixes:
        _write(fix.diff())
    return EXIT_FINDINGS if fixes else EXIT_CLEAN


def _write(text: str) -> None:
    """Output that any terminal accepts: what its encoding cannot show is escaped, never a crash."""
    encoding = getattr(sys.stdout, "encoding", None) or "utf-8"
    sys.stdout.write(text.encode(encoding, "backslashreplace").decode(encoding, "replace"))


def _apply_fixes(findings: Sequence[Finding], settings: Settings, paths: Sequence[Path]) -> tuple[int, int]:
    """Writes every safe fix; returns how many findings they fixed and how many files could not be written.

    A file that cannot be written (read-only, full disk, gone) keeps its old text and is named on
    stderr; the other files are still fixed."""
    from poollint.engine.fixes import fix_findings

    fixes = fix_findings(findings, settings, paths)
    written = []
    for fix in fixes:
        try:
            fix.write()
        except OSError as error:
            print(f"poollint: error: cannot write the fix to {printable(fix.shown)}: {error.strerror or error}",
                  file=sys.stderr)
            continue
        written.append(fix)
    count = sum(len(fix.fixed) for fix in written)
    if count:
        print(f"poollint: fixed {count} finding{'s' if count != 1 else ''} in {len(written)} "
              f"file{'s' if len(written) != 1 else ''}", file=sys.stderr)
    return count, len(fixes) - len(written)


def run_budget(args: argparse.Namespace) -> int:
    """The table behind DBP407: replicas × workers × pool per service against max_connections."""
    from poollint.config.budget import compute_budgets, render_table
    from poollint.engine.configcheck import build_model
    from poollint.engine.files import discover, is_config_file, is_python_file
    from poollint.engine.runner import display_path

    if not args.path.exists():
        print(f"poollint: error: no such file or directory: {args.path}", file=sys.stderr)
        return EXIT_ERROR
    settings = load_settings(args.path if args.path.is_dir() else args.path.parent, args.config)
    files = list(discover([args.path], settings.exclude))
    model = build_model([p for p in files if is_config_file(p)],
                        [p for p in files if is_python_file(p) and not is_config_file(p)], settings, display_path)
    budgets = compute_budgets(model, settings.max_connections, settings.reserved_connections,
                              settings.replicas, settings.workers)
    sys.stdout.write(render_table(budgets))
    return EXIT_FINDINGS if any(b.verdict == "exceeded" for b in budgets) else EXIT_CLEAN


def run_rules() -> int:
    from poollint.rules import ALL_RULES

    width = max(len(rule.name) for rule in ALL_RULES)
    for rule in ALL_RULES:
        flag = "  (opt-in)" if rule.opt_in else ""
        print(f"{rule.code}  {rule.name:<{width}}  {rule.summary()}{flag}")
    return EXIT_CLEAN


def run_explain(code: str) -> int:
    from poollint.rules import RULES_BY_CODE

    rule = RULES_BY_CODE.get(code.upper())
    if rule is None:
        print(f"poollint: error: unknown rule `{code}`; `poollint rules` lists them", file=sys.stderr)
        return EXIT_ERROR
    sys.stdout.write(rule.documentation())
    return EXIT_CLEAN


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "check":
            return run_check(args)
        if args.command == "budget":
            return run_budget(args)
        if args.command == "rules":
            return run_rules()
        if args.command == "explain":
            return run_explain(args.code)
    except (SettingsError, BaselineError) as error:
        print(f"poollint: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:
        return EXIT_CLEAN
    parser.print_help()
    return EXIT_ERROR
