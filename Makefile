# Each target does all of its own set-up on a fresh machine.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check -q
# An editable install leaves the package uncompiled; where PYTHONDONTWRITEBYTECODE is set every
# command would compile it again (100-250 ms a start), so its bytecode is written once here.
COMPILE := $(BIN)/python -m compileall -q -j 0 router adapters bench >/dev/null

.PHONY: demo test bench venv redis clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

venv: $(BIN)/python

# Installs the package and asks for the best way to sell 0.5 BTC for USDT on the embedded sandbox.
demo: venv
	$(PIP) install -e .
	$(COMPILE)
	$(BIN)/bestrate quote BTC USDT 0.5
	$(BIN)/bestrate quote BTC USDT@TRC20 1000 --receive

# redis-server (Debian package) backs the shared-budget tests; installed when missing and root.
redis:
	@if ! command -v redis-server >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing redis-server (apt-get)"; \
	    (apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; \
	  else \
	    echo "redis-server missing and not root: Redis tests will be skipped"; \
	  fi; \
	fi

# Lint (ruff) and types (mypy on router/ and adapters/) first, as pyproject.toml configures them.
test: venv redis
	$(PIP) install -e '.[test]'
	$(COMPILE)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest -q -n 2

# Micro-benchmarks (pytest-benchmark, compared with the previous saved run) and the harness
# scenarios (`bestrate bench --list`), each into bench-out/<scenario>/; out of `make test`. Ends
# with one summary table (every headline figure, target, verdict), written into the README's
# benchmark section too, so the README and the last run cannot disagree.
BENCH_SCENARIOS ?= engine latency latency-all latency-heavy concurrency batch faults chaos providers

bench: venv
	$(PIP) install -e '.[test,bench]'
	$(BIN)/python -m pytest -q -m benchmark tests/bench --benchmark-autosave \
	  $$(ls .benchmarks/*/*.json >/dev/null 2>&1 && echo --benchmark-compare)
	@for s in $(BENCH_SCENARIOS); do \
	  echo "== bestrate bench --scenario $$s"; \
	  $(BIN)/bestrate bench --scenario $$s --out bench-out/$$s || exit 1; \
	done
	@echo "== summary (python -m bench.summary)"
	$(BIN)/python -m bench.summary --out bench-out --scenarios $(BENCH_SCENARIOS) --update-readme README.md

clean:
	rm -rf $(VENV) bench-out .benchmarks *.egg-info
