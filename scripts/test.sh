#!/usr/bin/env bash
# The test command (README): installs what the tests need into .venv, then runs ruff, mypy, the docs
# site's strict build and pytest.
# Works on a fresh machine: everything comes from PyPI and Debian's packages.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1; then
    # Browser tests drive Debian's chromium (Playwright never downloads a browser of its own here).
    if [ "$(id -u)" = 0 ]; then
        (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium) >/dev/null
    else
        echo "chromium is missing: install Debian's package 'chromium' for the browser tests" >&2
    fi
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
if ! out=$(.venv/bin/python -m pip install -q --disable-pip-version-check -e ".[test]" 2>&1); then
    echo "$out" >&2
    exit 1
fi
.venv/bin/python -m pip check >/dev/null

.venv/bin/ruff check stanch tests benchmarks
.venv/bin/mypy
# The documentation site must build with no warning (a broken link, a page missing, a bad nav entry).
site=$(mktemp -d)
NO_MKDOCS_2_WARNING=1 .venv/bin/python -m mkdocs build --strict --quiet --site-dir "$site"
rm -rf "$site"
.venv/bin/lint-imports --no-cache  # the layers and contracts in pyproject.toml (docs/architecture.md)
exec .venv/bin/python -m pytest "$@"
