"""One JSON array; each finding has code, name, message, path, line, column, fix_hint and related."""
from __future__ import annotations

import json
from typing import Sequence

from poollint.findings import Finding


def render(findings: Sequence[Finding]) -> str:
    return json.dumps([f.as_dict() for f in findings], indent=2) + "\n"
