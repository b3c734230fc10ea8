#!/usr/bin/env python3
"""Downloads the pinned precision corpus from PyPI and unpacks it outside the repository.

Usage: python benchmarks/precision/fetch_corpus.py [DIR]   (default /tmp/poollint-precision-corpus)

Each pin is fetched with `pip download --no-deps` (the sdist, so tests come too; a wheel
when the sdist cannot be fetched or its metadata cannot be built) into DIR/dl/ and unpacked
into DIR/src/<name>-<version>/. Idempotent. The code is third-party: never commit it.
The bench corpus (../shared/bench/fetch_corpus.sh, /tmp/poollint-bench-corpus/src) is
the second half of the corpus; precision.py reads both.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

# name==version pins; every one talks to a database through a catalog library
PINS = (
    "weblate==5.14.3",          # Django, redis, celery
    "pulpcore==3.123.1",        # Django, psycopg, redis
    "pretalx==2025.2.2",        # Django
    "django-q2==1.11.1",        # Django, redis, pymongo brokers
    "nautobot==3.2.7",          # Django, redis, celery
    "pgqueuer==1.6.0",          # asyncpg, psycopg
    "procrastinate==3.10.0",    # psycopg_pool, Django
    "tortoise-orm==1.1.9",      # asyncpg, aiomysql, transactions
    "aiopg==1.4.0",             # aiopg pools and SQLAlchemy
    "lnbits==1.6.2",            # SQLAlchemy async, transactions
    "dagster==1.13.29",         # SQLAlchemy storages
    "prefect==3.9.1",           # SQLAlchemy async, asyncpg
    "optuna==5.0.0",            # SQLAlchemy, redis storages
    "rq==3.0.0",                # redis
    "arq==0.28.0",              # redis
    "databases==0.9.0",         # asyncpg, aiopg, aiomysql backends
    "prisma==0.15.0",           # Prisma Client Python
    "apache-superset==6.1.0",   # SQLAlchemy engines, redis, celery
)


def _norm(name: str) -> str:
    return name.lower().replace("-", "_")


def _pip(*args: str) -> bool:
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", *args]
    try:
        return subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              timeout=600).returncode == 0
    except subprocess.TimeoutExpired:
        return False


def fresh_partial(dest: Path) -> Path:
    """An empty `<dest>.partial` folder to unpack into, renamed to `dest` when complete."""
    partial = dest.with_name(dest.name + ".partial")
    if partial.exists():
        shutil.rmtree(partial)
    partial.mkdir(parents=True)
    return partial


def unpack(archive: Path, dest: Path) -> None:
    """An sdist (tar or zip) unpacked into `dest`, regular files and folders only."""
    partial = fresh_partial(dest)
    if archive.name.endswith((".tar.gz", ".tgz", ".tar.bz2")):
        with tarfile.open(archive) as tar:
            for member in tar.getmembers():
                if member.isfile() or member.isdir():
                    tar.extract(member, partial)
    else:
        zipfile.ZipFile(archive).extractall(partial)
    partial.rename(dest)


def fetch(directory: Path) -> None:
    for pin in PINS:
        name, version = pin.split("==")
        dest = directory / "src" / f"{_norm(name)}-{version}"
        if dest.is_dir():
            print(f"have   {pin}")
            continue
        stage = directory / "dl" / f"{_norm(name)}-{version}"
        stage.mkdir(parents=True, exist_ok=True)
        if not any(stage.iterdir()):
            print(f"fetch  {pin}", flush=True)
            if not _pip("--no-binary", name, pin, "-d", str(stage)):
                for partial in stage.iterdir():
                    partial.unlink()
                print("       sdist failed; trying a wheel", flush=True)
                if not _pip("--only-binary", ":all:", pin, "-d", str(stage)):
                    print(f"FAILED {pin}", file=sys.stderr)
                    continue
        archive = sorted(stage.iterdir())[0]
        unpack(archive, dest)
        print(f"unpack {pin} -> {dest}", flush=True)


def main() -> int:
    directory = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/poollint-precision-corpus")
    fetch(directory)
    return 0


if __name__ == "__main__":
    sys.exit(main())
