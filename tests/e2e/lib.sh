# Shared by the end-to-end suite (tests/e2e/run.sh) and the demonstration
# (scripts/demo): a private set of namespaces where sudo, PAM and
# systemd-journald run for real against jit, while the host stays untouched.
#
# Host side:   e2e_spawn SCRIPT ARGS... makes a work folder $T, runs SCRIPT
#              inside new mount, network, UTS and PID namespaces, and removes
#              $T afterwards.
# Inside:      e2e_setup builds the private /run, /dev, users, PAM stacks,
#              sudo.conf, journald and the jit configuration. Every change to
#              a system path is a mount inside the private mount namespace.
#
# Every poll is bounded and every process started here is stopped by its pid.
# When the script given to e2e_spawn exits, it is PID 1 of its namespace, so
# the kernel ends whatever is left inside.

E2E_NS_HOSTNAME=jit-e2e
E2E_FIRST_ID=62000

e2e_die()
{
	echo "e2e: $*" >&2
	exit 1
}

# Prints the names of required tools that are missing.
e2e_missing_tools()
{
	local tool

	for tool in unshare runuser mount ip hostname setsid timeout openssl \
		    jq journalctl sudo pamtester sha256sum stat find; do
		command -v "$tool" >/dev/null 2>&1 || printf '%s ' "$tool"
	done
	[ -x /lib/systemd/systemd-journald ] || printf '%s ' systemd-journald
}

# Host side: runs "bash SCRIPT ARGS..." in fresh namespaces with E2E_T,
# E2E_BUILD and E2E_SRC exported, and returns its exit status.
e2e_spawn()
{
	local work rc missing

	[ "$(id -u)" -eq 0 ] || e2e_die "must run as root (it creates namespaces and test users inside them)"
	missing=$(e2e_missing_tools)
	[ -z "$missing" ] || e2e_die "missing tools: $missing(run scripts/deps)"
	[ -f /etc/sudo.conf ] || e2e_die "/etc/sudo.conf not found: install the Debian package sudo"

	work=$(mktemp -d /tmp/jit-e2e.XXXXXX) || e2e_die "mktemp failed"
	chmod 0755 "$work"
	# Once the namespace is gone nothing is mounted below $work any more;
	# --one-file-system guards against removing through a mount anyway.
	trap "rm -rf --one-file-system '$work'" EXIT

	# PID 1 of a namespace ignores signals it has no handler for, and bash
	# runs a trap only after its foreground command ends. So unshare runs in
	# the background, and on Ctrl-C or SIGTERM this shell kills it, which
	# (through --kill-child) kills the namespace's PID 1 and with it
	# everything inside.
	E2E_T=$work unshare --mount --net --uts --pid --fork --mount-proc \
		--propagation private --kill-child -- bash "$@" &
	E2E_UNSHARE_PID=$!
	E2E_STOP_STATUS=
	trap 'E2E_STOP_STATUS=130; kill -KILL "$E2E_UNSHARE_PID" 2>/dev/null' INT
	trap 'E2E_STOP_STATUS=143; kill -KILL "$E2E_UNSHARE_PID" 2>/dev/null' TERM
	while :; do
		{ wait "$E2E_UNSHARE_PID"; } 2>/dev/null
		rc=$?
		kill -0 "$E2E_UNSHARE_PID" 2>/dev/null || break
	done
	trap - INT TERM
	rc=${E2E_STOP_STATUS:-$rc}

	rm -rf --one-file-system "$work"
	trap - EXIT
	return "$rc"
}

# ---------------------------------------------------------------------------
# Inside the namespace.

e2e_mount_private()
{
	mount --make-rprivate / || e2e_die "mount --make-rprivate / failed"
	hostname "$E2E_NS_HOSTNAME" || e2e_die "hostname failed"
	ip link set lo up || e2e_die "ip link set lo up failed"

	mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /run || e2e_die "tmpfs on /run failed"
	install -d -m 1777 /run/lock
	install -d -m 0755 /run/systemd /run/jit

	# journald keeps a persistent journal only where this folder exists.
	# Creating it would change the host, so without it the journal simply
	# stays in /run.
	if [ -d /var/log/journal ]; then
		mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /var/log/journal ||
			e2e_die "tmpfs on /var/log/journal failed"
	fi
}

