"""GitLab Code Quality: a JSON array of issues, each with a stable fingerprint.
https://docs.gitlab.com/ee/ci/testing/code_quality.html#code-quality-report-format"""
from __future__ import annotations

import hashlib
import json
from collections import Counter
from typing import Any, Sequence

from poollint.engine.baseline import fingerprints
from poollint.findings import Finding

SEVERITY = "major"


def render(findings: Sequence[Finding]) -> str:
    occurrences: Counter = Counter()
    issues: list[dict[str, Any]] = []
    for finding, fp in zip(findings, fingerprints(findings)):
        # as for SARIF: the rule, the file and the offending line's context, not its number, so that an
        # edit above the finding does not make GitLab report it as new
        occurrences[fp.exact_key] += 1
        identity = f"{finding.code}\x1f{fp.path}\x1f{fp.context_hash}\x1f{occurrences[fp.exact_key]}"
        issues.append({
            "description": f"{finding.code} {finding.message}",
            "check_name": f"{finding.code} {finding.name}",
            "fingerprint": hashlib.sha256(identity.encode("utf-8", "surrogatepass")).hexdigest(),
            "severity": SEVERITY,
            "location": {
                "path": finding.path,
                "lines": {"begin": finding.line, "end": max(finding.end_line, finding.line)},
            },
        })
    return json.dumps(issues, indent=2, ensure_ascii=False) + "\n"
