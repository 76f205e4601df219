# callsim: two commands do everything on a fresh Debian 12 machine (as root):
#   make demo   install what is missing, build (Release), run the bundled scenarios
#   make test   install what is missing, build, run the whole suite through ctest
BUILD_DIR ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
DEMO_DB ?= $(BUILD_DIR)/demo.db
DEMO_SEED ?= 1

# Debian 12 packages the build and the tests need.
PACKAGES := g++ make cmake pkg-config sqlite3 \
  libboost-dev libopus-dev libsndfile1-dev libsrtp2-dev nlohmann-json3-dev libsqlite3-dev \
  prometheus-cpp-dev libyaml-cpp-dev libgtest-dev libgmock-dev libbenchmark-dev libcli11-dev \
  libvalijson-dev libsoxr-dev libssl-dev libre2-dev prometheus

# apt-get needs root; a non-root user goes through sudo.
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

.PHONY: all deps build demo test bench clean

all: build

deps:
	@missing=""; for p in $(PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	else echo "all build dependencies are installed"; fi

$(BUILD_DIR)/CMakeCache.txt:
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=Release

build: deps $(BUILD_DIR)/CMakeCache.txt
	cmake --build $(BUILD_DIR) -j $(JOBS)

demo: build
	@rm -f $(DEMO_DB) $(DEMO_DB)-wal $(DEMO_DB)-shm; mkdir -p $(BUILD_DIR)/demo-metrics
	@status=0; for s in scenarios/*.yaml; do \
	  echo "== $$s"; \
	  $(BUILD_DIR)/callsim run $$s --seed $(DEMO_SEED) --db $(DEMO_DB) \
	    --metrics-out $(BUILD_DIR)/demo-metrics/$$(basename $$s .yaml).prom || status=$$?; \
	done; \
	echo "results: $(DEMO_DB) (sqlite3 $(DEMO_DB) 'select * from metrics')"; \
	echo "agent metrics (Prometheus text format): $(BUILD_DIR)/demo-metrics/"; exit $$status

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)

bench: build
	$(BUILD_DIR)/callsim_bench

clean:
	rm -rf $(BUILD_DIR)
