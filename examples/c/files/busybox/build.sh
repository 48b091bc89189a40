#!/bin/sh
# Build busybox 1.35.0 as upstream does (Kbuild, defconfig), static, with the
# environment's cc (zig cc for the build machine), then lay out bin/ as the
# seed does: the binary and one relative link per applet, so the folder can
# stand in for /bin in the sandbox. Usage: build.sh <prefix>
set -e
prefix=$1
# KCONFIG_NOTIMESTAMP: no build time in the banner, so two builds can match.
export KCONFIG_NOTIMESTAMP=1
# ar and ld by their paths: the seed's shell runs its own applets (ar among
# them) before anything on PATH.
tools=$(dirname "$(command -v cc)")
kb="CC=cc HOSTCC=cc AR=$tools/ar LD=$tools/ld SKIP_STRIP=y V=1"
make $kb defconfig
sed -i -e 's/^# CONFIG_STATIC is not set$/CONFIG_STATIC=y/' .config
make $kb oldconfig </dev/null
make $kb -j"${JOBS:-1}" busybox
mkdir -p "$prefix/bin"
cp busybox "$prefix/bin/busybox"
cd "$prefix/bin"
for a in $(./busybox --list); do
  [ "$a" = busybox ] || ln -s busybox "$a"
done
