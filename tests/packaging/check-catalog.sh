#!/usr/bin/env bash
# Checks the journald catalog against the code: every MESSAGE_ID that
# libjitcore/src/event.c defines has exactly one catalog entry, every entry
# belongs to such an id, each entry has a Subject and "Defined-By: jit", and
# journalctl accepts the file. journalctl works on a private root folder, so
# the host's catalog database is never touched.
#
# Usage: check-catalog.sh SOURCE_DIR
set -u -o pipefail

src=${1:?usage: check-catalog.sh SOURCE_DIR}
catalog=$src/packaging/journald/jit.catalog
events=$src/libjitcore/src/event.c
failed=0

fail() {
	echo "not ok - $*"
	failed=1
}

code_ids=$(grep -oE '"[0-9a-f]{32}"' "$events" | tr -d '"' | sort)
catalog_ids=$(grep -E '^-- ' "$catalog" | awk '{ print $2 }' | sort)

[ -n "$code_ids" ] || fail "no MESSAGE_ID found in $events"

dups=$(printf '%s\n' "$catalog_ids" | uniq -d)
[ -z "$dups" ] || fail "catalog entries repeated: $dups"
dups=$(printf '%s\n' "$code_ids" | uniq -d)
[ -z "$dups" ] || fail "MESSAGE_IDs repeated in event.c: $dups"

missing=$(comm -23 <(printf '%s\n' "$code_ids" | uniq) <(printf '%s\n' "$catalog_ids" | uniq))
[ -z "$missing" ] || fail "MESSAGE_IDs without a catalog entry: $missing"
extra=$(comm -13 <(printf '%s\n' "$code_ids" | uniq) <(printf '%s\n' "$catalog_ids" | uniq))
[ -z "$extra" ] || fail "catalog entries for no MESSAGE_ID in event.c: $extra"

# Each entry, from its "-- ID" line to the next, needs both headers.
bad=$(awk '
	/^-- / { if (id != "" && !(subject && defined)) print id
		 id = $2; subject = 0; defined = 0; next }
	/^Subject: ./ { subject = 1 }
	/^Defined-By: jit$/ { defined = 1 }
	END { if (id != "" && !(subject && defined)) print id }' "$catalog")
[ -z "$bad" ] || fail "entries without Subject or Defined-By: jit: $bad"

if command -v journalctl >/dev/null; then
	root=$(mktemp -d) || exit 1
	trap 'rm -rf "$root"' EXIT
	mkdir -p "$root/usr/lib/systemd/catalog" "$root/var/lib/systemd/catalog"
	cp "$catalog" "$root/usr/lib/systemd/catalog/"

	if ! out=$(journalctl --root="$root" --update-catalog 2>&1); then
		fail "journalctl --update-catalog rejected the catalog: $out"
	elif [ -n "$out" ]; then
		fail "journalctl --update-catalog complained: $out"
	else
		listed=$(journalctl --root="$root" --list-catalog 2>&1 |
			 awk '{ print $1 }' | sort)
		[ "$listed" = "$(printf '%s\n' "$catalog_ids")" ] ||
			fail "journalctl lists other ids than the catalog: $listed"
	fi
else
	echo "# journalctl not found: the catalog was not compiled"
fi

[ "$failed" -eq 0 ] || exit 1
echo "ok - $(printf '%s\n' "$code_ids" | wc -l) MESSAGE_IDs, one catalog entry each"
