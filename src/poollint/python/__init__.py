"""Facts about Python code: the `ast` readers (names, module facts, the project model, the screen)
and the libcst context the rules stand on (`cst/`)."""