# A private /dev: the host's device nodes stay reachable through bind mounts,
# and /dev/log can point at the private journald's syslog socket.
e2e_make_dev()
{
	local node

	mkdir "$T/hostdev"
	mount --rbind /dev "$T/hostdev" || e2e_die "bind of /dev failed"
	mount -t tmpfs -o mode=0755,nosuid tmpfs /dev || e2e_die "tmpfs on /dev failed"

	for node in null zero full random urandom tty; do
		[ -e "$T/hostdev/$node" ] || continue
		touch "/dev/$node"
		mount --bind "$T/hostdev/$node" "/dev/$node" || e2e_die "bind of /dev/$node failed"
	done

	# A devpts instance of its own, so terminals (sudo's password prompt,
	# ssh -t) can be opened inside without touching the host's.
	mkdir /dev/pts /dev/shm
	mount -t devpts -o newinstance,ptmxmode=0666,mode=0620,gid=5 devpts /dev/pts ||
		e2e_die "devpts on /dev/pts failed"
	ln -s pts/ptmx /dev/ptmx
	mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /dev/shm || e2e_die "tmpfs on /dev/shm failed"

	ln -s /proc/self/fd /dev/fd
	ln -s /proc/self/fd/0 /dev/stdin
	ln -s /proc/self/fd/1 /dev/stdout
	ln -s /proc/self/fd/2 /dev/stderr
	ln -s /run/systemd/journal/dev-log /dev/log
}

# Prints the first id >= E2E_FIRST_ID that is free in both files (third
# field of passwd-style and group-style lines).
e2e_free_id()
{
	local id=$E2E_FIRST_ID

	while cut -d: -f3 "$T/etc/passwd" "$T/etc/group" | grep -qx "$id"; do
		id=$((id + 1))
	done
	echo "$id"
}

e2e_add_group()
{
	local name=$1 gid

	grep -q "^$name:" "$T/etc/group" && e2e_die "group $name already exists on this host"
	gid=$(e2e_free_id)
	echo "$name:x:$gid:" >>"$T/etc/group"
	echo "$name:!::" >>"$T/etc/gshadow"
}

# Adds a user with a private group; PASSWORD empty means a locked account.
e2e_add_user()
{
	local name=$1 password=${2:-} id hash='!'

	grep -q "^$name:" "$T/etc/passwd" && e2e_die "user $name already exists on this host"
	id=$(e2e_free_id)
	if [ -n "$password" ]; then
		hash=$(openssl passwd -6 "$password") || e2e_die "openssl passwd failed"
	fi

	echo "$name:x:$id:$id:jit e2e user $name:$T/home/$name:/bin/bash" >>"$T/etc/passwd"
	echo "$name:x:$id:" >>"$T/etc/group"
	echo "$name:$hash:19000:0:99999:7:::" >>"$T/etc/shadow"
	echo "$name:!::" >>"$T/etc/gshadow"
	install -d -o "$id" -g "$id" -m 0755 "$T/home/$name"
}

# Adds user to an existing supplementary group in the copies.
e2e_add_member()
{
	local group=$1 user=$2

	sed -i -e "/^$group:/ s/\$/,$user/" -e "/^$group:/ s/:,/:/" "$T/etc/group"
}

# Copies the account files, adds the test users and mounts the copies over
# the originals (file bind mounts; useradd would replace the files).
e2e_make_users()
{
	local file

	install -d -m 0755 "$T/etc" "$T/home"
	for file in passwd group shadow gshadow; do
		cp -p "/etc/$file" "$T/etc/$file" || e2e_die "copy of /etc/$file failed"
	done

	e2e_add_group jit-gated
	e2e_add_user alice
	e2e_add_user bob
	e2e_add_user carol
	e2e_add_user dave
	e2e_add_user erin "$E2E_ERIN_PASSWORD"
	e2e_add_member jit-gated carol
	# The request workflow: frank and grace approve (dba-leads), heidi
	# may use break-glass.
	e2e_add_group dba-leads
	e2e_add_group jit-break-glass
	e2e_add_user frank
	e2e_add_user grace
	e2e_add_user heidi
	e2e_add_member dba-leads frank
	e2e_add_member dba-leads grace
	e2e_add_member jit-break-glass heidi

	for file in passwd group shadow gshadow; do
		mount --bind "$T/etc/$file" "/etc/$file" || e2e_die "bind over /etc/$file failed"
	done
}

