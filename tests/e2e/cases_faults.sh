# End-to-end cases for faults outside jit's own files: a full LMDB reader
# table, allocation failures inside the PAM module and the sudo plugin, a
# clock far from the grant's window and a full file system under the
# store. Each decision must be a normal denial, or a correct allow once the
# fault is gone. Denials need an access-denied event naming the cause, and
# no process may crash.

FAULT_TOOLS=${E2E_BUILD}/tests/tools

# Checks that sudo, as run by run_as, ended with its ordinary denial status
# and ran nothing. Status 124 would be a timeout, and above 128 a signal.
expect_sudo_denied()
{
	local what=$1

	expect_eq "$what: sudo exit status" 1 "$RC"
	expect_no_match "$what: nothing ran" "$OUT" 'uid=0'
}

# Checks the newest access-denied event of USER after CURSOR: its reason
# matches REASONS and its detail matches DETAIL.
expect_denied_cause()
{
	local what=$1 cursor=$2 user=$3 reasons=$4 detail=$5

	expect_event "$what: access-denied event" "$cursor" \
		JIT_EVENT=access-denied JIT_USER="$user"
	[ -n "$EV" ] || return
	expect_match "$what: deny reason" \
		"$(printf '%s' "$EV" | ev_field JIT_DENY_REASON)" "^($reasons)$"
	expect_match "$what: event detail" \
		"$(printf '%s' "$EV" | ev_field JIT_DETAIL)" "$detail"
}

# Prints the number of reader slots in use in the store, as mdb_stat
# lists them (its own slot is not listed).
store_readers()
{
	mdb_stat -r "$STORE" 2>/dev/null | grep -cE '^ *[0-9]+ +[0-9a-f]+ +[0-9-]+'
}

# Starts hold-readers on the store for COUNT slots (without COUNT, every
# free slot) and waits until they are taken. Prints its pid, and the
# tool writes the count it took to the file OUTPUT.
start_holder()
{
	local output=$1 count=${2:-} i

	"$FAULT_TOOLS/hold-readers" "$STORE" $count >"$output" 2>&1 &
	echo $!
	for i in $(seq 50); do
		grep -q '^held' "$output" && return 0
		sleep 0.1
	done
	return 1
}

fault_reader_table_full()
{
	local keeper holder held cursor

	[ -x "$FAULT_TOOLS/hold-readers" ] || { fail "hold-readers was not built"; return; }
	issue alice --for 5m --command /usr/bin/id >/dev/null || return
	issue carol --for 5m --service jit-test >/dev/null || return

	# The keeper keeps one slot for the whole case: LMDB resets the reader
	# table when the last process closes the store, so without it the
	# killed holder's slots would vanish instead of going stale.
	keeper=$(start_holder "$T/keeper.out" 1)
	holder=$(start_holder "$T/holder.out")
	trap 'kill -KILL '"$keeper $holder"' 2>/dev/null' EXIT
	held=$(sed -n 's/^held //p' "$T/holder.out")
	expect_match "hold-readers filled the reader table" "$held" '^[0-9]+$'
	[ -n "$held" ] || return
	expect_eq "mdb_stat lists every held slot" $((held + 1)) "$(store_readers)"

	cursor=$(ev_mark)
	run_as alice sudo -n id
	expect_sudo_denied "readers full"
	expect_match "readers full: sudo says why" "$OUT" 'reader'
	expect_denied_cause "readers full: sudo" "$cursor" alice store-error "$STORE.*reader"

	cursor=$(ev_mark)
	pam_account carol
	expect_pam_denied "readers full: pam_jit"
	expect_denied_cause "readers full: pam_jit" "$cursor" carol store-error "$STORE.*reader"

	# SIGKILL leaves the holder's slots taken; the next open finds their
	# process dead and sweeps them.
	kill -KILL "$holder"
	wait "$holder" 2>/dev/null
	expect_eq "stale slots of the killed holder" $((held + 1)) "$(store_readers)"

	run_as alice sudo -n id
	expect_success "sudo after the holder was killed" "$RC" "$OUT"
	expect_match "sudo ran id as root" "$OUT" 'uid=0'
	pam_account carol
	expect_eq "pam_jit after the holder was killed" PAM_SUCCESS "$OUT"
	expect_eq "only the keeper's slot is left" 1 "$(store_readers)"

	cursor=$(ev_mark)
	run_as bob sudo -n id
	expect_sudo_denied "bob without a grant after the sweep"
	expect_denied_cause "bob after the sweep" "$cursor" bob no-grant "."

	kill -KILL "$keeper"
	wait "$keeper" 2>/dev/null
	trap - EXIT
	expect_match "mdb_stat -rr clears nothing" "$(mdb_stat -rr "$STORE" 2>&1)" ' 0 stale readers cleared'
}

