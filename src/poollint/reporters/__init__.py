"""Reporters turn findings into text, JSON, GitHub annotations or SARIF."""
from __future__ import annotations

from typing import Callable, Sequence

from poollint.engine.findings import Finding
from poollint.reporters import github as github_reporter
from poollint.reporters import json as json_reporter
from poollint.reporters import sarif as sarif_reporter
from poollint.reporters import text as text_reporter

Reporter = Callable[[Sequence[Finding]], str]

REPORTERS: dict[str, Reporter] = {
    "text": text_reporter.render,
    "json": json_reporter.render,
    "sarif": sarif_reporter.render,
    "github": github_reporter.render,
}
