"""Property-based tests: generated programs never crash the engine, planted bugs are always found,
and the screen, the cache and the process pool never change the results.

Quick in the suite; for a long fuzzing run: `POOLLINT_FUZZ=1 python -m pytest tests/test_properties.py`
(5,000 examples per property).
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import hypothesmith
from hypothesis import HealthCheck, given, settings, strategies as st

from poollint.config.lines import split_lines
from poollint.engine.runner import RunOptions, analyze_python, check_paths
from poollint.settings import Settings

EXAMPLES = 5000 if os.environ.get("POOLLINT_FUZZ") else 25
PROPERTY = settings(max_examples=EXAMPLES, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])
SETTINGS = Settings()
# hypothesmith builds its grammar strategy in about 0.6 s: once, and only when a property runs
PROGRAMS = st.deferred(hypothesmith.from_grammar)

PROBE = (
    "\n\nfrom prisma import Prisma as PoollintProbePrisma\n"
    "import fastapi as poollint_probe_fastapi\n"
    "poollint_probe_app = poollint_probe_fastapi.FastAPI()\n\n"
    "@poollint_probe_app.get('/probe')\n"
    "async def poollint_probe_route():\n"
    "    return PoollintProbePrisma()\n"
)


def _analyze(source: str, screen: bool = True):
    return analyze_python(Path("generated.py"), "generated.py", source.encode("utf-8", "surrogatepass"),
                          SETTINGS, screen=screen)


@PROPERTY
@given(PROGRAMS)
def test_generated_programs_never_crash(source: str) -> None:
    findings, internal_errors = _analyze(source, screen=False)
    assert internal_errors == 0
    assert all(f.code != "DBP000" or not f.message.startswith("internal error") for f in findings)


@PROPERTY
@given(PROGRAMS)
def test_a_planted_client_per_call_is_always_found(source: str) -> None:
    planted = source + PROBE
    findings, _ = _analyze(planted)
    if any(f.code == "DBP000" for f in findings):
        return  # the generated text plus the probe stopped being valid Python (e.g. a dangling continuation)
    probe_line = split_lines(planted).index("    return PoollintProbePrisma()") + 1
    assert (probe_line, "DBP101") in {(f.line, f.code) for f in findings}


@PROPERTY
@given(PROGRAMS, st.booleans())
def test_screen_never_changes_results(source: str, plant: bool) -> None:
    text = source + (PROBE if plant else "")
    screened = _analyze(text, screen=True)[0]
    unscreened = _analyze(text, screen=False)[0]
    if screened or "prisma" in text or "fastapi" in text:
        assert [(f.line, f.code, f.message) for f in screened] == [(f.line, f.code, f.message) for f in unscreened]
    else:
        # screened out: only a file the engine could not parse may differ, and only by DBP000
        assert {f.code for f in unscreened} <= {"DBP000"}


@settings(max_examples=max(5, EXAMPLES // 5), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(PROGRAMS, st.booleans()), min_size=1, max_size=10))
def test_cache_and_processes_never_change_results(files: list) -> None:
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        (root / "pyproject.toml").write_text("[project]\nname = 'generated'\n")
        for number, (source, plant) in enumerate(files):
            (root / f"module_{number}.py").write_text(source + (PROBE if plant else ""), encoding="utf-8",
                                                     errors="surrogatepass")
        def run(**options):
            result = check_paths([root], SETTINGS, options=RunOptions(**options))
            return [(f.path, f.line, f.code, f.message) for f in result.findings]

        baseline = run(cache=False, jobs=1)
        assert run(cache=True, jobs=1) == baseline  # cold cache
        assert run(cache=True, jobs=1) == baseline  # warm cache
        assert run(cache=False, jobs=2) == baseline