# Runs pam-call for USER with allocation N and every later one failing.
# Keeps the code in OUT, the exit status in RC and the number of
# allocations the run made in CALLS.
pam_account_failing_at()
{
	local user=$1 n=$2

	OUT=$(timeout 30 env FAILALLOC_AT="$n" \
	      FAILALLOC_REPORT="$T/failalloc.calls" \
	      LD_PRELOAD="$FAULT_TOOLS/libfailalloc.so" \
	      "$PAM_CALL" jit-test "$user" "$T/lib/pam_jit.so" \
	      "config=$CONF" 2>"$T/pam-call.err")
	RC=$?
	CALLS=$(cat "$T/failalloc.calls" 2>/dev/null)
	rm -f "$T/failalloc.calls"
}

# Prints the first lines of pam-call's stderr, then the function names of
# the backtrace that failalloc printed if it crashed, innermost first, and
# the source lines of the frames inside pam_jit.so.
crash_summary()
{
	local offsets

	sed -n '1,/^failalloc: crash backtrace/p' "$1" | head -n 3
	sed -n 's/^[^(]*(\([^)+]\+\)+.*/\1/p' "$1" | tr '\n' ' '
	offsets=$(sed -n 's/^.*pam_jit\.so(+\(0x[0-9a-f]*\)).*/\1/p' "$1")
	[ -n "$offsets" ] || return 0
	echo
	# shellcheck disable=SC2086 # one argument per offset
	addr2line -f -s -e "$T/lib/pam_jit.so" $offsets 2>/dev/null | paste -d' ' - - | tr '\n' ' '
}

# Says whether the last failed run died inside glibc itself rather than in
# jit: when allocating its NSS state fails, Debian 12's glibc (2.36)
# dereferences a NULL pointer or aborts inside getpwnam_r, and ld.so aborts
# a dlopen that cannot allocate thread-local storage. jit cannot catch
# either, and neither can allow: the process dies before deciding.
glibc_alloc_crash()
{
	{ [ "$RC" -eq 139 ] || [ "$RC" -eq 134 ]; } &&
		grep -q 'crash backtrace' "$T/pam-call.err" &&
		[ "$(sed -n 's/^[^(]*(\([^)+]\+\)+.*/\1/p' "$T/pam-call.err" |
		     grep -v -e '^gsignal$' -e '^abort$' | head -n 1)" = __nss_passwd_lookup2 ] && return 0
	[ "$RC" -eq 127 ] && grep -q 'cannot allocate memory for thread-local data' "$T/pam-call.err"
}

# Walks N over every allocation of carol's PAM check, from the first to the
# last one a clean run makes (FAULT_ALLOC_STEP=K tests only every Kth after
# the first 200, for a quicker run). No run may print a code
# matching FORBIDDEN (carol is gated, so an ignore would let the rest of a
# stack decide), crash, hang, or print no code unless pam-call reported it
# could not start (exit status 2).
check_alloc_failures()
{
	local label=$1 forbidden=$2 n=1 total bad=0 runs=0 glibc=0 step

	pam_account_failing_at carol 0
	total=$CALLS
	expect_match "$label: allocation count of a clean run" "$total" '^[0-9]+$'
	[ -n "$total" ] || return
	step=${FAULT_ALLOC_STEP:-1}

	while [ "$n" -le "$total" ]; do
		pam_account_failing_at carol "$n"
		runs=$((runs + 1))
		if glibc_alloc_crash; then
			glibc=$((glibc + 1))
		elif [ "$RC" -ge 124 ] || { [ "$RC" -ne 0 ] && [ "$RC" -ne 2 ]; }; then
			fail "$label: allocation $n failing: pam-call exit status $RC; stderr: $(e2e_quote "$(crash_summary "$T/pam-call.err")")"
			bad=$((bad + 1))
		elif [ "$RC" -eq 0 ] && { [ -z "$OUT" ] || printf '%s' "$OUT" | grep -Eqx "$forbidden"; }; then
			fail "$label: allocation $n failing: code '$OUT'"
			bad=$((bad + 1))
		fi
		[ "$bad" -ge 20 ] && break
		if [ "$n" -lt 200 ]; then
			n=$((n + 1))
		else
			n=$((n + step))
		fi
	done
	[ "$bad" -eq 0 ] && pass
	echo "#   $label: $runs runs over $total allocations, $glibc glibc crashes" >&3
}

