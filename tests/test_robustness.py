"""Hostile input never crashes the run: every problem is a DBP000 with its reason, and other files still run."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from poollint.cli import main
from poollint.engine.runner import RunOptions, check_paths
from poollint.settings import Settings

PER_CALL = b"from prisma import Prisma\n\ndef handler(event, context):\n    return Prisma().x\n"


def _run(*paths: Path) -> list[tuple[str, int, str, str]]:
    result = check_paths(list(paths), Settings(), options=RunOptions(cache=False, jobs=1))
    return [(Path(f.path).name, f.line, f.code, f.message) for f in result.findings]


@pytest.fixture
def good(tmp_path: Path) -> Path:
    path = tmp_path / "good.py"
    path.write_bytes(PER_CALL)
    return path


def _codes(findings) -> list[tuple[str, int, str]]:
    return [(name, line, code) for name, line, code, _ in findings]


@pytest.mark.parametrize("source, line, reason", [
    (b"import sqlalchemy\nprint 'python 2'\n", 2, "syntax error"),
    (b"import sqlalchemy\ndef f(:\n  pass\n", 2, "syntax error"),
    (b"import sqlalchemy\nx = b'\xff\xfe\xfa'\n", 2, "cannot decode as utf-8"),
    (b"import sqlalchemy\nx = 1\x00\n", 2, "null byte"),
    (b"import sqlalchemy\nx = " + b"(" * 10_000 + b"1" + b")" * 10_000 + b"\n", 2, "too many nested parentheses"),
    (b"import sqlalchemy\nx = " + b"-" * 100_000 + b"1\n", 1, "too deeply nested"),
    (b"import sqlalchemy\nif True:\n\tx = 1\n        y = 2\n", 4, "syntax error"),
    (b"# -*- coding: klingon -*-\nimport sqlalchemy\n", 1, "cannot decode"),
])
def test_bad_file_is_reported_and_the_run_goes_on(tmp_path: Path, good: Path, source: bytes, line: int, reason: str) -> None:
    bad = tmp_path / "bad.py"
    bad.write_bytes(source)
    findings = _run(tmp_path)
    assert ("good.py", 4, "DBP101") in _codes(findings)
    [(name, found_line, code, message)] = [f for f in findings if f[0] == "bad.py"]
    assert (found_line, code) == (line, "DBP000")
    assert reason in message


@pytest.mark.parametrize("source, line", [
    (b"\xef\xbb\xbf" + PER_CALL, 4),  # BOM
    (PER_CALL.replace(b"\n", b"\r\n"), 4),
    (PER_CALL.replace(b"\n", b"\r"), 4),
    (b"\x0c" + PER_CALL, 4),  # form feed
    (b"# -*- coding: latin-1 -*-\n# caf\xe9\n" + PER_CALL, 6),
])
def test_unusual_but_valid_files(tmp_path: Path, source: bytes, line: int) -> None:
    path = tmp_path / "app.py"
    path.write_bytes(source)
    assert _codes(_run(path)) == [("app.py", line, "DBP101")]


def test_empty_file(tmp_path: Path) -> None:
    (tmp_path / "empty.py").write_bytes(b"")
    assert _run(tmp_path) == []


def test_huge_file_without_database_code_is_cheap(tmp_path: Path, good: Path) -> None:
    from poollint.limits import MAX_AST_BYTES, MAX_BYTES

    # above what `ast` is given, below what is read: only the byte screen sees it
    data = b"# " + b"x" * 98 + b"\n" * 1 + (b"y = 1\n" * 1_500_000)
    assert MAX_AST_BYTES < len(data) < MAX_BYTES["python"]
    (tmp_path / "huge.py").write_bytes(data)
    assert _codes(_run(tmp_path)) == [("good.py", 4, "DBP101")]


def test_symlinks_directories_named_like_files_and_unreadable_files(tmp_path: Path, good: Path) -> None:
    (tmp_path / "dangling.py").symlink_to(tmp_path / "missing.py")
    (tmp_path / "x.py").mkdir()
    (tmp_path / "x.py" / "inner.py").write_bytes(PER_CALL)
    (tmp_path / "loop.py").symlink_to(tmp_path / "loop.py")
    findings = _run(tmp_path)
    assert ("good.py", 4, "DBP101") in _codes(findings)
    assert ("inner.py", 4, "DBP101") in _codes(findings)
    reported = {name: message for name, _, code, message in findings if code == "DBP000"}
    assert set(reported) == {"dangling.py", "loop.py"}
    assert all(message.startswith("cannot read") for message in reported.values())


@pytest.mark.skipif(os.geteuid() == 0 if hasattr(os, "geteuid") else True, reason="root reads any file")
def test_unreadable_file(tmp_path: Path, good: Path) -> None:
    secret = tmp_path / "secret.py"
    secret.write_bytes(PER_CALL)
    secret.chmod(0)
    try:
        findings = _run(tmp_path)
    finally:
        secret.chmod(0o644)
    assert [f[2] for f in findings if f[0] == "secret.py"] == ["DBP000"]


def test_a_crashing_rule_is_reported_with_exit_two(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture) -> None:
    from poollint.rules.creation import ClientInLoop

    def explode(self, node):
        raise ValueError("boom")

    monkeypatch.setattr(ClientInLoop, "visit_Call", explode)
    (tmp_path / "app.py").write_bytes(PER_CALL)
    monkeypatch.chdir(tmp_path)
    assert main(["check", "--no-cache", "app.py"]) == 2
    out = capsys.readouterr().out
    assert "app.py:4:12: DBP101" in out  # the other rules still ran
    assert "DBP000 internal error in DBP102 client-in-loop: ValueError: boom" in out


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_paths_resolve_through_linked_folders_and_linked_files(tmp_path: Path) -> None:
    """Paths are resolved folder by folder (paths.resolved); a link anywhere on the way, or the file
    itself being one, still leads to the real file, as `Path.resolve()` does; and the symlink check
    sees a file below a linked folder that points out of the project."""
    from poollint.limits import escapes
    from poollint.paths import resolved

    real = tmp_path / "real" / "pkg"
    real.mkdir(parents=True)
    (real / "db.py").write_text("x = 1\n")
    project = tmp_path / "project"
    project.mkdir()
    (project / "linked").symlink_to(real, target_is_directory=True)
    (project / "alias.py").symlink_to(real / "db.py")
    (project / "own.py").write_text("y = 2\n")
    for path in (project / "linked" / "db.py", project / "alias.py", project / "own.py",
                 project / "linked" / ".." / "own.py"):
        assert resolved(path) == path.resolve(), path
    assert escapes(project / "linked" / "db.py", project)
    assert escapes(project / "alias.py", project)
    assert not escapes(project / "own.py", project)
    assert not escapes(real / "db.py", project)  # named outside the project: the user asked for it
