"""Measured precision of each rule on applications nobody here wrote: the one place these numbers live.

Written by `python benchmarks/precision/measured.py`
(apps-2026-12-04 to apps-2026-12-15, 12 samples)
from the triaged findings of the applications; never edited by hand. Rule documentation
(`poollint explain`, docs/rules.md) renders them.
"""
from __future__ import annotations

MEASURED_ON = "2026-12-07, main at 26a3728, application samples 2026-12-04 to 2026-12-15"
APPLICATIONS = {"validation": 121, "development": 258}

# code: {split: (findings, projects with a finding, tp, fp, debatable)}; a rule absent here had no finding
MEASURED: dict[str, dict[str, tuple[int, int, int, int, int]]] = {
    "DBP000": {"validation": (1, 1, 1, 0, 0), "development": (7, 7, 3, 2, 2)},
    "DBP101": {"validation": (56, 9, 40, 8, 8), "development": (44, 16, 32, 2, 10)},
    "DBP102": {"validation": (4, 3, 0, 4, 0), "development": (0, 0, 0, 0, 0)},
    "DBP103": {"validation": (3, 1, 0, 1, 2), "development": (5, 2, 0, 2, 3)},
    "DBP201": {"validation": (9, 4, 4, 2, 3), "development": (12, 6, 9, 3, 0)},
    "DBP202": {"validation": (154, 21, 73, 15, 66), "development": (390, 51, 308, 7, 75)},
    "DBP301": {"validation": (0, 0, 0, 0, 0), "development": (8, 4, 0, 0, 8)},
    "DBP302": {"validation": (2, 1, 0, 0, 2), "development": (1, 1, 0, 0, 1)},
    "DBP303": {"validation": (1, 1, 0, 0, 1), "development": (4, 3, 0, 1, 3)},
    "DBP304": {"validation": (5, 2, 0, 0, 5), "development": (44, 16, 4, 3, 37)},
}
