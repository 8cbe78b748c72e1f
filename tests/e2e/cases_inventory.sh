# End-to-end cases for jitctl inventory: crafted account, group, sudoers,
# SSH and polkit files, a planted setuid binary and jit grants, each seen
# through the real cvtsudoers, sshd -T and dpkg-query.
#
# Every case body runs in a nested mount namespace (inv_in_namespace), so
# the fixtures mounted over /etc, /srv and /usr/sbin vanish when it ends and
# the other cases see the namespace as e2e_setup left it.

INV_FIXTURES=${E2E_SRC:-}/tests/e2e/fixtures/inventory

# Runs FUNCTION ARGS... in a new mount namespace inside the suite's one.
inv_in_namespace()
{
	unshare --mount --propagation private -- bash -c '
		. "$E2E_SRC/tests/e2e/lib.sh"
		. "$E2E_SRC/tests/e2e/check.sh"
		. "$E2E_SRC/tests/e2e/cases_inventory.sh"
		"$@"' inventory-case "$@"
}

# Writes fixture file SOURCE to TARGET with @DIR@ replaced, mode MODE.
inv_copy()
{
	local source=$1 target=$2 mode=$3

	sed "s|@DIR@|$T/inv|g" "$source" >"$target" || e2e_die "copy of $source failed"
	chmod "$mode" "$target"
}

# polkit may be missing on the host. Then an overlay whose upper layer is in
# $T provides /etc/polkit-1/rules.d; it must be mounted before the binds
# over files in /etc, which it would hide.
inv_provide_polkit_folder()
{
	[ -d /etc/polkit-1/rules.d ] && return 0
	install -d -m 0755 "$T/inv/etc-upper" "$T/inv/etc-work"
	mount -t overlay overlay \
		-o "lowerdir=/etc,upperdir=$T/inv/etc-upper,workdir=$T/inv/etc-work" /etc ||
		e2e_die "overlay over /etc failed"
	[ "$(findmnt -n -o FSTYPE /etc)" = overlay ] || e2e_die "/etc is no overlay"
	install -d -m 0755 /etc/polkit-1/rules.d
}

# Installs fixture set NAME into $T/inv and mounts it over the real files:
# account and group files, sudoers and its folder, polkit rules, and home
# folders with authorized_keys. Also writes $T/inv/etc/sshd_config with a
# fresh host key, for "inventory --sshd-config".
inv_install()
{
	local name=$1 src=$INV_FIXTURES/$1 dir=$T/inv file user

	rm -rf "$dir"
	inv_provide_polkit_folder
	install -d -m 0755 "$dir/etc" "$dir/home" "$dir/sudoers.d" "$dir/polkit"
	inv_copy "$src/passwd" "$dir/etc/passwd" 0644
	inv_copy "$src/group" "$dir/etc/group" 0644
	inv_copy "$src/shadow" "$dir/etc/shadow" 0640
	inv_copy "$src/sudoers" "$dir/etc/sudoers" 0440
	inv_copy "$src/sshd_config" "$dir/etc/sshd_config" 0644
	for file in "$src"/sudoers.d/*; do
		inv_copy "$file" "$dir/sudoers.d/${file##*/}" 0440
	done
	for file in "$src"/polkit/*.rules; do
		[ -e "$file" ] && inv_copy "$file" "$dir/polkit/${file##*/}" 0644
	done
	ssh-keygen -q -t ed25519 -N '' -f "$dir/etc/hostkey" || e2e_die "ssh-keygen failed"

	# Homes of the accounts the fixture names, with their keys.
	for user in $(cut -d: -f1 "$dir/etc/passwd"); do
		install -d -m 0700 "$dir/home/$user"
		if [ -f "$src/keys/$user" ]; then
			install -d -m 0700 "$dir/home/$user/.ssh"
			inv_copy "$src/keys/$user" "$dir/home/$user/.ssh/authorized_keys" 0600
		fi
	done

	for file in passwd group shadow sudoers; do
		mount --bind "$dir/etc/$file" "/etc/$file" || e2e_die "bind over /etc/$file failed"
	done
	mount --bind "$dir/sudoers.d" /etc/sudoers.d || e2e_die "bind over /etc/sudoers.d failed"
	mount --bind "$dir/polkit" /etc/polkit-1/rules.d || e2e_die "bind over /etc/polkit-1/rules.d failed"
	# sshd -T insists on its privilege separation folder; /run is private.
	install -d -m 0755 /run/sshd
}

