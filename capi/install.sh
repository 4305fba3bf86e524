#!/bin/sh
# Builds the switchboard C library and installs it, with its header and a
# pkg-config file, into a prefix:
#
#   capi/install.sh --prefix "$HOME/.local"
#   cc app.c $(pkg-config --cflags --libs switchboard)
#
# Installs (with the default --library-type both):
#   LIBDIR/libswitchboard.so.VERSION     the shared library, SONAME libswitchboard.so.0
#   LIBDIR/libswitchboard.so.0           -> libswitchboard.so.VERSION (what programs load)
#   LIBDIR/libswitchboard.so             -> libswitchboard.so.0 (what -lswitchboard finds)
#   LIBDIR/libswitchboard.a              the static library
#   LIBDIR/pkgconfig/switchboard.pc
#   INCLUDEDIR/switchboard.h
#
# It does what `cargo cinstall` (cargo-c) would do for this workspace; see
# the README, "Use from C / C++", for why it is a script. POSIX sh; needs
# cargo and the usual file tools. Linux (ELF) only for now.
set -eu

usage() {
  cat <<'EOF'
usage: capi/install.sh [--prefix DIR] [--libdir DIR] [--includedir DIR]
                       [--library-type both|shared|static]

  --prefix DIR        install under DIR (default /usr/local)
  --libdir DIR        libraries and pkgconfig/ go here (default PREFIX/lib)
  --includedir DIR    switchboard.h goes here (default PREFIX/include)
  --library-type T    both (default), shared (no .a) or static (no .so; then
                      `pkg-config --static --libs switchboard` links the .a)

DESTDIR, if set, is prepended to every path written (staged installs);
the pkg-config file still names the final paths. CARGO and CARGO_TARGET_DIR
are honoured as usual.
EOF
}

die() {
  echo "install.sh: $*" >&2
  exit 1
}

prefix=/usr/local
libdir=
includedir=
library_type=both
while [ $# -gt 0 ]; do
  case $1 in
    --prefix) [ $# -ge 2 ] || die "--prefix needs a directory"; prefix=$2; shift 2 ;;
    --prefix=*) prefix=${1#*=}; shift ;;
    --libdir) [ $# -ge 2 ] || die "--libdir needs a directory"; libdir=$2; shift 2 ;;
    --libdir=*) libdir=${1#*=}; shift ;;
    --includedir) [ $# -ge 2 ] || die "--includedir needs a directory"; includedir=$2; shift 2 ;;
    --includedir=*) includedir=${1#*=}; shift ;;
    --library-type) [ $# -ge 2 ] || die "--library-type needs a value"; library_type=$2; shift 2 ;;
    --library-type=*) library_type=${1#*=}; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done
case $library_type in
  both | shared | static) ;;
  *) die "--library-type is both, shared or static, not '$library_type'" ;;
esac

# Paths in the .pc file must be absolute; make relative ones absolute against
# the directory the script was called from.
absolute() {
  case $1 in
    /*) printf '%s\n' "$1" ;;
    *) printf '%s/%s\n' "$(pwd)" "$1" ;;
  esac
}
prefix=$(absolute "$prefix")
libdir=$(absolute "${libdir:-$prefix/lib}")
includedir=$(absolute "${includedir:-$prefix/include}")
destdir=${DESTDIR:-}

root=$(cd "$(dirname "$0")/.." && pwd)
cargo=${CARGO:-cargo}
version=$(sed -n 's/^version = "\([^"]*\)".*/\1/p' "$root/capi/Cargo.toml" | head -n 1)
[ -n "$version" ] || die "no version in capi/Cargo.toml"
# The SONAME build.rs gives the library; the symlink below must carry it.
soname=libswitchboard.so.0

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT HUP INT TERM

# One release build of both libraries. `--print native-static-libs` makes
# rustc name the system libraries a static link needs (they become
# Libs.private); cargo replays the note when the build is already fresh.
echo "install.sh: building switchboard-capi $version (release)" >&2
(cd "$root" && "$cargo" rustc --release --locked -p switchboard-capi --lib \
  --message-format=json-render-diagnostics -- --print native-static-libs) \
  >"$tmp/build.json" 2>"$tmp/build.err" || {
  cat "$tmp/build.err" >&2
  die "cargo build failed"
}
native=$(sed -n 's/.*native-static-libs: *//p' "$tmp/build.err" | tail -n 1)
[ -n "$native" ] || {
  cat "$tmp/build.err" >&2
  die "rustc printed no native-static-libs line"
}
# The two files of the switchboard-capi artifact, from cargo's JSON.
grep '"reason":"compiler-artifact"' "$tmp/build.json" | grep 'switchboard-capi' |
  sed -n 's/.*"filenames":\[\([^]]*\)\].*/\1/p' | tr ',' '\n' | sed 's/^"//; s/"$//' >"$tmp/files"
staticlib=$(grep '/libswitchboard\.a$' "$tmp/files" | head -n 1) || true
cdylib=$(grep '/libswitchboard\.so$' "$tmp/files" | head -n 1) || true
[ -f "$staticlib" ] || die "cargo reported no libswitchboard.a (got: $(cat "$tmp/files"))"
[ -f "$cdylib" ] || die "cargo reported no libswitchboard.so (not Linux?) (got: $(cat "$tmp/files"))"

mkdir -p "$destdir$libdir/pkgconfig" "$destdir$includedir"
if [ "$library_type" != static ]; then
  cp "$cdylib" "$destdir$libdir/libswitchboard.so.$version.tmp"
  chmod 755 "$destdir$libdir/libswitchboard.so.$version.tmp"
  # Renamed into place, so a program running from this prefix keeps its
  # mapped copy intact.
  mv -f "$destdir$libdir/libswitchboard.so.$version.tmp" "$destdir$libdir/libswitchboard.so.$version"
  ln -sf "libswitchboard.so.$version" "$destdir$libdir/$soname"
  ln -sf "$soname" "$destdir$libdir/libswitchboard.so"
else
  rm -f "$destdir$libdir/libswitchboard.so" "$destdir$libdir/$soname" "$destdir$libdir/libswitchboard.so.$version"
fi
if [ "$library_type" != shared ]; then
  cp "$staticlib" "$destdir$libdir/libswitchboard.a"
  chmod 644 "$destdir$libdir/libswitchboard.a"
else
  rm -f "$destdir$libdir/libswitchboard.a"
fi
cp "$root/include/switchboard.h" "$destdir$includedir/switchboard.h"
chmod 644 "$destdir$includedir/switchboard.h"

# libdir and includedir relative to ${prefix} when they are under it, so the
# .pc file still works with pkg-config --define-prefix.
under_prefix() {
  case $1 in
    "$prefix") printf '%s\n' '${prefix}' ;;
    "$prefix"/*) printf '%s%s\n' '${prefix}' "${1#"$prefix"}" ;;
    *) printf '%s\n' "$1" ;;
  esac
}
cat >"$destdir$libdir/pkgconfig/switchboard.pc" <<EOF
prefix=$prefix
libdir=$(under_prefix "$libdir")
includedir=$(under_prefix "$includedir")

Name: switchboard
Description: Deterministic routing core for contact centers (C API)
Version: $version
Libs: -L\${libdir} -lswitchboard
Libs.private: $native
Cflags: -I\${includedir}
EOF
chmod 644 "$destdir$libdir/pkgconfig/switchboard.pc"

echo "install.sh: installed switchboard $version ($library_type) into $destdir$prefix" >&2
echo "install.sh: PKG_CONFIG_PATH=$libdir/pkgconfig pkg-config --cflags --libs switchboard" >&2
