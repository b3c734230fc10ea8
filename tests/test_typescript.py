"""TypeScript and JavaScript fixtures (one project per directory) announce their findings with `// expect:`."""
from __future__ import annotations

import re
import textwrap
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import FIXTURES, expected_findings, expected_fragments
from poollint.engine.runner import RunOptions, check_paths
from poollint.javascript import JAVASCRIPT_SUFFIXES
from poollint.settings import load_settings

CASES = sorted(p for p in (FIXTURES / "typescript").iterdir() if p.is_dir())
needs_extra = pytest.mark.skipif(
    not __import__("poollint.javascript", fromlist=["is_available"]).is_available(),
    reason="the js extra (tree-sitter) is not installed",
)


def _sources(case: Path) -> list[Path]:
    return sorted(p for p in case.rglob("*") if p.suffix in JAVASCRIPT_SUFFIXES)


def _check(case: Path) -> list:
    return check_paths([case], load_settings(case), options=RunOptions(cache=False, jobs=1)).findings


def _relative(case: Path, finding) -> str:
    return (Path.cwd() / finding.path).resolve().relative_to(case.resolve()).as_posix()


@needs_extra
@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_typescript_findings_match_annotations(case: Path) -> None:
    found = {(_relative(case, f), f.line, f.code) for f in _check(case)}
    expected = {(p.relative_to(case).as_posix(), line, code) for p in _sources(case) for line, code in expected_findings(p)}
    assert found == expected


@needs_extra
@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_typescript_message_fragments(case: Path) -> None:
    findings = _check(case)
    for path in _sources(case):
        relative = path.relative_to(case).as_posix()
        for line, code, fragment in expected_fragments(path):
            messages = [f.message for f in findings if _relative(case, f) == relative and f.line == line and f.code == code]
            assert any(fragment in m for m in messages), (relative, line, code, fragment, messages)


@needs_extra
def test_duplicate_clients_name_each_other_as_related_locations() -> None:
    case = FIXTURES / "typescript" / "DBP103_two_modules"
    related = {_relative(case, f): [(Path(r.path).name, r.line) for r in f.related] for f in _check(case)
               if f.code == "DBP103"}
    assert related == {"src/lib/db.ts": [("worker.ts", 3)], "src/jobs/worker.ts": [("db.ts", 3)]}


@needs_extra
def test_a_run_over_some_files_knows_which_modules_the_others_import() -> None:
    """A pre-commit hook passes the changed files only: the leftover module nothing imports is still not
    counted, and the two the application imports are still each other's duplicates."""
    case = FIXTURES / "typescript" / "DBP103_modules_nothing_imports"
    some = [case / "prisma.ts", case / "src" / "server" / "db.ts", case / "src" / "lib" / "audit.ts"]
    found = {(_relative(case, f), f.code) for f in
             check_paths(some, load_settings(case), options=RunOptions(cache=False, jobs=1)).findings}
    assert found == {("src/server/db.ts", "DBP103"), ("src/lib/audit.ts", "DBP103")}


@needs_extra
def test_build_output_dependencies_and_generated_clients_are_skipped(tmp_path: Path) -> None:
    handler = "import { PrismaClient } from '@prisma/client';\nexport async function GET() { return new PrismaClient(); }\n"
    handler = handler.replace("return new PrismaClient();", "const db = new PrismaClient(); await db.user.count();")
    for folder in ("node_modules/pkg", ".next/server", "dist", "src/generated/prisma", "app"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "route.ts").write_text(handler)
    (tmp_path / "package.json").write_text("{}")
    found = {_relative(tmp_path, f) for f in _check(tmp_path)}
    assert found == {"app/route.ts"}


def _prisma_project(directory: Path) -> None:
    """A Prisma schema and a `.env` whose URL goes through a transaction pooler (DBP402)."""
    (directory / "prisma").mkdir()
    (directory / "prisma" / "schema.prisma").write_text(
        'datasource db {\n  provider = "postgresql"\n  url = env("DATABASE_URL")\n}\n')
    (directory / ".env").write_text(
        'DATABASE_URL="postgresql://app:FIXTURE-SECRET@aws-0-eu.pooler.supabase.com:6543/postgres"\n')


def test_without_the_extra_a_node_project_is_told_once_how_to_enable_it(tmp_path: Path) -> None:
    for name in ("a.ts", "b.ts", "c.js"):
        (tmp_path / name).write_text("import { PrismaClient } from '@prisma/client';\nconst p = new PrismaClient();\n")
    _prisma_project(tmp_path)
    script = (
        "import sys, poollint.javascript as js\n"
        "js.is_available = lambda: False\n"
        "from poollint.cli import main\n"
        "sys.exit(main(['check', '--no-cache', sys.argv[1]]))\n"
    )
    out = subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert out.stderr.count("pip install 'poollint[js]'") == 1, out.stderr
    assert "3 TypeScript/JavaScript files use Prisma" in out.stderr
    assert re.search(r"\.env:1:\d+: DBP402", out.stdout)  # the configuration rules still ran
    assert "FIXTURE-SECRET" not in out.stdout + out.stderr


