"""The plan: what the screen and the slicer look for, compiled from the enabled rules' triggers.

Each Python file rule declares `triggers`, the vocabularies of calls it needs to see in a
definition to possibly report there (python/screen.py: constructors, checkouts, transactions,
external calls). The screen keeps a file, and the slicer a definition, only for what some
enabled rule needs; a rule that declares no triggers admits every file (slow, never wrong).
A rule may also declare `requires`, vocabularies a file must name somewhere for the rule to report
in it at all (DBP2xx: an external call); the screen says which a file names nowhere, and the
analysis walks that file without those rules (tests/test_plan.py checks both declarations).
"""
from __future__ import annotations

from typing import Optional

from poollint.settings import Settings

_PLANS: dict[str, Optional[frozenset[str]]] = {}


def screen_vocabularies(settings: Settings) -> Optional[frozenset[str]]:
    """The union of the enabled Python rules' triggers; None when one of them declares none (no screen).

    Reads the rule classes, which imports libcst: asked only once a file has passed the bytes stage.
    """
    key = settings.fingerprint()
    if key not in _PLANS:
        from poollint.rules import file_rules

        needed: Optional[set[str]] = set()
        for rule in file_rules():
            if not settings.is_enabled(rule.code, opt_in=rule.opt_in):
                continue
            if rule.triggers is None:
                needed = None
                break
            needed |= rule.triggers
        _PLANS[key] = None if needed is None else frozenset(needed)
    return _PLANS[key]
