#!/usr/bin/env bash
# `make test`: every test of the repository against the real servers.
# pytest's exit code is the script's; 5 (no test collected) fails too.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO"

shopt -s nullglob
folders=()
for folder in services/*/tests libs/*/tests tests; do
  [[ -d $folder ]] && folders+=("$folder")
done
((${#folders[@]})) || die "no test folders found"

# Seconds, and before any server starts: a type or lint error fails the run at once.
bash "$HERE/lint.sh"

exec bash "$HERE/with_stack.sh" uv run pytest "${folders[@]}"
