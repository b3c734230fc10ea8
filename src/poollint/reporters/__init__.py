"""Reporters turn findings into text, JSON, GitHub annotations, SARIF or GitLab Code Quality."""
from __future__ import annotations

from typing import Callable, Sequence

from poollint.config.urls import mask_text
from poollint.findings import Finding, for_output
from poollint.reporters import github as github_reporter
from poollint.reporters import gitlab as gitlab_reporter
from poollint.reporters import json as json_reporter
from poollint.reporters import sarif as sarif_reporter
from poollint.reporters import text as text_reporter

Reporter = Callable[[Sequence[Finding]], str]



def _masked(render: Reporter) -> Reporter:
    """Every format prints findings through the one masking function, whatever a rule put in a message."""
    def masked_render(findings: Sequence[Finding]) -> str:
        return render([for_output(finding, mask_text) for finding in findings])

    return masked_render


REPORTERS: dict[str, Reporter] = {
    name: _masked(render) for name, render in (
        ("text", text_reporter.render),
        ("full", text_reporter.render_full),
        ("json", json_reporter.render),
        ("sarif", sarif_reporter.render),
        ("github", github_reporter.render),
        ("gitlab", gitlab_reporter.render),
    )
}
FORMATS = tuple(REPORTERS)
