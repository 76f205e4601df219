# The callsim image: Debian 12 with the packages `make deps` installs (the Makefile's PACKAGES, the
# only list of them), the callsim binary built in Release, and the bundled scenarios.
#
#   docker build -t callsim:0.1.0 .
#   docker run --rm callsim:0.1.0 run /opt/callsim/scenarios/order_status.yaml --seed 1
#   docker run --rm -v "$PWD:/data" callsim:0.1.0 run /opt/callsim/scenarios/load_1000.yaml --db /data/load.db
#
# In the image:
#   /usr/local/bin/callsim           the entrypoint
#   /usr/local/bin/callsim-espeak    its speech helper (callsim runs the one beside itself)
#   /opt/callsim/scenarios/          the repository's scenarios/ folder, as it is
#   /data                            the working folder (a run's default --db, callsim.db, lands here)
# It runs as the unprivileged user callsim (uid and gid 10001). Only Debian's apt repositories are
# reached while it builds. deploy/k8s/ runs it as a sharded Kubernetes Job.
FROM debian:12

# make first, then the Makefile installs the rest; the user the image runs as.
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends make \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 10001 callsim \
 && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin callsim \
 && mkdir /data && chown callsim:callsim /data

WORKDIR /opt/callsim/src
COPY . .

# Only the binary and its helper are built (not the tests or the benchmarks); the sources and the
# build folder are removed in the same layer.
RUN make deps \
 && cmake -S . -B build -DCMAKE_BUILD_TYPE=Release \
 && cmake --build build --target callsim callsim-espeak -j "$(nproc)" \
 && install -m 0755 build/callsim build/callsim-espeak /usr/local/bin/ \
 && cd / && rm -rf /opt/callsim/src /var/lib/apt/lists/* \
 && callsim --help > /dev/null

WORKDIR /data
COPY scenarios /opt/callsim/scenarios
USER 10001:10001

ENTRYPOINT ["callsim"]
CMD ["--help"]
