"""SARIF 2.1.0 for code scanning: one run, every rule with its documentation, stable fingerprints."""
from __future__ import annotations

import hashlib
import json
import textwrap
from collections import Counter
from pathlib import PurePosixPath
from typing import Any, Sequence
from urllib.parse import quote

from poollint import __version__
from poollint.engine.baseline import fingerprints
from poollint.engine.findings import Finding, Location

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
# Bump the key when the fingerprint recipe changes, so code scanning starts a new series.
FINGERPRINT_KEY = "poollint/v1"
LEVEL = "error"


def rule_descriptor(rule: Any) -> dict[str, Any]:
    documentation = rule.documentation()
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary()},
        "fullDescription": {"text": " ".join(textwrap.dedent(rule.rationale).split())},
        "help": {"text": documentation, "markdown": documentation},
        "defaultConfiguration": {"level": LEVEL, "enabled": not rule.opt_in},
        "properties": {"tags": ["database", "connection-pool"]},
    }


def artifact_location(path: str) -> dict[str, Any]:
    posix = PurePosixPath(path.replace("\\", "/"))
    if posix.is_absolute():
        return {"uri": "file://" + quote(posix.as_posix())}
    return {"uri": quote(posix.as_posix()), "uriBaseId": "%SRCROOT%"}


def physical_location(path: str, line: int, column: int) -> dict[str, Any]:
    return {
        "physicalLocation": {
            "artifactLocation": artifact_location(path),
            "region": {"startLine": max(line, 1), "startColumn": max(column, 1)},
        }
    }


def _related(index: int, location: Location) -> dict[str, Any]:
    related = {"id": index, **physical_location(location.path, location.line, location.column)}
    if location.message:
        related["message"] = {"text": location.message}
    return related


def render(findings: Sequence[Finding]) -> str:
    from poollint.rules import ALL_RULES  # imports libcst: only when SARIF is asked for

    rule_index = {rule.code: index for index, rule in enumerate(ALL_RULES)}
    occurrences: Counter = Counter()
    results = []
    for finding, fp in zip(findings, fingerprints(findings)):
        # identical lines with identical neighbours in one file are told apart by their order, like GitHub's own hash
        occurrences[fp.exact_key] += 1
        result: dict[str, Any] = {"ruleId": finding.code}
        if finding.code in rule_index:
            result["ruleIndex"] = rule_index[finding.code]
        result["level"] = LEVEL
        result["message"] = {"text": finding.message}
        result["locations"] = [physical_location(finding.path, finding.line, finding.column)]
        if finding.related:
            result["relatedLocations"] = [_related(i, loc) for i, loc in enumerate(finding.related, start=1)]
        value = hashlib.sha256(f"{fp.path}\x1f{fp.context_hash}".encode("utf-8", "surrogatepass")).hexdigest()[:32]
        result["partialFingerprints"] = {FINGERPRINT_KEY: f"{value}:{occurrences[fp.exact_key]}"}
        results.append(result)
    log = {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "poollint",
                "version": __version__,
                "semanticVersion": __version__,
                "rules": [rule_descriptor(rule) for rule in ALL_RULES],
            }},
            # libcst counts columns in characters, not UTF-16 code units
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"
