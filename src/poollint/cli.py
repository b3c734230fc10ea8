"""The `poollint` command: check, budget, rules, explain, clean."""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Callable, Optional, Sequence, TextIO

from poollint import __version__
from poollint.engine.baseline import Baseline, BaselineError, write_baseline
from poollint.engine.files import collect_less_often
from poollint.findings import Finding, printable
from poollint.engine.runner import RunOptions, RunResult, check_buffer, check_tree
from poollint.reporters import FORMATS, REPORTERS
from poollint.settings import CODE_PATTERN, Settings, SettingsError, SettingsResolver, load_settings

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it

EPILOG = """\
examples:
  poollint check                            check the current directory
  poollint check src/ .env --format json    some paths, as JSON
  poollint check --select DBP4 --statistics  only the configuration rules, counted per rule
  poollint check --output-format full       each finding with its source line and how to fix it
  poollint check - --stdin-filename app/db.py < app/db.py
                                            an editor's unsaved buffer (.env, compose and
                                            schema.prisma buffers too, by their name)
  poollint check --add-noqa                 suppress today's findings where they are
  poollint explain DBP101                   what a rule flags and how to fix it

exit status:
  0    no findings
  1    findings (with --diff: fixes to show)
  2    a usage or configuration error, or an internal error (reported as DBP000)
  130  interrupted (Ctrl-C)
"""

# Progress is drawn on a terminal when this many files are analysed from scratch (a cold run).
PROGRESS_MIN_FILES = 40


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


