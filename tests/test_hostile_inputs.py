"""Issue 22: hostile inputs never hang, crash or leak, and the checked tree is not trusted.

Each test names the item it keeps fixed. What could hang runs in a child process with a deadline
and a memory limit, so a regression fails the test instead of the machine.
"""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import poollint
from poollint.cli import main
from poollint.engine.runner import RunOptions, check_paths
from poollint.settings import Settings

PER_CALL = "from prisma import Prisma\n\ndef handler(event, context):\n    return Prisma().x\n"
SRC = str(Path(poollint.__file__).resolve().parent.parent)  # the poollint under test, in the child too
DEADLINE_SECONDS = 60
MEMORY_LIMIT_BYTES = 2 << 30


def _limit_memory() -> None:  # pragma: no cover - runs in the child
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT_BYTES, MEMORY_LIMIT_BYTES))


def _poollint(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    """`poollint ARGS` in a child with a deadline and a memory cap; a hang or a runaway fails here."""
    environment = {**os.environ, "PYTHONPATH": SRC, "PYTHONIOENCODING": "utf-8:strict"}
    try:
        return subprocess.run([sys.executable, "-m", "poollint", *args], cwd=cwd, capture_output=True, text=True,
                              timeout=DEADLINE_SECONDS, env=environment, preexec_fn=_limit_memory)
    except subprocess.TimeoutExpired:
        pytest.fail(f"poollint {' '.join(args)} did not finish in {DEADLINE_SECONDS} s")


def _by_file(output: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in output.splitlines():
        path, _, rest = line.partition(":")
        found.setdefault(path, []).append(rest)
    return found


def _findings(*paths: Path, cache: bool = False) -> list[tuple[str, int, str, str]]:
    result = check_paths(list(paths), Settings(), options=RunOptions(cache=cache, jobs=1))
    return [(f.path, f.line, f.code, f.message) for f in result.findings]


# -- items 1, 2, 3, 5: what used to hang -----------------------------------------------------------
def _alias_bomb(reference: str) -> str:
    """Nine levels of nine aliases: 9^9 strings once expanded, from a few hundred bytes."""
    lines = ['x-lol: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, 9):
        lines.append(f"x-l{level}: &l{level} [" + ",".join([f"*l{level - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n" + reference.replace("BOMB", "*l8") + "\n"


def _plant_hangs(root: Path) -> None:
    (root / "good.py").write_text(PER_CALL)
    (root / "docker-compose.yml").write_text(_alias_bomb("services:\n  web:\n    image: app\n    environment:\n      DATABASE_URL: BOMB"))
    (root / "compose.yaml").write_text(_alias_bomb("services:\n  web:\n    image: BOMB\n    command: BOMB"))
    (root / "k8s").mkdir()
    (root / "k8s" / "web.yaml").write_text(_alias_bomb(
        "apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n"
        "        - name: web\n          args: BOMB"))
    chain = ["A=0123456789"] + [f"{chr(66 + i)}=" + f"${{{chr(65 + i)}}}" * 10 for i in range(20)]
    (root / ".env").write_text("\n".join(chain) + "\nDATABASE_URL=postgresql://db/${U}\n")
    os.mkfifo(root / "fifo.py")
    os.mkfifo(root / ".env.fifo")
    (root / "zero.py").symlink_to("/dev/zero")
    (root / ".env.zero").symlink_to("/dev/zero")
    (root / "pgbouncer.ini").write_text("[databases]\napp = host=db" + " " * 100_000 + "x\n[pgbouncer]\npool_mode = statement\n")
    (root / "vercel.json").write_text(json.dumps({"env": {f"VARIABLE_{i}": f"value {i}" for i in range(5_000)}}))


def test_hangs_become_findings_and_the_run_finishes(tmp_path: Path) -> None:
    """Alias bombs (1), a ${VAR} chain (2), FIFOs and /dev/zero (3), quadratic readers (5): one run, seconds."""
    _plant_hangs(tmp_path)
    started = time.monotonic()
    run = _poollint(tmp_path, "check", "--no-cache", ".")
    elapsed = time.monotonic() - started
    assert run.returncode == 1, run.stderr
    found = _by_file(run.stdout)
    assert any("DBP101" in f for f in found["good.py"])  # one bad file never costs the others' findings
    for name in ("docker-compose.yml", "compose.yaml", "k8s/web.yaml"):
        [finding] = found[name]
        assert finding.endswith(": DBP000 invalid YAML: its aliases expand far beyond the file's size "
                                "(an alias bomb), not read"), name
    assert any("expands to more than 65,536 characters" in f for f in found[".env"])
    assert found["fifo.py"] == ["1:1: DBP000 not a regular file (a FIFO), skipped"]
    assert found[".env.fifo"] == ["1:1: DBP000 not a regular file (a FIFO), skipped"]
    assert found["zero.py"] == ["1:1: DBP000 a symlink to a file outside the project, not followed"]
    assert found[".env.zero"] == ["1:1: DBP000 a symlink to a file outside the project, not followed"]
    assert any("DBP409" in f for f in found["pgbouncer.ini"])
    assert elapsed < 20, f"took {elapsed:.1f} s"


def test_a_device_inside_the_project_is_skipped_not_read(tmp_path: Path) -> None:
    """Item 3: read only regular files; a character device cannot fill memory."""
    from poollint.limits import UnreadableFile, read_bytes

    with pytest.raises(UnreadableFile, match=r"not a regular file \(a character device\)"):
        read_bytes(Path("/dev/zero"), "python")


def test_cache_files_are_not_followed_to_a_device(tmp_path: Path) -> None:
    """Item 3 for cache files: an entry that is a symlink to /dev/zero is a miss, not a memory blow-up."""
    from poollint.engine.cache import ResultCache

    cache = ResultCache(tmp_path)
    key = "ab" + "0" * 62
    entry = tmp_path / ".poollint_cache" / "files" / "ab" / f"{key[2:]}.json"
    entry.parent.mkdir(parents=True)
    entry.symlink_to("/dev/zero")
    assert cache.get(key) is None


def test_a_python_file_too_large_for_libcst_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Item 4: libcst takes hundreds of times a file's size in memory; beyond the cap, DBP000 says so."""
    monkeypatch.setattr("poollint.python.source.MAX_CST_CHARS", 20_000)
    (tmp_path / "good.py").write_text(PER_CALL)
    (tmp_path / "generated.py").write_text(PER_CALL + "VALUE = 1\n" * 3_000)
    found = {(Path(path).name, line, code, message) for path, line, code, message in _findings(tmp_path)}
    assert {(name, line, code) for name, line, code, _ in found} == {("good.py", 4, "DBP101"),
                                                                    ("generated.py", 1, "DBP000")}
    [message] = [message for name, _, _, message in found if name == "generated.py"]
    assert message == "too large to analyze (30 KB; the limit is 20 KB)"


def test_a_file_over_the_read_cap_is_not_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Item 4: every kind has a read cap (here lowered to keep the test fast)."""
    from poollint import limits

    monkeypatch.setitem(limits.MAX_BYTES, "python", 1_000)
    monkeypatch.setitem(limits.MAX_BYTES, "config", 1_000)
    (tmp_path / "big.py").write_text(PER_CALL + "#" * 2_000 + "\n")
    (tmp_path / ".env").write_text("DATABASE_URL=postgres://db/app\n" + "#" * 2_000 + "\n")
    messages = {Path(p).name: m for p, _, code, m in _findings(tmp_path) if code == "DBP000"}
    assert messages == {"big.py": "too large to read (2 KB; the limit is 1 KB)",
                        ".env": "too large to read (2 KB; the limit is 1 KB)"}


@pytest.mark.parametrize("text", [
    "[databases]\napp = host=db" + " " * 100_000 + "x\n",
    "[pgbouncer]\n" + "a" * 100_000 + "\n",
    "[x]\nk=" + " a" * 50_000 + "\n",
])
def test_pgbouncer_reader_is_linear(text: str) -> None:
    """Item 5: a 100 KB line in pgbouncer.ini took 8 s."""
    from poollint.config.pgbouncer import parse_pgbouncer

    started = time.monotonic()
    parse_pgbouncer(text)
    assert time.monotonic() - started < 0.5


def test_vercel_json_with_many_variables_is_linear(tmp_path: Path) -> None:
    """Item 5: 5,000 variables in vercel.json took half a minute (each key looked up in every line)."""
    variables = {f"VARIABLE_{i}": "x" for i in range(5_000)}
    variables["DATABASE_URL"] = "postgresql://app:FIXTURE-SECRET@db.example.com:5432/app"
    (tmp_path / "vercel.json").write_text(json.dumps({"env": variables}, indent=2))
    started = time.monotonic()
    found = _findings(tmp_path)
    assert time.monotonic() - started < 5
    assert {(Path(p).name, line) for p, line, code, _ in found if code == "DBP405"} == {("vercel.json", 5003)}


# -- items 6, 7: malformed YAML scalars and huge numbers ---------------------------------------------
@pytest.mark.parametrize("name, text", [
    ("docker-compose.yml", "services:\n  web:\n    image: app\n    deploy:\n      replicas: !!int abc\n"),
    ("docker-compose.yml", "x-date: 2024-13-45\nservices:\n  web:\n    image: app\n"),
    ("docker-compose.yml", "services:\n  web:\n    image: !!float abc\n    labels: [!!bool maybe]\n"),
    ("docker-compose.yml", "services:\n  web:\n    image: app\n    deploy:\n      replicas: " + "9" * 5_000 + "\n"),
    ("docker-compose.yml", "services:\n  db:\n    image: postgres\n    command: postgres -c max_connections="
     + "9" * 5_000 + "\n"),
    ("gunicorn.conf.py", "workers = " + "9" * 5_000 + "\n"),
    (".env", "DATABASE_URL=postgresql://db:" + "9" * 5_000 + "/app?connection_limit=" + "9" * 5_000 + "\n"),
    (".env", "DATABASE_URL=postgresql://db:5432²/app?connection_limit=²\n"),
])
def test_malformed_scalars_and_huge_numbers_do_not_crash(tmp_path: Path, name: str, text: str,
                                                         capsys: pytest.CaptureFixture,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "good.py").write_text(PER_CALL)
    (tmp_path / name).write_text(text)
    (tmp_path / "app.py").write_text("import os\nfrom sqlalchemy import create_engine\n"
                                     "engine = create_engine(os.environ['DATABASE_URL'])\n")
    monkeypatch.chdir(tmp_path)
    assert main(["check", "--no-cache", "--format", "json", "."]) == 1
    findings = json.loads(capsys.readouterr().out)
    assert {"path": "good.py", "code": "DBP101"} in [{"path": f["path"], "code": f["code"]} for f in findings]
    assert not any("internal error" in f["message"] for f in findings)


# -- item 8: poollint's own configuration ------------------------------------------------------------
@pytest.mark.parametrize("content, message", [
    ('tool = "x"\n', "`tool` must be a table"),
    ('[tool]\npoollint = "x"\n', "[tool.poollint] must be a table"),
    ('[tool.poollint]\nenv-files = ["/etc/*.env"]\n', "`env-files` has `/etc/*.env`"),
    ('[tool.poollint]\nenv-files = ["."]\n', "`env-files` has `.`"),
    ('[tool.poollint]\nenv-files = ["../*.env"]\n', "`env-files` has `../*.env`"),
    ("[tool.poollint]\nx = " + "[" * 3_000 + "]" * 3_000 + "\n", "nested too deeply"),
])
def test_bad_settings_exit_two_naming_the_key(tmp_path: Path, content: str, message: str,
                                              capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pyproject.toml").write_text(content)
    (tmp_path / ".env").write_text("DATABASE_URL=postgres://db/app\n")
    (tmp_path / "app.py").write_text(PER_CALL)
    monkeypatch.chdir(tmp_path)
    assert main(["check", "--no-cache", "--config", "pyproject.toml", "."]) == 2
    assert message in capsys.readouterr().err


def test_bad_settings_in_the_flake8_plugin_are_a_finding_not_a_crash(tmp_path: Path) -> None:
    from poollint.flake8_plugin import PoollintChecker, _settings_for

    (tmp_path / "pyproject.toml").write_text("[tool.poollint]\nx = " + "[" * 3_000 + "]" * 3_000 + "\n")
    (tmp_path / "app.py").write_text(PER_CALL)
    _settings_for.cache_clear()
    checker = PoollintChecker(None, str(tmp_path / "app.py"), PER_CALL.splitlines(keepends=True))
    [(line, _, message, _)] = list(checker.run())
    assert line == 1 and message.startswith("DBP000 poollint configuration error:")
    assert "nested too deeply" in message


# -- item 9: file names that are not UTF-8 -----------------------------------------------------------
@pytest.fixture
def undecodable_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = Path(os.fsdecode(bytes(tmp_path) + b"/caf\xe9.py"))
    path.write_text(PER_CALL)
    monkeypatch.chdir(tmp_path)
    return path


@pytest.mark.parametrize("output_format, shown", [
    ("text", "caf%E9.py:4:12: DBP101"),
    ("json", '"path": "caf%E9.py"'),
    ("sarif", '"uri": "caf%25E9.py"'),  # a URI: `%` itself is escaped
    ("github", "::error file=caf%25E9.py,line=4"),  # GitHub unescapes %25
])
def test_undecodable_file_names_in_every_format(undecodable_name: Path, output_format: str, shown: str,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    stdout = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="strict")
    monkeypatch.setattr(sys, "stdout", stdout)
    assert main(["check", "--no-cache", "--format", output_format, "."]) == 1
    stdout.flush()
    printed = stdout.buffer.getvalue().decode("utf-8")
    assert shown in printed
    if output_format in ("json", "sarif"):
        json.loads(printed)


def test_undecodable_file_names_in_the_baseline(undecodable_name: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["check", "--no-cache", "--write-baseline", "baseline.json", "."]) == 0
    assert json.loads(Path("baseline.json").read_text(encoding="utf-8"))["findings"][0]["path"] == "caf%E9.py"
    assert main(["check", "--no-cache", "--baseline", "baseline.json", "."]) == 0


# -- item 10: writing fixes and baselines ------------------------------------------------------------
FIXABLE = "import os\nfrom sqlalchemy import create_engine\nengine = create_engine(os.environ['DATABASE_URL'])\n"


def test_write_baseline_into_a_missing_directory_exits_two(tmp_path: Path, capsys: pytest.CaptureFixture,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "app.py").write_text(PER_CALL)
    monkeypatch.chdir(tmp_path)
    assert main(["check", "--no-cache", "--write-baseline", "missing/baseline.json", "."]) == 2
    assert "cannot write baseline missing/baseline.json: No such file or directory" in capsys.readouterr().err


def test_write_baseline_on_a_full_disk_keeps_the_old_file(tmp_path: Path, capsys: pytest.CaptureFixture,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "app.py").write_text(PER_CALL)
    (tmp_path / "baseline.json").write_text('{"poollint_baseline": 2, "salt": "x", "findings": []}\n')
    monkeypatch.chdir(tmp_path)
    real_fdopen = os.fdopen

    def full_disk(fd, *args, **kwargs):
        handle = real_fdopen(fd, *args, **kwargs)
        handle.write = lambda data: (_ for _ in ()).throw(OSError(28, "No space left on device"))
        return handle

    monkeypatch.setattr(os, "fdopen", full_disk)
    assert main(["check", "--no-cache", "--write-baseline", "baseline.json", "."]) == 2
    monkeypatch.undo()
    assert "No space left on device" in capsys.readouterr().err
    assert (tmp_path / "baseline.json").read_text() == '{"poollint_baseline": 2, "salt": "x", "findings": []}\n'
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".baseline")] == []


def test_fix_that_cannot_be_written_exits_two_and_keeps_the_file(tmp_path: Path, capsys: pytest.CaptureFixture,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "app.py").write_text(FIXABLE)
    (tmp_path / ".env").write_text('DATABASE_URL="postgres://db.example.com:5432/app"\n')
    monkeypatch.chdir(tmp_path)

    def read_only(path, data):
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr("poollint.engine.fixes.atomic_write", read_only)
    assert main(["check", "--no-cache", "--fix", "."]) == 2
    captured = capsys.readouterr()
    assert "poollint: error: cannot write the fix to .env: Read-only file system" in captured.err
    assert ".env:1:" in captured.out and "DBP408" in captured.out  # what remains is still reported
    assert (tmp_path / ".env").read_text() == 'DATABASE_URL="postgres://db.example.com:5432/app"\n'


# -- items 11, 15, 17: the cache ---------------------------------------------------------------------
def _cache_project(root: Path) -> None:
    (root / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    (root / "app.py").write_text(PER_CALL)
    (root / "jobs.py").write_text("import sqlalchemy\n\nfor _ in range(3):\n    sqlalchemy.create_engine('sqlite://')\n")


def _sealed(name: str, body: str) -> str:
    """An entry whose checksum matches `body`: a checked-in cache can be forged, so what passes the checksum
    must still be checked."""
    from poollint.engine.cache import _ENTRY_HEADER, _checksum

    return f"{_ENTRY_HEADER.decode()}{_checksum(name, body.encode())}\n{body}"


def _body(text: str) -> str:
    return text.partition("\n")[2]


CORRUPTIONS = {
    "deeply nested": lambda name, text: _sealed(name, "[" * 100_000 + "]" * 100_000),
    "wrong types": lambda name, text: _sealed(name, _body(text).replace('"line": ', '"line": "x", "was": ')),
    "no findings": lambda name, text: text.partition("\n")[0] + "\n" + json.dumps({**json.loads(_body(text)), "findings": []}),
    "truncated": lambda name, text: text[: len(text) // 2],
    "not an object": lambda name, text: _sealed(name, "[]"),
}


@pytest.mark.parametrize("corruption", sorted(CORRUPTIONS))
def test_a_damaged_cache_entry_gives_the_uncached_findings(tmp_path: Path, corruption: str,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Item 11: damage is a miss; an entry claiming no findings is not trusted without its checksum."""
    _cache_project(tmp_path)
    monkeypatch.chdir(tmp_path)
    expected = _findings(Path("."), cache=False)
    assert _findings(Path("."), cache=True) == expected
    warm = check_paths([Path(".")], Settings(), options=RunOptions(cache=True, jobs=1))
    assert warm.files_parsed == 0, "a warm run reads every file's results from the cache"
    entries = list((tmp_path / ".poollint_cache" / "files").rglob("*.json"))
    assert entries
    for entry in entries:
        entry.write_text(CORRUPTIONS[corruption](entry.name, entry.read_text()))
    assert _findings(Path("."), cache=True) == expected


def test_a_symlinked_cache_directory_is_not_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Item 15: a `.poollint_cache` link in a checked repository must not make poollint write or delete elsewhere."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    old = elsewhere / "index-0123456789abcdef0123.json"
    old.write_text("{}")
    os.utime(old, (time.time() - 3 * 86_400,) * 2)
    project = tmp_path / "project"
    project.mkdir()
    _cache_project(project)
    (project / ".poollint_cache").symlink_to(elsewhere)
    monkeypatch.chdir(project)
    expected = _findings(Path("."), cache=False)
    assert _findings(Path("."), cache=True) == expected
    assert sorted(p.name for p in elsewhere.iterdir()) == ["index-0123456789abcdef0123.json"]


def test_an_edit_that_keeps_size_and_mtime_is_seen(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Item 17: the project index must not miss a same-size edit whose mtime was put back."""
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").write_text("")
    (tmp_path / "app" / "one.py").write_text("import sqlalchemy\n\nengine = sqlalchemy.create_engine('postgresql://db/app')\n")
    two = tmp_path / "app" / "two.py"
    two.write_text("import sqlalchemy\n\nengine = sqlalchemy.create_enginX('postgresql://db/app')\n")
    monkeypatch.chdir(tmp_path)
    assert not any(code == "DBP103" for _, _, code, _ in _findings(Path("."), cache=True))
    before = two.stat()
    two.write_text("import sqlalchemy\n\nengine = sqlalchemy.create_engine('postgresql://db/app')\n")
    os.utime(two, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert two.stat().st_size == before.st_size and two.stat().st_mtime_ns == before.st_mtime_ns
    expected = _findings(Path("."), cache=False)
    assert any(code == "DBP103" for _, _, code, _ in expected)
    assert _findings(Path("."), cache=True) == expected


# -- item 16: symlinks out of the project ------------------------------------------------------------
def test_a_link_out_of_the_project_is_neither_read_nor_fixed(tmp_path: Path, capsys: pytest.CaptureFixture,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "victim.py").write_text(PER_CALL)
    (outside / ".env").write_text('DATABASE_URL="postgres://db.example.com:5432/app"\n')
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    (project / "app.py").write_text(FIXABLE)
    (project / "linked.py").symlink_to(outside / "victim.py")
    (project / ".env").symlink_to(outside / ".env")
    monkeypatch.chdir(project)
    main(["check", "--no-cache", "--fix", "."])
    out = capsys.readouterr().out
    assert "linked.py:1:1: DBP000 a symlink to a file outside the project, not followed" in out
    assert ".env:1:1: DBP000 a symlink to a file outside the project, not followed" in out
    assert "DBP101" not in out and "DBP408" not in out
    assert (outside / "victim.py").read_text() == PER_CALL
    assert (outside / ".env").read_text() == 'DATABASE_URL="postgres://db.example.com:5432/app"\n'


# -- items 18, 19, 20: wrong answers ------------------------------------------------------------------
def test_a_statement_libcst_refuses_costs_only_that_statement(tmp_path: Path) -> None:
    """Item 18: `(x): int = 1` is valid Python; the file's other findings are still reported."""
    (tmp_path / "app.py").write_text("from prisma import Prisma\n\n(x): int = 1\n\n"
                                     "def handler(event, context):\n    return Prisma().x\n")
    found = sorted((line, code, message) for _, line, code, message in _findings(tmp_path))
    assert found == [
        (3, "DBP000", "syntax not supported by libcst (Python accepts it); this statement is skipped, "
                      "the rest of the file is checked"),
        (6, "DBP101", "`Prisma()` builds a new prisma connection pool on every call of `handler()` "
                      "(a serverless handler)"),
    ]


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="Python 3.12 reads this syntax itself")
def test_newer_syntax_is_checked_by_libcst_not_reported_as_unreadable(tmp_path: Path) -> None:
    """Item 18: on Python 3.11, valid 3.12 syntax (a type alias, PEP 701 f-strings) is not the code's
    fault: `ast` refuses it, libcst reads it, and the rules check the file whole."""
    (tmp_path / "app.py").write_text('from prisma import Prisma\n\ntype Client = Prisma\n\n'
                                     'def handler(event, context):\n    return Prisma().x\n')
    (tmp_path / "names.py").write_text('from prisma import Prisma\n\nprisma = Prisma()\n\n'
                                       'def label(user):\n    return f"{user["name"]}"\n')
    # a replacement field spanning lines: "unterminated string literal" to Python 3.11
    (tmp_path / "lines.py").write_text('from prisma import Prisma\n\ndef handler(event, context):\n'
                                       '    return f"-{\n        Prisma().x\n    }"\n')
    found = sorted((Path(path).name, line, code) for path, line, code, _ in _findings(tmp_path))
    assert found == [("app.py", 6, "DBP101"), ("lines.py", 5, "DBP101")]


@pytest.mark.skipif(sys.version_info >= (3, 14), reason="Python 3.14 reads this syntax itself")
def test_python_314_except_without_parentheses_is_checked_not_reported(tmp_path: Path) -> None:
    """PEP 758: `except A, B:` is valid Python 3.14; on an older Python, libcst reads it and the rules
    check the file whole. A trailing `as` still needs the parentheses, in 3.14 too: a syntax error."""
    (tmp_path / "app.py").write_text('from prisma import Prisma\n\ndef handler(event, context):\n'
                                     '    try:\n        return Prisma().x\n    except ValueError, TypeError:\n'
                                     '        return None\n')
    (tmp_path / "broken.py").write_text('from prisma import Prisma\n\ndef handler(event, context):\n'
                                        '    try:\n        return Prisma().x\n'
                                        '    except ValueError, TypeError as error:\n        return error\n')
    found = sorted((Path(path).name, line, code) for path, line, code, _ in _findings(tmp_path))
    assert found == [("app.py", 5, "DBP101"), ("broken.py", 6, "DBP000")]


@pytest.mark.parametrize("name, shown", [
    ("evil\nother.py:1:1: DBP101 fake.py", "evil%0Aother.py%3A1%3A1%3A DBP101 fake.py"),
    ("a:1:1: b.py", "a%3A1%3A1%3A b.py"),
    ("tab\there.py", "tab%09here.py"),
])
def test_text_output_escapes_file_names(tmp_path: Path, name: str, shown: str, capsys: pytest.CaptureFixture,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Item 19: one line per finding, whatever the file is called."""
    (tmp_path / name).write_text(PER_CALL)
    monkeypatch.chdir(tmp_path)
    assert main(["check", "--no-cache", "."]) == 1
    assert capsys.readouterr().out == (
        f"{shown}:4:12: DBP101 `Prisma()` builds a new prisma connection pool on every call of `handler()` "
        "(a serverless handler)\n")


@pytest.mark.parametrize("separator", ["\x0c", "\u2028", "\x85", "\x1e"])
def test_odd_line_separators_do_not_shift_config_lines(tmp_path: Path, separator: str,
                                                       capsys: pytest.CaptureFixture,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Item 20: a form feed or U+2028 above a finding: its line, its `# noqa` and its fix stay on it."""
    (tmp_path / "app.py").write_text(FIXABLE)
    (tmp_path / ".env").write_text(f"# settings{separator}for production\n"
                                   'DATABASE_URL="postgres://db.example.com:5432/app"\n')
    (tmp_path / "docker-compose.yml").write_text(
        f"# compose{separator}file\nservices:\n  web:\n    image: app\n    environment:\n"
        "      DATABASE_URL: postgres://db.example.com:5432/app  # noqa: DBP408\n")
    monkeypatch.chdir(tmp_path)
    assert main(["check", "--no-cache", "."]) == 1
    assert capsys.readouterr().out == (
        ".env:2:15: DBP408 `DATABASE_URL` uses `postgres://`, which SQLAlchemy 1.4+ rejects "
        "(`Can't load plugin: sqlalchemy.dialects:postgres`)\n")
    assert main(["check", "--no-cache", "--fix", "."]) == 0
    assert capsys.readouterr().out == ""
    assert (tmp_path / ".env").read_text() == (f"# settings{separator}for production\n"
                                               'DATABASE_URL="postgresql://db.example.com:5432/app"\n')


# -- the budgets that keep a future reader from hanging the run ---------------------------------------
def test_a_reader_past_its_time_budget_is_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A reader that never returns (a new parser's quadratic case) costs its file, not the run."""
    from poollint import limits
    from poollint.config import project

    def endless(text: str) -> None:
        while True:
            pass

    monkeypatch.setattr(limits, "CONFIG_SECONDS", 0.2)
    monkeypatch.setattr(project, "parse_pgbouncer", endless)
    (tmp_path / "good.py").write_text(PER_CALL)
    (tmp_path / "pgbouncer.ini").write_text("[pgbouncer]\npool_mode = statement\n")
    started = time.monotonic()
    found = {(Path(p).name, line, code, message) for p, line, code, message in _findings(tmp_path)}
    assert time.monotonic() - started < 10
    assert found == {
        ("good.py", 4, "DBP101", "`Prisma()` builds a new prisma connection pool on every call of `handler()` "
                                 "(a serverless handler)"),
        ("pgbouncer.ini", 1, "DBP000", "took more than 0.2 s to read (poollint's time budget per configuration "
                                       "file), skipped"),
    }


def _worst_cases(limit: int) -> dict[str, str]:
    """For every kind of configuration file, inputs at its size cap shaped against its reader."""
    line = "x" * (limit - 100)
    many = limit // 40
    return {
        ".env": "DATABASE_URL=" + line + "\n",
        ".env.many": "".join(f"KEY_{i}=${{KEY_{i - 1}}}x\n" for i in range(1, many)),
        "docker-compose.yml": "services:\n" + "".join(f"  s{i}:\n    image: i{i}\n" for i in range(many // 2)),
        "compose.yaml": "x: " + "[" * 2_000 + "]" * 2_000 + "\n" + "y: '" + line[:limit // 2] + "'\n",
        "k8s/deployment.yaml": "".join("---\napiVersion: v1\nkind: Pod\n" for _ in range(many // 2)),
        "schema.prisma": "datasource db {\n" + "  // " + line + "\n}\n",
        "pgbouncer.ini": "[databases]\napp = host=db" + " " * (limit - 100) + "x\n",
        "serverless.yml": "provider:\n  environment:\n" + "".join(f"    V{i}: v\n" for i in range(many)),
        "vercel.json": json.dumps({"env": {f"V{i}": "v" for i in range(many)}}, indent=1),
        "netlify.toml": "[build.environment]\n" + "".join(f"V{i} = 'v'\n" for i in range(many)),
        "gunicorn.conf.py": "workers = " + "9" * (limit - 100) + "\n",
    }


@pytest.mark.slow
def test_every_configuration_reader_takes_its_largest_input_within_budget(tmp_path: Path) -> None:
    """Each kind at its read cap, in its reader's worst shape, reads in a fraction of the time budget."""
    import tracemalloc

    from poollint import limits
    from poollint.config.project import DeploymentModel, load_config_file

    cases = {**_worst_cases(limits.MAX_BYTES["config"]),
             **{name: text for name, text in _worst_cases(limits.MAX_BYTES["yaml"]).items()
                if name.endswith((".yml", ".yaml"))}}
    for name, text in cases.items():
        path = tmp_path / name.replace(".many", "")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        started = time.monotonic()
        model = DeploymentModel()
        load_config_file(model, path, name)
        elapsed = time.monotonic() - started
        tracemalloc.start()  # measured apart: tracing slows the reader several times over
        load_config_file(DeploymentModel(), path, name)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert elapsed < limits.CONFIG_SECONDS / 2, (name, elapsed)
        assert peak < 40 * len(text) + 50_000_000, (name, peak)
        assert not any("time budget" in reason for _, _, reason in model.errors), name


@pytest.mark.slow
def test_twenty_thousand_files_cold_and_warm(tmp_path: Path) -> None:
    """Item 5: 20,000 Python and 2,000 configuration files; the warm run comes from the cache."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    try:
        import load
    finally:
        sys.path.pop(0)
    root = tmp_path / "monorepo"
    load.build(root, 20_000, 2_000, 400)
    command = [sys.executable, "-m", "poollint", "check", "--exit-zero", "."]
    cold = load.timed(command, root)
    warm = load.timed(command, root)
    print(f"cold {cold:.1f} s, warm {warm:.1f} s")
    assert warm < cold
