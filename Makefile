# Entry points for people and CI. The logic lives in deploy/local/*.sh.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c

.PHONY: up down test bench lint status

up:      ## the whole platform, left running: stack, topics, services, demo account
	bash deploy/local/up.sh

down:    ## stop the services, then the stack
	bash deploy/local/services.sh down
	bash deploy/local/stack.sh down

status:  ## what runs
	bash deploy/local/stack.sh status || true
	bash deploy/local/services.sh status || true

test:    ## every test against the real servers; stops what it started
	bash deploy/local/test.sh

# The per-token burst limit (190 per 10 s, as hosted) would cap a single
# benchmark client; services started here run with it lifted. Services that
# already run (make up) keep theirs, and the bench reports the 429s it met.
bench:   ## benchmarks against the real servers; stops what it started
	RECORDS_RATE_LIMIT_PER_10S=100000000 SEARCH_RATE_LIMIT_PER_10S=100000000 \
	  bash deploy/local/with_stack.sh uv run python bench/run.py

lint:    ## ruff, and mypy over every package's source together (make test runs it first)
	bash deploy/local/lint.sh