# Installs the built binaries as on a host: root-owned, not writable by group
# or others.
e2e_install_binaries()
{
	local tool

	install -d -m 0755 "$T/lib" "$T/bin"
	install -o root -g root -m 0644 "$E2E_BUILD/sudo_jit/sudo_jit.so" "$T/lib/sudo_jit.so" ||
		e2e_die "sudo_jit.so not built"
	install -o root -g root -m 0644 "$E2E_BUILD/pam_jit/pam_jit.so" "$T/lib/pam_jit.so" ||
		e2e_die "pam_jit.so not built"
	install -o root -g root -m 0755 "$E2E_BUILD/jitctl/jitctl" "$T/bin/jitctl" ||
		e2e_die "jitctl not built"
	# Runs a command with only descriptors 0, 1 and 2 open, so whatever
	# else the command sees was opened on the way (by sudo or jit).
	install -o root -g root -m 0755 /dev/null "$T/bin/only-std-fds"
	cat >"$T/bin/only-std-fds" <<-'EOF'
	#!/bin/bash
	for fd in /proc/$$/fd/*; do
		fd=${fd##*/}
		[ "$fd" -gt 2 ] && eval "exec $fd>&-"
	done
	exec "$@"
	EOF

	for tool in pam-call store-tamper chain-tamper; do
		if [ -x "$E2E_BUILD/tests/tools/$tool" ]; then
			install -o root -g root -m 0755 "$E2E_BUILD/tests/tools/$tool" "$T/bin/$tool"
		fi
	done
}

# Test PAM services on a copy of /etc/pam.d:
#   jit-test   pam_jit, then pam_permit (an ungated user passes)
#   jit-stack  pam_jit, then pam_nologin with a test nologin file
e2e_make_pam()
{
	cp -a /etc/pam.d "$T/pam.d" || e2e_die "copy of /etc/pam.d failed"

	cat >"$T/pam.d/jit-test" <<-EOF
	auth     required pam_deny.so
	account  required $T/lib/pam_jit.so config=$CONF
	account  required pam_permit.so
	session  required pam_permit.so
	EOF
	cat >"$T/pam.d/jit-stack" <<-EOF
	auth     required pam_deny.so
	account  required $T/lib/pam_jit.so config=$CONF
	account  required pam_nologin.so file=$T/nologin
	session  required pam_permit.so
	EOF

	mount --bind "$T/pam.d" /etc/pam.d || e2e_die "bind over /etc/pam.d failed"
}

# Writes a sudo.conf that loads PLUGIN with config CONFIG into FILE.
e2e_write_sudo_conf()
{
	local file=$1 plugin=$2 config=$3

	install -o root -g root -m 0644 /dev/null "$file"
	cat >"$file" <<-EOF
	# sudo.conf for the jit end-to-end namespace
	Plugin jit_policy $plugin config=$config
	EOF
}

e2e_make_sudo_conf()
{
	e2e_write_sudo_conf "$T/sudo.conf" "$T/lib/sudo_jit.so" "$CONF"
	mount --bind "$T/sudo.conf" /etc/sudo.conf || e2e_die "bind over /etc/sudo.conf failed"
}

