# The two commands of the README. Both install what they need first (scripts/setup.sh).
.PHONY: setup demo test test-fast bench

setup:
	bash scripts/setup.sh

demo: setup
	.venv/bin/python -m robocore.demo.main_job

test: setup
	.venv/bin/python -m pytest -q

test-fast: setup
	.venv/bin/python -m pytest -q -m "not e2e"

bench: setup
	.venv/bin/python bench/run_all.py
