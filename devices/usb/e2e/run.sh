#!/usr/bin/env bash
# Real-USB end-to-end tests: builds the usbe2e test binary, packs it with
# busybox, its shared libraries and the Debian kernel's USB modules into an
# initramfs, boots it in QEMU (software emulation, no KVM), where the tests
# create USB gadgets (dummy_hcd + configfs) and drive them through the real
# backends. The verdict comes from QEMU's exit status. Last line printed:
# "N passed, N failed". See docs/usb-testing.md.
#
# Environment: TILLBRIDGE_USB_CACHE (default ~/.cache/tillbridge-usb) keeps
# the kernel and modules; TILLBRIDGE_USB_KERNEL_PKG overrides the kernel
# package (default: what linux-image-amd64 depends on); QEMU_TIMEOUT
# (default 240 s) bounds the boot; TILLBRIDGE_USB_RUN selects cases like
# go test -run (e.g. "TestUSB/Printer"); GO names the go command.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../../.." && pwd)
HERE=$REPO/devices/usb/e2e
CACHE=${TILLBRIDGE_USB_CACHE:-${HOME:-/var/tmp}/.cache/tillbridge-usb}
PACKAGES=(qemu-system-x86 busybox-static libusb-1.0-0-dev cpio kmod pkg-config gcc)
# Host controller, gadget side and host class drivers, in load order; their
# dependencies are added from modules.dep.
MODULES=(usb-common usbcore udc-core configfs libcomposite dummy_hcd u_serial usb_f_acm
  usb_f_printer usb_f_hid hid usbhid hid-generic usblp cdc-acm)

t0=$SECONDS
say() { printf '[usb-e2e %3ds] %s\n' $((SECONDS - t0)) "$*"; }
die() { say "error: $*"; echo "0 passed, 1 failed"; exit 1; }

sudo_() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

apt_updated=
apt_update() {
  [ -n "$apt_updated" ] && return 0
  say "apt-get update"
  sudo_ env DEBIAN_FRONTEND=noninteractive apt-get update -qq || die "apt-get update failed"
  apt_updated=1
}

install_packages() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing ${missing[*]}"
  if ! sudo_ env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
    apt_update
    sudo_ env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
      die "cannot install ${missing[*]}"
  fi
}

# kernel_package prints the kernel package linux-image-amd64 points to
# (the ABI name changes with Debian point releases, so it is not fixed).
kernel_package() {
  if [ -n "${TILLBRIDGE_USB_KERNEL_PKG:-}" ]; then echo "$TILLBRIDGE_USB_KERNEL_PKG"; return; fi
  apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}'
}

# module_order prints MODULES with their dependencies first, from
# modules.dep (its dependency lists load right to left).
module_order() {
  local dep=$1 m line d seen=" "
  for m in "${MODULES[@]}"; do
    line=$(grep -E "(^|/)${m}\.ko(\.xz|\.zst|\.gz)?:" "$dep" | head -1) || die "module $m not in kernel"
    local deps=(${line#*:}) i
    for ((i = ${#deps[@]} - 1; i >= 0; i--)); do
      d=$(basename "${deps[i]}"); d=${d%%.ko*}
      case $seen in *" $d "*) ;; *) echo "$d"; seen="$seen$d " ;; esac
    done
    case $seen in *" $m "*) ;; *) echo "$m"; seen="$seen$m " ;; esac
  done
}

# prepare_kernel fills $KDIR with vmlinuz, the needed modules
# (uncompressed) and modules.load, once per kernel package.
prepare_kernel() {
  [ -f "$KDIR/modules.load" ] && [ -f "$KDIR/vmlinuz" ] && return 0
  say "fetching $KPKG"
  local tmp; tmp=$(mktemp -d "$CACHE/kpkg.XXXXXX")
  (cd "$tmp" && apt-get download -q "$KPKG" >/dev/null 2>&1) || { apt_update; (cd "$tmp" && apt-get download -q "$KPKG" >/dev/null 2>&1); } ||
    die "apt-get download $KPKG failed"
  dpkg -x "$tmp"/${KPKG}_*.deb "$tmp/k"
  local kver; kver=$(basename "$(echo "$tmp"/k/lib/modules/*)")
  depmod -b "$tmp/k" "$kver"
  rm -rf "$KDIR.new"; mkdir -p "$KDIR.new/modules"
  module_order "$tmp/k/lib/modules/$kver/modules.dep" > "$KDIR.new/modules.load"
  local m f
  while read -r m; do
    f=$(find "$tmp/k/lib/modules/$kver/kernel" \( -name "$m.ko" -o -name "$m.ko.xz" -o -name "$m.ko.zst" -o -name "$m.ko.gz" \) | head -1)
    [ -n "$f" ] || die "module $m missing"
    case $f in
      *.xz) xz -dc "$f" ;; *.zst) zstd -dc "$f" ;; *.gz) gzip -dc "$f" ;; *) cat "$f" ;;
    esac > "$KDIR.new/modules/$m.ko"
  done < "$KDIR.new/modules.load"
  cp "$tmp"/k/boot/vmlinuz-* "$KDIR.new/vmlinuz"
  rm -rf "$tmp" "$KDIR"; mv "$KDIR.new" "$KDIR"
}

