#!/usr/bin/env bash
# cc-probe.sh CC TARGET — compiles and links a small C program with CC, using
# the headers cgo's runtime needs, so a cross build that would fail deep in
# runtime/cgo fails here first, naming the compiler and target.
set -euo pipefail
cc=$1 target=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cat >"$dir/probe.c" <<'C'
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <errno.h>
#include <time.h>
int main(void) { return (int)(strlen("ok") + sizeof(int64_t) + errno) - 10; }
C
if ! "$cc" -o "$dir/probe" "$dir/probe.c" 2>"$dir/err"; then
  echo "cc-probe: $cc cannot build C for $target (cgo needs it):" >&2
  cat "$dir/err" >&2
  echo "cc-probe: install the compiler's C library headers (see CROSS_DEPS in the Makefile)" >&2
  exit 1
fi
