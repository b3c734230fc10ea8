#!/usr/bin/env python3
"""Extracts the pinned Node/TypeScript Prisma applications from the local mirror into /tmp.

Usage: python benchmarks/typescript/extract.py [DIR]   (default /tmp/poollint-ts-corpus)

Each pin is `owner/name@commit`; its snapshot is read from /work/.mirror/<owner>+<name>/repo
(brought there with the session's `fetch` tool) with `git archive` and unpacked into
DIR/<owner>+<name>/. Idempotent. The code is third-party: never commit it.
"""
from __future__ import annotations

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
)


def extract(pin: str, target: Path) -> Path:
    repo, commit = pin.split("@")
    owner, name = repo.split("/")
    destination = target / f"{owner}+{name}"
    if (destination / ".extracted").exists():
        return destination
    git_dir = MIRROR / f"{owner}+{name}" / "repo"
    destination.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(["git", f"--git-dir={git_dir}", "archive", commit], check=True, capture_output=True)
    subprocess.run(["tar", "-x", "-C", str(destination)], input=archive.stdout, check=True)
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