# Plants a setuid root copy of id and a copy of true with a file
# capability on a tmpfs over /srv, where no package installs anything.
inv_plant_binaries()
{
	[ -d /srv ] || e2e_die "/srv is missing; the setuid check plants its binaries there"
	mount -t tmpfs -o mode=0755 tmpfs /srv || e2e_die "tmpfs on /srv failed"
	install -m 4755 /usr/bin/id /srv/planted-id
	install -m 0755 /usr/bin/true /srv/planted-cap
	setcap cap_dac_override+ep /srv/planted-cap || e2e_die "setcap failed"
}

# Runs "jitctl inventory --json" with the fixture's sshd_config and extra
# ARGS; keeps the JSON in INV_JSON, standard error in INV_ERR and the exit
# status in INV_RC.
inv_run()
{
	INV_JSON=$(timeout 60 "$JITCTL" --config "${INV_CONF:-$CONF}" inventory --json \
		--sshd-config "$T/inv/etc/sshd_config" "$@" 2>"$T/inv.err")
	INV_RC=$?
	INV_ERR=$(cat "$T/inv.err")
	if ! printf '%s' "$INV_JSON" | jq -e .findings >/dev/null 2>&1; then
		fail "jitctl inventory printed no JSON findings (exit status $INV_RC): $(e2e_quote "$INV_ERR")"
		INV_JSON='{"findings": []}'
	fi
}

# Prints the findings of INV_JSON for ACCOUNT whose source matches the
# regular expression SOURCE as a whole and whose title matches TITLE, as a
# JSON array.
inv_select()
{
	printf '%s' "$INV_JSON" | jq -c --arg a "$1" --arg s "^($2)\$" --arg t "$3" \
		'[.findings[] | select(.account == $a and (.source | test($s)) and (.title | test($t)))]'
}

# Checks that exactly one finding for ACCOUNT from SOURCE has a title
# matching TITLE, with SEVERITY and evidence matching EVIDENCE.
expect_finding()
{
	local severity=$1 account=$2 source=$3 title=$4 evidence=$5 found count

	found=$(inv_select "$account" "$source" "$title")
	count=$(printf '%s' "$found" | jq length)
	if [ "$count" -ne 1 ]; then
		fail "$count $source findings for $account match /$title/, expected 1; findings: $(e2e_quote "$(printf '%s' "$INV_JSON" | jq -c '[.findings[] | [.account, .source, .title]]')")"
		return
	fi
	expect_eq "severity of '$title' for $account" "$severity" \
		"$(printf '%s' "$found" | jq -r '.[0].severity')"
	expect_match "evidence of '$title' for $account" \
		"$(printf '%s' "$found" | jq -r '.[0].evidence')" "$evidence"
}

expect_no_finding()
{
	local account=$1 source=$2 title=$3 found

	found=$(inv_select "$account" "$source" "$title")
	expect_eq "no $source finding for $account matching /$title/" 0 \
		"$(printf '%s' "$found" | jq length)"
}

# Prints checksums and modification times of every fixture file, to show
# that the inventory changed none of them.
inv_snapshot()
{
	find "$T/inv" /srv -type f -printf '%p %T@ %m\n' | sort
	find "$T/inv" /srv -type f -exec sha256sum {} + | sort
}

inv_check_accounts()
{
	expect_finding high toor accounts '^uid 0 account other than root$' \
		'^/etc/passwd:6: toor uid 0 gid 0 '
	expect_finding medium root accounts '^root with a usable password$' \
		'^/etc/shadow:1: root: password hash set'
	expect_finding high lp accounts '^system account with an empty password$' \
		'^/etc/shadow:4: lp: empty password field$'
	expect_finding medium backup accounts '^system account with a usable password$' \
		'^/etc/shadow:5: backup: '
	expect_finding low backup accounts '^system account with a login shell$' \
		'^/etc/passwd:5: backup uid 34 .* shell /bin/bash$'
	expect_no_finding sync accounts .
	expect_no_finding alice accounts .
}

inv_check_groups()
{
	expect_finding high alice groups '^member of group sudo$' \
		'^/etc/group:6: sudo gid 27 members root,alice$'
	expect_finding high bob groups '^primary group docker$' '^/etc/passwd:9: bob uid 1002 gid 999$'
	expect_finding low dave groups '^member of group adm$' '^/etc/group:3: adm gid 4 '
	expect_finding high heidi groups '^member of group ops$' '^/etc/group:10: ops gid 2000 members heidi$'
	expect_no_finding root groups .
}

