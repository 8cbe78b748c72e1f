# End-to-end cases for the PAM account module, through the real libpam, and
# for descriptors leaking out of the plugin or the module.

pam_account_gates_logins()
{
	local out status

	[ -x "$PAM_CALL" ] || { fail "pam-call was not built"; return; }

	pam_account carol
	expect_eq "gated user without a grant" PAM_PERM_DENIED "$OUT"
	expect_match "denial reaches the conversation" "$ERR" '^conv: .*jitctl grant'

	issue carol --for 5m --service jit-test >/dev/null || return
	pam_account carol
	expect_eq "gated user with a grant for the service" PAM_SUCCESS "$OUT"

	pam_account dave
	expect_eq "ungated user" PAM_IGNORE "$OUT"

	# pamtester runs the jit-test stack: pam_jit, then pam_permit.
	out=$(timeout 30 pamtester jit-test carol acct_mgmt 2>&1)
	status=$?
	expect_success "pamtester: gated user with a grant" "$status" "$out"
	out=$(timeout 30 pamtester jit-test dave acct_mgmt 2>&1)
	status=$?
	expect_success "pamtester: ungated user" "$status" "$out"

	# pam_jit must not be the last word: pam_nologin later in the stack
	# still denies a gated user with a grant, and an ungated user.
	issue carol --for 5m --service jit-stack >/dev/null || return
	pam_account carol jit-stack --stack
	expect_eq "stack without a nologin file" PAM_SUCCESS "$OUT"
	echo "e2e maintenance" >"$T/nologin"
	pam_account carol jit-stack --stack
	expect_pam_denied "stack with a nologin file, gated user with a grant"
	pam_account dave jit-stack --stack
	expect_pam_denied "stack with a nologin file, ungated user"
	rm -f "$T/nologin"

	fresh_store
	out=$(timeout 30 pamtester jit-test carol acct_mgmt 2>&1)
	status=$?
	expect_failure "pamtester: gated user without a grant" "$status" "$out"
}

# Lists the descriptors that `ls -l /proc/self/fd` printed, one
# "NUMBER TARGET" per line.
fd_listing()
{
	printf '%s\n' "$1" | sed -n 's/.* \([0-9][0-9]*\) -> \(.*\)$/\1 \2/p'
}

# Checks a listing of /proc/self/fd made by ls: only 0, 1, 2 and the one
# descriptor ls opened on that folder may be there.
expect_only_std_fds()
{
	local what=$1 listing fd target own=0

	listing=$(fd_listing "$2")
	expect_match "$what: listing parsed" "$listing" '^0 '
	while read -r fd target; do
		case "$fd" in
		0|1|2) ;;
		*)
			if [[ "$target" =~ ^/proc/[0-9]+/fd$ ]] && [ "$own" -eq 0 ]; then
				own=1
			else
				fail "$what: descriptor $fd -> $target reached the command"
			fi
			;;
		esac
	done <<<"$listing"
	pass
}

sudo_and_pam_leak_no_descriptor()
{
	local out status

	issue alice --for 5m --command /usr/bin/ls >/dev/null || return

	# Nothing that sudo or jit opened reaches the command.
	run_as alice "$T/bin/only-std-fds" sudo -n ls -l /proc/self/fd
	expect_success "sudo -n ls -l /proc/self/fd" "$RC" "$OUT"
	expect_only_std_fds "caller with descriptors 0-2" "$OUT"

	# Nor does a descriptor the caller left open, as with sudoers.
	run_as alice "$T/bin/only-std-fds" bash -c 'exec 7</etc/hostname; exec sudo -n ls -l /proc/self/fd'
	expect_success "sudo -n ls -l /proc/self/fd with descriptor 7 open" "$RC" "$OUT"
	expect_only_std_fds "caller with descriptor 7 open" "$OUT"

	[ -x "$PAM_CALL" ] || { fail "pam-call was not built"; return; }
	issue carol --for 5m --service jit-test >/dev/null || return
	out=$(timeout 240 "$PAM_CALL" --repeat 5000 --fd-check jit-test carol \
		"$T/lib/pam_jit.so" "config=$CONF" 2>&1)
	status=$?
	expect_success "pam-call --repeat 5000 --fd-check" "$status" "$out"
	expect_match "5000 transactions succeeded" "$out" '^PAM_SUCCESS'
	expect_match "descriptor count unchanged" "$out" 'fds before=([0-9]+) after=\1$'
}
