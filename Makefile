# The two commands of the README: `make demo` and `make test`. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CORES ?= 2

.PHONY: setup demo demo-vgg demo-exercises test lint dag benchmark benchmark-checkpoint clean-demo

$(BIN)/snakemake: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --editable '.[test]'
	touch $@

setup: $(BIN)/snakemake

demo: setup
	$(BIN)/snakemake --cores $(CORES) --configfile config/demo.yaml

demo-vgg: setup
	$(BIN)/snakemake --cores $(CORES) --configfile config/demo-vgg.yaml

demo-exercises: setup
	$(BIN)/snakemake --cores $(CORES) --configfile config/cs5242-exercises.yaml

test: setup
	$(BIN)/python -m pytest

lint: setup
	for study in config/*.yaml; do $(BIN)/snakemake --lint --configfile $$study || exit 1; done

benchmark: setup
	$(BIN)/python benchmarks/run.py

benchmark-checkpoint: setup
	$(BIN)/python benchmarks/checkpoint.py

dag: setup
	$(BIN)/snakemake --dag --configfile config/demo.yaml > results/dag.dot

clean-demo:
	rm -rf results/demo-digits results/demo-vgg-digits results/cs5242-exercises