@needs_extra
def test_code_and_configuration_findings_come_from_one_run(tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text('{"name": "app"}')
    (tmp_path / "app" / "api").mkdir(parents=True)
    (tmp_path / "app" / "api" / "route.ts").write_text(
        "import { PrismaClient } from '@prisma/client';\n"
        "export async function GET() {\n  const db = new PrismaClient();\n  return Response.json(await db.user.count());\n}\n"
    )
    _prisma_project(tmp_path)
    out = subprocess.run([sys.executable, "-m", "poollint", "check", "--no-cache", "."], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 1
    codes = {line.split()[1] for line in out.stdout.splitlines()}
    assert {"DBP101", "DBP402"} <= codes
    assert "app/api/route.ts:3:14: DBP101" in out.stdout
    assert "FIXTURE-SECRET" not in out.stdout


@needs_extra
def test_damaged_and_hostile_files_never_crash_the_run(tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text("{}")
    nested = "const x = " + "[" * 3000 + "]" * 3000 + ";\n"
    chain = "const y = a" + ".b" * 5000 + ";\n"
    files = {
        "binary.ts": b"\x00\xff\xfe new PrismaClient() \x80\x81 $transaction(",
        "latin1.js": "// caf\xe9\nconst p = new PrismaClient();\n".encode("latin-1"),
        "nested.ts": ("import { PrismaClient } from '@prisma/client';\n" + nested + chain
                      + "export function f() { const p = new PrismaClient(); return p.user.count(); }\n").encode(),
        "unclosed.tsx": b"import { PrismaClient } from '@prisma/client';\nexport function GET() { const p = new PrismaClient(\n",
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    found = {(f.path.rsplit("/", 1)[-1], f.code) for f in _check(tmp_path)}
    assert ("nested.ts", "DBP101") in found  # the damaged statements around it do not hide it
    assert not {code for _, code in found} & {"DBP000"}


@needs_extra
def test_a_crash_in_the_typescript_rules_is_reported_once_and_the_run_goes_on(tmp_path: Path, monkeypatch) -> None:
    from poollint.rules.javascript import Judge

    def broken(self, module):
        if module.path.name == "a.ts":
            raise ValueError("boom")
        return Judge.__dict__["_original"](self, module)

    monkeypatch.setattr(Judge, "_original", Judge.judge_transactions, raising=False)
    monkeypatch.setattr(Judge, "judge_transactions", broken)
    (tmp_path / "package.json").write_text("{}")
    handler = "import { PrismaClient } from '@prisma/client';\nexport function f() {\n  const p = new PrismaClient();\n  return p;\n}\n"
    for name in ("a.ts", "b.ts"):
        (tmp_path / name).write_text(handler.replace("return p;", "await p.user.count();"))
    result = check_paths([tmp_path], load_settings(tmp_path), options=RunOptions(cache=False, jobs=1))
    found = sorted((f.path.rsplit("/", 1)[-1], f.code) for f in result.findings)
    assert found == [("a.ts", "DBP000"), ("a.ts", "DBP101"), ("b.ts", "DBP101")]
    assert result.internal_errors == 1


TYPESCRIPT_RULES = [rule for rule in __import__("poollint.rules", fromlist=["ALL_RULES"]).ALL_RULES
                    if rule.example_language == "typescript"]


def _typescript_codes(source: str, tmp_path: Path) -> list[str]:
    """A TypeScript rule's example is one module beside the `./db` module that builds the client."""
    (tmp_path / "package.json").write_text('{"name": "example", "private": true}')
    (tmp_path / "db.ts").write_text('import { PrismaClient } from "@prisma/client";\nexport const prisma = new PrismaClient();\n')
    (tmp_path / "example.ts").write_text(textwrap.dedent(source).strip() + "\n")
    return [f.code for f in check_paths([tmp_path], load_settings(tmp_path), options=RunOptions(cache=False, jobs=1)).findings]


@needs_extra
@pytest.mark.parametrize("rule", TYPESCRIPT_RULES, ids=lambda r: r.code)
def test_typescript_example_raises_exactly_its_code(rule, tmp_path: Path) -> None:
    codes = _typescript_codes(rule.example, tmp_path)
    assert codes and set(codes) == {rule.code}


@needs_extra
@pytest.mark.parametrize("rule", TYPESCRIPT_RULES, ids=lambda r: r.code)
def test_typescript_use_instead_raises_nothing(rule, tmp_path: Path) -> None:
    assert _typescript_codes(rule.use_instead, tmp_path) == []