# Starts a private systemd-journald. Rate limiting is off because some cases
# send thousands of events in a few seconds; the journal lives in /run.
e2e_start_journald()
{
	local i

	# journald names its journal folder after the machine id. Containers
	# often ship an empty /etc/machine-id, so the namespace gets its own.
	if [ ! -s /etc/machine-id ]; then
		[ -e /etc/machine-id ] || e2e_die "/etc/machine-id is missing; journald needs it (run systemd-machine-id-setup)"
		tr -d '-' </proc/sys/kernel/random/uuid >"$T/machine-id"
		mount --bind "$T/machine-id" /etc/machine-id || e2e_die "bind over /etc/machine-id failed"
	fi

	install -d -m 0755 /run/systemd/journald.conf.d
	cat >/run/systemd/journald.conf.d/e2e.conf <<-EOF
	[Journal]
	Storage=volatile
	RateLimitBurst=0
	ForwardToSyslog=no
	ForwardToWall=no
	ForwardToConsole=no
	ForwardToKMsg=no
	MaxLevelStore=debug
	EOF

	/lib/systemd/systemd-journald </dev/null >>"$T/journald.log" 2>&1 &
	E2E_JOURNALD_PID=$!

	for i in $(seq 100); do
		[ -S /run/systemd/journal/socket ] && [ -S /run/systemd/journal/dev-log ] && return 0
		kill -0 "$E2E_JOURNALD_PID" 2>/dev/null || break
		sleep 0.1
	done
	cat "$T/journald.log" >&2
	e2e_die "systemd-journald did not create its sockets within 10 s"
}

e2e_stop_journald()
{
	local i

	[ -n "${E2E_JOURNALD_PID:-}" ] || return 0
	kill -CONT "$E2E_JOURNALD_PID" 2>/dev/null
	kill -TERM "$E2E_JOURNALD_PID" 2>/dev/null
	for i in $(seq 50); do
		kill -0 "$E2E_JOURNALD_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$E2E_JOURNALD_PID" 2>/dev/null
	wait "$E2E_JOURNALD_PID" 2>/dev/null
	E2E_JOURNALD_PID=
}

# Writes a jit configuration to FILE with the given STORE, ISSUER_KEY and
# TRUSTED_DIR, host name jit-e2e, no password for sudo by default, and a
# role "password" whose grants need one.
e2e_write_config()
{
	local file=$1 store=$2 issuer=$3 trusted=$4

	install -o root -g root -m 0644 /dev/null "$file"
	cat >"$file" <<-EOF
	; jit configuration for the end-to-end namespace
	[jit]
	store = $store
	issuer_key = $issuer
	trusted_keys = $trusted
	hostname = $E2E_NS_HOSTNAME

	[sudo]
	authenticate = no

	[pam]
	gate = group:jit-gated
	exempt = user:root

	; sudo asks for the user's password for grants of this role
	[role password]
	commands = /usr/bin/id
	authenticate = yes
	EOF
}

# Writes the namespace's default configuration.
e2e_make_config()
{
	install -d -m 0755 "$T/etc/jit"
	e2e_write_config "$CONF" "$STORE" "$T/etc/jit/issuer.key" "$T/etc/jit/trusted.d"
}

# Creates the store and the issuer key with jitctl init.
e2e_init()
{
	"$JITCTL" --config "$CONF" init >"$T/init.out" 2>&1 || {
		cat "$T/init.out" >&2
		e2e_die "jitctl init failed"
	}
}

# Builds the whole private environment, up to a written but not yet
# initialised jit configuration. Call first inside the namespace.
e2e_setup()
{
	T=${E2E_T:?e2e_setup runs inside e2e_spawn}

	CONF=$T/etc/jit/jit.conf
	STORE=$T/store
	JITCTL=$T/bin/jitctl
	PAM_CALL=$T/bin/pam-call
	STORE_TAMPER=$T/bin/store-tamper
	CHAIN_TAMPER=$T/bin/chain-tamper
	E2E_ERIN_PASSWORD=erin-e2e-password
	export T CONF STORE JITCTL PAM_CALL STORE_TAMPER CHAIN_TAMPER

	e2e_mount_private
	e2e_make_dev
	e2e_make_users
	e2e_install_binaries
	e2e_make_pam
	e2e_make_sudo_conf
	e2e_start_journald
	e2e_make_config
}

e2e_teardown()
{
	e2e_stop_journald
}

# ---------------------------------------------------------------------------
# Helpers for cases and the demonstration.

jitctl()
{
	"$JITCTL" --config "$CONF" "$@"
}

# Runs a command as USER without a login shell, bounded to 30 s.
as_user()
{
	local user=$1

	shift
	timeout 30 runuser -u "$user" -- "$@"
}

# Prints the cursor of the newest journal entry, so that later reads only
# see what came after it.
ev_mark()
{
	journalctl --sync 2>/dev/null
	journalctl --no-pager -n 1 -o json 2>/dev/null | jq -r '.__CURSOR // empty'
}

