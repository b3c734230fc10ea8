"""Renders docs/rules.md from the rule classes: `python -m poollint.docs > docs/rules.md`."""
from __future__ import annotations

from poollint.rules import ALL_RULES


def render_rules_markdown() -> str:
    lines = [
        "# poollint rules",
        "",
        "Generated from the rule classes by `python -m poollint.docs`; `poollint explain CODE` prints one.",
        "",
        "| code | name | what it flags |",
        "| --- | --- | --- |",
    ]
    lines += [f"| [{r.code}](#{r.code.lower()}-{r.name}) | `{r.name}` | {r.summary()} |" for r in ALL_RULES]
    body = "\n".join(lines) + "\n"
    return body + "".join("\n" + rule.documentation() for rule in ALL_RULES)


if __name__ == "__main__":
    print(render_rules_markdown(), end="")
