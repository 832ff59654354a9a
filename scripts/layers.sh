#!/usr/bin/env bash
# The include rule of shared/STYLE.md, checked over src/ and include/:
#   - layers only look down: base < engine < wire < config < kafka < daemon
#     < demo; a file in src/LAYER/ includes no header of a higher layer
#     (src/main.c, the CLI that composes them all, sits above every layer);
#   - the engine's and the codecs' headers under src/engine/ and src/wire/
#     are private to their folder (their public API is include/funneld/),
#     and so is any *_internal.h;
#   - include/funneld/ (the engine's public API) includes only itself.
# Prints each offending line as file:line: why, and exits 1 if there is one.
set -euo pipefail
cd "$(dirname "$0")/.."

awk '
BEGIN {
	n = split("base engine wire config kafka daemon demo", order, " ")
	for (i = 1; i <= n; i++) rank[order[i]] = i
	private["engine"] = 1; private["wire"] = 1
}
FNR == 1 {
	file = FILENAME
	split(file, part, "/")
	top = part[1]; layer = (top == "src" && (part[2] in rank)) ? part[2] : ""
}
/^[ \t]*#[ \t]*include[ \t]*"/ {
	match($0, /"[^"]+"/)
	inc = substr($0, RSTART + 1, RLENGTH - 2)
	split(inc, ip, "/")
	target = ip[1]
	where = file ":" FNR ": "
	if (top == "include") {
		if (target != "funneld")
			{ print where "the public API includes " inc " (only funneld/*.h)"; bad++ }
		next
	}
	if (!(target in rank))
		next
	if (layer != "" && rank[target] > rank[layer])
		{ print where layer " includes " inc " (" target " is a higher layer)"; bad++ }
	else if (target != layer && ((target in private) || inc ~ /_internal\.h$/))
		{ print where "includes " inc ", private to src/" target "/ (use include/funneld/)"; bad++ }
}
END {
	if (bad) { printf "layers: %d include(s) break the layering\n", bad > "/dev/stderr"; exit 1 }
	print "layers: every include in src/ and include/ looks down"
}' $(find src include -name '*.[ch]' | sort)
