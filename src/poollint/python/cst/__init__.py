"""What the Python rules stand on: one libcst walk that tracks imports, bindings and scopes."""