inv_check_sudoers()
{
	expect_finding high carol sudoers '^sudo ALL as ALL without a password$' \
		'^/etc/sudoers:4: carol ALL = \(ALL\) NOPASSWD: ALL$'
	expect_finding high grace sudoers '^sudo ALL as ALL$' \
		'^/etc/sudoers or a file it includes, rule 3 of 8: grace ALL = \(ALL\) ALL$'
	expect_finding high dave sudoers 'vi runs other commands' \
		'^/etc/sudoers.d/ops:2: dave ALL = \(root\) /usr/bin/vi /etc/hosts$'
	expect_finding low erin sudoers 'time-bounded until 2099-12-31T00:00:00Z' \
		'^/etc/sudoers.d/ops:3: erin ALL = \(root\) NOTBEFORE=20250101000000Z NOTAFTER=20991231000000Z '
	expect_finding info frank sudoers '^expired rule: sudo /usr/bin/id as root$' \
		'^/etc/sudoers.d/ops:4: '
	expect_finding low %ops sudoers '^sudo /usr/bin/psql as postgres; starts at 2098-01-01T00:00:00Z$' \
		'^/etc/sudoers.d/ops:5: %ops ALL = \(postgres\) NOTBEFORE=20980101000000Z /usr/bin/psql; members of ops: heidi$'
	expect_finding medium ivan sudoers '^sudo /usr/bin/uptime as root$' \
		'^/etc/sudoers.d/zz-writable:1: '
	expect_finding high '(host)' sudoers '^sudoers file writable by an account other than root$' \
		'^/etc/sudoers.d/zz-writable: owner uid 0 gid 0 mode 0666$'
	expect_no_finding root sudoers .
	expect_match "erin's rule is matched with the configured role" \
		"$(inv_select erin sudoers . | jq -r '.[0].suggestion')" '^role web-restart already has this scope'
}

inv_check_ssh()
{
	expect_finding high root ssh '^SSH key for root$' \
		"^$T/inv/home/root/.ssh/authorized_keys:2: ssh-ed25519 key, comment ops@laptop; permitrootlogin without-password$"
	expect_finding low root ssh '^sshd permits root logins with a key$' \
		'permitrootlogin without-password$'
	expect_finding medium alice ssh '^SSH key for alice$' \
		'ssh-ed25519 key, comment alice@laptop, options from="10.0.0.0/8"; sshd lets alice log in$'
	# dave may run vi as root but AllowUsers keeps him out.
	expect_finding low dave ssh '^SSH key for dave$' \
		'comment dave@laptop; AllowUsers, AllowGroups, DenyUsers or DenyGroups keep dave out$'
}

inv_check_other_sources()
{
	local setuid_count

	expect_finding high %wheel polkit '^polkit administrator$' \
		'/etc/polkit-1/rules.d/50-e2e-admins.rules:3: return \["unix-group:wheel",$'
	expect_finding high grace polkit '^polkit administrator$' \
		'/etc/polkit-1/rules.d/50-e2e-admins.rules:4: '
	expect_finding medium ivan polkit '^polkit rule authorizes without authentication$' \
		'/etc/polkit-1/rules.d/50-e2e-admins.rules:10: return polkit.Result.YES;$'

	expect_finding high '(host)' setuid '^setuid root binary outside' \
		'^/srv/planted-id: mode 4755 owner root group root$'
	expect_finding high '(host)' setuid '^binary with file capabilities outside' \
		'^/srv/planted-cap: mode 0755 .* capabilities cap_dac_override=ep$'
	setuid_count=$(printf '%s' "$INV_JSON" | jq '[.findings[] | select(.source == "setuid")] | length')
	expect_eq "setuid findings: the planted ones only, none from packages" 2 "$setuid_count"

	expect_finding low alice jit 'lasts nearly the maximum duration$' ', role direct, 7h30m from '
	expect_no_finding bob jit .
}

inventory_finds_planted_privilege()
{
	inv_in_namespace inv_planted_body
}

inv_planted_body()
{
	local before after text status

	issue alice --for 7h30m --command /usr/bin/id >/dev/null || return
	issue bob --for 5m --command /usr/bin/id >/dev/null || return
	inv_install planted
	chmod 0666 "$T/inv/sudoers.d/zz-writable"
	inv_plant_binaries
	INV_CONF=$T/inv/jit.conf
	cp "$CONF" "$INV_CONF"
	printf '\n[role web-restart]\ncommands = /usr/bin/systemctl restart nginx\n' >>"$INV_CONF"

	before=$(inv_snapshot)
	inv_run --group ops
	after=$(inv_snapshot)
	expect_eq "jitctl inventory exit status with high findings" 1 "$INV_RC"
	expect_eq "fixture files unchanged by the inventory" "$before" "$after"
	expect_no_match "no password hash in the output" "$INV_JSON" 'planted[a-z]*passwordhash'

	inv_check_accounts
	inv_check_groups
	inv_check_sudoers
	inv_check_ssh
	inv_check_other_sources

	text=$(timeout 60 "$JITCTL" --config "$INV_CONF" inventory \
		--sshd-config "$T/inv/etc/sshd_config" 2>&1)
	status=$?
	expect_eq "exit status of the table" 1 "$status"
	expect_match "the table groups findings under the account" "$text" \
		'^toor$'
	expect_match "the table shows severity, source and title" "$text" \
		'^  high    accounts  uid 0 account other than root$'
	expect_match "the table ends with the counts" "$text" \
		'^[0-9]+ findings: [0-9]+ high, [0-9]+ medium, [0-9]+ low, [0-9]+ info$'
}

