# callsim: two commands do everything on a fresh Debian 12 machine (as root):
#   make demo   install what is missing, build (Release), run the bundled scenarios, and write
#               an HTML report of every run (build/demo-report.html)
#   make test   install what is missing (and Node.js, npm ws and playwright-core, and Chromium for
#               tests/node), build, run the whole suite through ctest
#   make test-sanitize   the whole suite again, built with ASan and UBSan (build-sanitize/)
#   make fuzz   libFuzzer targets (clang), FUZZ_SECONDS each (build-fuzz/); make fuzz-smoke: 10 s each
BUILD_DIR ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
DEMO_DB ?= $(BUILD_DIR)/demo.db
DEMO_REPORT ?= $(BUILD_DIR)/demo-report.html
DEMO_SEED ?= 1
SANITIZE_DIR ?= build-sanitize
FUZZ_DIR ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?=

# Debian 12 packages the build and the tests need.
PACKAGES := g++ make cmake pkg-config sqlite3 python3 python3-yaml \
  libboost-dev libopus-dev libsndfile1-dev libsrtp2-dev nlohmann-json3-dev libsqlite3-dev \
  prometheus-cpp-dev libyaml-cpp-dev libgtest-dev libgmock-dev libbenchmark-dev libcli11-dev \
  libvalijson-dev libsoxr-dev libssl-dev libre2-dev prometheus sip-tester \
  espeak-ng libespeak-ng-dev espeak-ng-data libpocketsphinx-dev libsphinxbase-dev pocketsphinx-en-us
# The fuzz targets need clang and its libFuzzer runtime.
FUZZ_PACKAGES := clang-14 libclang-rt-14-dev
# The Node.js client test (tests/node) needs node and npm: Debian's, only when not on PATH.
NODE_PACKAGES := $(strip $(if $(shell command -v node 2>/dev/null),,nodejs) \
  $(if $(shell command -v npm 2>/dev/null),,npm))

# The HTML report's browser test (tests/node/html_report.mjs) drives Debian's Chromium.
BROWSER_PACKAGES := chromium

# apt-get needs root; a non-root user goes through sudo.
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

.PHONY: all deps deps-fuzz deps-node deps-browser build demo test test-sanitize fuzz fuzz-smoke bench clean

all: build

deps:
	@$(MAKE) --no-print-directory install-packages INSTALL="$(PACKAGES)"

deps-fuzz: deps
	@$(MAKE) --no-print-directory install-packages INSTALL="$(FUZZ_PACKAGES)"

# node and npm, then tests/node/node_modules from the lock file when missing or older than it.
deps-node:
	@$(if $(NODE_PACKAGES),$(MAKE) --no-print-directory install-packages INSTALL="$(NODE_PACKAGES)",\
	  echo "node $$(node --version), npm $$(npm --version)")
	@if [ ! -d tests/node/node_modules ] || [ tests/node/node_modules -ot tests/node/package-lock.json ]; then \
	  npm ci --prefix tests/node --no-audit --no-fund; \
	else echo "tests/node/node_modules: up to date"; fi

deps-browser:
	@$(MAKE) --no-print-directory install-packages INSTALL="$(BROWSER_PACKAGES)"

install-packages:
	@missing=""; for p in $(INSTALL); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	else echo "installed: $(words $(INSTALL)) packages"; fi

$(BUILD_DIR)/CMakeCache.txt:
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=Release

build: deps $(BUILD_DIR)/CMakeCache.txt
	cmake --build $(BUILD_DIR) -j $(JOBS)

demo: build
	@sh tools/demo.sh $(BUILD_DIR)/callsim . $(DEMO_DB) $(DEMO_SEED) $(BUILD_DIR)/demo-metrics $(DEMO_REPORT)

# The real-time tests over loopback (label wire) mostly wait on the clock: they run beside the
# rest, six at a time (a few percent of a core each), and their output follows. The rest run in virtual time at a lower
# priority (nice), so they take the CPU the real-time calls leave. The CPU-heavy ones (label
# heavy: every bundled scenario in a browser, the CI examples) run after them, so they cannot
# starve a real-time call.
# A fresh build directory has no timings yet: tests/ctest_costs.txt seeds them (ctest's own
# CTestCostData.txt format), so ctest starts the longest tests first in each lane.
test: deps-node deps-browser build
	@mkdir -p $(BUILD_DIR)/Testing/Temporary && \
	  { [ -f $(BUILD_DIR)/Testing/Temporary/CTestCostData.txt ] || \
	    cp tests/ctest_costs.txt $(BUILD_DIR)/Testing/Temporary/CTestCostData.txt; }
	@cd $(BUILD_DIR) && { ctest --output-on-failure -j 6 -L wire > ctest-wire.log 2>&1 & wire=$$!; \
	  nice -n 10 ctest --output-on-failure -j $(JOBS) -LE 'wire|heavy'; rest=$$?; wait $$wire; wire_status=$$?; \
	  echo "== real-time tests over loopback (ctest -L wire)"; cat ctest-wire.log; \
	  echo "== CPU-heavy tests, after the real-time ones (ctest -L heavy)"; \
	  ctest --output-on-failure -j $(JOBS) -L heavy; heavy=$$?; \
	  [ $$rest -eq 0 ] && [ $$wire_status -eq 0 ] && [ $$heavy -eq 0 ]; }

# ASan + UBSan over the whole suite; a report fails the test that caused it.
test-sanitize: deps
	cmake -S . -B $(SANITIZE_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCALLSIM_SANITIZE=ON
	cmake --build $(SANITIZE_DIR) -j $(JOBS)
	cd $(SANITIZE_DIR) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j $(JOBS)

fuzz: deps-fuzz
	cmake -S . -B $(FUZZ_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCALLSIM_FUZZ=ON \
	  -DCMAKE_CXX_COMPILER=clang++-14
	cmake --build $(FUZZ_DIR) -j $(JOBS)
	fuzz/run.sh $(FUZZ_DIR) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# Every target for 10 s with a fixed seed: the same mutations each time, so a red run is a finding.
fuzz-smoke:
	@FUZZ_SEED=1 $(MAKE) --no-print-directory fuzz FUZZ_SECONDS=10

bench: build
	$(BUILD_DIR)/callsim_bench

clean:
	rm -rf $(BUILD_DIR) $(SANITIZE_DIR) $(FUZZ_DIR)
