"""A secret of every shape, planted in every kind of input, never reaches an output format, `--diff`,
the cache or the baseline (issue 22, items 12-14)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from poollint.cli import main
from poollint.engine.baseline import fingerprint
from poollint.findings import Finding

SECRET = "FIXTURE-SECRET"

# Every shape of a credential that leaked before (item 12 for messages and baselines, 13 for --diff).
SHAPES = {
    "userinfo": f"postgres://app:{SECRET}@db.example.com:5432/app",
    "password_parameter_with_at": f"postgres://app@db.example.com:5432/app?password={SECRET}@{SECRET}",
    "password_after_first_at": f"postgres://app:{SECRET}@{SECRET}@db.example.com:5432/app",
    "host_missing": f"postgres://app:{SECRET}:5432/app",
    "aws_signature": f"postgres://db.example.com:5432/app?X-Amz-Signature={SECRET}&X-Amz-Credential={SECRET}",
    "short_names": f"postgres://db.example.com:5432/app?sig={SECRET}&key={SECRET}&auth={SECRET}&pass={SECRET}",
    "percent_encoded_name": f"postgres://db.example.com:5432/app?pass%77ord={SECRET}",
    "semicolon": f"postgres://db.example.com:5432/app?sslmode=require;password={SECRET}",
    "fragment": f"postgres://db.example.com:5432/app#password={SECRET}",
    "libpq_sslpassword": f"postgres://db.example.com:5432/app?sslpassword={SECRET}",
    "db_password": f"postgres://db.example.com:5432/app?db_password={SECRET}",
    "access_token": f"postgres://db.example.com:5432/app?access_token={SECRET}",
    "space_in_password": f"postgres://app:{SECRET} {SECRET}@db.example.com:5432/app",
    "quote_in_password": f"postgres://app:{SECRET}'{SECRET}@db.example.com:5432/app",
}

APP = ("import os\nfrom sqlalchemy import create_engine\n\nengine = create_engine(os.environ['DATABASE_URL'])\n"
       "reports = create_engine(os.environ['REPORTS_DATABASE_URL'])\n")
# A fixable line (DBP408) next to the secret: `--diff` prints the secret's line as context.
FIXABLE = 'REPORTS_DATABASE_URL="postgres://reports.example.com:5432/reports"\n'


def _plant(root: Path, url: str) -> None:
    """The URL in every input kind the configuration rules read, and as a Python string."""
    quoted = url.replace("\\", "\\\\").replace('"', '\\"')
    (root / "app.py").write_text(APP)
    (root / ".env").write_text(FIXABLE + f'DATABASE_URL="{quoted}"\n')
    (root / "docker-compose.yml").write_text(
        f"services:\n  web:\n    image: app\n    environment:\n      DATABASE_URL: \"{quoted}\"\n")
    (root / "k8s").mkdir()
    (root / "k8s" / "deployment.yaml").write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n"
        f"      containers:\n        - name: web\n          image: app\n          env:\n"
        f"            - name: DATABASE_URL\n              value: \"{quoted}\"\n")
    (root / "prisma").mkdir()
    (root / "prisma" / "schema.prisma").write_text(
        f'datasource db {{\n  provider = "postgresql"\n  url      = "{quoted}"\n}}\n')
    (root / "pgbouncer.ini").write_text(
        f"[databases]\napp = host=db port=5432 dbname=app password={SECRET}\n\n[pgbouncer]\npool_mode = statement\n")
    (root / "serverless.yml").write_text(
        f"service: app\nprovider:\n  name: aws\n  environment:\n    DATABASE_URL: \"{quoted}\"\n")
    (root / "literal.py").write_text(f'from sqlalchemy import create_engine\n\nengine = create_engine("{quoted}")\n')


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_a_planted_secret_reaches_no_output_and_no_file(shape: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture) -> None:
    _plant(tmp_path, SHAPES[shape])
    monkeypatch.chdir(tmp_path)
    printed = {}
    for output_format in ("text", "json", "sarif", "github"):
        assert main(["check", "--format", output_format, "."]) == 1
        printed[output_format] = capsys.readouterr()
    main(["check", "--diff", "."])
    printed["diff of everything"] = capsys.readouterr()
    # alone with a fixable neighbour, the secret's line is printed as the diff's context
    (tmp_path / "fixable").mkdir()
    (tmp_path / "fixable" / "app.py").write_text(APP)
    (tmp_path / "fixable" / ".env").write_text((tmp_path / ".env").read_text().replace(
        '\nDATABASE_URL="postgres://', '\nDATABASE_URL="postgresql://'))
    assert main(["check", "--diff", "fixable"]) == 1
    printed["diff"] = capsys.readouterr()
    assert main(["check", "--write-baseline", "baseline.json", "."]) == 0
    printed["write-baseline"] = capsys.readouterr()

    assert "DBP408" in printed["text"].out and "+++ b/fixable/.env" in printed["diff"].out  # the lines holding the secret are shown
    for door, captured in printed.items():
        assert SECRET not in captured.out + captured.err, door
    written = [p for p in (tmp_path / ".poollint_cache").rglob("*") if p.is_file()] + [tmp_path / "baseline.json"]
    assert len(written) > 3, "the run wrote its cache"
    for path in written:
        assert SECRET.encode() not in path.read_bytes(), path


def test_mask_text_hides_every_shape() -> None:
    from poollint.config.urls import mask_text

    for shape, url in SHAPES.items():
        assert SECRET not in mask_text(url), shape
        assert SECRET not in mask_text(f'+DATABASE_URL="{url}"  # {shape}\n'), shape


def test_baseline_hashes_do_not_depend_on_the_password(tmp_path: Path) -> None:
    """A committed baseline must not let a weak password be recovered offline: the hash of a line is
    the same whatever its password (it is hashed masked), and keyed with the baseline's salt."""
    finding = Finding("DBP408", "deprecated-scheme", "m", ".env", 1, 1)
    one = fingerprint(finding, ['DATABASE_URL="postgres://app:hunter2@db/app"'], salt="0" * 32)
    other = fingerprint(finding, ['DATABASE_URL="postgres://app:correct-horse@db/app"'], salt="0" * 32)
    salted = fingerprint(finding, ['DATABASE_URL="postgres://app:hunter2@db/app"'], salt="1" * 32)
    assert one == other
    assert salted.line_hash != one.line_hash


def test_two_baselines_of_one_tree_share_no_hash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture) -> None:
    """Salted per file: a table of hashes made for one baseline is useless against another."""
    _plant(tmp_path, SHAPES["userinfo"])
    monkeypatch.chdir(tmp_path)
    assert main(["check", "--no-cache", "--write-baseline", "one.json", "."]) == 0
    assert main(["check", "--no-cache", "--write-baseline", "two.json", "."]) == 0
    capsys.readouterr()
    hashes = [{entry["line_hash"] for entry in json.loads(Path(name).read_text())["findings"]}
              for name in ("one.json", "two.json")]
    assert hashes[0] and hashes[1] and not hashes[0] & hashes[1]
    assert main(["check", "--no-cache", "--baseline", "two.json", "."]) == 0
    # rewriting a baseline keeps its salt, so its diff in review shows only real changes
    before = Path("one.json").read_text()
    assert main(["check", "--no-cache", "--write-baseline", "one.json", "."]) == 0
    assert Path("one.json").read_text() == before
