# Set-up and the two commands the README starts with. Everything installs into .venv.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
SAMPLE_DIR ?= sample

.PHONY: setup sample test clean browser

$(BIN)/activate:
	$(PY) -m venv $(VENV)

# torch first and pinned: an unpinned torch pulls a multi-GB CUDA build.
$(VENV)/.installed: $(BIN)/activate pyproject.toml
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e ".[train,test]"
	touch $@

setup: $(VENV)/.installed

sample: setup
	$(BIN)/vidkp sample $(SAMPLE_DIR)
	$(BIN)/vidkp run $(SAMPLE_DIR)/grace_hopper.mp4 --out $(SAMPLE_DIR)/tracks.parquet --annotate $(SAMPLE_DIR)/annotated --workers 1
	@echo "Results: $(SAMPLE_DIR)/tracks.parquet (pandas.read_parquet), annotated video in $(SAMPLE_DIR)/annotated/"

# headless Chromium for the report test (test_report.py skips without it); Debian/Ubuntu, as root
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  { if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	      { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } || \
	        echo "make browser: could not install chromium; the report test will skip"; \
	    else echo "make browser: install Debian's chromium package to run the report test"; fi; }

test: setup
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) $(SAMPLE_DIR)
