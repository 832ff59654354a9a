#!/usr/bin/env bash
# `cmake --install` of a build, into a staging root (DESTDIR), checked as an
# operator would find it: the binary in sbin runs, the shipped configuration
# is in the configured sysconfdir and passes check-config, the unit names
# exactly those two paths and passes `systemd-analyze verify` there (no hand
# copying: --root is the staging root), its exposure stays at the figure
# README gives, the manual page and the docs are where man and a reader look,
# and a second install keeps an edited configuration. Then a configure-only
# run with CMAKE_INSTALL_PREFIX=/usr shows the configuration goes to /etc,
# not /usr/etc.
#
# usage: cmake_install.sh SOURCE_DIR BUILD_DIR  (ctest: install/cmake_install)
# Prints what is wrong and exits 1, or prints "install OK".
set -euo pipefail
src=$1
build=$2
exposure_max=12 # 1.2, systemd-analyze security's figure x 10 (README, "Install")
cmake=${CMAKE:-cmake}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "cmake_install: $*" >&2; exit 1; }

cache() { sed -n "s/^$1:[A-Z]*=//p" "$build/CMakeCache.txt"; }
prefix=$(cache CMAKE_INSTALL_PREFIX)
version=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$build/CMakeCache.txt")
unitdir=$(cache FUNNELD_SYSTEMD_UNIT_DIR)
[ -n "$prefix" ] && [ -n "$version" ] && [ -n "$unitdir" ] || fail "$build is not a configured build"
# GNUInstallDirs: a /usr prefix keeps its configuration in /etc
case "$prefix" in
/usr) etc=/etc ;;
*) etc=$prefix/etc ;;
esac

root=$tmp/root
DESTDIR=$root "$cmake" --install "$build" >"$tmp/install.log" || { cat "$tmp/install.log"; fail "cmake --install failed"; }

bin=$prefix/sbin/funneld
conf=$etc/funneld/funneld.conf
unit=$unitdir/funneld.service
for f in "$bin" "$conf" "$unit" "$prefix/share/man/man8/funneld.8" \
         "$prefix/share/doc/funneld/README.md" "$prefix/share/doc/funneld/CHANGELOG.md" \
         "$prefix/share/doc/funneld/LICENSE"; do
	[ -f "$root$f" ] || fail "$f is not installed (files: $(cd "$root" && find . -type f | sort | tr '\n' ' '))"
done
[ -x "$root$bin" ] || fail "$bin is not executable"
cmp -s "$root$conf" "$src/config/funneld.conf" || fail "$conf is not config/funneld.conf"
[ "$(stat -c %a "$root$conf")" = 644 ] || fail "$conf has mode $(stat -c %a "$root$conf"), not 644"

out=$("$root$bin" --version)
[ "$out" = "funneld $version" ] || fail "funneld --version said '$out', not 'funneld $version'"
out=$("$root$bin" check-config "$root$conf")
[ "$out" = "configuration OK" ] || fail "check-config of the installed configuration said '$out'"

# The unit runs what was installed, with the configuration installed.
want_exec="ExecStart=$bin run -c $conf"
grep -qxF "$want_exec" "$root$unit" || fail "the unit has no '$want_exec': $(grep ^Exec "$root$unit")"
grep -qxF "ExecStartPre=$bin check-config $conf" "$root$unit" || fail "the unit's ExecStartPre is not check-config $conf"
grep -qxF "ExecReload=$bin check-config $conf" "$root$unit" || fail "the unit's ExecReload is not check-config $conf"
! grep -q '@' <(grep -v '^SystemCallFilter=' "$root$unit") || fail "the unit has an unreplaced @VARIABLE@"

# verify in the staging root: --root finds the ExecStart binaries there,
# MANPATH lets its `man funneld(8)` check (Documentation=) find the page
# installed there; --recursive-errors=no: the staging root has no
# sysinit.target and the other units the unit's dependencies name.
MANPATH=$root$prefix/share/man systemd-analyze verify --recursive-errors=no --root="$root" \
	"$root$unit" >"$tmp/verify.log" 2>&1 || { cat "$tmp/verify.log"; fail "systemd-analyze verify failed"; }
[ ! -s "$tmp/verify.log" ] || { cat "$tmp/verify.log"; fail "systemd-analyze verify warned"; }
systemd-analyze security --offline=yes --threshold="$exposure_max" --root="$root" funneld.service \
	>"$tmp/security.log" 2>&1 || { cat "$tmp/security.log"; fail "exposure above ${exposure_max}/10"; }

# the man page is where man looks
MANPATH=$root$prefix/share/man man -w funneld >/dev/null || fail "man -w funneld finds no page under $prefix/share/man"

# An installed configuration is the operator's: a second install keeps it.
echo "# edited" >>"$root$conf"
DESTDIR=$root "$cmake" --install "$build" >"$tmp/install2.log" || { cat "$tmp/install2.log"; fail "second cmake --install failed"; }
[ "$(tail -n 1 "$root$conf")" = "# edited" ] || fail "a second install replaced the edited $conf"
grep -qF "Keeping: $root$conf" "$tmp/install2.log" || fail "the second install did not say it kept $conf"

# An install-time --prefix other than the configured one is refused (the
# unit would name files that are not there).
if DESTDIR=$tmp/other "$cmake" --install "$build" --prefix "$tmp/elsewhere" >"$tmp/prefix.log" 2>&1; then
	fail "cmake --install --prefix OTHER was not refused"
fi
grep -q "configure again with" "$tmp/prefix.log" || { cat "$tmp/prefix.log"; fail "the refusal does not say what to do"; }

# CMAKE_INSTALL_PREFIX=/usr: the unit names /usr/sbin and /etc, not /usr/etc
# (configure only: the unit is written when the build is configured).
"$cmake" -S "$src" -B "$tmp/usr" -DCMAKE_INSTALL_PREFIX=/usr -DFUNNELD_TESTS=OFF -DFUNNELD_BENCH=OFF \
	>"$tmp/usr.log" 2>&1 || { cat "$tmp/usr.log"; fail "configuring with CMAKE_INSTALL_PREFIX=/usr failed"; }
grep -qxF "ExecStart=/usr/sbin/funneld run -c /etc/funneld/funneld.conf" "$tmp/usr/funneld.service" ||
	fail "with CMAKE_INSTALL_PREFIX=/usr the unit says: $(grep ^ExecStart= "$tmp/usr/funneld.service")"

echo "install OK: $prefix/sbin/funneld, $conf, $unit (verified; exposure <= $exposure_max/10)"
