#!/usr/bin/env bash
# fresh-check.sh [REF] — runs CI (.ci/run) as a brand-new machine would: in a
# fresh minimal Debian root made with mmdebstrap, entered with chroot inside a
# private mount namespace (unshare), from a clean clone of REF (default HEAD)
# of this repository, with an empty Go module and build cache.
#
# The root has only what a new machine of ours starts with: a minimal Debian,
# git, make, ca-certificates, the machine's certificate bundle and the Go
# toolchain (/usr/local/go, bound read-only from this machine, as our
# machines ship it). Everything else —
# gcc, the C headers, libusb, the cross compilers, QEMU, sshd, Chromium — must
# be installed by the project's own make targets, or CI fails here.
#
# Environment: FRESH_ROOT (default /var/tmp/tillbridge-fresh; made anew each
# run), FRESH_SUITE (default bookworm), FRESH_KEEP=1 keeps the root afterwards.
# Needs root (chroot, mounts) and the Debian package registry.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
ref=${1:-HEAD}
root=${FRESH_ROOT:-/var/tmp/tillbridge-fresh}
suite=${FRESH_SUITE:-bookworm}
goroot=$(go env GOROOT)

[ "$(id -u)" -eq 0 ] || { echo "fresh-check: needs root (chroot, mounts)" >&2; exit 2; }
scripts/need.sh mmdebstrap:/usr/bin/mmdebstrap

say() { printf 'fresh-check: %s\n' "$*" >&2; }
# Never remove a folder with something mounted below it (a /dev bind from an
# interrupted run would take the machine's /dev with it).
if findmnt -rno TARGET | grep -q "^$root/"; then
  echo "fresh-check: something is still mounted under $root; unmount it first" >&2
  exit 2
fi
rm -rf "$root"
say "making a minimal $suite root in $root"
t0=$(date +%s)
mmdebstrap --quiet --variant=minbase --include=git,make,ca-certificates \
  "$suite" "$root" >/dev/null
say "root made in $(( $(date +%s) - t0 )) s"

say "cloning $ref of $repo"
git clone --quiet --no-hardlinks "$repo" "$root/src/tillbridge"
git -C "$root/src/tillbridge" checkout --quiet --detach "$(git rev-parse "$ref")"
mkdir -p "$root/usr/local/go"
cp /etc/resolv.conf "$root/etc/resolv.conf"
# A minimal root has no /etc/hosts; every installed machine names localhost.
printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"
# The machine's trusted certificates, as every machine of ours has them (the
# package registries are reached over TLS that the machine's own bundle
# verifies); kept apart so apt's ca-certificates updates cannot drop them.
cp "${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}" "$root/etc/ssl/machine-ca-bundle.crt"

# Everything below runs in a private mount namespace: the mounts vanish with it.
t1=$(date +%s)
set +e
unshare --mount --propagation private bash -euo pipefail -c '
  root=$1 goroot=$2
  mount --rbind /dev "$root/dev"
  mount -t proc proc "$root/proc"
  mount --rbind /sys "$root/sys"
  mount -t tmpfs tmpfs "$root/tmp"
  mount --bind "$goroot" "$root/usr/local/go"
  mount -o remount,bind,ro "$root/usr/local/go"
  exec chroot "$root" /usr/bin/env -i HOME=/root TERM=dumb CI=true \
    PATH=/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    GOPROXY="'"$(go env GOPROXY)"'" SSL_CERT_FILE=/etc/ssl/machine-ca-bundle.crt \
    GIT_SSL_CAINFO=/etc/ssl/machine-ca-bundle.crt \
    bash -c "cd /src/tillbridge && bash .ci/run </dev/null"
' _ "$root" "$goroot"
rc=$?
set -e
secs=$(( $(date +%s) - t1 ))
say ".ci/run exited $rc after ${secs} s ($(( secs / 60 )) min $(( secs % 60 )) s) in the fresh root"
if [ "${FRESH_KEEP:-0}" != 1 ]; then
  rm -rf "$root"
fi
exit $rc
