#!/bin/sh
# zig cc, c++, ar, ranlib and ld for one target, named by how it is called:
# <zig-target>-cc (x86_64-linux-musl-cc, aarch64-linux-musl-cc, ...) or plain
# cc/c++/ar/ranlib/ld for the build machine (INTACT_BUILD_PLATFORM).
#
# Each compiler call first gets a private, writable copy of zig-runtime's cache
# for its target (made once per build, under TMPDIR), so musl's libc and
# compiler_rt are never built again and no writable cache is shared.
#
# Two flags Zig cannot take are rewritten: Kbuild's -Wp,-MD,<file> (Zig's cc
# fails with FileNotFound) becomes -MD -MF <file>; GNU ld's --warn-common,
# --sort-common, --sort-section, -Map and --verbose, which Zig's linker rejects, are
# dropped (they change warnings and a map file, not the output).
me=${0##*/}
case $me in
  *-linux-musl-*) t=${me%-*}; tool=${me##*-} ;;
  *)
    tool=$me
    case ${INTACT_BUILD_PLATFORM:-linux-x64} in
      linux-x64) t=x86_64-linux-musl ;;
      linux-arm64) t=aarch64-linux-musl ;;
      *) echo "$me: no Zig target for INTACT_BUILD_PLATFORM=$INTACT_BUILD_PLATFORM" >&2; exit 1 ;;
    esac ;;
esac
case $tool in
  ar|ranlib) exec @ZIG@ "$tool" "$@" ;;
  # Kbuild links each folder's objects with `ld -r`; lld does that for any target.
  ld) exec @ZIG@ ld.lld "$@" ;;
  cc|c++) ;;
  *) echo "$me: unknown tool $tool" >&2; exit 1 ;;
esac

c=${TMPDIR:-/tmp}/zig-runtime/$t
if [ ! -e "$c/.ready" ]; then
  mkdir -p "${c%/*}"
  if mkdir "$c.lock" 2>/dev/null; then
    cp -R "@RUNTIME@/$t" "$c.part" && chmod -R u+w "$c.part" && mv "$c.part" "$c" && : > "$c/.ready" || exit 1
  else
    n=0
    while [ ! -e "$c/.ready" ]; do
      n=$((n + 1)); [ "$n" -lt 600 ] || { echo "$me: gave up waiting for $c" >&2; exit 1; }
      sleep 1
    done
  fi
fi
export ZIG_GLOBAL_CACHE_DIR="$c"
export ZIG_LOCAL_CACHE_DIR="${ZIG_LOCAL_CACHE_DIR:-${TMPDIR:-/tmp}/zig-local}"

# Zig builds the runtime anew for each variant of a link: its optimisation
# (-O0, -O2 and -Os each differ; -O3 is -O2's), -g, the frame pointer, and LTO
# (on by default for a compile-and-link at -O2). So every call that links gets
# -fno-lto and no -g or frame-pointer flag (they would change the runtime and
# this program's debug info and frames only; objects keep theirs), and a link
# of objects only, whose -O changes nothing but the runtime, gets -O2: the one
# variant zig-runtime holds. A compile-and-link keeps its -O for its own code
# (configure's tests use -O2, as does Kbuild's HOSTCC).
links=yes sources=no
for a; do
  case $a in
    -c|-S|-E|-M|-MM) links=no ;;
    -x|-) sources=yes ;;
    -*) ;;
    *.c|*.cc|*.cpp|*.cxx|*.C|*.s|*.S) sources=yes ;;
  esac
done
n=$#
while [ "$n" -gt 0 ]; do
  a=$1; shift; n=$((n - 1))
  case $a in
    -Wp,-MD,*) set -- "$@" -MD -MF "${a#-Wp,-MD,}" ;;
    -Wl,--warn-common|-Wl,--sort-common|-Wl,--sort-section,*|-Wl,--sort-section=*|-Wl,-Map,*|-Wl,-Map=*|-Wl,--verbose) ;;
    -g|-g[0-3]|-ggdb*|-gdwarf*|-fomit-frame-pointer|-fno-omit-frame-pointer) [ "$links" = yes ] || set -- "$@" "$a" ;;
    -O*) [ "$links" = yes ] && [ "$sources" = no ] || set -- "$@" "$a" ;;
    *) set -- "$@" "$a" ;;
  esac
done
[ "$links" = yes ] || exec @ZIG@ "$tool" -target "$t" "$@"
set -- "$@" -fno-lto
[ "$sources" = yes ] || set -- "$@" -O2
# One link at a time per cache: two Zig 0.11 processes building a missing
# runtime variant at once can lose its libcompiler_rt.a (FileNotFound).
# A folder is the lock (the seed busybox has no flock); it lives in this
# build's TMPDIR, so no other build ever waits on it.
until mkdir "$c.link" 2>/dev/null; do sleep 1; done
trap 'rmdir "$c.link"' EXIT
trap 'exit 129' HUP INT TERM
@ZIG@ "$tool" -target "$t" "$@"
