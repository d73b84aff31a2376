# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test crosscheck crosscheck-venvs bench clean browser screenshot

# pip's and setuptools' chatter goes to a log, shown only if the install fails
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	@echo "installing mbcost and its dependencies into $(VENV) (log: $(VENV)/install.log)"
	@{ $(BIN)/pip install --upgrade pip && $(BIN)/pip install -e '.[test]'; } > $(VENV)/install.log 2>&1 \
		|| { cat $(VENV)/install.log; exit 1; }
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/mbcost report mobilenet_v2 --alpha 0.75

test: $(STAMP)
	$(BIN)/python -m pytest -n auto

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis

# Whole-process speed as ratios (issue 7); add the PyTorch peers with `make bench PEERS=1`.
PEERS_VENV := .venv-peers
$(PEERS_VENV)/.installed:
	$(PYTHON) -m venv $(PEERS_VENV)
	$(PEERS_VENV)/bin/pip install --quiet torch==2.13.0 ptflops fvcore
	touch $@

# mbcost against onnx-tool on large ONNX files (issue 23): onnx, onnx-tool and mbcost in a venv of their own
ONNXBENCH_VENV := .venv-onnxbench
$(ONNXBENCH_VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(ONNXBENCH_VENV)
	$(ONNXBENCH_VENV)/bin/pip install --quiet onnx onnx-tool==1.0.1 -e .
	touch $@

# compileall: with PYTHONDONTWRITEBYTECODE set (as on CI machines) an editable install would
# otherwise recompile mbcost's sources on every start, which no installed user pays.
# Both benchmarks run; either missing a target fails the run.
bench: $(STAMP) $(ONNXBENCH_VENV)/.installed $(if $(PEERS),$(PEERS_VENV)/.installed)
	$(BIN)/python -m compileall -q mbcost
	status=0; \
	$(BIN)/python benchmarks/bench.py $(if $(PEERS),--peers $(PEERS_VENV)/bin/python) || status=1; \
	$(ONNXBENCH_VENV)/bin/python benchmarks/onnx_tool_bench.py || status=1; \
	exit $$status

# The cross-check tier (tests/crosscheck): mbcost's counts against PyTorch's FlopCounterMode and
# parameters, torch.onnx.export and onnxruntime, and the built-in families against timm's and
# torchvision's modules, in a venv of its own (torch 2.14.1 with torchvision 0.29.1 is large:
# ~5.7 GB). In CI (CI=true) a missing package fails the run instead of skipping it.
XC_VENV := .venv-crosscheck
$(XC_VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(XC_VENV)
	@echo "installing torch, torchvision, timm, onnx and onnxruntime into $(XC_VENV) (log: $(XC_VENV)/install.log)"
	@{ $(XC_VENV)/bin/pip install --upgrade pip && $(XC_VENV)/bin/pip install torch==2.14.1 torchvision==0.29.1 timm==1.0.31 onnx onnxruntime \
		&& $(XC_VENV)/bin/pip install -e '.[test]'; } > $(XC_VENV)/install.log 2>&1 \
		|| { cat $(XC_VENV)/install.log; exit 1; }
	touch $@

# The FLOP counters `mbcost compare` reproduces (tests/crosscheck/test_peer_cases.py), pinned to the
# versions whose source lines the profiles cite, in a venv over the cross-check's torch,
# torchvision and timm (a .pth file): each counter runs there on each case in a process of its own.
COUNTERS_VENV := .venv-counters
COUNTER_PINS  := ptflops==0.7.5 fvcore==0.1.5.post20221221 thop==0.1.1.post2209072238 torchinfo==1.8.0 calflops==0.3.2
PURELIB := -c "import sysconfig; print(sysconfig.get_paths()['purelib'])"
SITE_DIRS := -c "import sys; print('\\n'.join(p for p in sys.path if p.endswith('site-packages')))"
$(COUNTERS_VENV)/.installed: $(XC_VENV)/.installed
	$(PYTHON) -m venv $(COUNTERS_VENV)
	$(XC_VENV)/bin/python $(SITE_DIRS) > "$$($(COUNTERS_VENV)/bin/python $(PURELIB))/crosscheck.pth"
	@# torch must come from the cross-check's venv, or pip would fetch another (CUDA) build
	$(COUNTERS_VENV)/bin/python -c "import torch, torchvision, timm"
	@echo "installing $(COUNTER_PINS) into $(COUNTERS_VENV) (log: $(COUNTERS_VENV)/install.log)"
	@$(COUNTERS_VENV)/bin/pip install $(COUNTER_PINS) > $(COUNTERS_VENV)/install.log 2>&1 \
		|| { cat $(COUNTERS_VENV)/install.log; exit 1; }
	touch $@

crosscheck-venvs: $(XC_VENV)/.installed $(COUNTERS_VENV)/.installed

crosscheck: crosscheck-venvs
	$(XC_VENV)/bin/python -m pytest -o addopts="-q" -n auto --dist worksteal --durations=15 tests/crosscheck

# The browser tier (tests/browser): every command's HTML page opened in headless Chromium through
# Selenium. Chromium and its driver come from the distribution's packages (installed here when
# missing, which needs root, as on CI); selenium goes into the test venv. In CI (CI=true) a
# missing browser fails the run instead of skipping it.
BROWSER_STAMP := $(VENV)/.browser-installed
$(BROWSER_STAMP): $(STAMP)
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
		{ echo "installing chromium and chromium-driver (apt-get)"; \
		  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; }
	$(BIN)/pip install --quiet 'selenium>=4.20'
	touch $@

browser: $(BROWSER_STAMP)
	$(BIN)/python -m pytest -o addopts="-q" tests/browser

# docs/report-page.png, the README's screenshot: the browser tier's own screenshot of the report page
screenshot: $(BROWSER_STAMP)
	MBCOST_SCREENSHOT=docs/report-page.png $(BIN)/python -m pytest -o addopts="-q" tests/browser -k "report_page_loads"
