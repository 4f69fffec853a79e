# The two commands of the README:
#   make book   set up, then run the main job (train + evaluate every objective on the packaged data)
#   make test   set up, then run the test suite
VENV  ?= .venv
PY    := $(VENV)/bin/python
SCALE ?= local
export TRANSFORMERS_VERBOSITY ?= error
export HF_HUB_DISABLE_PROGRESS_BARS ?= 1

.PHONY: setup book test test-fast clean

setup: $(VENV)/.setup-done

$(VENV)/.setup-done: pyproject.toml scripts/setup.sh
	bash scripts/setup.sh $(VENV)
	touch $@

book: setup
	$(PY) scripts/main_job.py --scale $(SCALE) --output _build/results

test: setup
	$(PY) -m pytest -raP --durations=12

test-fast: setup
	$(PY) -m pytest -ra -m "not slow"

clean:
	rm -rf _build runs
