#!/usr/bin/env python3
"""Extracts the pinned Node/TypeScript Prisma applications from the local mirror into /tmp.

Usage: python benchmarks/typescript/extract.py [DIR]   (default /tmp/poollint-ts-corpus)

Each pin is `owner/name@commit` (a second pin of one repository adds a label: `@commit label`); its snapshot is read from /work/.mirror/<owner>+<name>/repo
(brought there with the session's `fetch` tool) and the files poollint reads are written to
DIR/<owner>+<name>/. Idempotent. The code is third-party: never commit it.
"""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

MIRROR = Path("/work/.mirror")
# well-kept applications (singletons everywhere: they test precision) and long-tail apps (recall)
PINS = (
    "documenso/documenso@75330166cc00b29c14399bc2e391e4b4d8080c00",
    "umami-software/umami@c0ea3aefbee7a3429ee2f824b06dc4a9dbe0b7e1",
    "dubinc/dub@1de955f782a72e1eff7b201ae54a909d5ceb5722",
    "formbricks/formbricks@b66c1dd978af618a0e402bd3343b456bed68594c",
    "mfts/papermark@7ff2e657ed09b56f0afcc863a5db52d0debd2e6a",
    "triggerdotdev/trigger.dev@b082e44389337dc6505d590737a6df70867cc8f4",
    "hoppscotch/hoppscotch@afc2cf181c16e56647b099e5d18cfe55710c6cdd",
    "t3-oss/create-t3-app@c74237d63769b0d66d6e73141d107328ed512fd6",
    "SpinBoxx/shadcn-components@09a525100b3dcc9cb392d357f03037af40eba25b",
    "UTDallasEPICS/Kids-U-Donor-Volunteer-Database@79d1f0a4dc4896799afc9d91a20626e69e72bd2d",
    "nanoweeb/weeblog@09306b16542bbd7292971363dd0c559e0bdf6bd8",
    "ruatahmar/WaitWise@c2299c84178ccba578aac0fe9924dbc96c21b410",
    "freelancermahabubs/prisma-mastary@d976495a9a6be032192cef680ef717246f8aac6b",
    "pauljohnchamberlain/idol.ph@b2b6e0b748dfc41ce0862c038a48667ac6deac45",
    "tuanhuydev/tuanhuydev@70528b2e1c6c1a55aad854e520f3d290698ef6e7",  # before its Next 13 rewrite
    "uday-bhardwaj-15/erp@b4b8da5cb3261e4e218c58445a8248c681890ba4",
    "mohammed-ysn/muddakir@bfbfdfa0876e986ceeb8098ce46d1f3ba1713380",
    "rajatsandeepsen/prisma-night@01349e469f62513982a96b95d94954db53acbb82",
    "EgoistWinnie/AorW@2230cdd21b8f21b0272f492e645b8d679256745e",
    "AkashDeepSinghJassal/web3annotate@945cab35c37180fce3f28379695a3b834520e34d",
    "jacobzhang22/middDash-fork@17092d8521bed5f3db1e30d114b7507d00622a3b",
    "Chaitanya-exe/OGT-2.0@2d306eb7330cc562c19c8d930486cde1dabf8567",
    "twentymurial33/music_remix@7e7eb100d479e56dfd34ecf8420516f4f5413a74",
    "dezok9/sync@cc38e06f71baee90d393d187319701b8fbba143b",
    "thalesms2/mulberry@ad648fd014bb5252f1ea79fd819843f737f7ad21",
    # a fixed bug from public history: every route built its own client until the next commit
    "jacobzhang22/middDash-fork@962603fdf4f88c7fe114e889b7d4f15985e342e4 before-fix",
    # a fixed bug: the route built a client per request; the fix is Prisma's globalThis singleton
    "SpinBoxx/shadcn-components@21064e36bb85efaeb6582bccb906efcb89f668db before-fix",
    "SpinBoxx/shadcn-components@2f3b554335a212317649cb07260ff13782eb1d29 after-fix",
    "silvaizequias/next-platform-v1@11d6ef20b0030596e94b867a0a064456b11565d1",
)


# only what poollint reads: code, package and TypeScript configuration, Prisma schemas, env and compose files
WANTED = re.compile(r"\.(?:[cm]?[jt]s|[jt]sx|json|prisma|ya?ml|toml|ini)$|(^|/)\.env[^/]*$")


def extract(pin: str, target: Path) -> Path:
    """Writes the pin's wanted files blob by blob (`git archive` stops at the first blob the
    snapshot lacks: files of 4 MiB and more are left out of mirrors)."""
    repo, _, rest = pin.partition("@")
    commit, _, label = rest.partition(" ")
    owner, name = repo.split("/")
    destination = target / (f"{owner}+{name}" + (f"@{label}" if label else ""))
    if (destination / ".extracted").exists():
        return destination
    git = ["git", f"--git-dir={MIRROR / f'{owner}+{name}' / 'repo'}"]
    listing = subprocess.run([*git, "ls-tree", "-r", "-z", commit], check=True, capture_output=True).stdout
    entries = []
    for record in listing.split(b"\0"):
        if not record:
            continue
        meta, path = record.split(b"\t", 1)
        mode, kind, blob = meta.split()
        if kind == b"blob" and mode != b"120000" and WANTED.search(path.decode("utf-8", "replace")):
            entries.append((blob.decode(), path.decode("utf-8", "replace")))
    batch = subprocess.run([*git, "cat-file", "--batch"], input="".join(f"{b}\n" for b, _ in entries).encode(),
                           check=True, capture_output=True).stdout
    offset = 0
    for blob, path in entries:
        header_end = batch.index(b"\n", offset)
        header = batch[offset:header_end].split()
        offset = header_end + 1
        if header[-1] == b"missing":
            continue
        size = int(header[2])
        (destination / path).parent.mkdir(parents=True, exist_ok=True)
        (destination / path).write_bytes(batch[offset:offset + size])
        offset += size + 1
    (destination / ".extracted").write_text(commit + "\n")
    return destination


def main() -> int:
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/poollint-ts-corpus")
    for pin in PINS:
        try:
            print(extract(pin, target))
        except (subprocess.CalledProcessError, OSError) as error:
            print(f"{pin}: not extracted ({error})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
