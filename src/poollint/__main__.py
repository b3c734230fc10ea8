"""`python -m poollint` runs the command line."""
import sys

from poollint.cli import main

sys.exit(main())