def _patterns(value: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in value.split(",") if p.strip())


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="poollint", description="Find the code and configuration that exhaust database connection pools.",
                     epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-V", "--version", action="version", version=f"poollint {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    check = commands.add_parser("check", help="check files and directories (default: .)",
                                description="Check files and directories (default: the current directory).",
                                epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    check.add_argument("paths", nargs="*", type=Path, metavar="PATH", help="files and directories; `-` reads standard input")
    check.add_argument("--select", type=_codes, help="comma-separated codes or prefixes to enable (replaces the configured list)")
    check.add_argument("--extend-select", type=_codes, metavar="CODES", help="codes or prefixes to enable in addition to the configured ones")
    check.add_argument("--ignore", type=_codes, help="comma-separated codes or prefixes to disable (added to the configured list); "
                                                     "ignore wins over select at the same length")
    check.add_argument("--exclude", type=_patterns, metavar="PATTERNS",
                       help="comma-separated paths or globs to skip, replacing the configured `exclude`")
    check.add_argument("--extend-exclude", type=_patterns, metavar="PATTERNS", help="paths or globs to skip in addition")
    check.add_argument("--format", "--output-format", dest="format", choices=FORMATS, default="text",
                       help="output format (default: text; full: text with the source line and the fix)")
    check.add_argument("--show-source", action="store_true", help="the same as --output-format full")
    check.add_argument("--statistics", action="store_true", help="print how many findings each rule has, instead of them")
    check.add_argument("--output-file", "-o", type=Path, metavar="FILE", help="write the report to FILE instead of standard output")
    check.add_argument("--stdin-filename", type=Path, metavar="PATH",
                       help="with `-`: the path of the buffer read from standard input; its name decides how it is read "
                            "(.env, compose, schema.prisma or Python)")
    check.add_argument("--add-noqa", action="store_true", help="add a `# noqa: CODE` comment for every finding, then exit 0")
    check.add_argument("--exit-zero", action="store_true", help="exit 0 even when there are findings")
    check.add_argument("--quiet", "-q", action="store_true", help="no summary line and no progress on standard error")
    check.add_argument("--config", type=Path, help="a pyproject.toml or poollint.toml to use for every file, "
                                                   "instead of each file's nearest one")
    check.add_argument("--jobs", "-j", type=_positive, metavar="N", help="worker processes (default: one per CPU)")
    check.add_argument("--no-cache", action="store_true", help="ignore and do not write the cache")
    check.add_argument("--cache-dir", type=Path, metavar="DIR",
                       help="where to keep the cache (default: .poollint_cache/ in the project; or $POOLLINT_CACHE_DIR)")
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

    clean = commands.add_parser("clean", help="remove the cache folders below PATH (and --cache-dir / $POOLLINT_CACHE_DIR)")
    clean.add_argument("path", nargs="?", type=Path, default=Path("."), metavar="PATH")
    clean.add_argument("--cache-dir", type=Path, metavar="DIR", help="a cache folder kept outside the project")

    budget = commands.add_parser("budget", help="print the deployment's connection budget (see DBP407)")
    budget.add_argument("path", nargs="?", type=Path, default=Path("."), metavar="PATH")
    budget.add_argument("--config", type=Path, help="a pyproject.toml to read [tool.poollint] from")

    commands.add_parser("rules", help="list every rule")
    explain = commands.add_parser("explain", help="show a rule's documentation")
    explain.add_argument("code", metavar="CODE")
    return parser


def _command_line_settings(args: argparse.Namespace) -> Callable[[Settings], Settings]:
    """The command line's options over each configuration file's settings."""
    base = Path.cwd()

    def adjust(settings: Settings) -> Settings:
        overrides: dict = {}
        if args.select is not None:
            overrides["select"] = args.select
            overrides["extend_select"] = ()
        if args.extend_select is not None:
            overrides["extend_select"] = overrides.get("extend_select", settings.extend_select) + args.extend_select
        if args.ignore is not None:
            overrides["ignore"] = settings.ignore + args.ignore
        if args.exclude is not None:
            overrides["exclude"] = ()
        patterns = (args.exclude or ()) + (args.extend_exclude or ())
        if patterns:
            overrides["command_line_exclude"] = patterns
            overrides["command_line_base"] = base
        return replace(settings, **overrides) if overrides else settings

    return adjust


def _settings_for(args: argparse.Namespace) -> Settings:
    """The settings of the run's first path (for --fix, --diff and --add-noqa, which act on one project)."""
    start = args.paths[0] if args.paths and str(args.paths[0]) != "-" else Path.cwd()
    resolver = SettingsResolver(args.config, _command_line_settings(args))
    return resolver.for_path(start if start.exists() else Path.cwd())


def _progress(stream: TextIO) -> Callable[[int, int], None]:
    """`poollint: 120/981 files` redrawn in place, at most ten times a second, for cold runs on a terminal."""
    last = [0.0]

    def draw(done: int, total: int) -> None:
        if total < PROGRESS_MIN_FILES:
            return
        now = time.monotonic()
        if done < total and now - last[0] < 0.1:
            return
        last[0] = now
        end = "\r\033[K" if done == total else ""
        stream.write(f"\rpoollint: analysing {done}/{total} files{end}" if done < total else end)
        stream.flush()

    return draw


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


# The codes rules/fixes/ holds a codemod for (a test keeps the two equal): importing the codemods
# means importing libcst, a second of a warm run that parses nothing.
AUTOFIX_CODES = frozenset({"DBP101", "DBP301", "DBP302", "DBP402", "DBP408"})


def _has_autofix(findings: Sequence[Finding]) -> bool:
    """Whether some finding is of a rule with a safe autofix. Counting exactly which ones `--fix` would
    fix means running every fixer and re-checking its file: on a large project that doubles the run."""
    return any(f.code in AUTOFIX_CODES for f in findings)


def _summary(findings: Sequence[Finding], result: RunResult) -> str:
    if not findings:
        return f"poollint: no findings in {_plural(result.files_checked, 'file')}"
    files = len({f.path for f in findings})
    line = f"poollint: {_plural(len(findings), 'finding')} in {_plural(files, 'file')}"
    return line + ("; some rules reported have safe autofixes: see `--diff`" if _has_autofix(findings) else "")


def _run(args: argparse.Namespace, paths: list[Path], options: RunOptions) -> RunResult:
    if _reads_stdin(args):
        named = args.stdin_filename is not None
        path = args.stdin_filename or Path("-")
        resolver = SettingsResolver(args.config, _command_line_settings(args))
        settings = resolver.for_path(path if path.exists() else (path.parent if str(path.parent) else Path.cwd()))
        from poollint.engine.files import discover

        if named and path.exists() and not list(discover([path], settings.is_excluded)):
            return RunResult()  # an excluded file stays excluded when an editor sends its buffer
        data = sys.stdin.buffer.read()
        return check_buffer(path if named else Path("stdin.py"), data, settings, options, named=named)
    return check_tree(paths, SettingsResolver(args.config, _command_line_settings(args)), options)


def _reads_stdin(args: argparse.Namespace) -> bool:
    return any(str(p) == "-" for p in args.paths) or (args.stdin_filename is not None and not args.paths)


def run_check(args: argparse.Namespace) -> int:
    paths = list(args.paths) or [Path(".")]
    stdin = _reads_stdin(args)
    if stdin and len(args.paths) > 1:
        print("poollint: error: `-` (standard input) cannot be combined with other paths", file=sys.stderr)
        return EXIT_ERROR
    if stdin and (args.fix or args.diff or args.add_noqa or args.write_baseline is not None):
        print("poollint: error: standard input cannot be fixed, given noqa comments or baselined", file=sys.stderr)
        return EXIT_ERROR
    missing = [p for p in paths if not stdin and not p.exists() and not p.is_symlink()]
    if missing:
        print(f"poollint: error: no such file or directory: {missing[0]}", file=sys.stderr)
        return EXIT_ERROR
    if args.config is not None and not args.config.is_file():
        print(f"poollint: error: no such configuration file: {args.config}", file=sys.stderr)
        return EXIT_ERROR
    if args.write_baseline is not None and (args.fix or args.diff):
        print("poollint: error: --write-baseline cannot be combined with --fix or --diff", file=sys.stderr)
        return EXIT_ERROR
    if args.cache_dir is None:
        return _check(args, paths, stdin)
    from poollint.engine.cache import CACHE_DIR_VARIABLE

    # the cache's readers (the index pass, the result cache, worker processes) all read the variable;
    # restored afterwards for a process that goes on (an editor, a test)
    previous = os.environ.get(CACHE_DIR_VARIABLE)
    os.environ[CACHE_DIR_VARIABLE] = os.path.abspath(args.cache_dir)
    try:
        return _check(args, paths, stdin)
    finally:
        if previous is None:
            del os.environ[CACHE_DIR_VARIABLE]
        else:
            os.environ[CACHE_DIR_VARIABLE] = previous


def _check(args: argparse.Namespace, paths: list[Path], stdin: bool) -> int:
    show_progress = not args.quiet and sys.stderr.isatty()
    options = RunOptions(screen=not args.no_screen, jobs=args.jobs, cache=not args.no_cache,
                         progress=_progress(sys.stderr) if show_progress else None)
    result = _run(args, paths, options)
    for notice in result.notices:
        print(notice, file=sys.stderr)
    for warning in result.warnings:
        print(warning, file=sys.stderr)
    settings = _settings_for(args) if (args.fix or args.diff or not stdin) else None
    if args.fix or args.diff:
        assert settings is not None
        baseline = Baseline.load(args.baseline) if args.baseline is not None else None
        targets = baseline.new_findings(result.findings) if baseline else result.findings
        if args.diff:
            return _show_fixes(targets, settings, paths)
        fixed, unwritten = _apply_fixes(targets, settings, paths)
        if fixed:
            result = _run(args, paths, replace(options, progress=None))
        if unwritten:
            _report(args, result.findings)
            return EXIT_ERROR
    findings = result.findings
    if args.write_baseline is not None:
        count = write_baseline(args.write_baseline, findings)
        print(f"poollint: recorded {count} finding{'s' if count != 1 else ''} in {printable(str(args.write_baseline))}",
              file=sys.stderr)
        return EXIT_ERROR if result.internal_errors else EXIT_CLEAN
    if args.baseline is not None:
        findings = Baseline.load(args.baseline).new_findings(findings)
    if args.add_noqa:
        return _add_noqa(findings)
    _report(args, findings)
    if not args.quiet:
        print(_summary(findings, result), file=sys.stderr)
    if result.internal_errors:
        return EXIT_ERROR
    if findings and not args.exit_zero:
        return EXIT_FINDINGS
    return EXIT_CLEAN


def _report(args: argparse.Namespace, findings: Sequence[Finding]) -> None:
    if args.statistics:
        from poollint.reporters.text import render_statistics

        report = render_statistics(findings)
    else:
        report = REPORTERS["full" if args.show_source and args.format == "text" else args.format](findings)
    if args.output_file is not None:
        args.output_file.parent.mkdir(parents=True, exist_ok=True)
        args.output_file.write_text(report, encoding="utf-8")
    else:
        _write(report)
        sys.stdout.flush()
    if args.format == "github":
        _github_job_summary(findings)


def _github_job_summary(findings: Sequence[Finding]) -> None:
    """GitHub shows ten annotations per step: beyond that, every finding goes to the job summary."""
    from poollint.reporters.github import ANNOTATIONS_SHOWN, job_summary

    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if len(findings) <= ANNOTATIONS_SHOWN or not summary:
        return
    with open(summary, "a", encoding="utf-8") as handle:
        handle.write(job_summary(findings))
    print(f"::notice title=poollint::{len(findings)} findings; GitHub annotates {ANNOTATIONS_SHOWN}, "
          f"the job summary lists them all")


def _add_noqa(findings: Sequence[Finding]) -> int:
    from poollint.engine.noqa import add_noqa

    outcome = add_noqa(findings)
    for skipped in outcome.skipped:
        print(f"{skipped}", file=sys.stderr)
    print(f"poollint: added {_plural(outcome.added, 'noqa comment')} in {_plural(outcome.files, 'file')}",
          file=sys.stderr)
    return EXIT_CLEAN


def run_clean(args: argparse.Namespace) -> int:
    """Removes `.poollint_cache/` folders below the path (not inside virtual environments and the like),
    and the cache folder of `--cache-dir` / `$POOLLINT_CACHE_DIR`."""
    from poollint.engine.cache import CACHE_DIR_NAME, CACHE_DIR_VARIABLE
    from poollint.engine.files import is_built_in_excluded

    if not args.path.is_dir():
        print(f"poollint: error: no such directory: {args.path}", file=sys.stderr)
        return EXIT_ERROR
    found: list[Path] = []
    for directory, dirnames, _ in os.walk(args.path):
        if CACHE_DIR_NAME in dirnames:
            found.append(Path(directory) / CACHE_DIR_NAME)
        dirnames[:] = [d for d in dirnames if not is_built_in_excluded(d)]
    configured = args.cache_dir or (Path(os.environ[CACHE_DIR_VARIABLE]) if os.environ.get(CACHE_DIR_VARIABLE) else None)
    if configured is not None and configured.is_dir():
        found.append(configured)
    for folder in found:
        shutil.rmtree(folder, ignore_errors=True)
        print(f"poollint: removed {folder.as_posix()}", file=sys.stderr)
    if not found:
        print("poollint: no cache to remove", file=sys.stderr)
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
    from poollint.paths import display_path

    if not args.path.exists():
        print(f"poollint: error: no such file or directory: {args.path}", file=sys.stderr)
        return EXIT_ERROR
    settings = load_settings(args.path if args.path.is_dir() else args.path.parent, args.config)
    files = list(discover([args.path], settings.is_excluded))
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
    try:
        return _main(argv)
    except KeyboardInterrupt:
        # one line, not a traceback (the worker processes ignore the signal and are stopped by their pool)
        print("\npoollint: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def _main(argv: Optional[Sequence[str]]) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "check":
            collect_less_often()
            return run_check(args)
        if args.command == "clean":
            return run_clean(args)
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
