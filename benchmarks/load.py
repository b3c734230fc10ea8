#!/usr/bin/env python3
"""Issue 22, item 5: a large monorepo, timed cold and warm.

Builds DIR (default /tmp/poollint-load) with 20,000 Python files and 2,000 configuration files
(.env, compose, Kubernetes, schema.prisma, pgbouncer.ini, in 400 services), then times
`poollint check` with an empty cache, again warm, and with --no-cache.

Usage: python benchmarks/load.py [DIR] [--python N] [--configs N] [--jobs N]
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

CONFIGS = {
    ".env": 'DATABASE_URL="postgresql://app:FIXTURE-SECRET@db-{n}.example.com:6543/app"\nREDIS_URL=redis://cache:6379/0\n',
    "docker-compose.yml": ("services:\n  web:\n    image: app\n    command: gunicorn -w 4 app:app\n"
                           "    environment:\n      DATABASE_URL: postgresql://app@db:5432/app\n"
                           "  db:\n    image: postgres:16\n    command: postgres -c max_connections=100\n"),
    "k8s/deploy.yaml": ("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web-{n}\nspec:\n  replicas: 3\n"
                        "  template:\n    spec:\n      containers:\n        - name: web\n          image: app\n"
                        "          env:\n            - name: DATABASE_URL\n"
                        "              value: postgresql://app@db-{n}.example.com:5432/app\n"),
    "prisma/schema.prisma": 'datasource db {{\n  provider = "postgresql"\n  url      = env("DATABASE_URL")\n}}\n',
    "pgbouncer.ini": "[databases]\napp = host=db port=5432\n\n[pgbouncer]\npool_mode = transaction\n",
}
MODULES = (
    "import os\nfrom sqlalchemy import create_engine\n\nengine = create_engine(os.environ['DATABASE_URL'])\n",
    "from service_{s}.db import engine\n\n\ndef handler(event, context):\n    with engine.begin() as conn:\n"
    "        return conn.execute('select 1')\n",
    "def helper_{n}(x):\n    return x * 2\n",
    "import json\n\n\nclass Model{n}:\n    def to_json(self):\n        return json.dumps(self.__dict__)\n",
)


def build(root: Path, python_files: int, config_files: int, services: int) -> None:
    if root.exists():
        shutil.rmtree(root)
    (root / "pyproject.toml").parent.mkdir(parents=True)
    (root / "pyproject.toml").write_text("[project]\nname = 'monorepo'\n")
    (root / ".git").mkdir()
    kinds = list(CONFIGS)
    for service in range(services):
        package = root / f"service_{service}"
        package.mkdir()
        (package / "__init__.py").write_text("")
    for number in range(python_files):
        service = number % services
        path = root / f"service_{service}" / ("db.py" if number < services else f"module_{number}.py")
        template = MODULES[0] if number < services else MODULES[1 + number % 3]
        path.write_text(template.format(s=service, n=number))
    for number in range(config_files):
        service = number % services
        kind = kinds[(number // services) % len(kinds)]
        path = root / f"service_{service}" / kind
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(CONFIGS[kind].format(n=number))


def timed(command: list[str], cwd: Path) -> float:
    started = time.monotonic()
    subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", nargs="?", type=Path, default=Path("/tmp/poollint-load"))
    parser.add_argument("--python", type=int, default=20_000)
    parser.add_argument("--configs", type=int, default=2_000)
    parser.add_argument("--services", type=int, default=400)
    parser.add_argument("--jobs", type=int, default=0)
    args = parser.parse_args()
    build(args.directory, args.python, args.configs, args.services)
    command = [sys.executable, "-m", "poollint", "check", "--exit-zero", "."]
    if args.jobs:
        command[4:4] = ["--jobs", str(args.jobs)]
    cold = timed(command, args.directory)
    warm = timed(command, args.directory)
    uncached = timed([*command[:4], "--no-cache", *command[4:]], args.directory)
    print(f"{args.python} Python + {args.configs} configuration files in {args.directory}")
    print(f"cold {cold:.1f} s, warm {warm:.1f} s, --no-cache {uncached:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
