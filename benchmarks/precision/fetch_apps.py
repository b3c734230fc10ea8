#!/usr/bin/env python3
"""Fetches the application corpus listed in apps.toml and unpacks it outside the repository.

Usage: python benchmarks/precision/fetch_apps.py [--dir /tmp/poollint-apps] [--mirrors /work/.mirror] [--check-split]

- source = "pypi": `pip download --no-deps` of name==version (the sdist; a wheel when the
  sdist cannot be fetched) into DIR/dl/, unpacked into DIR/src/<dir>/.
- source = "github": `git archive <commit>` of a bare mirror of the repository, looked up as
  MIRRORS/<owner>+<name>/repo (or repo/.git), unpacked into DIR/src/<dir>/. Mirror the
  repository first (the session's `fetch` tool, or `git clone --bare`); the script never
  clones by itself.

Idempotent: a project already unpacked is left alone. The code is third-party: never
commit it. `--check-split` only verifies that every `split` column follows the recorded rule.
"""
from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from fetch_corpus import fresh_partial, unpack  # a sibling script, not an installed module

HERE = Path(__file__).resolve().parent
APPS = HERE / "apps.toml"
DEFAULT_DIR = Path("/tmp/poollint-apps")
DEFAULT_MIRRORS = Path("/work/.mirror")
SPLITS = ("development", "validation")


@dataclass(frozen=True)
class App:
    name: str
    source: str  # "pypi" or "github"
    version: str  # a release, or a commit
    kind: str
    split: str

    @property
    def label_version(self) -> str:
        """What labels carry in their `version` column: the release, or the commit's first 12 digits."""
        return self.version if self.source == "pypi" else self.version[:12]

    @property
    def directory(self) -> str:
        if self.source == "pypi":
            return f"{self.name.lower().replace('-', '_')}-{self.version}"
        return f"{self.name.replace('/', '+')}-{self.version[:12]}"


def split_by_rule(name: str) -> str:
    """The rule the split was drawn with, before any finding was seen."""
    return "validation" if int(hashlib.sha256(name.lower().encode()).hexdigest(), 16) % 3 == 0 else "development"


def load_apps(path: Path = APPS) -> list[App]:
    sys.path.insert(0, str(HERE.parents[1] / "src"))
    from poollint import _toml  # noqa: E402  (tomllib or tomli, as poollint reads TOML)

    apps = []
    for number, table in enumerate(_toml.loads(path.read_text(encoding="utf-8"))["app"], start=1):
        source = table["source"]
        version = table["version"] if source == "pypi" else table["commit"]
        if source not in ("pypi", "github") or table["split"] not in SPLITS:
            raise SystemExit(f"{path}: app #{number} ({table.get('name')}): bad source or split")
        apps.append(App(table["name"], source, version, table["kind"], table["split"]))
    names = [app.name.lower() for app in apps]
    if len(set(names)) != len(names):
        raise SystemExit(f"{path}: a project is listed twice")
    return apps


def _pip(*args: str) -> bool:
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--ignore-requires-python", *args]
    try:
        return subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              timeout=900).returncode == 0
    except subprocess.TimeoutExpired:
        return False


def fetch_pypi(app: App, directory: Path) -> bool:
    pin = f"{app.name}=={app.version}"
    stage = directory / "dl" / app.directory
    stage.mkdir(parents=True, exist_ok=True)
    if not any(stage.iterdir()):
        print(f"fetch  {pin}", flush=True)
        if not _pip("--no-binary", ":all:", pin, "-d", str(stage)):
            for partial in stage.iterdir():
                partial.unlink()
            print("       sdist failed; trying a wheel", flush=True)
            if not _pip("--only-binary", ":all:", pin, "-d", str(stage)):
                print(f"FAILED {pin}", file=sys.stderr)
                return False
    unpack(sorted(stage.iterdir())[0], directory / "src" / app.directory)
    return True


def mirror_of(app: App, mirrors: Path) -> Path | None:
    base = mirrors / app.name.replace("/", "+") / "repo"
    for candidate in (base / ".git", base):
        if (candidate / "HEAD").is_file():
            return candidate
    return None


def fetch_github(app: App, directory: Path, mirrors: Path) -> bool:
    git_dir = mirror_of(app, mirrors)
    if git_dir is None:
        print(f"MISSING mirror of {app.name} under {mirrors} (mirror it first)", file=sys.stderr)
        return False
    dest = directory / "src" / app.directory
    partial = fresh_partial(dest)
    archive = subprocess.run(["git", "--git-dir", str(git_dir), "archive", "--format=tar", app.version],
                             capture_output=True)
    if archive.returncode == 0:
        subprocess.run(["tar", "-x", "-C", str(partial)], input=archive.stdout, check=True)
    elif not write_present_blobs(git_dir, app.version, partial):
        print(f"FAILED {app.name}@{app.version}: {archive.stderr.decode(errors='replace').strip()}", file=sys.stderr)
        return False
    partial.rename(dest)
    return True


def write_present_blobs(git_dir: Path, commit: str, target: Path) -> bool:
    """Writes the commit's files one by one, skipping blobs the mirror lacks.

    Snapshots leave out large files (data, images, archives), which makes `git archive` fail;
    the Python sources poollint reads are small and present."""
    git = ["git", "--git-dir", str(git_dir)]
    listing = subprocess.run([*git, "ls-tree", "-r", "-z", commit], capture_output=True)
    if listing.returncode != 0:
        return False
    entries = []
    for record in listing.stdout.split(b"\0"):
        if not record:
            continue
        meta, path = record.split(b"\t", 1)
        mode, kind, sha = meta.split()
        if kind == b"blob" and mode in (b"100644", b"100755"):
            entries.append((sha.decode(), path.decode("utf-8", "replace")))
    batch = subprocess.Popen([*git, "cat-file", "--batch"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert batch.stdin is not None and batch.stdout is not None
    for sha, path in entries:
        batch.stdin.write(sha.encode() + b"\n")
        batch.stdin.flush()
        header = batch.stdout.readline().split()
        if len(header) < 3 or header[1] == b"missing":
            continue
        content = batch.stdout.read(int(header[2]))
        batch.stdout.read(1)  # the newline after the object
        out = target / path
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(content)
    batch.stdin.close()
    batch.wait()
    return True


def fetch(apps: list[App], directory: Path, mirrors: Path) -> int:
    failed = 0
    for app in apps:
        dest = directory / "src" / app.directory
        if dest.is_dir():
            print(f"have   {app.name} {app.label_version}")
            continue
        ok = fetch_pypi(app, directory) if app.source == "pypi" else fetch_github(app, directory, mirrors)
        if ok:
            print(f"unpack {app.name} {app.label_version} -> {dest}", flush=True)
        failed += not ok
    return failed


def check_split(apps: list[App]) -> int:
    wrong = [app for app in apps if app.split != split_by_rule(app.name)]
    for app in wrong:
        print(f"{app.name}: split says {app.split}, the rule says {split_by_rule(app.name)}", file=sys.stderr)
    counts = {split: sum(app.split == split for app in apps) for split in SPLITS}
    print(f"{len(apps)} applications: {counts['development']} development, {counts['validation']} validation")
    return 1 if wrong else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--mirrors", type=Path, default=DEFAULT_MIRRORS)
    parser.add_argument("--check-split", action="store_true")
    args = parser.parse_args()
    apps = load_apps()
    if args.check_split:
        return check_split(apps)
    return 1 if fetch(apps, args.dir, args.mirrors) else 0


if __name__ == "__main__":
    sys.exit(main())
