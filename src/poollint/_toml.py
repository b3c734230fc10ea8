"""tomllib on Python 3.11+, tomli before."""
import sys

if sys.version_info >= (3, 11):
    import tomllib as toml_reader
else:  # pragma: no cover - exercised on older interpreters only
    import tomli as toml_reader

TOMLDecodeError = toml_reader.TOMLDecodeError
loads = toml_reader.loads
