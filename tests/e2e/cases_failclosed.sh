# End-to-end cases for failing closed: broken stores, keys and configuration
# deny through both the plugin and the module, and unsafe files stop sudo.

TRUSTED=
TRUSTED_KEY=

break_store_missing()         { rm -rf "$STORE"; }
break_store_truncated()       { truncate -s 100 "$STORE/data.mdb"; }
break_trusted_folder_empty()  { rm -f "$TRUSTED"/*; }
break_trusted_key_empty()     { : >"$TRUSTED_KEY"; }
break_trusted_key_mode_0666() { chmod 0666 "$TRUSTED_KEY"; }
break_trusted_key_user_owned() { chown alice: "$TRUSTED_KEY"; }
break_config_unknown_key()    { echo "frobnicate = 1" >>"$CONF"; }
break_config_mode_0666()      { chmod 0666 "$CONF"; }

# Issues working grants, checks they work, applies BREAKER, then checks that
# sudo and pam_jit deny and that each denial event names PATH in its detail
# with a reason matching REASONS.
check_fails_closed()
{
	local breaker=$1 reasons=$2 path=$3 cursor detail

	e2e_reset
	TRUSTED=$T/etc/jit/trusted.d
	TRUSTED_KEY=$(find "$TRUSTED" -name '*.pub' | head -n 1)
	[ -n "$TRUSTED_KEY" ] || { fail "$breaker: jitctl init wrote no trusted key"; return; }

	issue alice --for 5m --command /usr/bin/id >/dev/null || return
	issue carol --for 5m --service jit-test >/dev/null || return
	run_as alice sudo -n id
	expect_success "$breaker: sudo before the damage" "$RC" "$OUT"
	pam_account carol
	expect_eq "$breaker: pam_jit before the damage" PAM_SUCCESS "$OUT"

	"$breaker"

	cursor=$(ev_mark)
	run_as alice sudo -n id
	expect_failure "$breaker: sudo -n id" "$RC" "$OUT"
	expect_no_match "$breaker: nothing ran" "$OUT" 'uid=0'
	expect_event "$breaker: sudo access-denied event" "$cursor" JIT_EVENT=access-denied
	if [ -n "$EV" ]; then
		expect_match "$breaker: sudo deny reason" "$(printf '%s' "$EV" | ev_field JIT_DENY_REASON)" "^($reasons)$"
		detail=$(printf '%s' "$EV" | ev_field JIT_DETAIL)
		expect_match "$breaker: sudo event detail names $path" "$detail" "$path"
	fi

	cursor=$(ev_mark)
	pam_account carol
	expect_pam_denied "$breaker: pam_jit"
	expect_event "$breaker: PAM access-denied event" "$cursor" JIT_EVENT=access-denied
	if [ -n "$EV" ]; then
		expect_match "$breaker: PAM deny reason" "$(printf '%s' "$EV" | ev_field JIT_DENY_REASON)" "^($reasons)$"
		detail=$(printf '%s' "$EV" | ev_field JIT_DETAIL)
		expect_match "$breaker: PAM event detail names $path" "$detail" "$path"
	fi
}

fail_closed_on_broken_files()
{
	local keys=$T/etc/jit/trusted.d

	[ -x "$PAM_CALL" ] || { fail "pam-call was not built"; return; }

	check_fails_closed break_store_missing store-error "$STORE"
	check_fails_closed break_store_truncated store-error "$STORE"
	check_fails_closed break_trusted_folder_empty 'store-error|config-error' "$keys"
	check_fails_closed break_trusted_key_empty 'store-error|config-error' "$keys"
	check_fails_closed break_trusted_key_mode_0666 'store-error|config-error' "$keys"
	check_fails_closed break_trusted_key_user_owned 'store-error|config-error' "$keys"
	check_fails_closed break_config_unknown_key config-error "$CONF"
	check_fails_closed break_config_mode_0666 config-error "$CONF"
}

# Prints installed files and folders that are not owned by root or are
# writable by group or others (symbolic links are skipped: their mode is
# meaningless).
unsafe_installed_files()
{
	find "$1" \( -type f -o -type d \) \( ! -user root -o ! -group root -o -perm /022 \) -print
}

# Runs alice's "sudo -n id" with CONF_FILE bind-mounted over /etc/sudo.conf.
sudo_with_conf()
{
	mount --bind "$1" /etc/sudo.conf || { fail "bind over /etc/sudo.conf failed"; return 1; }
	run_as alice sudo -n id
	umount /etc/sudo.conf
}

# NOTE: Debian 12's sudo 1.9.13p3 loads a policy plugin that is group- or
# world-writable or owned by another user (checked by hand). It checks only
# /etc/sudo.conf itself. So this case checks sudo's check of sudo.conf and
# the owner and mode that meson install gives the plugin.
plugin_and_install_file_modes()
{
	local destdir=$T/destdir conf=$T/sudo-unsafe.conf out status

	issue alice --for 5m --command /usr/bin/id >/dev/null || return

	e2e_write_sudo_conf "$conf" "$T/lib/sudo_jit.so" "$CONF"
	chmod 0664 "$conf"
	sudo_with_conf "$conf" || return
	expect_failure "sudo with a group-writable sudo.conf" "$RC" "$OUT"
	expect_no_match "group-writable sudo.conf: nothing ran" "$OUT" 'uid=0'
	expect_match "sudo names the problem" "$OUT" 'writable'

	chmod 0644 "$conf"
	chown alice "$conf"
	sudo_with_conf "$conf" || return
	expect_failure "sudo with a sudo.conf owned by alice" "$RC" "$OUT"
	expect_no_match "sudo.conf owned by alice: nothing ran" "$OUT" 'uid=0'

	run_as alice sudo -n id
	expect_success "sudo with the root-owned 0644 sudo.conf and plugin" "$RC" "$OUT"

	out=$(meson install -C "$E2E_BUILD" --no-rebuild --quiet --destdir "$destdir" 2>&1)
	status=$?
	expect_success "meson install --destdir" "$status" "$out"
	expect_match "sudo_jit.so installed" "$(find "$destdir" -name sudo_jit.so)" 'sudo_jit.so'
	expect_match "pam_jit.so installed" "$(find "$destdir" -name pam_jit.so)" 'pam_jit.so'
	expect_match "jitctl installed" "$(find "$destdir" -name jitctl -type f)" 'jitctl'
	expect_eq "installed files root-owned, not group/other-writable" "" \
		"$(unsafe_installed_files "$destdir")"
	expect_eq "sudo_jit.so mode" 644 "$(stat -c %a "$(find "$destdir" -name sudo_jit.so)")"
	expect_eq "pam_jit.so mode" 644 "$(stat -c %a "$(find "$destdir" -name pam_jit.so)")"
}
