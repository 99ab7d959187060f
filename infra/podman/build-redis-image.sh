#!/usr/bin/env bash
# Build a tiny Redis image from the host's Debian redis-server, with no registry, and tag it as
#   localhost/redis:7  and  docker.io/library/redis:7-alpine
# so that `new RedisContainer('redis:7-alpine')` (the @handoff/testing default) finds it without a pull.
#
# Idempotent: when the image already exists only the tags are (re)applied. Pass --force to rebuild.
# Needs: podman, redis-server and a static busybox (Debian: busybox-static) on the host.
set -euo pipefail

IMAGE=localhost/redis:7
ALIAS=docker.io/library/redis:7-alpine
FORCE=0
[ "${1:-}" = "--force" ] && FORCE=1

if [ "$FORCE" = 0 ] && podman image exists "$IMAGE"; then
  echo "build-redis-image: $IMAGE already present"
else
  OLD_ID=$(podman image inspect --format '{{.Id}}' "$IMAGE" 2>/dev/null || true)
  REDIS_SERVER=$(command -v redis-server) || { echo "build-redis-image: redis-server not found" >&2; exit 1; }
  REDIS_CLI=$(command -v redis-cli) || { echo "build-redis-image: redis-cli not found" >&2; exit 1; }
  BUSYBOX=""
  for b in /bin/busybox /usr/bin/busybox; do
    if [ -x "$b" ] && ! ldd "$b" >/dev/null 2>&1; then BUSYBOX=$b; break; fi   # ldd fails on static binaries
  done
  [ -n "$BUSYBOX" ] || { echo "build-redis-image: a static busybox is needed (apt-get install busybox-static)" >&2; exit 1; }

  R=$(mktemp -d)
  trap 'rm -rf "$R"' EXIT
  mkdir -p "$R/usr/bin" "$R/usr/local/bin" "$R/bin" "$R/data" "$R/tmp" "$R/etc"
  cp -L "$REDIS_SERVER" "$R/usr/bin/redis-server"
  cp -L "$REDIS_CLI" "$R/usr/bin/redis-cli"
  for b in "$REDIS_SERVER" "$REDIS_CLI"; do ldd "$b" | grep -oE '/[^ ]+'; done | sort -u |
    while read -r lib; do mkdir -p "$R$(dirname "$lib")"; cp -L "$lib" "$R$lib"; done
  cp "$BUSYBOX" "$R/bin/busybox"   # static: gives /bin/sh for `exec` and the wrapper below
  for a in sh cat ls echo sleep; do ln -s busybox "$R/bin/$a"; done
  # Like the official image: protected mode off (RedisContainer runs plain `redis-server`).
  printf '#!/bin/sh\nexec /usr/bin/redis-server --protected-mode no "$@"\n' > "$R/usr/local/bin/redis-server"
  chmod 755 "$R/usr/local/bin/redis-server"
  chmod 1777 "$R/tmp"
  echo 'root:x:0:0:root:/root:/bin/sh' > "$R/etc/passwd"
  echo 'root:x:0:' > "$R/etc/group"
  if ! out=$(tar -C "$R" -cf - . | podman import \
      --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' --change 'WORKDIR /data' \
      --change 'EXPOSE 6379' --change 'CMD ["redis-server"]' - "$IMAGE" 2>&1); then
    echo "build-redis-image: podman import failed: $out" >&2
    exit 1
  fi
  echo "build-redis-image: built $IMAGE"
  # a --force rebuild leaves the previous image untagged: drop it unless something still uses it
  if [ -n "$OLD_ID" ]; then podman rmi "$OLD_ID" >/dev/null 2>&1 || true; fi
fi

podman tag "$IMAGE" "$ALIAS"
echo "build-redis-image: tagged $ALIAS"
