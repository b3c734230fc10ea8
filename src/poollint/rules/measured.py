"""Measured precision of each rule on applications nobody here wrote: the one place these numbers live.

Written by `python benchmarks/precision/measured.py`
(apps-2026-12-04 to apps-2026-12-17, 14 samples)
from the triaged findings of the applications; never edited by hand. Rule documentation
(`poollint explain`, docs/rules.md) renders them.
"""
from __future__ import annotations

MEASURED_ON = "2026-12-07, main at 6eb305b (stop 68), application samples 2026-12-04 to 2026-12-17"
APPLICATIONS = {"validation": 143, "development": 290}

# code: {split: (findings, projects with a finding, tp, fp, debatable)}; a rule absent here had no finding
MEASURED: dict[str, dict[str, tuple[int, int, int, int, int]]] = {
    "DBP000": {"validation": (4, 3, 2, 0, 2), "development": (8, 8, 4, 2, 2)},
    "DBP101": {"validation": (64, 11, 42, 8, 14), "development": (48, 18, 33, 2, 13)},
    "DBP102": {"validation": (4, 3, 0, 4, 0), "development": (0, 0, 0, 0, 0)},
    "DBP103": {"validation": (12, 2, 2, 8, 2), "development": (5, 2, 0, 2, 3)},
    "DBP104": {"validation": (0, 0, 0, 0, 0), "development": (5, 1, 0, 0, 5)},
    "DBP201": {"validation": (9, 4, 4, 2, 3), "development": (12, 6, 9, 3, 0)},
    "DBP202": {"validation": (195, 25, 104, 16, 75), "development": (413, 54, 322, 4, 87)},
    "DBP301": {"validation": (0, 0, 0, 0, 0), "development": (8, 4, 0, 0, 8)},
    "DBP302": {"validation": (2, 1, 0, 0, 2), "development": (1, 1, 0, 0, 1)},
    "DBP303": {"validation": (1, 1, 0, 0, 1), "development": (4, 3, 0, 1, 3)},
    "DBP304": {"validation": (18, 4, 0, 0, 18), "development": (28, 15, 4, 3, 21)},
}
