"""Measured precision of each rule on applications nobody here wrote: the one place these numbers live.

Written by `python benchmarks/precision/measured.py`
(apps-2026-12-04 to apps-2026-12-18, 15 samples)
from the triaged findings of the applications; never edited by hand. Rule documentation
(`poollint explain`, docs/rules.md) renders them.
"""
from __future__ import annotations

MEASURED_ON = "2026-12-07, main at 137ef1c (stop 69), application samples 2026-12-04 to 2026-12-18"
APPLICATIONS = {"validation": 152, "development": 305}

# code: {split: (findings, projects with a finding, tp, fp, debatable)}; a rule absent here had no finding
MEASURED: dict[str, dict[str, tuple[int, int, int, int, int]]] = {
    "DBP000": {"validation": (4, 3, 2, 0, 2), "development": (8, 8, 4, 2, 2)},
    "DBP101": {"validation": (64, 11, 42, 8, 14), "development": (48, 18, 33, 2, 13)},
    "DBP102": {"validation": (4, 3, 0, 4, 0), "development": (0, 0, 0, 0, 0)},
    "DBP103": {"validation": (12, 2, 2, 8, 2), "development": (5, 2, 0, 2, 3)},
    "DBP104": {"validation": (0, 0, 0, 0, 0), "development": (5, 1, 0, 0, 5)},
    "DBP201": {"validation": (9, 4, 4, 2, 3), "development": (12, 6, 9, 3, 0)},
    "DBP202": {"validation": (208, 30, 109, 16, 83), "development": (417, 56, 327, 4, 86)},
    "DBP301": {"validation": (2, 1, 0, 0, 2), "development": (8, 4, 0, 0, 8)},
    "DBP302": {"validation": (2, 1, 0, 0, 2), "development": (1, 1, 0, 0, 1)},
    "DBP303": {"validation": (1, 1, 0, 0, 1), "development": (4, 3, 0, 1, 3)},
    "DBP304": {"validation": (19, 5, 0, 0, 19), "development": (26, 15, 4, 1, 21)},
}
