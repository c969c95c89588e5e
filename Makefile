# Two commands set everything up on a fresh machine:
#   make demo   the pipeline (-profile test,local) on the bundled data, offline
#   make test   ruff, mypy, nextflow lint, every pytest test (real Nextflow runs among them)
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_OUT ?= demo_out
# Debian packages of the outside tools the steps call when they are on PATH
# (bwa and Debian's samtools, which brings wgsim, simulate and align the reads of tests/test_bam.py)
APT_TOOLS := mmseqs2 cd-hit ncbi-blast+ seqkit samtools bwa
TOOL_BINARIES := mmseqs cd-hit-est blastn seqkit samtools bwa wgsim

NF_CHECK ?= ../shared/tools/nf-check
# Nextflow: jars resolved from Maven Central by tools/nextflow/pom.xml (see tools/nextflow/README.md)
NXF_TOOLS := tools/nextflow
NXF_LINT_FIX := $(NXF_TOOLS)/lint-fix/nextflow/script/control/LazyErrorCollector.java
NXF_VERSION := $(shell sed -n 's:.*<nextflow.version>\(.*\)</nextflow.version>.*:\1:p' $(NXF_TOOLS)/pom.xml)

.PHONY: install nextflow tools test lint typecheck nf-lint nf-check pytest nf-test demo clean

$(VENV)/.installed: pyproject.toml containers/constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c containers/constraints.txt torch
	$(BIN)/pip install -q -c containers/constraints.txt -e '.[test,deep,hf,bam,pipeline]'
	touch $@

# Nextflow's jars into tools/nextflow/lib/ (ignored), the lint fix compiled beside them; the
# pipeline's parameter validator (a jar of the same pom) is needed whichever launcher runs
$(NXF_TOOLS)/lib/.resolved: $(NXF_TOOLS)/pom.xml $(NXF_LINT_FIX)
	rm -rf $(NXF_TOOLS)/lib $(NXF_TOOLS)/classes
	mvn -q -B -f $(NXF_TOOLS)/pom.xml dependency:copy-dependencies
	javac -proc:none -nowarn -d $(NXF_TOOLS)/classes -cp '$(NXF_TOOLS)/lib/*' $(NXF_LINT_FIX)
	touch $@

# `nextflow` on the venv's PATH. NEXTFLOW_FROM=official: the official launcher (get.nextflow.io),
# which downloads its runtime here, at install; maven: tools/nextflow/launch.sh on the jars above
# (air-gapped sites that mirror Maven Central). Unset: official where get.nextflow.io answers.
$(BIN)/nextflow: $(NXF_TOOLS)/lib/.resolved | $(VENV)/.installed
	@from=$(NEXTFLOW_FROM); version=$(NXF_VERSION); \
	if [ -z "$$from" ]; then curl -fsS --max-time 10 -o /dev/null https://get.nextflow.io 2>/dev/null \
	  && from=official || from=maven; fi; \
	if [ "$$from" = official ]; then \
	  mkdir -p $(NXF_TOOLS)/official && curl -fsSL https://get.nextflow.io -o $(NXF_TOOLS)/official/nextflow \
	  && chmod +x $(NXF_TOOLS)/official/nextflow; \
	  printf '#!/bin/sh\nexport NXF_VER=%s NXF_CLASSPATH="%s"\nexec "%s" "$$@"\n' "$$version" \
	    "$$(ls $(abspath $(NXF_TOOLS))/lib/json-schema-*.jar)" "$(abspath $(NXF_TOOLS))/official/nextflow" > $@; \
	else \
	  printf '#!/bin/sh\nexec "%s" "$$@"\n' "$(abspath $(NXF_TOOLS)/launch.sh)" > $@; \
	fi; \
	chmod +x $@; echo "make nextflow: Nextflow $$version from $$from"
	$@ -version | grep -q 'version $(NXF_VERSION)'

nextflow: $(BIN)/nextflow

install: $(VENV)/.installed $(BIN)/nextflow

tools:
	@missing=""; for t in $(TOOL_BINARIES); do command -v $$t >/dev/null || missing="$$missing $$t"; done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "make tools: installing$$missing from Debian packages"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(APT_TOOLS) >/dev/null; \
	else \
	  echo "make tools: not on PATH:$$missing (apt-get install $(APT_TOOLS)); tests that need them skip"; \
	fi

lint: install
	$(BIN)/ruff check src tests benchmarks experiments tools/same_outputs.py bin/seqclass

# the package's types ([tool.mypy] in pyproject.toml); tests/test_layers.py checks its imports
typecheck: install
	$(BIN)/mypy

# Nextflow's own static check (strict syntax); nf-test.config is nf-test's file, not a Nextflow config
nf-lint: $(BIN)/nextflow
	NXF_OFFLINE=true $(BIN)/nextflow lint -exclude nf-test.config -o concise .

nf-check:
	@if [ -x $(NF_CHECK) ]; then $(NF_CHECK) --strict .; \
	else echo "make test: $(NF_CHECK) is not beside this clone; Nextflow static checks skipped"; fi

# SEQCLASS_CI=1 (.ci/run): the run fails when no test passed or the Nextflow tests skipped
pytest: install
	$(BIN)/python -m pytest -q --durations=25

# nf-test is not on a registry these machines reach: GitHub Actions runs it (.github/workflows/ci.yml);
# tests/test_pipeline.py and tests/test_modules_nextflow.py are its twins with real `nextflow run`
nf-test: install
	@if command -v nf-test >/dev/null; then PATH=$(abspath $(BIN)):$$PATH nf-test test; \
	else echo "make test: nf-test is not installed; its cases ran as pytest twins"; fi

test: install tools lint typecheck nf-lint nf-check pytest nf-test

# the real pipeline, offline, on the bundled promoter data; DEMO_OUT moves the results
demo: install tools
	mkdir -p $(DEMO_OUT)
	cd $(DEMO_OUT) && NXF_OFFLINE=true PATH=$(abspath $(BIN)):$$PATH nextflow run $(abspath main.nf) \
	  -profile test,local --outdir $(abspath $(DEMO_OUT))/results
	@echo "demo: results in $(DEMO_OUT)/results/; the MultiQC report is" \
	  "$(DEMO_OUT)/results/multiqc/seqclass-train_multiqc_report.html"

clean:
	rm -rf $(VENV) $(DEMO_OUT) .pytest_cache
