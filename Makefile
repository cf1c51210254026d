# neyman: `make demo` and `make test` work on a fresh machine with Rust and Python 3.11.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.deps-stamp
export VIRTUAL_ENV := $(abspath $(VENV))
export PATH := $(abspath $(VENV))/bin:$(PATH)

.PHONY: help venv build demo test lint fmt bench bench-quick bench-deps clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(STAMP): requirements-dev.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check uv
	$(VENV)/bin/uv pip install -q --python $(PY) -r requirements-dev.txt
	$(VENV)/bin/uv pip install -q --python $(PY) --no-deps gbstats==0.8.0
	touch $(STAMP)

venv: $(STAMP)  ## create .venv with the development dependencies

build: $(STAMP)  ## build the Rust extension into .venv (release)
	$(VENV)/bin/maturin develop --release --uv -q

demo: build  ## analyse the bundled example experiment
	$(PY) -m neyman.demo

lint: $(STAMP)  ## formatters and linters (Rust and Python), no tests
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

test: build lint  ## everything CI runs: lint, Rust tests, mypy + stubtest, pytest (doctests, notebooks)
	cargo test --workspace -q
	$(VENV)/bin/mypy
	$(PY) -m mypy.stubtest neyman._neyman
	$(PY) -m pytest -q -p no:cacheprovider tests python/neyman --nbmake notebooks

fmt:  ## format Rust and Python in place
	cargo fmt --all
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench-deps: $(STAMP)  ## peers for the benchmarks (gbstats without its numpy<2 / pandas<2 pins)
	$(VENV)/bin/uv pip install -q --python $(PY) -r requirements-bench.txt
	$(VENV)/bin/uv pip install -q --python $(PY) --no-deps gbstats==0.8.0

bench: build bench-deps  ## benchmarks against the peers (prints medians and ratios)
	$(PY) benchmarks/run.py

bench-quick: build bench-deps  ## small-size benchmarks only
	$(PY) benchmarks/run.py --quick

clean:  ## remove build products and the venv
	cargo clean
	rm -rf $(VENV) dist python/neyman/*.so
