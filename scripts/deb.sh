#!/usr/bin/env bash
# The Debian package end to end, as CI checks it (a stage of scripts/test.sh):
#   1. builds it with Debian's tools (dpkg-buildpackage -us -uc -b) from a
#      copy of the tree in a temporary directory: dpkg-buildpackage writes
#      its results beside the source, so nothing lands next to the checkout;
#   2. runs lintian on the .changes and every .deb it lists: any error or
#      warning fails (overrides, if any, are in debian/*.lintian-overrides);
#   3. installs it with dpkg -i and checks what an operator gets: the binary
#      and its version, the configuration (a conffile) passing check-config,
#      the unit (systemd-analyze verify, exposure at most 1.2) enabled by
#      Debian's rules and, when systemd runs as PID 1, started (without it,
#      as in a container, the maintainer scripts skip the start and still
#      succeed), the manual page rendering without a warning;
#   4. purges it and checks that nothing of it is left: no file it shipped,
#      no /etc/funneld, no enablement symlink or deb-systemd-helper state.
#
# usage: scripts/deb.sh [DIR]    DIR: where to copy the built .deb files
# Needs root or sudo (dpkg -i); DEB_BUILD_OPTIONS is honoured (test.sh sets
# parallel=N). Refuses to run while a funneld package is installed: it would
# replace it, then purge it. A failure after the install purges it too.
set -euo pipefail
cd "$(dirname "$0")/.."
keep_dir=${1:-}
exposure_max=12 # 1.2, systemd-analyze security's figure x 10 (README, "Install")

if [ "$(id -u)" -eq 0 ]; then sudo=(); else sudo=(sudo); fi
say() { echo "deb: $*"; }
fail() { echo "deb: FAILED: $*" >&2; exit 1; }
status() { dpkg-query -W -f='${Status}' funneld 2>/dev/null || true; }
# dpkg, waiting for the lock while another dpkg or apt run holds it
dpkg_run() {
	local i
	for i in $(seq 1 120); do
		if "${sudo[@]}" dpkg "$@" 2>"$tmp/dpkg.err"; then
			cat "$tmp/dpkg.err" >&2
			return 0
		fi
		grep -q 'lock' "$tmp/dpkg.err" || { cat "$tmp/dpkg.err" >&2; return 1; }
		[ "$i" = 1 ] && say "waiting for the dpkg lock"
		sleep 5
	done
	cat "$tmp/dpkg.err" >&2
	return 1
}

case "$(status)" in
*not-installed* | "") ;;
*) fail "a funneld package is installed ($(status)): purge it first (dpkg --purge funneld)" ;;
esac

