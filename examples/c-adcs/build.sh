#!/bin/sh
# Builds the C flight program to a wasm32 module following the lockstep flight-software ABI.
#
#   examples/c-adcs/build.sh [OUTPUT.wasm]     (default: examples/c-adcs/adcs.wasm)
#
# Needs clang and wasm-ld (Debian: apt-get install clang lld; the variables CLANG and WASM_LD override
# them). Writes OUTPUT and, beside it, toolchain.txt naming the clang and wasm-ld that built it. The
# flags are fixed and source paths are mapped away, so one toolchain gives the same bytes from any
# directory and any PATH.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
case "${1:-}" in
  '') output="$here/adcs.wasm" ;;
  /*) output=$1 ;;
  *) output="$(pwd)/$1" ;;
esac
clang=${CLANG:-clang}
# Debian's lld installs wasm-ld (package lld) and wasm-ld-NN (package lld-NN).
if [ -z "${WASM_LD:-}" ]; then
  if command -v wasm-ld >/dev/null 2>&1; then
    WASM_LD=wasm-ld
  else
    WASM_LD=wasm-ld-$("$clang" -dumpversion | cut -d. -f1)
  fi
fi

# Compiling and linking are separate steps on purpose: when clang links for wasm32 at -O1 and above
# it runs Binaryen's wasm-opt on the result if it finds one on PATH (npm puts node_modules/.bin there,
# and assemblyscript ships wasm-opt), and the bytes would depend on which wasm-opt that was.
#
# Compiler:
#   --target=wasm32     wasm32-unknown-unknown: no OS, no libc
#   -mcpu=mvp           WebAssembly 1.0 only (no sign-ext, SIMD, bulk memory...): runs everywhere
#   -O2 -ffp-contract=off   optimised, but no fused multiply-add: every a*b+c rounds twice
#   -ffreestanding -fno-builtin   no libc, and no calls to memset/memcpy the program did not write
#   -ffile-prefix-map   source paths do not reach the output (DWARF's included: files are named ./main.c)
#   -gline-tables-only  DWARF line tables and nothing more: which source line each instruction comes from,
#                       for campaigns' byLine and replay. It changes no instruction (the code is the
#                       same as without -g), and lockstep strips it before a core is built.
cflags="--target=wasm32 -mcpu=mvp -O2 -ffp-contract=off -std=c11 -Wall -Wextra -Werror
  -ffreestanding -fno-builtin -ffile-prefix-map=$here=. -gline-tables-only"
# Linker:
#   --no-entry          a library-like module: no _start, no start function; the exports are the
#                       functions marked export_name in main.c (init, step) and the memory ("memory")
#   --stack-first       the C stack sits at the bottom of memory, below the static data, so an
#                       overflow traps (out of bounds) instead of overwriting the program's state
#   -z stack-size=8192  8 KiB of stack (the program uses a few hundred bytes)
#   --initial-memory, --max-memory   exactly one 64 KiB page
#   (no --strip-debug: the line tables stay; function and global names are kept, for readable traps)
ldflags="--no-entry --stack-first -z stack-size=8192 --initial-memory=65536 --max-memory=65536"

objects=$(mktemp -d)
trap 'rm -rf "$objects"' EXIT
cd "$here"
for source in main.c estimator.c controller.c; do
  # shellcheck disable=SC2086 # the flags are words
  "$clang" $cflags -c -o "$objects/${source%.c}.o" "$source"
done
# shellcheck disable=SC2086
"$WASM_LD" $ldflags -o "$output" "$objects/main.o" "$objects/estimator.o" "$objects/controller.o"

{
  "$clang" --version | head -n 1
  "$WASM_LD" --version | head -n 1
} >"$(dirname "$output")/toolchain.txt"
