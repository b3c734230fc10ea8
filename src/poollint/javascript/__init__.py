"""The TypeScript and JavaScript front end: tree-sitter trees turned into the facts the rules read.

tree-sitter comes with the optional extra (`pip install 'poollint[js]'`); nothing here
imports it until a file that mentions Prisma is read.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

JAVASCRIPT_SUFFIXES = (".ts", ".tsx", ".mts", ".cts", ".js", ".jsx", ".mjs", ".cjs")
INSTALL_HINT = "pip install 'poollint[js]'"

# Build output, framework caches and generated Prisma clients: never the user's own code.
SKIPPED_DIRECTORIES = frozenset({
    "node_modules", ".next", ".nuxt", ".output", ".svelte-kit", ".turbo", ".vercel", ".netlify", ".expo",
    ".wrangler", ".docusaurus", ".cache", "dist", "build", "out", "coverage", "storybook-static", "generated",
    ".prisma", "vendor", "public", "static",
})


def is_javascript_file(path: Path) -> bool:
    name = path.name
    return (
        path.suffix in JAVASCRIPT_SUFFIXES
        and not name.endswith((".d.ts", ".d.mts", ".d.cts", ".min.js", ".bundle.js"))
    )


def is_skipped_path(path: Path) -> bool:
    """Inside build output, a dependency or a generated client."""
    return any(part in SKIPPED_DIRECTORIES for part in path.parts[:-1])


def is_available() -> bool:
    """Whether the optional extra is installed (tree-sitter and both grammars)."""
    return all(importlib.util.find_spec(name) is not None
               for name in ("tree_sitter", "tree_sitter_typescript", "tree_sitter_javascript"))
