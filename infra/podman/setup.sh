#!/usr/bin/env bash
# Make rootful Podman answer the Docker API at unix:///run/podman/podman.sock, so that
# testcontainers (and so @handoff/testing's startRedis) can start Redis containers on CI.
# Debian 12, root. Idempotent: every step that is already done is skipped.
#
# This script never fails the build and never hangs: every wait is bounded. When podman cannot be
# had it prints `podman: unavailable (<reason>)` and exits 0; the tests then fall back to a local
# redis-server. On success it prints `podman: ready at unix:///run/podman/podman.sock`.
#
# What it does and why (see shared research notes on testcontainers):
#   - apt: podman, runc (crun fails here on hybrid cgroups), redis-server + busybox-static (to
#     build the Redis image locally: no registry is reachable), curl (to ping the socket).
#   - /etc/containers/containers.conf: default_ulimits within the real hard limits (podman's own
#     1048576 defaults need CAP_SYS_RESOURCE), runtime=runc, cgroupfs, file events logger.
#   - builds localhost/redis:7, tagged docker.io/library/redis:7-alpine (build-redis-image.sh).
#   - starts `podman system service --time=0` on the socket in the background
#     (PID in /run/podman/service.pid, log in /run/podman/service.log).
# Tests should also export TESTCONTAINERS_RYUK_DISABLED=true (the Ryuk image cannot be pulled);
# startRedis() sets it itself.
set -euo pipefail

SOCK=/run/podman/podman.sock
URL="unix://$SOCK"
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CONF=/etc/containers/containers.conf
MARK="# written by handoff infra/podman/setup.sh"

unavailable() { echo "podman: unavailable ($1)"; exit 0; }
log() { echo "podman-setup: $*"; }
ping_socket() { [ -S "$SOCK" ] && curl -sf --max-time 2 --unix-socket "$SOCK" http://d/_ping >/dev/null 2>&1; }

[ "$(uname -s)" = Linux ] || unavailable "not Linux"
[ "$(id -u)" = 0 ] || unavailable "needs root for rootful podman and apt-get"

# 1. packages
need=()
command -v podman >/dev/null 2>&1 || need+=(podman)
command -v runc >/dev/null 2>&1 || need+=(runc)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v curl >/dev/null 2>&1 || need+=(curl)
if ! { [ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1; }; then need+=(busybox-static); fi
if [ ${#need[@]} -gt 0 ]; then
  command -v apt-get >/dev/null 2>&1 || unavailable "apt-get not found; install ${need[*]} by hand"
  log "installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  timeout 300 apt-get update -qq >/dev/null 2>&1 || unavailable "apt-get update failed or timed out"
  timeout 600 apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null 2>&1 \
    || unavailable "apt-get install ${need[*]} failed or timed out"
else
  log "packages already installed"
fi

# 2. containers.conf (left alone when someone else wrote it)
NOFILE=$(ulimit -Hn); NPROC=$(ulimit -Hu); PIDMAX=$(cat /proc/sys/kernel/pid_max)
[ "$NOFILE" = unlimited ] && NOFILE=1048576
if [ "$NPROC" = unlimited ] || [ "$NPROC" -gt "$PIDMAX" ]; then NPROC=$PIDMAX; fi
WANT="$MARK
[containers]
default_ulimits = [\"nofile=${NOFILE}:${NOFILE}\", \"nproc=${NPROC}:${NPROC}\"]
[engine]
runtime = \"runc\"
cgroup_manager = \"cgroupfs\"
events_logger = \"file\""
mkdir -p /etc/containers /run/podman
if [ ! -e "$CONF" ]; then
  printf '%s\n' "$WANT" > "$CONF"; log "wrote $CONF"
elif head -n1 "$CONF" | grep -qF "$MARK"; then
  if [ "$(cat "$CONF")" != "$WANT" ]; then printf '%s\n' "$WANT" > "$CONF"; log "updated $CONF"; else log "$CONF up to date"; fi
else
  log "$CONF exists and was not written by this script; leaving it alone"
fi

# 3. the image (no registry needed)
timeout 120 "$HERE/build-redis-image.sh" | sed 's/^/podman-setup: /' || unavailable "could not build the local redis image"

# 4. the runtime really starts containers (catches setrlimit / cgroup problems early)
out=$(timeout 60 podman run --rm --net=none localhost/redis:7 /usr/bin/redis-server --version 2>&1) \
  || unavailable "podman run failed: $(printf '%s' "$out" | tail -n1)"

# 5. the Docker-API service
if ping_socket; then
  log "service already answering on $SOCK"
else
  rm -f "$SOCK"
  # Started from /: a service whose working directory is the checkout breaks (HTTP 500 on every
  # container start) once that checkout is deleted, as a CI clone is.
  (cd / && exec setsid nohup podman system service --time=0 "$URL" >/run/podman/service.log 2>&1 < /dev/null) &
  echo $! > /run/podman/service.pid
  for _ in $(seq 50); do ping_socket && break; sleep 0.2; done   # at most ~10 s (+2 s per ping)
  ping_socket || unavailable "podman system service did not answer on $SOCK within 10 s (see /run/podman/service.log)"
  log "service started (pid $(cat /run/podman/service.pid))"
fi

echo "podman: ready at $URL"
