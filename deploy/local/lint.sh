#!/usr/bin/env bash
# `make lint`: ruff over the repository, then mypy over every package's source in one
# run (checked together, each package sees the others' real types, not Any).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO"

uv run ruff check
uv run mypy libs/*/src services/*/src
