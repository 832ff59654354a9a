#!/usr/bin/env bash
# funneld(8) renders without a warning (groff with every warning on, mandoc's
# linter, man itself) and documents what the binary offers: every command
# and option `funneld --help` lists, every exit status it names, every path
# the admin server answers (src/daemon/admin.c), and the sections an
# operator looks for.
#
# usage: man_page.sh SOURCE_DIR FUNNELD_BINARY  (ctest: install/man_page)
# Prints what is wrong and exits 1, or prints "man page OK".
set -euo pipefail
src=$1
funneld=$2
page=$src/doc/funneld.8
fail() { echo "man_page: $*" >&2; exit 1; }

out=$(groff -man -Tutf8 -ww -z "$page" 2>&1) || fail "groff failed: $out"
[ -z "$out" ] || fail "groff warns: $out"
out=$(mandoc -Tlint "$page" 2>&1) || fail "mandoc -Tlint: $out"
[ -z "$out" ] || fail "mandoc -Tlint warns: $out"
out=$(MANWIDTH=80 man --warnings -E UTF-8 -l "$page" 2>&1 >/dev/null) || fail "man -l failed: $out"
[ -z "$out" ] || fail "man -l warns: $out"

# The page as text (hyphens as '-', no bold or underline), one long line per
# paragraph so that no word is split.
text=$(groff -man -Tascii -rLL=400n -P-cbou "$page")
has() { grep -qF -- "$1" <<<"$text"; }

for section in NAME SYNOPSIS DESCRIPTION COMMANDS OPTIONS CONFIGURATION SIGNALS "ADMIN HTTP" \
               "EXIT STATUS" ENVIRONMENT FILES SYSTEMD EXAMPLES "SEE ALSO"; do
	grep -qx "$section" <<<"$text" || fail "no $section section"
done

help=$("$funneld" --help)
# commands: the lines indented by two spaces under "commands:"
commands=$(awk '/^commands:/ { on = 1; next } /^[^ ]/ { on = 0 } on && /^  [a-z]/ { print $1 }' <<<"$help")
[ "$(wc -l <<<"$commands")" -ge 4 ] || fail "found only these commands in --help: $commands"
for c in $commands; do
	has "funneld $c" || fail "command '$c' (funneld --help) is not in the synopsis"
	grep -qx "       $c\( .*\)\{0,1\}" <<<"$text" || fail "command '$c' has no entry under COMMANDS"
done
# options: every -x and --name in --help
options=$(grep -oE '(^|[ [,])--?[a-zA-Z][a-z-]*' <<<"$help" | sed 's/^[ [,]//' | sort -u)
[ "$(wc -l <<<"$options")" -ge 10 ] || fail "found only these options in --help: $options"
for o in $options; do
	grep -qE -- "^       $o([ ,=]|$)|, $o( |$)" <<<"$text" || fail "option '$o' (funneld --help) has no entry under OPTIONS"
done
# exit statuses: "exit status: 0 success, 64 usage error, 78 configuration error"
codes=$(sed -n 's/^exit status: //p' <<<"$help" | grep -oE '[0-9]+')
[ -n "$codes" ] || fail "--help names no exit status"
for code in $codes 1; do
	awk '/^EXIT STATUS/ { on = 1; next } /^[A-Z]/ { on = 0 } on' <<<"$text" | grep -qx "       $code  *[A-Z].*" ||
		fail "exit status $code is not under EXIT STATUS"
done
# admin paths: the ones admin.c routes
paths=$(grep -oE 'strcmp\(path, "[^"]+"\)|LEADS_PREFIX "[^"]+"' "$src/src/daemon/admin.c" | grep -oE '"[^"]+"' | tr -d '"')
[ "$(wc -l <<<"$paths")" -ge 5 ] || fail "found only these admin paths in admin.c: $paths"
for p in $paths; do
	awk '/^ADMIN HTTP/ { on = 1; next } /^[A-Z]/ { on = 0 } on' <<<"$text" | grep -q "^       $p" ||
		fail "admin path $p is not under ADMIN HTTP"
done
for s in SIGTERM SIGINT SIGHUP; do
	has "$s" || fail "signal $s is not documented"
done

echo "man page OK: $(wc -w <<<"$commands") commands, $(wc -w <<<"$options") options, exit statuses $(tr "\n" " " <<<"$codes")1, $(wc -w <<<"$paths") admin paths"
