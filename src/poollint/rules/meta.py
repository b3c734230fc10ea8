"""DBP000: files poollint could not analyze."""
from __future__ import annotations

from poollint.rules.base import Rule


class NotAnalyzable(Rule):
    """Flags a file that could not be decoded or parsed, so no other rule checked it."""

    code = "DBP000"
    name = "not-analyzable"
    message = "{reason}"
    fix_hint = "Fix the syntax or encoding error, or exclude the file in [tool.poollint] `exclude`"
    rationale = """
        A file poollint cannot read is a file none of its rules checked. Rather than skip it
        silently and give false confidence, poollint names it with the reason: a syntax error
        (with its line), bytes that are not valid in the declared encoding, null bytes,
        nesting deeper than the parser can follow, or an internal error of one rule on this
        file (reported with the rule and the exception; the run then exits with status 2).

        A file that names no database library and no factory of the project is not parsed
        at all, so it is not reported either: no rule could find anything in it, readable or
        not (flake8's E999 still reports its syntax error). Neither is a module of an
        application that no process loads: nothing imports it, nothing names it and it shows no
        sign of being started (a backup copy of a router, an abandoned module an edit left broken),
        judged as the other rules judge code that never runs. Valid syntax of a newer Python
        than the one running poollint (a 3.12 type alias or f-string on Python 3.11) is not
        an error: the rules check the file whole, though the project index cannot read its
        module-level facts; run poollint on the project's own Python to give them too.

        A template is not a broken file. When the error falls on Jinja, Django or Go template
        markup (`{% if ... %}`, `{{ project_slug }}`, `{# ... #}`) on its line or the line
        before, the file is a template that renders Python, YAML or a `.env` (a cookiecutter
        project, a compose file a setup wizard writes, a Helm template outside `templates/`),
        and it is skipped without a finding, as Helm chart templates are; in a `.env`, only
        the markup lines are skipped and the rest is read. An error anywhere else is still
        reported, even in a file that holds markup.
    """
    example = """
        def broken(:
            pass
    """
    use_instead = """
        def fixed():
            pass
    """