# Prints, as JSON lines, the journal entries after CURSOR whose fields equal
# the FIELD=VALUE arguments and, after "--select EXPR", for which the jq
# condition EXPR holds; waits up to 5 s for at least one.
#
# The matching is done by jq: journalctl (systemd 252) skips the first
# matching entry when --after-cursor is combined with field matches.
ev_wait()
{
	local cursor=$1 select=true out i match
	local -a args=(--no-pager -a -o json) filter=()

	shift
	if [ "${1:-}" = --select ]; then
		select=$2
		shift 2
	fi
	[ -n "$cursor" ] && args+=(--after-cursor="$cursor")
	for match in "$@"; do
		filter+=(--arg "${match%%=*}" "${match#*=}")
	done

	for i in $(seq 50); do
		out=$(journalctl "${args[@]}" 2>/dev/null |
		      jq -c "${filter[@]}" '
			def text: if type == "array" then implode else . end;
			. as $entry
			| select(all($ARGS.named | to_entries[];
				     ($entry[.key] // null | text) == .value))
			| select('"$select"')')
		if [ -n "$out" ]; then
			printf '%s\n' "$out"
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# Prints FIELD of a JSON journal entry on stdin as text; journalctl writes
# values with unprintable bytes as arrays of byte values.
ev_field()
{
	jq -j --arg f "$1" '.[$f] // empty | if type == "array" then implode else . end'
}

# ---------------------------------------------------------------------------
# A real OpenSSH server for the session cases, started on first use. It
# listens on the namespace's loopback only, with its own host key, public-key
# logins only, and the PAM service "sshd" running pam_jit in the account and
# session phases. carol's authorized key is $T/ssh/client_key.

E2E_SSH_PORT=2222

# Installs pam-session and writes the PAM services the session cases use:
#   sshd       pam_jit in account and session, then pam_permit
#   jit-sess   the same, for pam-session and pamtester
e2e_make_session_pam()
{
	local service

	if [ -x "$E2E_BUILD/tests/tools/pam-session" ]; then
		install -o root -g root -m 0755 "$E2E_BUILD/tests/tools/pam-session" "$T/bin/pam-session"
	fi

	for service in sshd jit-sess; do
		cat >"$T/pam.d/$service" <<-EOF
		auth     required pam_deny.so
		account  required $T/lib/pam_jit.so config=$CONF
		account  required pam_permit.so
		session  required $T/lib/pam_jit.so config=$CONF
		session  required pam_permit.so
		password required pam_deny.so
		EOF
	done
}

# sshd records logins in wtmp, btmp and lastlog under /var/log; a private
# tmpfs there keeps the host's files untouched. journald keeps its journal
# in /run (Storage=volatile), so it loses nothing.
e2e_private_var_log()
{
	mountpoint -q /var/log && [ -e /var/log/.jit-e2e ] && return 0
	mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /var/log || e2e_die "tmpfs on /var/log failed"
	touch /var/log/.jit-e2e /var/log/wtmp /var/log/btmp /var/log/lastlog
}

e2e_write_sshd_config()
{
	local dir=$T/ssh

	cat >"$dir/sshd_config" <<-EOF
	# sshd for the jit end-to-end namespace: loopback, public keys only
	ListenAddress 127.0.0.1
	HostKey $dir/host_ed25519_key
	PidFile none
	UsePAM yes
	PubkeyAuthentication yes
	PasswordAuthentication no
	KbdInteractiveAuthentication no
	PermitRootLogin no
	AuthorizedKeysFile .ssh/authorized_keys
	StrictModes yes
	UseDNS no
	PrintMotd no
	PrintLastLog no
	X11Forwarding no
	AllowTcpForwarding no
	MaxStartups 100
	LogLevel VERBOSE
	EOF
}

# Starts sshd -D -e once per namespace and waits up to 10 s for its port.
e2e_start_sshd()
{
	local dir=$T/ssh i

	if [ -n "${E2E_SSHD_PID:-}" ] && kill -0 "$E2E_SSHD_PID" 2>/dev/null; then
		return 0
	fi
	command -v /usr/sbin/sshd >/dev/null || e2e_die "sshd not found (run scripts/deps)"
	command -v ssh >/dev/null || e2e_die "ssh not found (run scripts/deps)"

	e2e_make_session_pam
	e2e_private_var_log
	install -d -m 0700 "$dir"
	install -d -m 0755 /run/sshd
	[ -f "$dir/host_ed25519_key" ] ||
		ssh-keygen -q -t ed25519 -N '' -C jit-e2e-host -f "$dir/host_ed25519_key" ||
		e2e_die "ssh-keygen for the host key failed"
	[ -f "$dir/client_key" ] ||
		ssh-keygen -q -t ed25519 -N '' -C jit-e2e-client -f "$dir/client_key" ||
		e2e_die "ssh-keygen for the client key failed"
	install -d -o carol -g carol -m 0700 "$T/home/carol/.ssh"
	install -o carol -g carol -m 0600 "$dir/client_key.pub" "$T/home/carol/.ssh/authorized_keys"
	e2e_write_sshd_config
	/usr/sbin/sshd -t -f "$dir/sshd_config" >>"$T/sshd.log" 2>&1 || {
		cat "$T/sshd.log" >&2
		e2e_die "sshd -t rejected the test configuration"
	}

	/usr/sbin/sshd -D -e -f "$dir/sshd_config" -p "$E2E_SSH_PORT" </dev/null >>"$T/sshd.log" 2>&1 &
	E2E_SSHD_PID=$!

	for i in $(seq 100); do
		if (exec 9<>"/dev/tcp/127.0.0.1/$E2E_SSH_PORT") 2>/dev/null; then
			return 0
		fi
		kill -0 "$E2E_SSHD_PID" 2>/dev/null || break
		sleep 0.1
	done
	cat "$T/sshd.log" >&2
	e2e_die "sshd did not listen on 127.0.0.1:$E2E_SSH_PORT within 10 s"
}

e2e_stop_sshd()
{
	local i

	[ -n "${E2E_SSHD_PID:-}" ] || return 0
	kill -TERM "$E2E_SSHD_PID" 2>/dev/null
	for i in $(seq 50); do
		kill -0 "$E2E_SSHD_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$E2E_SSHD_PID" 2>/dev/null
	wait "$E2E_SSHD_PID" 2>/dev/null
	E2E_SSHD_PID=
}

# Runs the ssh client as root to USER@127.0.0.1 with the test key, public
# key only, bounded by E2E_SSH_TIMEOUT seconds (default 30). Extra client
# options may come before USER.
e2e_ssh()
{
	local -a opts=()

	while [ "${1:-}" != "${1#-}" ]; do
		opts+=("$1")
		shift
	done
	timeout "${E2E_SSH_TIMEOUT:-30}" ssh -F /dev/null -i "$T/ssh/client_key" \
		-p "$E2E_SSH_PORT" -o BatchMode=yes -o IdentitiesOnly=yes \
		-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
		-o GlobalKnownHostsFile=/dev/null -o LogLevel=ERROR \
		-o ConnectTimeout=5 -o PasswordAuthentication=no \
		-o KbdInteractiveAuthentication=no "${opts[@]}" "$1@127.0.0.1" "${@:2}"
}

# Starts jitctl watch in the background, output in $T/watch.log, and keeps
# its pid in E2E_WATCH_PID.
e2e_start_watch()
{
	"$JITCTL" --config "$CONF" watch "$@" </dev/null >>"$T/watch.log" 2>&1 &
	E2E_WATCH_PID=$!
}

e2e_stop_watch()
{
	local i

	[ -n "${E2E_WATCH_PID:-}" ] || return 0
	kill -TERM "$E2E_WATCH_PID" 2>/dev/null
	for i in $(seq 50); do
		kill -0 "$E2E_WATCH_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$E2E_WATCH_PID" 2>/dev/null
	wait "$E2E_WATCH_PID" 2>/dev/null
	E2E_WATCH_PID=
}

# Prints how many session records the store holds.
e2e_session_records()
{
	mdb_stat -s sessions "$STORE" 2>/dev/null | sed -n 's/^ *Entries: //p' | grep . || echo 0
}
