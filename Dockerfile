# syntax=docker/dockerfile:1
# APIProxy container image. Build and run with Docker Compose (docker-compose.yml):
#   cp .env.example .env && docker-compose up -d
# or by hand:
#   docker build -t apiproxy .
#   docker run --env-file .env -p 8000:8000 apiproxy
# The demo mock upstream (no API key needed) is a separate target:
#   docker build --target mock-upstream -t apiproxy-mock-upstream .

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
# every package in its Depends is listed here), CA certificates for HTTPS upstreams, and
# curl for HEALTHCHECK. (libspdlog1.10-fmt9 is virtual: apt selects libspdlog1.10.)
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libc6 libgcc-s1 libstdc++6 libssl3 libhiredis0.14 \
      libboost-filesystem1.74.0 libspdlog1.10-fmt9 libfmt9 libjemalloc2 \
      passwd ca-certificates curl \
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
 && strip /build/bin/apiproxy-mock-upstream

FROM runtime-base AS mock-upstream
COPY --from=mock-build /build/bin/apiproxy-mock-upstream /usr/bin/apiproxy-mock-upstream
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
# /health is open (no token) and answers 200 once the gateway serves.
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD curl -fsS "http://127.0.0.1:${APIPROXY_PORT:-8000}/health" >/dev/null || exit 1
# SIGTERM drains for up to APIPROXY_SHUTDOWN_GRACE_SECONDS (30 s): give `docker stop` more
# than that (docker-compose.yml sets stop_grace_period; `docker stop -t 40` by hand).
STOPSIGNAL SIGTERM
CMD ["apiproxy", "serve"]
