#!/usr/bin/env bash
# need.sh PKG... — installs the named Debian packages with apt-get when any is
# missing, so every make target sets up what it needs on a fresh machine.
set -euo pipefail
missing=()
for p in "$@"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
# Update the package lists once per boot at most; a stale list finds nothing.
stamp=/tmp/.tillbridge-apt-updated
if [ ! -f "$stamp" ]; then
  $SUDO apt-get update -qq && touch "$stamp"
fi
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
