#!/usr/bin/env python3
"""Extracts the before and after trees of every bug case from fetched git mirrors.

Usage: python benchmarks/bugs/extract.py [--cases PATH] [--mirrors DIR] [--out DIR] [CASE_ID ...]

For each case of cases.toml (or of the file --cases names, e.g. heldout_cases.toml), the
tree at `parent_commit` (before the fix) and at `fix_commit` (after it) is written to
OUT/<case>/before/ and OUT/<case>/after/ (default /tmp/poollint-bugs). Only the files
poollint reads are written: Python sources and configuration (TOML, INI, YAML, .env,
schema.prisma, compose and serverless files), each under MAX_BYTES. Blobs a mirror lacks
(large files and LFS content) are skipped.

Mirrors are bare git directories at MIRRORS/<owner>+<name>/repo (the layout the `fetch`
tool writes, default /work/.mirror). The code is third-party: it stays outside the
repository and is never committed. Idempotent: a finished tree is left as it is.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import threading
from pathlib import Path, PurePosixPath
from typing import Iterable, Iterator, Optional

HERE = Path(__file__).resolve().parent
DEFAULT_MIRRORS = Path("/work/.mirror")
DEFAULT_OUT = Path("/tmp/poollint-bugs")
DEFAULT_CASES = HERE / "cases.toml"
MAX_BYTES = 1_000_000
DONE_MARKER = ".extracted"

CONFIG_SUFFIXES = (".py", ".pyi", ".toml", ".ini", ".cfg", ".yml", ".yaml", ".prisma", ".env")
CONFIG_NAMES = ("Dockerfile", "Procfile", "vercel.json", "zappa_settings.json", "netlify.toml")


def load_cases(path: Path = DEFAULT_CASES) -> list[dict]:
    try:
        import tomllib  # Python 3.11+
    except ModuleNotFoundError:  # pragma: no cover - Python 3.9/3.10
        import tomli as tomllib  # type: ignore[no-redef]
    with path.open("rb") as handle:
        return tomllib.load(handle)["case"]


def mirror_dir(mirrors: Path, repo: str) -> Path:
    owner, name = repo.split("/")
    checkout = mirrors / f"{owner}+{name}" / "repo"
    # some snapshots arrive as a work tree with its .git inside rather than a bare directory
    return checkout / ".git" if (checkout / ".git").is_dir() else checkout


def wanted(path: str) -> bool:
    """True for the files poollint reads: Python and deployment configuration."""
    name = PurePosixPath(path).name
    if name.startswith(".env") or name.endswith(CONFIG_SUFFIXES) or name in CONFIG_NAMES:
        return True
    return name.startswith(("Dockerfile", "docker-compose", "compose"))


def _git(git_dir: Path, *args: str, stdin: Optional[bytes] = None) -> bytes:
    return subprocess.run(["git", "--git-dir", str(git_dir), *args], input=stdin,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=True).stdout


def list_blobs(git_dir: Path, commit: str) -> Iterator[tuple[str, str]]:
    """(sha, path) of every wanted blob of the commit's tree under MAX_BYTES."""
    listing = _git(git_dir, "ls-tree", "-r", "-z", "--long", commit)
    for entry in listing.split(b"\0"):
        if not entry:
            continue
        meta, path_bytes = entry.split(b"\t", 1)
        mode, kind, sha, size = meta.decode().split()
        path = path_bytes.decode("utf-8", "surrogateescape")
        # symlinks (120000) and submodules are not files of the project; a blob the
        # mirror lacks has no size ("BAD")
        if kind != "blob" or mode == "120000" or not size.isdigit() or int(size) > MAX_BYTES:
            continue
        if wanted(path):
            yield sha, path


def read_blobs(git_dir: Path, shas: Iterable[str]) -> dict[str, bytes]:
    """Contents by sha; blobs the mirror lacks are left out."""
    order = list(dict.fromkeys(shas))
    if not order:
        return {}
    process = subprocess.Popen(["git", "--git-dir", str(git_dir), "cat-file", "--batch"],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert process.stdin is not None and process.stdout is not None
    requests = "".join(f"{sha}\n" for sha in order).encode()

    def feed() -> None:
        # from a thread: git answers while it reads, and a full pipe would block both sides
        process.stdin.write(requests)
        process.stdin.close()

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    contents: dict[str, bytes] = {}
    for sha in order:
        header = process.stdout.readline().split()
        if len(header) < 3 or header[1] != b"blob":  # "<sha> missing"
            continue
        size = int(header[2])
        contents[sha] = process.stdout.read(size)
        process.stdout.read(1)  # the newline after each object
    feeder.join()
    process.wait()
    return contents


def extract_tree(git_dir: Path, commit: str, dest: Path) -> int:
    """Writes the wanted files of `commit` under dest; returns how many were written."""
    if (dest / DONE_MARKER).exists():
        return -1
    partial = dest.with_name(dest.name + ".partial")
    if partial.exists():
        shutil.rmtree(partial)
    partial.mkdir(parents=True)
    blobs = list(list_blobs(git_dir, commit))
    contents = read_blobs(git_dir, (sha for sha, _ in blobs))
    written = 0
    for sha, path in blobs:
        if sha not in contents or ".." in PurePosixPath(path).parts:
            continue
        target = partial / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(contents[sha])
        written += 1
    (partial / DONE_MARKER).write_text(f"{commit}\n")
    if dest.exists():
        shutil.rmtree(dest)
    partial.rename(dest)
    return written


def extract_case(case: dict, mirrors: Path, out: Path) -> str:
    git_dir = mirror_dir(mirrors, case["repo"])
    if not git_dir.is_dir():
        return f"missing mirror {git_dir} (fetch github:{case['repo']} first)"
    counts = []
    for side, commit in (("before", case["parent_commit"]), ("after", case["fix_commit"])):
        count = extract_tree(git_dir, commit, out / case["id"] / side)
        counts.append("kept" if count < 0 else f"{count} files")
    return f"before {counts[0]}, after {counts[1]}"


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", dest="cases_file", type=Path, default=DEFAULT_CASES,
                        help="the cases file (default: cases.toml; heldout_cases.toml for the held-out set)")
    parser.add_argument("--mirrors", type=Path, default=DEFAULT_MIRRORS)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("cases", nargs="*", help="case ids (default: all)")
    args = parser.parse_args(argv)
    failed = 0
    for case in load_cases(args.cases_file):
        if args.cases and case["id"] not in args.cases:
            continue
        try:
            status = extract_case(case, args.mirrors, args.out)
        except subprocess.CalledProcessError as error:
            status = f"git failed: {error.stderr.decode(errors='replace').strip()}"
        failed += status.startswith(("missing", "git failed"))
        print(f"{case['id']:<40} {status}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
