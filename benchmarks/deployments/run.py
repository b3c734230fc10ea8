#!/usr/bin/env python3
"""Configuration findings on real repositories' deployment files, before and after.

Usage: python benchmarks/deployments/run.py [--poollint BIN] [--label NAME] [--out DIR]

Each repository is read at a pinned commit from its mirror (`fetch` puts them under
/work/.mirror/<owner>+<name>/repo) and only the files poollint reads are extracted into
OUT/src/<repo> (default /tmp/poollint-deployments): never commit them. Where a project
commits only `.env.example`, a filled-in `.env` is generated next to it in OUT/src, the
way the project's README tells a developer to make one (copy, then fill in the blanks);
the values below are what those docs and the hosting providers' dashboards give.
Findings (DBP4xx and DBP000 on configuration files) go to OUT/findings-<label>.json and a
per-repository count is printed. benchmarks/deployments/triage.csv holds the verdicts.
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

MIRRORS = Path("/work/.mirror")

# (display name, mirror folder, commit): Node/TypeScript Prisma projects, then Python deployments
REPOS = (
    ("documenso", "documenso+documenso", "75330166cc00b29c14399bc2e391e4b4d8080c00"),
    ("umami", "umami-software+umami", "c0ea3aefbee7a3429ee2f824b06dc4a9dbe0b7e1"),
    ("dub", "dubinc+dub", "1de955f782a72e1eff7b201ae54a909d5ceb5722"),
    ("formbricks", "formbricks+formbricks", "b66c1dd978af618a0e402bd3343b456bed68594c"),
    ("papermark", "mfts+papermark", "7ff2e657ed09b56f0afcc863a5db52d0debd2e6a"),
    ("trigger.dev", "triggerdotdev+trigger.dev", "b082e44389337dc6505d590737a6df70867cc8f4"),
    ("hoppscotch", "hoppscotch+hoppscotch", "afc2cf181c16e56647b099e5d18cfe55710c6cdd"),
    ("create-t3-app", "t3-oss+create-t3-app", "c74237d63769b0d66d6e73141d107328ed512fd6"),
    ("rallly", "lukevella+rallly", "c629b3148024e40a115a731d3660d725c9329b0e"),
    ("inbox-zero", "elie222+inbox-zero", "4f70dcefc55c65f2664ec27a19e118003138fb5f"),
    ("full-stack-fastapi-template", "fastapi+full-stack-fastapi-template", "68adb40d37425f6f8668ec7e5a054500d045e43e"),
    ("netbox-docker", "netbox-community+netbox-docker", "27bf52cf3ea882324273fbabbf23f0af6a194f12"),
    ("docker-zulip", "zulip+docker-zulip", "3a592adee9e0f6d65fdb580934ce44fd63a5c6cb"),
    ("mealie", "mealie-recipes+mealie", "b5643a9399465d8b4ea339e7a6639df2d697741b"),
    ("serverless-examples", "serverless+examples", "22865199326008b9f863cb1ad28bfdddae9a7473"),
    ("fastapi-realworld", "nsidnev+fastapi-realworld-example-app", "029eb7781c60d5f563ee8990a0cbfb79b244538c"),
    ("romm", "rommapp+romm", "57badfd62664c8db211294761489f61470c74ce6"),
    ("healthchecks", "healthchecks+healthchecks", "29b5ec251059034b79e0120e2ff0c3e35d7bd9f8"),
    ("dispatch", "Netflix+dispatch", "dd2837e82a0bf5565b1b4b4b91ea30b7262d4061"),
    ("polar", "polarsource+polar", "c6c3645e639ee8eeaa05aa0835cf8e39e330382f"),
)

# The files poollint reads, and what it looks at around them (package.json, Chart.yaml, Next.js config).
WANTED = re.compile(
    r"(\.py|\.prisma|\.ya?ml|\.ini|\.toml|/\.env[^/]*|\.env|/(?:vercel|zappa_settings|package)\.json"
    r"|/(?:prisma|next)\.config\.(?:ts|js|mjs|cjs|mts))$"
)
SKIPPED_DIRS = re.compile(r"(^|/)(node_modules|\.git|dist|build|vendor|site-packages)/")

# Filled-in `.env` files, as each project's README says to make them: copy the example, then set
# the database URL the docs show. `{example}` is the committed template the copy starts from.
FILLED = {
    # documenso README "Manual setup": cp .env.example .env; a Supabase project's pooled and direct URLs
    "documenso": (".env.example", {
        "NEXT_PRIVATE_DATABASE_URL": "postgresql://postgres.abcdefghij:FIXTURE-SECRET@aws-0-eu-central-1.pooler.supabase.com:6543/postgres",
        "NEXT_PRIVATE_DIRECT_DATABASE_URL": "postgresql://postgres.abcdefghij:FIXTURE-SECRET@aws-0-eu-central-1.pooler.supabase.com:5432/postgres",
    }),
    # umami docs "Installation": no example file; DATABASE_URL=postgresql://username:mypassword@localhost:5432/mydb
    "umami": ("", {"DATABASE_URL": "postgresql://umami:FIXTURE-SECRET@localhost:5432/umami"}),
    # papermark README: cp .env.example .env; Vercel Postgres gives POSTGRES_PRISMA_URL(_NON_POOLING)
    "papermark": (".env.example", {
        "POSTGRES_PRISMA_URL": "postgres://default:FIXTURE-SECRET@ep-quiet-tree-123456-pooler.us-east-1.postgres.vercel-storage.com:5432/verceldb?pgbouncer=true&connect_timeout=15",
        "POSTGRES_PRISMA_URL_NON_POOLING": "postgres://default:FIXTURE-SECRET@ep-quiet-tree-123456.us-east-1.postgres.vercel-storage.com:5432/verceldb",
    }),
    # create-t3-app docs site: cp .env.example .env
    "create-t3-app": ("www/.env.example", {}),
    # dub docs "Local development": PlanetScale MySQL
    "dub": ("apps/web/.env.example", {
        "DATABASE_URL": "mysql://abcdefg:pscale_pw_FIXTURE-SECRET@aws.connect.psdb.cloud/dub?sslaccept=strict",
    }),
    # formbricks docs: cp .env.example .env; the docker compose Postgres
    "formbricks": (".env.example", {"DATABASE_URL": "postgresql://postgres:FIXTURE-SECRET@localhost:5432/formbricks?schema=public"}),
    # rallly self-hosting docs: a managed Postgres (Neon pooled host)
    "rallly": ("apps/web/.env.sample", {
        "DATABASE_URL": "postgresql://rallly:FIXTURE-SECRET@ep-cool-dawn-123456-pooler.eu-central-1.aws.neon.tech/rallly?sslmode=require",
    }),
    # inbox-zero README: Supabase pooled + direct
    "inbox-zero": ("apps/web/.env.example", {
        "DATABASE_URL": "postgresql://postgres.abcdefghij:FIXTURE-SECRET@aws-0-us-east-1.pooler.supabase.com:6543/postgres?pgbouncer=true",
        "DIRECT_URL": "postgresql://postgres.abcdefghij:FIXTURE-SECRET@aws-0-us-east-1.pooler.supabase.com:5432/postgres",
    }),
    # trigger.dev CONTRIBUTING: cp .env.example .env (local docker Postgres)
    "trigger.dev": (".env.example", {}),
}


def git(mirror: Path, *args: str) -> bytes:
    return subprocess.run(["git", "--git-dir", str(mirror), *args], check=True, stdout=subprocess.PIPE).stdout


def extract(name: str, folder: str, commit: str, dest: Path) -> bool:
    mirror = MIRRORS / folder / "repo"
    if not mirror.exists():
        print(f"{name}: no mirror at {mirror}", file=sys.stderr)
        return False
    target = dest / name
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    listing = git(mirror, "ls-tree", "-r", "-z", "--name-only", commit).decode("utf-8", "replace").split("\0")
    wanted = [p for p in listing if p and WANTED.search("/" + p) and not SKIPPED_DIRS.search(p)]
    for start in range(0, len(wanted), 500):
        archive = subprocess.run(["git", "--git-dir", str(mirror), "archive", commit, "--", *wanted[start:start + 500]],
                                 check=True, stdout=subprocess.PIPE).stdout
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return True


def fill_env(name: str, dest: Path) -> None:
    if name not in FILLED:
        return
    template, values = FILLED[name]
    source = dest / name / (template or ".env.example")
    if template and not source.exists():
        return
    lines = []
    seen = set()
    text = source.read_text(encoding="utf-8", errors="replace") if template else ""
    for line in text.splitlines():
        match = re.match(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=", line)
        if match and match.group(1) in values:
            lines.append(f'{match.group(1)}="{values[match.group(1)]}"')
            seen.add(match.group(1))
        else:
            lines.append(line)
    lines += [f'{key}="{value}"' for key, value in values.items() if key not in seen]
    (source.parent / ".env").write_text("\n".join(lines) + "\n", encoding="utf-8")


def run(poollint: str, dest: Path) -> list[dict]:
    findings = []
    for name, _, _ in REPOS:
        root = dest / name
        if not root.exists():
            continue
        result = subprocess.run([poollint, "check", "--format", "json", "."], cwd=root, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, timeout=1800)
        try:
            produced = json.loads(result.stdout or b"[]")
        except json.JSONDecodeError:
            print(f"{name}: poollint failed: {result.stderr.decode()[-400:]}", file=sys.stderr)
            continue
        for finding in produced:
            code = finding["code"]
            if code.startswith("DBP4") or (code == "DBP000" and not finding["path"].endswith(".py")):
                findings.append({"repo": name, **{k: finding[k] for k in ("path", "line", "column", "code", "message")}})
    return findings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--poollint", default=str(Path(sys.executable).with_name("poollint")))
    parser.add_argument("--label", default="after")
    parser.add_argument("--out", default="/tmp/poollint-deployments")
    parser.add_argument("--no-extract", action="store_true")
    args = parser.parse_args()
    out = Path(args.out)
    src = out / "src"
    if not args.no_extract:
        for name, folder, commit in REPOS:
            if extract(name, folder, commit, src):
                fill_env(name, src)
    findings = run(args.poollint, src)
    (out / f"findings-{args.label}.json").write_text(json.dumps(findings, indent=1), encoding="utf-8")
    counts = collections.Counter((f["repo"], f["code"]) for f in findings)
    for name, _, _ in REPOS:
        codes = sorted((code, n) for (repo, code), n in counts.items() if repo == name)
        print(f"{name}: {sum(n for _, n in codes)} " + " ".join(f"{c}×{n}" for c, n in codes))
    if os.environ.get("SHOW"):
        for f in findings:
            print(f"{f['repo']}/{f['path']}:{f['line']}:{f['column']}: {f['code']} {f['message']}")


if __name__ == "__main__":
    main()
