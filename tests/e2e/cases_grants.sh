# End-to-end cases for grant validity: expiry, revocation, keys, tampering,
# host and user binding, time limits, and what an unprivileged user can do.

grant_expired_denied()
{
	local cursor

	issue alice --for 3s --command /usr/bin/id >/dev/null || return
	run_as alice sudo -n id
	expect_success "sudo -n id while the grant is valid" "$RC" "$OUT"

	sleep 4
	cursor=$(ev_mark)
	run_as alice sudo -n id
	expect_failure "sudo -n id after expiry" "$RC" "$OUT"
	expect_denied_event "$cursor" alice expired
}

grant_revoked_denied()
{
	local id cursor out status

	id=$(issue alice --for 5m --command /usr/bin/id) || return
	out=$(jitctl revoke "$id" --reason "e2e revocation" 2>&1)
	status=$?
	expect_success "jitctl revoke" "$status" "$out"

	cursor=$(ev_mark)
	run_as alice sudo -n id
	expect_failure "sudo -n id after revocation" "$RC" "$OUT"
	expect_denied_event "$cursor" alice revoked

	out=$(jitctl revoke "$id" --reason "again" 2>&1)
	status=$?
	expect_failure "revoking a revoked grant again" "$status" "$out"
}

# A second configuration with its own issuer key and trusted keys writes
# into the same store; the namespace's configuration does not trust it.
grant_untrusted_key_denied()
{
	local other=$T/other cursor out status

	install -d -m 0755 "$other"
	e2e_write_config "$other/jit.conf" "$STORE" "$other/issuer.key" "$other/trusted.d"
	out=$("$JITCTL" --config "$other/jit.conf" init 2>&1)
	status=$?
	expect_success "jitctl init with a second issuer key" "$status" "$out"
	out=$("$JITCTL" --config "$other/jit.conf" grant alice --for 5m \
		--reason "untrusted issuer" --command /usr/bin/id 2>&1)
	status=$?
	expect_success "grant signed by the second key" "$status" "$out"

	cursor=$(ev_mark)
	run_as alice sudo -n id
	expect_failure "sudo -n id with a grant from an untrusted key" "$RC" "$OUT"
	expect_denied_event "$cursor" alice unknown-key
}

# Damages alice's command grant and carol's service grant with
# "store-tamper STORE OPERATION ID ARGUMENT", then checks that the plugin and
# the module both deny with REASON. For truncate, ARGUMENT is relative to
# the blob's length ("-33" cuts 33 bytes).
check_tampered()
{
	local reason=$1 operation=$2 argument=$3 sudo_id pam_id id cursor out status

	fresh_store
	sudo_id=$(issue alice --for 5m --command /usr/bin/id) || return
	pam_id=$(issue carol --for 5m --service jit-test) || return

	for id in "$sudo_id" "$pam_id"; do
		if [ "$operation" = truncate ]; then
			argument=$(( $(token_blob_length "$(jitctl export "$id")") $3 ))
		fi
		out=$("$STORE_TAMPER" "$STORE" "$operation" "$id" "$argument" 2>&1)
		status=$?
		expect_success "store-tamper $operation $id $argument" "$status" "$out"
	done

	cursor=$(ev_mark)
	run_as alice sudo -n id
	expect_failure "sudo -n id after $operation" "$RC" "$OUT"
	expect_denied_event "$cursor" alice "$reason"

	cursor=$(ev_mark)
	pam_account carol
	expect_pam_denied "pam_jit after $operation"
	expect_denied_event "$cursor" carol "$reason"
}

grant_tampered_blob_denied()
{
	[ -x "$STORE_TAMPER" ] || { fail "store-tamper was not built"; return; }
	[ -x "$PAM_CALL" ] || { fail "pam-call was not built"; return; }

	# A byte inside the signed region, six bytes before the signature.
	check_tampered bad-signature flip -70
	# The 64-byte signature cut to 31 bytes.
	check_tampered malformed truncate -33
	# One byte after the signature.
	check_tampered malformed append 00
}

grant_other_host_or_user_denied()
{
	local id cursor out status

	issue alice --for 5m --host other.example --command /usr/bin/id >/dev/null || return
	cursor=$(ev_mark)
	run_as alice sudo -n id
	expect_failure "sudo -n id with a grant for another host" "$RC" "$OUT"
	expect_denied_event "$cursor" alice wrong-host

	[ -x "$STORE_TAMPER" ] || { fail "store-tamper was not built"; return; }
	fresh_store
	id=$(issue alice --for 5m --command /usr/bin/id) || return
	out=$("$STORE_TAMPER" "$STORE" move "$id" bob 2>&1)
	status=$?
	expect_success "store-tamper move to bob" "$status" "$out"

	cursor=$(ev_mark)
	run_as bob sudo -n id
	expect_failure "bob using alice's grant" "$RC" "$OUT"
	expect_denied_event "$cursor" bob wrong-user

	run_as alice sudo -n id
	expect_success "alice still uses her own grant" "$RC" "$OUT"
}

grant_time_limits_enforced()
{
	local before after duration out status

	issue alice --for 5m --start +45s --command /usr/bin/id >/dev/null || return
	run_as alice sudo -n id
	expect_success "grant starting 45 s ahead used at once" "$RC" "$OUT"

	before=$(jitctl list --all --json 2>&1)
	for duration in 0 -1 99y 1e30s 9h; do
		out=$(jitctl grant alice --for "$duration" --reason "bad duration" \
			--command /usr/bin/id 2>&1 >/dev/null)
		status=$?
		expect_failure "jitctl grant --for $duration" "$status" "$out"
		expect_match "jitctl grant --for $duration explains" "$out" '[a-z]'
	done
	after=$(jitctl list --all --json 2>&1)
	expect_eq "store unchanged by rejected grants" "$before" "$after"
}

# Prints every file below the store and config folders with owner, mode,
# size and modification time.
snapshot_files()
{
	find "$STORE" "$T/etc/jit" -printf '%p %u %m %s %T@\n' | sort
}

unprivileged_check_changes_nothing()
{
	local before after

	issue alice --for 5m --service x >/dev/null || return
	before=$(snapshot_files)

	run_as alice "$JITCTL" --config "$CONF" check alice --service x
	expect_failure "jitctl check as alice" "$RC" "$OUT"
	expect_match "the message says root is needed" "$OUT" 'root'

	run_as alice "$JITCTL" --config "$CONF" grant alice --for 5m --reason self --service x
	expect_failure "jitctl grant as alice" "$RC" "$OUT"
	expect_match "the message says root is needed" "$OUT" 'root'

	after=$(snapshot_files)
	expect_eq "store and keys unchanged" "$before" "$after"
}
