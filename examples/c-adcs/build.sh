#!/bin/sh
# Builds the C flight program to a wasm32 module following the lockstep flight-software ABI.
#
#   examples/c-adcs/build.sh [OUTPUT.wasm]     (default: examples/c-adcs/adcs.wasm)
#
# Needs clang and wasm-ld (Debian: apt-get install clang lld). Writes OUTPUT and, beside it,
# toolchain.txt naming the clang and wasm-ld that built it. The flags are fixed and the source paths are
# mapped away, so the same toolchain gives the same bytes from any directory. CLANG overrides the
# compiler (default: clang).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
case "${1:-}" in
  '') output="$here/adcs.wasm" ;;
  /*) output=$1 ;;
  *) output="$(pwd)/$1" ;;
esac
clang=${CLANG:-clang}

# --target=wasm32        wasm32-unknown-unknown: no OS, no libc
# -mcpu=mvp              WebAssembly 1.0 only (no sign-ext, SIMD, bulk memory...): runs everywhere
# -O2                    optimised; -ffp-contract=off: no fused multiply-add, every a*b+c rounds twice
# -ffreestanding -fno-builtin -nostdlib: no libc, no calls to memset/memcpy the program did not write
# -ffile-prefix-map      source paths do not reach the output
# -Wl,--no-entry         a library-like module: no _start, no start function
# -Wl,--stack-first      the C stack sits at the bottom of memory, so an overflow traps instead of
#                        overwriting the program's state
# -Wl,-z,stack-size      8 KiB of stack (the program uses a few hundred bytes)
# -Wl,--initial-memory / --max-memory: one 64 KiB page, fixed
# -Wl,--strip-debug      no debug sections (function and global names are kept, for readable traps)
cd "$here"
"$clang" \
  --target=wasm32 -mcpu=mvp -O2 -ffp-contract=off \
  -std=c11 -Wall -Wextra -Werror \
  -ffreestanding -fno-builtin -nostdlib \
  -ffile-prefix-map="$here"=. \
  -Wl,--no-entry -Wl,--stack-first -Wl,-z,stack-size=8192 \
  -Wl,--initial-memory=65536 -Wl,--max-memory=65536 \
  -Wl,--strip-debug \
  -o "$output" \
  main.c estimator.c controller.c

{
  "$clang" --version | head -n 1
  wasm-ld --version | head -n 1
} >"$(dirname "$output")/toolchain.txt"
