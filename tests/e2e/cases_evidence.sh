# End-to-end cases for the evidence chain: jitctl audit's story of a grant,
# the same events in the private journal, and audit --verify against a
# store altered with chain-tamper.

# Prints the JIT_EVENT of every journal entry after CURSOR for GRANT_ID,
# one per line, in journal order.
journal_types_of()
{
	local cursor=$1 grant_id=$2

	journalctl --sync 2>/dev/null
	journalctl --no-pager -a -o json --after-cursor="$cursor" 2>/dev/null |
		jq -r --arg id "$grant_id" 'select(.JIT_GRANT_ID == $id) | .JIT_EVENT'
}

# Prints the type of every chain record for GRANT_ID, one per line.
chain_types_of()
{
	jitctl audit --since 1h --json | jq -r --arg id "$1" 'select(.grant_id == $id) | .type'
}

evidence_story_of_grant_life()
{
	local cursor id expired out status

	cursor=$(ev_mark)
	id=$(issue alice --for 5m --command /usr/bin/id) || return
	run_as alice sudo -n id
	expect_success "sudo -n id" "$RC" "$OUT"
	run_as alice sudo -n cat /etc/shadow
	expect_failure "sudo -n cat /etc/shadow" "$RC" "$OUT"
	out=$(jitctl revoke "$id" --reason "e2e done" 2>&1)
	expect_success "jitctl revoke" $? "$out"

	out=$(jitctl audit "$id" 2>&1)
	status=$?
	expect_success "jitctl audit ID" "$status" "$out"
	expect_eq "story length" 4 "$(printf '%s\n' "$out" | wc -l)"
	expect_match "story: issued" "$(sed -n 1p <<<"$out")" \
		"root issued grant $id to alice, role direct, until .*; reason: e2e evidence_story_of_grant_life\\.$"
	expect_match "story: used" "$(sed -n 2p <<<"$out")" \
		'alice used sudo to run "/usr/bin/id" as root\.$'
	expect_match "story: denied" "$(sed -n 3p <<<"$out")" \
		'alice was denied sudo to run "/usr/bin/cat /etc/shadow" as root: out-of-scope\.$'
	expect_match "story: revoked" "$(sed -n 4p <<<"$out")" \
		"root revoked grant $id; reason: e2e done\\.$"

	expired=$(issue bob --for 1s --command /usr/bin/id) || return
	sleep 1.2
	out=$(jitctl reap 2>&1)
	expect_success "jitctl reap" $? "$out"
	out=$(jitctl audit "$expired" 2>&1)
	expect_success "jitctl audit of the expired grant" $? "$out"
	expect_eq "expired story length" 2 "$(printf '%s\n' "$out" | wc -l)"
	expect_match "expired story: removed" "$(sed -n 2p <<<"$out")" \
		"jitctl reap removed grant $expired after it ended\\.$"

	expect_eq "journal and chain agree for the revoked grant" \
		"$(chain_types_of "$id")" "$(journal_types_of "$cursor" "$id")"
	expect_eq "chain types of the revoked grant" \
		"grant-issued access-allowed access-denied grant-revoked" \
		"$(chain_types_of "$id" | tr '\n' ' ' | sed 's/ $//')"
	expect_eq "journal and chain agree for the expired grant" \
		"$(chain_types_of "$expired")" "$(journal_types_of "$cursor" "$expired")"

	out=$(jitctl audit --verify 2>&1)
	expect_success "jitctl audit --verify" $? "$out"
	expect_match "verify: intact" "$out" '^chain intact: 6 records, head 6 [0-9a-f]{64}$'
	expect_match "verify: reap signed a checkpoint" "$out" '^1 signed checkpoint, the newest at record 6$'
}

evidence_json_lines_export()
{
	local id out

	id=$(issue alice --for 5m --command /usr/bin/id) || return
	run_as alice sudo -n id
	expect_success "sudo -n id" "$RC" "$OUT"

	out=$(jitctl audit --since 10m --json 2>&1)
	expect_success "jitctl audit --since --json" $? "$out"
	expect_eq "one JSON line per record" 2 "$(printf '%s\n' "$out" | jq -c . | wc -l)"
	expect_eq "second record" "access-allowed alice $id /usr/bin/id" \
		"$(sed -n 2p <<<"$out" | jq -r '"\(.type) \(.user) \(.grant_id) \(.details.command)"')"
	expect_eq "records link" "$(sed -n 1p <<<"$out" | jq -r .hash)" \
		"$(sed -n 2p <<<"$out" | jq -r .prev_hash)"

	out=$(jitctl audit --since 2000-01-01T00:00:00Z --json 2>&1)
	expect_eq "an ISO time works too" 2 "$(printf '%s\n' "$out" | wc -l)"
	out=$(jitctl audit --since yesterday 2>&1)
	expect_failure "an invalid --since" $? "$out"
}