fault_alloc_failure_in_pam_module()
{
	local cursor

	[ -f "$FAULT_TOOLS/libfailalloc.so" ] || { fail "libfailalloc.so was not built"; return; }

	check_alloc_failures "carol without a grant" 'PAM_(SUCCESS|IGNORE)'

	# Without injected failures the module still decides and reports.
	cursor=$(ev_mark)
	pam_account carol
	expect_pam_denied "carol after the allocation runs"
	expect_denied_cause "carol after the allocation runs" "$cursor" carol no-grant "."

	issue carol --for 5m --service jit-test >/dev/null || return
	check_alloc_failures "carol with a grant" 'PAM_IGNORE'
	pam_account carol
	expect_eq "carol with a grant after the allocation runs" PAM_SUCCESS "$OUT"
}

# Runs policy-call (the plugin's entry points in one process, as sudo calls
# them) for USER asking for /usr/bin/id, with allocation N and every later
# one failing. Keeps the line in OUT, the exit status in RC and the number
# of allocations the run made in CALLS.
policy_call_failing_at()
{
	local user=$1 n=$2

	OUT=$(timeout 30 env FAILALLOC_AT="$n" \
	      FAILALLOC_REPORT="$T/failalloc.calls" \
	      LD_PRELOAD="$FAULT_TOOLS/libfailalloc.so" \
	      "$FAULT_TOOLS/policy-call" "$T/lib/sudo_jit.so" "$CONF" \
	      "$user" "$(id -u "$user")" /usr/bin/id 2>"$T/pam-call.err")
	RC=$?
	CALLS=$(cat "$T/failalloc.calls" 2>/dev/null)
	rm -f "$T/failalloc.calls"
}

# Walks N over every allocation of USER's sudo request, as
# check_alloc_failures does for PAM. A run may deny or fail to open, and
# it may allow a user with a grant. No run may crash or hang, and a user
# without a grant is never allowed. An allow counts only when
# init_session, which records the use and the session, succeeded too.
check_plugin_alloc_failures()
{
	local label=$1 user=$2 may_allow=$3 n=1 total bad=0 runs=0 allowed=0

	policy_call_failing_at "$user" 0
	total=$CALLS
	expect_match "$label: allocation count of a clean run" "$total" '^[0-9]+$'
	[ -n "$total" ] || return

	while [ "$n" -le "$total" ]; do
		policy_call_failing_at "$user" "$n"
		runs=$((runs + 1))
		if glibc_alloc_crash; then
			:
		elif [ "$RC" -ne 0 ] && [ "$RC" -ne 2 ]; then
			fail "$label: allocation $n failing: policy-call exit status $RC; stderr: $(e2e_quote "$(head -c 600 "$T/pam-call.err")")"
			bad=$((bad + 1))
		elif [ "$RC" -eq 0 ] && ! printf '%s' "$OUT" | grep -Eqx 'check=(-1|0) init=-|check=1 init=(-1|0|1)'; then
			fail "$label: allocation $n failing: unexpected output '$OUT'"
			bad=$((bad + 1))
		elif [ "$OUT" = "check=1 init=1" ]; then
			allowed=$((allowed + 1))
			if [ "$may_allow" != yes ]; then
				fail "$label: allocation $n failing: allowed"
				bad=$((bad + 1))
			fi
		fi
		[ "$bad" -ge 20 ] && break
		if [ "$n" -lt 200 ]; then
			n=$((n + 1))
		else
			n=$((n + ${FAULT_ALLOC_STEP:-1}))
		fi
	done
	[ "$bad" -eq 0 ] && pass
	echo "#   $label: $runs runs over $total allocations, $allowed allowed" >&3
}

