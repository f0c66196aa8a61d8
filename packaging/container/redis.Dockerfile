# A local stand-in for the registry's `redis:7`, for packaging/test-container.sh: no
# container registry is reachable where CI runs, so the test builds this from Debian's own
# packages (Redis 7.0 in bookworm) on the local debian:12-slim stand-in, and tags it
# docker.io/library/redis:7 so that docker-compose.yml's `image: redis:7` finds it. It is
# not the official image: no entrypoint script; it runs as Debian's `redis` user from the
# start; the data directory is /data, as in the official image (Compose mounts its volume
# there). Operators with registry access use the official image, as the Compose file says.
FROM debian:12-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      redis-server redis-tools \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir /data && chown redis:redis /data
WORKDIR /data
USER redis
EXPOSE 6379
CMD ["redis-server"]
