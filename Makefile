# The two commands of the README. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
ifeq ($(OS),Windows_NT)
BIN := $(VENV)/Scripts
endif

.PHONY: demo test lint bench fixtures clean

CORE := Cargo.toml core/Cargo.toml $(wildcard core/src/*.rs) $(wildcard core/tables/*)

$(BIN)/.installed-demo: pyproject.toml $(CORE)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[gaiji]"
	touch $@

$(BIN)/.installed-test: pyproject.toml $(CORE)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

demo: $(BIN)/.installed-demo
	$(BIN)/python demo/run_demo.py

test: $(BIN)/.installed-test
	$(BIN)/ruff check src tests benchmarks fixtures demo fuzz
	$(BIN)/mypy
	cargo fmt --all --check
	cargo clippy --workspace --all-targets --all-features --quiet -- -D warnings
	cargo test --workspace --quiet
	$(BIN)/python -m pytest

bench: $(BIN)/.installed-test
	$(BIN)/python -m pip install --quiet -e ".[bench]"
	$(BIN)/python benchmarks/bench_io.py

fixtures: $(BIN)/.installed-demo
	$(BIN)/python fixtures/make_fixtures.py

clean:
	rm -rf $(VENV) demo-out .pytest_cache .mypy_cache .ruff_cache target src/chukan/_core*.so