inventory_clean_host_finds_nothing()
{
	inv_in_namespace inv_clean_body
}

inv_clean_body()
{
	local text status

	inv_install clean
	inv_run
	expect_eq "exit status on a clean host" 0 "$INV_RC"
	expect_eq "no findings on a clean host" "[]" \
		"$(printf '%s' "$INV_JSON" | jq -c '[.findings[] | [.severity, .account, .source, .title, .evidence]]')"
	expect_eq "counts on a clean host" '{"high":0,"medium":0,"low":0,"info":0}' \
		"$(printf '%s' "$INV_JSON" | jq -c .counts)"

	text=$(timeout 60 "$JITCTL" --config "$CONF" inventory \
		--sshd-config "$T/inv/etc/sshd_config" 2>&1)
	status=$?
	expect_eq "exit status of the clean table" 0 "$status"
	expect_eq "the clean table" "no standing privilege found" "$text"

	text=$("$JITCTL" --config "$CONF" inventory --group 'no such/group' 2>&1)
	expect_eq "exit status for an invalid --group" 2 "$?"
	expect_match "the usage error names the group" "$text" "invalid group name 'no such/group'"
	text=$("$JITCTL" --config "$CONF" inventory extra 2>&1)
	expect_eq "exit status for an extra argument" 2 "$?"
}

inventory_sudoers_syntax_error_reported()
{
	inv_in_namespace inv_syntax_error_body
}

inv_syntax_error_body()
{
	inv_install clean
	inv_copy "$INV_FIXTURES/broken/zz-broken" "$T/inv/sudoers.d/zz-broken" 0440
	inv_run
	expect_eq "exit status with a broken sudoers" 1 "$INV_RC"
	expect_finding high '(host)' sudoers '^sudoers syntax error$' \
		'/etc/sudoers.d/zz-broken:1:[0-9]+: syntax error: frank'
	expect_eq "the syntax error is the only finding" 1 \
		"$(printf '%s' "$INV_JSON" | jq '.findings | length')"
}

inventory_unreadable_sources_reported()
{
	inv_in_namespace inv_unreadable_body
}

# alice cannot read /etc/shadow, /etc/sudoers, root's home, the host key
# or the store; each must be a finding, never silently skipped.
inv_unreadable_body()
{
	local path

	inv_install planted
	chown root:root /etc/shadow
	INV_JSON=$(as_user alice "$JITCTL" --config "$CONF" inventory --json \
		--sshd-config "$T/inv/etc/sshd_config" 2>"$T/inv.err")
	INV_RC=$?
	INV_ERR=$(cat "$T/inv.err")
	expect_eq "exit status with unreadable sources" 1 "$INV_RC"

	for path in /etc/shadow /etc/sudoers "$T/inv/home/root/.ssh/authorized_keys"; do
		expect_finding high '(host)' '[a-z]+' "^cannot read $path\$" 'Permission denied$'
	done
	expect_finding high '(host)' ssh '^cannot check the sshd configuration$' 'exit status'
	expect_finding high '(host)' jit "^cannot read jit's grants\$" .
	expect_no_match "no sudoers rule is reported from an unread file" \
		"$(printf '%s' "$INV_JSON" | jq -r '.findings[] | select(.source == "sudoers") | .title')" \
		'^sudo '
}

inventory_without_sshd_reports_info()
{
	inv_in_namespace inv_without_sshd_body
}

# A tmpfs over /usr/sbin hides sshd (the suite's tools are in /usr/bin).
inv_without_sshd_body()
{
	inv_install clean
	mount -t tmpfs -o mode=0755 tmpfs /usr/sbin || { fail "tmpfs on /usr/sbin failed"; return; }
	inv_run
	expect_eq "exit status without sshd" 0 "$INV_RC"
	expect_finding info '(host)' ssh '^sshd not installed$' '/usr/sbin/sshd is missing$'
	expect_no_finding '(host)' ssh '^cannot check'
}
