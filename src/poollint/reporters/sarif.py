"""SARIF 2.1.0 for code scanning: one run, every rule with its documentation, stable fingerprints."""
from __future__ import annotations

import hashlib
import json
import os
import re
import textwrap
from collections import Counter
from pathlib import PurePosixPath
from typing import Any, Optional, Sequence
from urllib.parse import quote

from poollint import __version__
from poollint.engine.baseline import fingerprints
from poollint.findings import Finding, Location

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
# Bump the key when the fingerprint recipe changes, so code scanning starts a new series.
FINGERPRINT_KEY = "poollint/v1"
LEVEL = "error"


def public_text(text: str) -> str:
    """The documentation without the maintainers' notes: how a rule's precision was measured on our
    corpus (a `Precision:` paragraph, the `### Measured precision` section with its commit) says
    nothing to a reader of a code-scanning alert."""
    sections = re.split(r"(?m)^(?=### )", text)
    kept = "".join(section for section in sections if not section.startswith(INTERNAL_SECTIONS))
    paragraphs = re.split(r"\n\s*\n", kept)
    return "\n\n".join(p for p in paragraphs if not p.lstrip().startswith(INTERNAL_PARAGRAPHS)).strip("\n") + "\n"


# Parts of a rule's documentation written for the project's maintainers.
INTERNAL_PARAGRAPHS = ("Precision:", "Measured ", "Measurement:")
INTERNAL_SECTIONS = ("### Measured precision",)


def docs_url() -> Optional[str]:
    """Where the rule documentation is published: `$POOLLINT_DOCS_URL`, else the package's
    `Documentation` project URL; none until the project has a public home."""
    configured = os.environ.get("POOLLINT_DOCS_URL")
    if configured:
        return configured
    try:
        from importlib.metadata import PackageNotFoundError, metadata

        for entry in metadata("poollint").get_all("Project-URL") or ():
            label, _, url = entry.partition(",")
            if label.strip().lower() == "documentation" and url.strip():
                return url.strip()
    except (PackageNotFoundError, ValueError):
        pass
    return None


def rule_descriptor(rule: Any, base_url: Optional[str] = None) -> dict[str, Any]:
    documentation = public_text(rule.documentation())
    descriptor: dict[str, Any] = {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary()},
        "fullDescription": {"text": " ".join(public_text(textwrap.dedent(rule.rationale)).split())},
        "help": {"text": documentation, "markdown": documentation},
        "defaultConfiguration": {"level": LEVEL, "enabled": not rule.opt_in},
        "properties": {
            "tags": ["database", "connection-pool"],
            # GitHub code scanning sorts and filters alerts by these two
            # https://docs.github.com/en/code-security/code-scanning/integrating-with-code-scanning/sarif-support-for-code-scanning#reportingdescriptor-object
            "precision": "medium" if rule.opt_in else "high",
            "problem.severity": LEVEL,
        },
    }
    if base_url:
        descriptor["helpUri"] = f"{base_url}#{rule.code.lower()}-{rule.name}"
    return descriptor


def artifact_location(path: str) -> dict[str, Any]:
    posix = PurePosixPath(path.replace("\\", "/"))
    if posix.is_absolute():
        return {"uri": "file://" + quote(posix.as_posix())}
    return {"uri": quote(posix.as_posix()), "uriBaseId": "%SRCROOT%"}


def physical_location(path: str, line: int, column: int, end_line: int = 0, end_column: int = 0) -> dict[str, Any]:
    region = {"startLine": max(line, 1), "startColumn": max(column, 1)}
    if end_line >= line and end_column > 0 and (end_line > line or end_column > column):
        region.update(endLine=end_line, endColumn=end_column)
    return {"physicalLocation": {"artifactLocation": artifact_location(path), "region": region}}


def _escape_markup(text: str) -> str:
    """SARIF message text treats `[text](id)` as a link; brackets of our own are escaped."""
    return text.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")


def _related(index: int, location: Location) -> dict[str, Any]:
    related = {"id": index, **physical_location(location.path, location.line, location.column)}
    if location.message:
        related["message"] = {"text": location.message}
    return related


def render(findings: Sequence[Finding]) -> str:
    from poollint.rules import ALL_RULES  # imports libcst: only when SARIF is asked for

    rule_index = {rule.code: index for index, rule in enumerate(ALL_RULES)}
    base_url = docs_url()
    occurrences: Counter = Counter()
    results = []
    for finding, fp in zip(findings, fingerprints(findings)):
        # identical lines with identical neighbours in one file are told apart by their order, like GitHub's own hash
        occurrences[fp.exact_key] += 1
        result: dict[str, Any] = {"ruleId": finding.code}
        if finding.code in rule_index:
            result["ruleIndex"] = rule_index[finding.code]
        result["level"] = LEVEL
        message = _escape_markup(finding.message)
        if finding.related:
            links = ", ".join(f"[{_escape_markup(loc.path)}:{loc.line}]({i})"
                              for i, loc in enumerate(finding.related, start=1))
            message += f" (see {links})"
        result["message"] = {"text": message}
        result["locations"] = [physical_location(finding.path, finding.line, finding.column,
                                                 finding.end_line, finding.end_column)]
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
                "rules": [rule_descriptor(rule, base_url) for rule in ALL_RULES],
            }},
            # libcst counts columns in characters, not UTF-16 code units
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"
