#!/bin/sh
# Runs poollint's code rules over every extracted repository (benchmarks/typescript/extract.py);
# one line per finding, prefixed with the repository, for the triage file.
CORPUS=${1:-/tmp/poollint-ts-corpus}
POOLLINT=${POOLLINT:-poollint}
for repo in "$CORPUS"/*/; do
    name=$(basename "$repo")
    (cd "$repo" && "$POOLLINT" check --no-cache --select DBP1,DBP2,DBP3 --format json . 2>/dev/null) |
        python3 -c "
import json, sys
for f in json.load(sys.stdin):
    if not f['path'].endswith(('.py', '.pyi')):
        print('$name', f['path'], f['line'], f['code'], f['message'][:160], sep='\t')
"
done
