#!/bin/sh
# Build GNU make 4.3 without make and without configure: compile the files
# upstream's build_w32.bat lists for POSIX systems (src/posixos.c instead of
# the w32 files, and the gnulib files make 4.3 links: findprog-in and what it
# needs, less gnulib's error.c: make has its own error(), which xalloc-die
# binds to, as in upstream's libgnu.a link), with files/make/config.h, and
# link them statically. The search
# folders make builds in are the usual /usr ones, never the build folder.
# Usage: build.sh <prefix>
set -e
prefix=$1
cp "$CONFIG_H" src/config.h
cp lib/glob.in.h lib/glob.h
cp lib/fnmatch.in.h lib/fnmatch.h
objs=
for f in src/ar src/arscan src/commands src/default src/dir src/expand src/file \
    src/function src/getopt src/getopt1 src/guile src/hash src/implicit src/job \
    src/load src/loadapi src/main src/misc src/output src/read src/remake \
    src/remote-stub src/rule src/signame src/strcache src/variable src/version \
    src/vpath src/posixos lib/fnmatch lib/glob lib/findprog-in lib/concat-filename \
    lib/xconcat-filename lib/xalloc-die lib/exitfail; do
  $CC -O2 -DHAVE_CONFIG_H -DLOCALEDIR=\"/usr/share/locale\" \
    -DLIBDIR=\"/usr/lib\" -DINCLUDEDIR=\"/usr/include\" \
    -Isrc -Ilib -c "$f.c" -o "$f.o" &
  objs="$objs $f.o"
  # Two compilers at a time: the machines this runs on have two cores.
  [ "$(jobs | wc -l)" -lt "${JOBS:-2}" ] || wait -n 2>/dev/null || wait
done
wait
mkdir -p "$prefix/bin"
$CC -static -O2 -o "$prefix/bin/make" $objs