fault_alloc_failure_in_sudo_plugin()
{
	local cursor

	[ -x "$FAULT_TOOLS/policy-call" ] || { fail "policy-call was not built"; return; }
	[ -f "$FAULT_TOOLS/libfailalloc.so" ] || { fail "libfailalloc.so was not built"; return; }

	check_plugin_alloc_failures "dave without a grant" dave no

	cursor=$(ev_mark)
	policy_call_failing_at dave 0
	expect_eq "dave after the allocation runs" "check=0 init=-" "$OUT"
	expect_denied_cause "dave after the allocation runs" "$cursor" dave no-grant "."

	issue alice --for 5m --command /usr/bin/id >/dev/null || return
	check_plugin_alloc_failures "alice with a grant" alice yes
	policy_call_failing_at alice 0
	expect_eq "alice with a grant after the allocation runs" "check=1 init=1" "$OUT"
	expect_no_match "store readers left by the runs" "$(mdb_stat -rr "$STORE" 2>&1)" ' [1-9][0-9]* stale readers cleared'
}

# Runs pam_account for USER with the clock shifted by OFFSET (faketime).
pam_account_shifted()
{
	local user=$1 offset=$2

	OUT=$(timeout 30 faketime -f "$offset" "$PAM_CALL" jit-test "$user" \
	      "$T/lib/pam_jit.so" "config=$CONF" 2>"$T/pam-call.err")
	RC=$?
	ERR=$(cat "$T/pam-call.err")
}

fault_clock_far_from_grant()
{
	local cursor

	command -v faketime >/dev/null || { fail "faketime is not installed"; return; }
	issue carol --for 1h --service jit-test >/dev/null || return

	pam_account_shifted carol +0d
	expect_eq "pam_jit under faketime without a shift" PAM_SUCCESS "$OUT"

	cursor=$(ev_mark)
	pam_account_shifted carol +3653d
	expect_pam_denied "pam_jit ten years later"
	expect_denied_cause "ten years later" "$cursor" carol expired "."

	cursor=$(ev_mark)
	pam_account_shifted carol -3653d
	expect_pam_denied "pam_jit ten years earlier"
	expect_denied_cause "ten years earlier" "$cursor" carol not-yet-valid "."

	pam_account carol
	expect_eq "pam_jit at the real time" PAM_SUCCESS "$OUT"
}

# jitctl sizes the LMDB map itself and offers no smaller one, so a full map
# cannot be reached in a test. A full file system under the store is the
# nearest fault: writes fail, and reads must go on deciding.
fault_store_file_system_full()
{
	local size out status i cursor

	issue alice --for 5m --command /usr/bin/id >/dev/null || return
	issue carol --for 5m --service jit-test >/dev/null || return

	cp -a "$STORE" "$T/store.full-copy" || { fail "copying the store failed"; return; }
	size=$(( $(du -sk "$STORE" | cut -f1) + 64 ))
	mount -t tmpfs -o "size=${size}k,mode=0700" tmpfs "$STORE" ||
		{ fail "mounting a ${size} KiB tmpfs over the store failed"; return; }
	trap 'umount "$STORE" 2>/dev/null' EXIT
	cp -a "$T/store.full-copy/." "$STORE/"
	rm -rf "$T/store.full-copy"

	status=0
	for i in $(seq 2000); do
		out=$(jitctl grant dave --for 5m --command /usr/bin/true \
		      --reason "fill the store $i" 2>&1)
		status=$?
		[ "$status" -eq 0 ] || break
	done
	expect_failure "jitctl grant on a full file system" "$status" "$out"
	expect_match "jitctl grant names the store" "$out" "$STORE"
	echo "#   store full after $((i - 1)) grants: $(e2e_quote "$out")" >&3

	run_as alice sudo -n id
	expect_success "sudo with the store's file system full" "$RC" "$OUT"
	expect_match "sudo ran id as root" "$OUT" 'uid=0'
	pam_account carol
	expect_eq "pam_jit with the store's file system full" PAM_SUCCESS "$OUT"

	cursor=$(ev_mark)
	run_as bob sudo -n id
	expect_sudo_denied "bob with the store's file system full"
	expect_denied_cause "bob with the store's file system full" "$cursor" bob no-grant "."

	out=$(jitctl list 2>&1)
	expect_success "jitctl list with the store's file system full" "$?" "$out"

	umount "$STORE"
	trap - EXIT
}
