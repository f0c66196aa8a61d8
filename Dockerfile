# syntax=docker/dockerfile:1
# APIProxy container image. Build and run with Docker Compose (docker-compose.yml):
#   cp .env.example .env && docker-compose up -d
# or by hand:
#   docker build -t apiproxy .
#   docker run --env-file .env -p 8000:8000 apiproxy
# (--env-file keeps a trailing "# comment" in the value, unlike Compose: comments on their own lines.)
# The demo mock upstream (no API key needed) is a separate target:
#   docker build --target mock-upstream -t apiproxy-mock-upstream .
# Podman: podman build --format docker (else HEALTHCHECK is dropped); packaging/README.md.

# The runtime stages copy only /staging from the two compile stages (build, mock-build).
# packaging/test-container.sh (CI) swaps those two stages for an image holding CI's
# already-built binaries at the same /staging paths, so it does not compile them again.

# ---- build: compiler and -dev packages, never shipped ----------------------------------
FROM debian:12-slim AS build
# The build subset of scripts/install-deps.sh (no test, benchmark or demo tools).
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake ninja-build pkg-config \
      libboost-dev libboost-filesystem-dev libboost-system-dev \
      libhiredis-dev rapidjson-dev libspdlog-dev libfmt-dev libssl-dev libjemalloc-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# Installed to /usr with LIBDIR=lib: the binary is /usr/bin/apiproxy and its plugins
# /usr/lib/apiproxy/plugins, the same paths as the .deb (and the compiled-in default).
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DAPIPROXY_BUILD_TESTS=OFF -DAPIPROXY_BUILD_MOCK=OFF \
      -DCMAKE_INSTALL_PREFIX=/usr -DCMAKE_INSTALL_LIBDIR=lib \
 && cmake --build /build --target apiproxy apiproxy_plugins \
 && DESTDIR=/staging cmake --install /build --component runtime --strip

# ---- runtime-base: shared libraries only --------------------------------------------------
FROM debian:12-slim AS runtime-base
# The shared-library dependencies of the apiproxy .deb (packaging/test-deb.sh checks that
# every package in its Depends is listed here) and CA certificates for HTTPS upstreams. No
# HTTP client: HEALTHCHECK is `apiproxy health`. (libspdlog1.10-fmt9 is virtual: apt
# selects libspdlog1.10.)
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libc6 libgcc-s1 libstdc++6 libssl3 libhiredis0.14 \
      libboost-filesystem1.74.0 libspdlog1.10-fmt9 libfmt9 libjemalloc2 \
      passwd ca-certificates \
 && rm -rf /var/lib/apt/lists/*
# A fixed, unprivileged uid, so that mounted files can be granted to it.
RUN groupadd --system --gid 10001 apiproxy \
 && useradd --system --uid 10001 --gid apiproxy --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin apiproxy
# An empty working directory: configuration comes from the environment (Compose's
# env_file), not from a .env baked into or lying around in the image. To use a file
# instead, mount it and set APIPROXY_ENV_FILE to its path.
WORKDIR /var/lib/apiproxy

# ---- mock-upstream: the demo/test OpenAI-compatible mock (optional target) ---------------
FROM build AS mock-build
RUN cmake -S . -B /build -DAPIPROXY_BUILD_MOCK=ON \
 && cmake --build /build --target apiproxy-mock-upstream \
 && install -D -s /build/bin/apiproxy-mock-upstream /staging/usr/bin/apiproxy-mock-upstream

FROM runtime-base AS mock-upstream
COPY --from=mock-build /staging/usr/bin/apiproxy-mock-upstream /usr/bin/apiproxy-mock-upstream
USER apiproxy
EXPOSE 8090
CMD ["apiproxy-mock-upstream", "--host", "0.0.0.0", "--port", "8090", "--name", "demo"]

# ---- apiproxy: the gateway (the default target: last in the file) ------------------------
FROM runtime-base AS apiproxy
COPY --from=build /staging/usr/bin/apiproxy /usr/bin/apiproxy
COPY --from=build /staging/usr/lib/apiproxy/plugins/ /usr/lib/apiproxy/plugins/
# Defaults for a container; the environment (env_file) overrides them.
ENV APIPROXY_HOST=0.0.0.0 \
    APIPROXY_PORT=8000
USER apiproxy
EXPOSE 8000
# `apiproxy health`: GET /health (open, no token) on the port the configuration names
# (APIPROXY_PORT), exit 0 on 200.
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD ["apiproxy", "health"]
# SIGTERM drains for up to APIPROXY_SHUTDOWN_GRACE_SECONDS (30 s): give `docker stop` more
# than that (docker-compose.yml sets stop_grace_period; `docker stop -t 40` by hand).
STOPSIGNAL SIGTERM
CMD ["apiproxy", "serve"]
