#!/usr/bin/env bash
# need.sh SPEC... — makes sure the Debian packages a make target builds with
# are installed, so every target sets itself up on a fresh machine.
#
# A SPEC is PKG or PKG:FILE. PKG counts as present only when dpkg says it is
# installed AND, with :FILE, that file exists: a build fails on a missing
# header, not on a missing package name (a compiler whose C library headers
# were left out as a mere "Recommends" looks installed but cannot build).
# Missing packages are installed with apt-get --no-install-recommends, so
# every package a build needs must be named here explicitly; a package that
# is installed but lacks its FILE is reinstalled. After installing, each FILE
# is checked again and a clear error names what is still missing.
set -euo pipefail
missing=()
reinstall=()
for spec in "$@"; do
  p=${spec%%:*}
  f=""
  [ "$p" != "$spec" ] && f=${spec#*:}
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  elif [ -n "$f" ] && [ ! -e "$f" ]; then
    reinstall+=("$p")
  fi
done
if [ ${#missing[@]} -gt 0 ] || [ ${#reinstall[@]} -gt 0 ]; then
  echo "need.sh: installing Debian packages: ${missing[*]} ${reinstall[*]}" >&2
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  # Update the package lists once per boot at most; a stale list finds nothing.
  stamp=/tmp/.tillbridge-apt-updated
  if [ ! -f "$stamp" ]; then
    $SUDO apt-get update -qq && touch "$stamp"
  fi
  if [ ${#missing[@]} -gt 0 ]; then
    $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  if [ ${#reinstall[@]} -gt 0 ]; then
    $SUDO apt-get install -y -qq --no-install-recommends --reinstall "${reinstall[@]}" >/dev/null
  fi
fi
bad=0
for spec in "$@"; do
  p=${spec%%:*}
  [ "$p" = "$spec" ] && continue
  f=${spec#*:}
  if [ ! -e "$f" ]; then
    echo "need.sh: $f is still missing after installing $p; the build needs it" >&2
    bad=1
  fi
done
exit $bad