build_initramfs() {
  local r=$W/root
  mkdir -p "$r"/{bin,etc,proc,sys,dev,tmp,lib/modules}
  cp /bin/busybox "$r/bin/"
  ln -s busybox "$r/bin/sh" # init installs the other applet links at boot
  cp "$KDIR"/modules/*.ko "$r/lib/modules/"
  cp "$KDIR/modules.load" "$r/etc/modules.load"
  cp "$HERE/guest/init" "$r/init"; chmod 755 "$r/init"
  cp "$W/usb.test" "$r/bin/usb.test"
  local lib
  for lib in $(ldd "$W/usb.test" | grep -o '/[^ ]*' | sort -u); do
    mkdir -p "$r$(dirname "$lib")"; cp -L "$lib" "$r$lib"
  done
  (cd "$r" && find . | cpio -o -H newc --quiet) | gzip -1 > "$W/initrd.gz"
}

run_qemu() {
  local timecmd=()
  [ -x /usr/bin/time ] && timecmd=(/usr/bin/time -q -f 'qemu: %e s elapsed, max RSS %M KiB' -o "$W/time.txt")
  set +e
  "${timecmd[@]}" timeout "${QEMU_TIMEOUT:-240}" qemu-system-x86_64 -m 256 -nographic -no-reboot -nic none \
    -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
    -kernel "$KDIR/vmlinuz" -initrd "$W/initrd.gz" \
    -append "console=ttyS0 quiet panic=-1 oops=panic${TILLBRIDGE_USB_RUN:+ tb.run=$TILLBRIDGE_USB_RUN}" </dev/null 2>&1 | tr -d '\r' | sed -u 's/\x1bc//g; s/\x1b\[[0-9;?]*[A-Za-z]//g' | tee "$W/console.log"
  rc=${PIPESTATUS[0]}
  set -e
  cp "$W/console.log" "$CACHE/last-console.log"
  # An if, not `[ -f ] && say`: without /usr/bin/time (a fresh machine)
  # that list is false, and as the function's last command it would end
  # the script under set -e before the verdict.
  if [ -f "$W/time.txt" ]; then say "$(cat "$W/time.txt")"; fi
}

main() {
  install_packages
  mkdir -p "$CACHE"
  KPKG=$(kernel_package || true)
  if [ -z "$KPKG" ]; then apt_update; KPKG=$(kernel_package || true); fi
  [ -n "$KPKG" ] || die "cannot resolve linux-image-amd64"
  KDIR=$CACHE/$KPKG
  prepare_kernel
  W=$(mktemp -d "$CACHE/run.XXXXXX")
  trap 'rm -rf "$W"' EXIT
  say "go test -c -tags usbe2e ./devices/usb/e2e/"
  (cd "$REPO" && CGO_ENABLED=1 "${GO:-go}" test -c -tags usbe2e -o "$W/usb.test" ./devices/usb/e2e/) || die "build failed"
  say "initramfs"
  build_initramfs
  say "booting QEMU ($KPKG, TCG)"
  run_qemu
  local passed failed
  passed=$(grep -cE '^ +--- PASS: TestUSB/' "$W/console.log" || true)
  failed=$(grep -cE '^ +--- FAIL: TestUSB/' "$W/console.log" || true)
  case $rc in
    33) say "guest verdict: pass" ;;
    35) say "guest verdict: fail" ;;
    124) say "QEMU timed out after ${QEMU_TIMEOUT:-240}s" ;;
    *) say "guest ended without a verdict (QEMU status $rc); console: $CACHE/last-console.log" ;;
  esac
  if [ "$rc" -ne 33 ] && [ "$failed" -eq 0 ]; then failed=1; fi
  if [ "$rc" -eq 33 ] && [ "$passed" -eq 0 ]; then failed=1; fi
  say "done"
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}

main "$@"
