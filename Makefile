# The two commands of the README (`make demo`, `make test`) install what they need first
# (scripts/setup.sh: Debian packages, then exactly the locked Python packages).
.PHONY: setup demo test test-fast lint bench lock lock-upgrade test-latest i18n

setup:
	bash scripts/setup.sh

demo: setup
	.venv/bin/python -m robocore.demo.main_job

# Quality gates first (seconds), then the whole suite.
lint:
	.venv/bin/ruff check robocore tests bench scripts
	.venv/bin/mypy robocore

test: setup lint
	.venv/bin/python -m pytest -q

test-fast: setup
	.venv/bin/python -m pytest -q -m "not e2e"

# Translation catalogues (scripts/i18n.py): extract the messages, merge them into the .po files, compile the .mo.
i18n:
	.venv/bin/python scripts/i18n.py extract && .venv/bin/python scripts/i18n.py compile

bench:
	LOCK=requirements/bench.txt bash scripts/setup.sh
	.venv/bin/python bench/run_all.py

# Rewrite the locks (requirements/README.md): `lock` keeps pins still allowed, `lock-upgrade`
# takes the newest versions pyproject.toml allows.
lock:
	bash scripts/lock.sh

lock-upgrade:
	bash scripts/lock.sh --upgrade

# Not in CI: the suite against the newest versions pyproject.toml allows, in .venv-latest,
# to see the next library release's break before it reaches the lock.
test-latest:
	LATEST=1 VENV=.venv-latest bash scripts/setup.sh
	.venv-latest/bin/python -m pytest -q