tmp=$(mktemp -d)
installed=false
cleanup() {
	if $installed && [ -n "$(status)" ] && ! grep -q not-installed <<<"$(status)"; then
		say "purging the package after a failure"
		"${sudo[@]}" dpkg --purge funneld >/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
step_start=$SECONDS
step() { say "$1 done in $((SECONDS - step_start)) s"; step_start=$SECONDS; }

# --- 1. build from a copy of the tree (tracked files and new ones not ignored)
src=$tmp/src/funneld
mkdir -p "$src"
git ls-files -z --cached --others --exclude-standard |
	xargs -0 -r sh -c 'for f; do if [ -e "$f" ]; then printf "%s\0" "$f"; fi; done' sh | # not deleted
	tar --null -T - -cf - | tar -xf - -C "$src"
version=$(cd "$src" && dpkg-parsechangelog -S Version)
project_version=$(sed -n 's/^project(funneld VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
[ "$version" = "$project_version" ] ||
	fail "debian/changelog says $version, CMakeLists.txt $project_version: add a debian/changelog entry for $project_version"
say "building funneld $version in $tmp (dpkg-buildpackage -us -uc -b)"
(cd "$src" && dpkg-buildpackage -us -uc -b) >"$tmp/build.log" 2>&1 ||
	{ tail -n 60 "$tmp/build.log"; fail "dpkg-buildpackage failed (log above)"; }
arch=$(dpkg --print-architecture)
deb=$tmp/src/funneld_${version}_${arch}.deb
changes=$tmp/src/funneld_${version}_${arch}.changes
[ -f "$deb" ] && [ -f "$changes" ] || fail "no $deb or $changes after the build"
step "build"

# --- 2. lintian: the .changes and every package it lists
rc=0
lintian --fail-on error,warning --display-info --show-overrides "$changes" >"$tmp/lintian.log" 2>&1 || rc=$?
grep -v 'running with root privileges' "$tmp/lintian.log" || true
[ "$rc" -eq 0 ] && ! grep -qE '^[EW]: ' "$tmp/lintian.log" || fail "lintian found errors or warnings (above)"
say "lintian: no error, no warning ($(grep -c '^I: ' "$tmp/lintian.log" || true) info tags)"
step "lintian"

# --- 3. install and check
installed=true
dpkg_run -i "$deb" >"$tmp/install.log" || { cat "$tmp/install.log"; fail "dpkg -i failed"; }
[ "$(status)" = "install ok installed" ] || fail "after dpkg -i the package is '$(status)'"
files=$(dpkg -L funneld)

out=$(/usr/sbin/funneld --version)
[ "$out" = "funneld $version" ] || fail "/usr/sbin/funneld --version said '$out'"
out=$(/usr/sbin/funneld check-config /etc/funneld/funneld.conf)
[ "$out" = "configuration OK" ] || fail "check-config /etc/funneld/funneld.conf said '$out'"
dpkg-query -W -f='${Conffiles}\n' funneld | grep -q '^ /etc/funneld/funneld.conf ' ||
	fail "/etc/funneld/funneld.conf is not a conffile"

unit=$(grep -E '/systemd/system/funneld\.service$' <<<"$files") || fail "no unit in the package"
grep -qxF 'ExecStart=/usr/sbin/funneld run -c /etc/funneld/funneld.conf' "$unit" ||
	fail "$unit: $(grep '^ExecStart=' "$unit")"
systemd-analyze verify "$unit" >"$tmp/verify.log" 2>&1 || { cat "$tmp/verify.log"; fail "systemd-analyze verify $unit"; }
[ ! -s "$tmp/verify.log" ] || { cat "$tmp/verify.log"; fail "systemd-analyze verify $unit warned"; }
systemd-analyze security --offline=yes --threshold="$exposure_max" "$unit" >"$tmp/security.log" 2>&1 ||
	{ cat "$tmp/security.log"; fail "the unit's exposure is above $exposure_max/10"; }
exposure=$(sed -n 's/^.*Overall exposure level for [^:]*: \([0-9.]*\) .*/\1/p' "$tmp/security.log")
wants=/etc/systemd/system/multi-user.target.wants/funneld.service
[ "$(readlink "$wants")" = "$unit" ] || fail "the unit is not enabled ($wants: $(readlink "$wants" || echo missing))"
if [ -d /run/systemd/system ]; then
	started=$(systemctl show -P ExecMainStartTimestampMonotonic funneld.service)
	[ -n "$started" ] && [ "$started" != 0 ] || fail "systemd runs, but the postinst did not start funneld"
	say "systemd is PID 1: the unit is enabled and was started ($(systemctl show -P ActiveState funneld.service))"
else
	say "no systemd as PID 1 (a container): the unit is enabled, the postinst skipped the start and succeeded"
fi

[ "$(man -w funneld)" = /usr/share/man/man8/funneld.8.gz ] || fail "man -w funneld: $(man -w funneld 2>&1)"
out=$(MANWIDTH=80 man --warnings -E UTF-8 8 funneld 2>&1 >/dev/null) || fail "man funneld failed: $out"
[ -z "$out" ] || fail "man funneld warns: $out"
# dh_compress gzips documents over 4 KiB: README, and CHANGELOG.md once it
# grew past that
for f in copyright changelog.gz README.md.gz CHANGELOG.md; do
	[ -f "/usr/share/doc/funneld/$f" ] || [ -f "/usr/share/doc/funneld/$f.gz" ] ||
		fail "no /usr/share/doc/funneld/$f"
done
say "installed: /usr/sbin/funneld ($version), /etc/funneld/funneld.conf (conffile, configuration OK)," \
    "$unit (verified, exposure $exposure), funneld(8)"
step "install and checks"

# --- 4. purge: nothing left
dpkg_run --purge funneld >"$tmp/purge.log" || { cat "$tmp/purge.log"; fail "dpkg --purge failed"; }
installed=false
case "$(status)" in
*not-installed* | "") ;;
*) fail "after dpkg --purge the package is '$(status)'" ;;
esac
left=()
while IFS= read -r f; do
	# directories other packages share (/usr, /etc, /lib: a symlink on a
	# merged /usr, ...) stay
	if [ -d "$f" ]; then
		case "$f" in */funneld) [ -e "$f" ] && left+=("$f") ;; esac
	elif [ -e "$f" ] || [ -L "$f" ]; then
		left+=("$f")
	fi
done <<<"$files"
for f in /etc/funneld "$wants" /var/lib/systemd/deb-systemd-helper-enabled/funneld.service.dsh-also \
         /var/lib/systemd/deb-systemd-helper-enabled/multi-user.target.wants/funneld.service \
         /var/lib/systemd/deb-systemd-helper-masked/funneld.service; do
	if [ -e "$f" ] || [ -L "$f" ]; then left+=("$f"); fi
done
while IFS= read -r f; do left+=("$f"); done < <(find /etc/systemd /var/lib/systemd /var/lib/dpkg/info \
	-name 'funneld*' 2>/dev/null)
[ ${#left[@]} -eq 0 ] || fail "left after the purge: ${left[*]}"
say "purged: nothing of it left ($(wc -l <<<"$files") paths it shipped, /etc/funneld, the unit's enablement)"
step "purge"

if [ -n "$keep_dir" ]; then
	mkdir -p "$keep_dir"
	cp "$tmp"/src/*.deb "$tmp"/src/*.changes "$tmp"/src/*.buildinfo "$keep_dir"/
	say "packages copied to $keep_dir"
fi
say "OK"
