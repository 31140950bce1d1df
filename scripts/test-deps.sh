#!/usr/bin/env bash
# Installs what the test suite needs beyond npm packages: Debian's Chromium for the browser tests, redis-server
# for the Redis store's tests, nginx-light (it has auth_request) and caddy for the edge tests. The tests start their
# own processes on free loopback ports with their own configuration; a service apt may start is not used.
# Runs before `npm test`; does nothing when everything is already there.
set -euo pipefail

missing=()
[ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ] || missing+=(chromium)
[ -x "${REDIS_SERVER_PATH:-/usr/bin/redis-server}" ] || missing+=(redis-server)
[ -x "${REDIS_CLI_PATH:-/usr/bin/redis-cli}" ] || missing+=(redis-tools)
[ -x "${NGINX_PATH:-/usr/sbin/nginx}" ] || missing+=(nginx-light)
[ -x "${CADDY_PATH:-/usr/bin/caddy}" ] || missing+=(caddy)

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "test setup: installing ${missing[*]} with apt-get" >&2
if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1; then
  sudo=(sudo)
else
  echo "test setup: ${missing[*]} missing and not root: run 'apt-get install ${missing[*]}' as root" >&2
  exit 1
fi
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
