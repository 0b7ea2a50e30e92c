# The two commands of the README: `make demo` and `make test`. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CORES ?= 2

.PHONY: setup tex study demo demo-vgg demo-exercises demo-lab-augment demo-lab-experiments demo-autoencoder demo-scaling demo-mlp test lint dag benchmark benchmark-study benchmark-checkpoint clean-demo

$(BIN)/snakemake: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --editable '.[test]'
	touch $@

# The TeX packages of the PDF report (README, "Prerequisites"). The set-up installs them where
# it can (root with apt-get: containers, CI); elsewhere runs skip the PDF and say how to add it.
TEX_PACKAGES := texlive-latex-recommended texlive-science latexmk lmodern

setup: $(BIN)/snakemake tex

tex:
	@if command -v latexmk >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "gridscape: installing TeX for the PDF report: apt-get install $(TEX_PACKAGES)"; \
	  DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(TEX_PACKAGES) >/dev/null; \
	else \
	  echo "gridscape: no TeX here, so runs skip the PDF report (they say so). To add it:"; \
	  echo "    sudo apt-get install -y --no-install-recommends $(TEX_PACKAGES)"; \
	fi

# A study, then Snakemake's HTML report of it: make study CONFIG=config/x.yaml
study: setup
	GRIDSCAPE_HTML_REPORT_NEXT=1 $(BIN)/snakemake --cores $(CORES) --configfile $(CONFIG)
	@html=$$($(BIN)/python -c "import sys, yaml; print('results/' + yaml.safe_load(open(sys.argv[1]))['study'] + '/report.html')" $(CONFIG)) && \
	$(BIN)/snakemake --quiet all --cores $(CORES) --configfile $(CONFIG) --report "$$html" && \
	echo "gridscape: Snakemake's HTML report of the study: $$html"

demo:
	$(MAKE) --no-print-directory study CONFIG=config/demo.yaml

demo-vgg:
	$(MAKE) --no-print-directory study CONFIG=config/demo-vgg.yaml

demo-lab-augment:
	$(MAKE) --no-print-directory study CONFIG=config/demo-lab-augment.yaml

demo-lab-experiments:
	$(MAKE) --no-print-directory study CONFIG=config/demo-lab-experiments.yaml

demo-autoencoder:
	$(MAKE) --no-print-directory study CONFIG=config/demo-autoencoder.yaml

demo-scaling:
	$(MAKE) --no-print-directory study CONFIG=config/demo-scaling.yaml

demo-mlp:
	$(MAKE) --no-print-directory study CONFIG=config/demo-mlp.yaml

demo-exercises:
	$(MAKE) --no-print-directory study CONFIG=config/cs5242-exercises.yaml

# Two test processes, each taking whole files (their module fixtures run a study once): the
# workflow tests spend much of their time starting processes and waiting on SLURM.
test: setup
	$(BIN)/python -m pytest -n 2 --dist loadfile

lint: setup
	for study in config/*.yaml; do $(BIN)/snakemake --lint --configfile $$study || exit 1; done

benchmark: setup
	$(BIN)/python benchmarks/run.py

# The whole default study through Snakemake on generated full-size archives (about 20 minutes
# on 2 cores): make benchmark-study ARGS="--device cuda" on a GPU, ARGS=--quick for a small run.
benchmark-study: setup
	$(BIN)/python benchmarks/study.py $(ARGS)

benchmark-checkpoint: setup
	$(BIN)/python benchmarks/checkpoint.py

dag: setup
	$(BIN)/snakemake --dag --configfile config/demo.yaml > results/dag.dot

clean-demo:
	rm -rf results/demo-digits results/demo-vgg-digits results/cs5242-exercises results/demo-lab-augment results/demo-lab-experiments results/demo-autoencoder results/demo-scaling
