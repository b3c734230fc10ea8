"""Measured precision of each rule on applications nobody here wrote: the one place these numbers live.

Written by `python benchmarks/precision/precision.py --write-measured "DATE, VERSION"` from the
triaged findings of the application corpus (benchmarks/precision/apps.toml, apps_labels.csv);
never edited by hand. Rule documentation (`poollint explain`, docs/rules.md) renders them.
"""
from __future__ import annotations

MEASURED_ON = "2026-12-05, main at aa331f3"
APPLICATIONS = {"validation": 14, "development": 37}

# code: {split: (findings, projects with a finding, tp, fp, debatable)}; a rule absent here had no finding
MEASURED: dict[str, dict[str, tuple[int, int, int, int, int]]] = {
    "DBP101": {"validation": (11, 3, 6, 3, 2), "development": (5, 3, 3, 0, 2)},
    "DBP103": {"validation": (0, 0, 0, 0, 0), "development": (2, 1, 2, 0, 0)},
    "DBP201": {"validation": (0, 0, 0, 0, 0), "development": (1, 1, 1, 0, 0)},
    "DBP202": {"validation": (2, 1, 2, 0, 0), "development": (10, 2, 4, 0, 6)},
    "DBP203": {"validation": (0, 0, 0, 0, 0), "development": (4, 2, 4, 0, 0)},
    "DBP302": {"validation": (0, 0, 0, 0, 0), "development": (1, 1, 0, 0, 1)},
    "DBP303": {"validation": (0, 0, 0, 0, 0), "development": (1, 1, 0, 0, 1)},
    "DBP304": {"validation": (29, 1, 28, 0, 1), "development": (13, 2, 13, 0, 0)},
}