evidence_verify_finds_tampering()
{
	local out status

	issue alice --for 5m --command /usr/bin/id >/dev/null || return
	run_as alice sudo -n id
	issue bob --for 5m --command /usr/bin/id >/dev/null || return
	run_as bob sudo -n id
	out=$(jitctl audit --checkpoint 2>&1)
	expect_success "jitctl audit --checkpoint" $? "$out"
	expect_eq "checkpoint output" "signed a checkpoint at record 4" "$out"
	out=$(jitctl audit --verify 2>&1)
	expect_success "verify before tampering" $? "$out"

	"$CHAIN_TAMPER" "$STORE" alter 2 alice alicf
	out=$(jitctl audit --verify 2>&1)
	status=$?
	expect_eq "verify after altering record 2: exit status" 1 "$status"
	expect_eq "verify names record 2" \
		"chain broken at record 2: record 2 was changed: record 3 does not carry its hash" "$out"
	"$CHAIN_TAMPER" "$STORE" alter 2 alicf alice
	out=$(jitctl audit --verify 2>&1)
	expect_success "verify after undoing the change" $? "$out"

	"$CHAIN_TAMPER" "$STORE" swap 2 3
	out=$(jitctl audit --verify 2>&1)
	expect_eq "verify after reordering: exit status" 1 $?
	expect_match "verify names the reordering" "$out" '^chain broken at record 2: .*reordered'
	"$CHAIN_TAMPER" "$STORE" swap 2 3

	"$CHAIN_TAMPER" "$STORE" delete-tail 1
	out=$(jitctl audit --verify 2>&1)
	expect_eq "verify after cutting the tail: exit status" 1 $?
	expect_eq "verify names the cut" \
		"chain broken at record 4: record 4 was removed from the tail: the chain ends at record 3" "$out"
}

evidence_report_counts_match()
{
	local used unused other out

	used=$(issue alice --for 5m --command /usr/bin/id) || return
	unused=$(issue alice --for 5m --command /usr/bin/true) || return
	other=$(issue bob --for 5m --command /usr/bin/id) || return
	run_as alice sudo -n id
	run_as alice sudo -n id
	run_as alice sudo -n id
	run_as alice sudo -n cat /etc/shadow
	run_as bob sudo -n id

	# A denial counts against the closest grant, which may be either of
	# alice's, so only her total of denials is fixed.
	out=$(jitctl report --since 1h --csv 2>&1)
	expect_success "jitctl report --csv" $? "$out"
	expect_eq "report rows without denials and time" \
"user,role,grant_id,approvers,uses,break_glass,reviewed
alice,direct,$used,root,3,no,no
alice,direct,$unused,root,0,no,no
bob,direct,$other,root,1,no,no" \
		"$(printf '%s\n' "$out" | cut -d, -f1-5,7-8)"
	expect_eq "alice's denials" 1 \
		"$(printf '%s\n' "$out" | awk -F, '$1 == "alice" { n += $6 } END { print n }')"

	out=$(jitctl report --since 1h --json 2>&1)
	expect_success "jitctl report --json" $? "$out"
	expect_eq "alice's totals" "2 3 1 0" \
		"$(jq -r '.[] | select(.user == "alice") | "\(.grant_count) \(.uses) \(.never_used) \(.break_glass_awaiting_review)"' <<<"$out")"
	expect_eq "bob's totals" "1 1 0" \
		"$(jq -r '.[] | select(.user == "bob") | "\(.grant_count) \(.uses) \(.never_used)"' <<<"$out")"

	out=$(jitctl report --since 1h 2>&1)
	expect_match "text report" "$out" '^alice, role direct: 2 grants, 3 uses, 1 never used, 0 break-glass awaiting review'
}

# A configuration that keeps evidence of ended grants for 1 s: reap removes
# the grant, then prunes its records and records the prune.
evidence_retention_prunes_on_reap()
{
	local id retain=$T/retain out types

	id=$(issue bob --for 1s --command /usr/bin/id) || return
	install -d -m 0755 "$retain"
	install -o root -g root -m 0644 /dev/null "$retain/jit.conf"
	sed '/^\[jit\]$/a evidence_retention = 1s' "$CONF" >"$retain/jit.conf"
	sleep 2.1

	out=$("$JITCTL" --config "$retain/jit.conf" reap 2>&1)
	expect_success "jitctl reap with evidence_retention" $? "$out"
	expect_match "reap removed the grant" "$out" '^removed 1 expired grant$'

	types=$(jitctl audit --since 1h --json | jq -r '"\(.seq) \(.type)"' | tr '\n' ' ')
	expect_eq "records after the prune" "2 grant-removed 3 chain-pruned " "$types"
	out=$(jitctl audit --since 1h --json | jq -r 'select(.type == "chain-pruned") | "\(.actor) \(.details.through) \(.details.count)"')
	expect_eq "prune record" "reap 1 1" "$out"
	out=$(jitctl audit --verify 2>&1)
	expect_success "verify after the prune" $? "$out"
	expect_match "verify after the prune: intact" "$out" '^chain intact: 3 records, head 3 '
	out=$(jitctl audit "$id" 2>&1)
	expect_match "the pruned grant's removal is still told" "$out" "jitctl reap removed grant $id"
}
