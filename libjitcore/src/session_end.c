/* Ending a session's processes, and writing to its terminal.
 *
 * Without logind no cgroup contains exactly the session, so the session is
 * found from its leader: the leader, its descendants, and every process
 * in a kernel session led by one of them (a background job whose shell has
 * exited keeps its kernel session id). Every process is held by a pidfd
 * from the moment its start time was checked, so a pid that is recycled
 * meanwhile is never signalled. */
#include "jit/session.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>

#include "jit/timeutil.h"

/* How long to wait for processes to go after SIGKILL. */
#define KILL_WAIT_MS 1000

/* logind replies at once, and a bus that hangs must not stall the sweep. */
#define LOGIND_TIMEOUT_US (2 * 1000 * 1000)

/* Major numbers of Unix 98 pseudo-terminals and of virtual consoles. */
#define PTS_MAJOR_FIRST 136
#define PTS_MAJOR_LAST 143
#define VT_MAJOR 4

typedef struct proc_table {
	jit_proc_stat *items;
	size_t count;
	size_t capacity;
} proc_table;

/* A process being ended. pidfd is -1 when the kernel has no pidfd_open;
 * then the start time is checked again right before each kill(). */
typedef struct target {
	pid_t pid;
	uint64_t start;
	int pidfd;
	bool exited;
} target;

struct jit_session_ending {
	jit_session_key key;
	target *targets;
	size_t count;
	pid_t *sessions;           /* kernel session ids led by a target */
	size_t session_count;
	jit_session_end_result result;
};

static void proc_table_clear(proc_table *table)
{
	free(table->items);
	memset(table, 0, sizeof(*table));
}

static jit_err proc_table_add(proc_table *table, const jit_proc_stat *stat,
			      jit_error *error)
{
	if (table->count == table->capacity) {
		size_t capacity = table->capacity == 0 ? 256 : table->capacity * 2;
		jit_proc_stat *items = reallocarray(table->items, capacity,
						    sizeof(*items));

		if (items == NULL)
			return jit_error_set(error, JIT_ERR_NOMEM,
					     "listing processes failed: out of memory");
		table->items = items;
		table->capacity = capacity;
	}
	table->items[table->count++] = *stat;
	return JIT_OK;
}

/* Reads every process in /proc. Processes that exit during the walk are
 * skipped. */
static jit_err proc_table_load(proc_table *table, jit_error *error)
{
	struct dirent *entry;
	jit_err r = JIT_OK;
	DIR *proc;

	proc = opendir("/proc");
	if (proc == NULL)
		return jit_error_set(error, JIT_ERR_IO,
				     "listing processes in /proc failed: %s",
				     strerror(errno));

	while (r == JIT_OK && (entry = readdir(proc)) != NULL) {
		jit_proc_stat stat;
		char *end;
		long pid;

		pid = strtol(entry->d_name, &end, 10);
		if (*end != '\0' || pid <= 0)
			continue;
		if (jit_proc_stat_read((pid_t)pid, &stat, NULL) == JIT_OK)
			r = proc_table_add(table, &stat, error);
	}

	closedir(proc);
	return r;
}

static int pidfd_open_wrapper(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	(void)pid;
	errno = ENOSYS;
	return -1;
#endif
}

static int pidfd_signal(int pidfd, int signal)
{
#ifdef SYS_pidfd_send_signal
	return (int)syscall(SYS_pidfd_send_signal, pidfd, signal, NULL, 0);
#else
	(void)pidfd;
	(void)signal;
	errno = ENOSYS;
	return -1;
#endif
}

/* True when pid still is the process that started at start. */
static bool same_process(pid_t pid, uint64_t start)
{
	jit_proc_stat stat;

	return jit_proc_stat_read(pid, &stat, NULL) == JIT_OK &&
	       stat.start == start && stat.state != 'Z';
}

static bool ending_has(const jit_session_ending *ending, pid_t pid)
{
	for (size_t i = 0; i < ending->count; i++)
		if (ending->targets[i].pid == pid)
			return true;
	return false;
}

static bool ending_has_session(const jit_session_ending *ending, pid_t sid)
{
	for (size_t i = 0; i < ending->session_count; i++)
		if (ending->sessions[i] == sid)
			return true;
	return false;
}

/* Adds a process to the targets, holding it by pidfd once its start time
 * matched. Never the caller itself or PID 1. */
static jit_err ending_add(jit_session_ending *ending, const jit_proc_stat *stat,
			  jit_error *error)
{
	target *t;
	int pidfd;

	if (stat->pid <= 1 || stat->pid == getpid() || ending_has(ending, stat->pid))
		return JIT_OK;
	if (ending->count == JIT_SESSION_MAX_PROCESSES)
		return jit_error_set(error, JIT_ERR_TOO_LARGE,
				     "ending the session of leader pid %lu failed: over %d processes",
				     (unsigned long)ending->key.leader_pid,
				     JIT_SESSION_MAX_PROCESSES);

	pidfd = pidfd_open_wrapper(stat->pid);
	if (pidfd < 0 && errno != ENOSYS)
		return JIT_OK;      /* exited meanwhile */
	if (!same_process(stat->pid, stat->start)) {
		if (pidfd >= 0)
			close(pidfd);
		return JIT_OK;
	}

	if (ending->targets == NULL) {
		ending->targets = calloc(JIT_SESSION_MAX_PROCESSES,
					 sizeof(*ending->targets));
		if (ending->targets == NULL) {
			if (pidfd >= 0)
				close(pidfd);
			return jit_error_set(error, JIT_ERR_NOMEM,
					     "ending a session failed: out of memory");
		}
	}

	t = &ending->targets[ending->count++];
	t->pid = stat->pid;
	t->start = stat->start;
	t->pidfd = pidfd;
	t->exited = false;
	return JIT_OK;
}

static jit_err ending_add_session(jit_session_ending *ending, pid_t sid,
				  jit_error *error)
{
	pid_t *sessions;

	if (ending_has_session(ending, sid))
		return JIT_OK;
	sessions = reallocarray(ending->sessions, ending->session_count + 1,
				sizeof(*sessions));
	if (sessions == NULL)
		return jit_error_set(error, JIT_ERR_NOMEM,
				     "ending a session failed: out of memory");
	sessions[ending->session_count++] = sid;
	ending->sessions = sessions;
	return JIT_OK;
}

/* Adds, until nothing changes, every process whose parent is a target or
 * whose kernel session is led by a target. */
static jit_err ending_collect(jit_session_ending *ending,
			      const proc_table *table, jit_error *error)
{
	bool changed = true;
	jit_err r = JIT_OK;

	while (changed && r == JIT_OK) {
		size_t before = ending->count + ending->session_count;

		for (size_t i = 0; i < table->count && r == JIT_OK; i++) {
			const jit_proc_stat *p = &table->items[i];
			bool member = ending_has(ending, p->pid);

			if (!member && (ending_has(ending, p->ppid) ||
					ending_has_session(ending, p->sid)))
				r = ending_add(ending, p, error);
			if (r == JIT_OK && p->pid == p->sid &&
			    ending_has(ending, p->pid))
				r = ending_add_session(ending, p->pid, error);
		}
		changed = ending->count + ending->session_count != before;
	}
	return r;
}

/* A logind session's scope, such as
 * "/user.slice/user-1000.slice/session-4.scope". Any other cgroup (the
 * sshd service's own, or "/" in a container) contains more than the
 * session, so it is never used. */
static bool is_session_scope(const char *cgroup)
{
	const char *last;
	size_t len;

	if (cgroup == NULL || cgroup[0] != '/' || strstr(cgroup, "..") != NULL)
		return false;
	last = strrchr(cgroup, '/') + 1;
	len = strlen(last);
	return strncmp(last, "session-", 8) == 0 && len > 14 &&
	       strcmp(last + len - 6, ".scope") == 0;
}

/* Adds the processes of the session's logind scope (cgroup v2). */
static jit_err ending_collect_cgroup(jit_session_ending *ending,
				     const char *cgroup, jit_error *error)
{
	char path[512];
	jit_err r = JIT_OK;
	long pid;
	FILE *procs;

	if (!is_session_scope(cgroup))
		return JIT_OK;
	if (snprintf(path, sizeof(path), "/sys/fs/cgroup%s/cgroup.procs",
		     cgroup) >= (int)sizeof(path))
		return JIT_OK;

	procs = fopen(path, "re");
	if (procs == NULL)
		return JIT_OK;
	while (r == JIT_OK && fscanf(procs, "%ld", &pid) == 1) {
		jit_proc_stat stat;

		if (jit_proc_stat_read((pid_t)pid, &stat, NULL) == JIT_OK)
			r = ending_add(ending, &stat, error);
	}
	fclose(procs);
	return r;
}

static void send_signal(target *t, int signal)
{
	int rc;

	if (t->exited)
		return;
	if (t->pidfd < 0 && !same_process(t->pid, t->start)) {
		t->exited = true;
		return;
	}

	if (t->pidfd >= 0)
		rc = pidfd_signal(t->pidfd, signal);
	else
		rc = kill(t->pid, signal);
	if (rc < 0 && errno == ESRCH)
		t->exited = true;
}

static void ending_signal(jit_session_ending *ending, int signal)
{
	for (size_t i = 0; i < ending->count; i++)
		send_signal(&ending->targets[i], signal);
}

/* Asks logind to end the session. Without logind running, or without a
 * logind session id in the record, this is not an error: nothing is
 * asked. NOTE: the test environments have no logind, so this path is
 * built but never run by the tests. */
static void ask_logind(jit_session_ending *ending, const char *session_id)
{
	sd_bus_error bus_error = SD_BUS_ERROR_NULL;
	jit_session_end_result *result = &ending->result;
	sd_bus *bus = NULL;
	int rc;

	if (session_id == NULL || session_id[0] == '\0' || sd_booted() <= 0)
		return;

	rc = sd_bus_open_system(&bus);
	if (rc >= 0)
		rc = sd_bus_set_method_call_timeout(bus, LOGIND_TIMEOUT_US);
	if (rc >= 0)
		rc = sd_bus_call_method(bus, "org.freedesktop.login1",
					"/org/freedesktop/login1",
					"org.freedesktop.login1.Manager",
					"TerminateSession", &bus_error, NULL,
					"s", session_id);
	if (rc >= 0) {
		result->method = "logind";
	} else {
		result->logind_failed = true;
		snprintf(result->logind_error, sizeof(result->logind_error),
			 "logind TerminateSession(%.64s) failed: %s",
			 session_id,
			 bus_error.message != NULL ? bus_error.message :
			 strerror(-rc));
	}

	sd_bus_error_free(&bus_error);
	sd_bus_flush_close_unref(bus);
}

static jit_err ending_find(jit_session_ending *ending,
			   const jit_session_record *record, jit_error *error)
{
	proc_table table = { 0 };
	jit_proc_stat leader;
	bool found;
	jit_err r;

	r = proc_table_load(&table, error);
	if (r != JIT_OK)
		return r;

	found = jit_proc_stat_read((pid_t)record->key.leader_pid, &leader,
				   NULL) == JIT_OK &&
		leader.start == record->key.leader_start;
	if (found)
		r = ending_add(ending, &leader, error);
	if (r == JIT_OK && found && leader.pid == leader.sid)
		r = ending_add_session(ending, leader.pid, error);
	if (r == JIT_OK)
		r = ending_collect_cgroup(ending, record->cgroup, error);
	if (r == JIT_OK)
		r = ending_collect(ending, &table, error);

	proc_table_clear(&table);
	return r;
}

jit_err jit_session_end_start(const jit_session_record *record,
			      jit_session_ending **ending, jit_error *error)
{
	jit_session_ending *e;
	jit_err r;

	if (ending != NULL)
		*ending = NULL;
	if (record == NULL || ending == NULL)
		return jit_error_set(error, JIT_ERR_INVALID,
				     "ending a session failed: invalid argument");

	e = calloc(1, sizeof(*e));
	if (e == NULL)
		return jit_error_set(error, JIT_ERR_NOMEM,
				     "ending a session failed: out of memory");
	e->key = record->key;
	e->result.method = "signals";

	/* logind first: it also reaches processes that left the tree. */
	ask_logind(e, record->logind_session);

	r = ending_find(e, record, error);
	if (r != JIT_OK) {
		jit_session_ending_free(e);
		return r;
	}

	e->result.processes = e->count;
	ending_signal(e, SIGHUP);
	ending_signal(e, SIGCONT);
	*ending = e;
	return JIT_OK;
}

/* Marks targets whose process has exited, without blocking. */
static size_t ending_refresh(jit_session_ending *ending)
{
	size_t alive = 0;

	for (size_t i = 0; i < ending->count; i++) {
		target *t = &ending->targets[i];

		if (!t->exited && t->pidfd >= 0) {
			struct pollfd p = { .fd = t->pidfd, .events = POLLIN };

			t->exited = poll(&p, 1, 0) == 1;
		} else if (!t->exited) {
			t->exited = !same_process(t->pid, t->start);
		}
		if (!t->exited)
			alive++;
	}
	return alive;
}

static size_t endings_refresh(jit_session_ending *const *endings, size_t count)
{
	size_t alive = 0;

	for (size_t i = 0; i < count; i++)
		if (endings[i] != NULL)
			alive += ending_refresh(endings[i]);
	return alive;
}

/* Polls until every target has exited or timeout_ms passed. A pidfd
 * becomes readable when its process exits, so most waits end at once. */
static void endings_wait(jit_session_ending *const *endings, size_t count,
			 int64_t timeout_ms)
{
	int64_t deadline = jit_clock_now_ms() + timeout_ms;

	while (endings_refresh(endings, count) > 0) {
		int64_t left = deadline - jit_clock_now_ms();
		struct timespec pause = { 0, 10 * 1000 * 1000 };

		if (left <= 0)
			break;
		nanosleep(&pause, NULL);
	}
}

/* Adds processes that appeared after the first look: children of targets
 * forked during the grace period, and members of their kernel sessions. */
static void ending_rescan(jit_session_ending *ending)
{
	proc_table table = { 0 };

	if (proc_table_load(&table, NULL) == JIT_OK)
		(void)ending_collect(ending, &table, NULL);
	proc_table_clear(&table);
}

void jit_session_end_finish(jit_session_ending *const *endings, size_t count,
			    int64_t grace_ms)
{
	endings_wait(endings, count, grace_ms);

	for (size_t i = 0; i < count; i++) {
		jit_session_ending *e = endings[i];

		if (e == NULL)
			continue;
		ending_rescan(e);
		e->result.processes = e->count;
		e->result.killed = ending_refresh(e);
		ending_signal(e, SIGKILL);
	}

	endings_wait(endings, count, KILL_WAIT_MS);

	for (size_t i = 0; i < count; i++)
		if (endings[i] != NULL)
			endings[i]->result.survivors = ending_refresh(endings[i]);
}

void jit_session_ending_result(const jit_session_ending *ending,
			       jit_session_end_result *result)
{
	if (ending == NULL) {
		memset(result, 0, sizeof(*result));
		result->method = "signals";
		return;
	}
	*result = ending->result;
}

void jit_session_ending_free(jit_session_ending *ending)
{
	if (ending == NULL)
		return;
	for (size_t i = 0; i < ending->count; i++)
		if (ending->targets[i].pidfd >= 0)
			close(ending->targets[i].pidfd);
	free(ending->targets);
	free(ending->sessions);
	free(ending);
}

/* Splits a controlling terminal number from /proc/PID/stat the way the
 * kernel packs it (new_encode_dev). */
static unsigned tty_major(int tty_nr)
{
	return ((unsigned)tty_nr >> 8) & 0xfff;
}

static unsigned tty_minor(int tty_nr)
{
	return ((unsigned)tty_nr & 0xff) | (((unsigned)tty_nr >> 12) & 0xfff00);
}

/* Turns a controlling terminal number into a device path: /dev/pts/N or
 * /dev/ttyN. */
static bool tty_path(int tty_nr, char *path, size_t path_len)
{
	unsigned major = tty_major(tty_nr);
	unsigned minor = tty_minor(tty_nr);

	if (major >= PTS_MAJOR_FIRST && major <= PTS_MAJOR_LAST)
		return snprintf(path, path_len, "/dev/pts/%u",
				(major - PTS_MAJOR_FIRST) * 256 + minor) < (int)path_len;
	if (major == VT_MAJOR && minor > 0 && minor < 64)
		return snprintf(path, path_len, "/dev/tty%u", minor) < (int)path_len;
	return false;
}

/* Opens path for writing when it is a terminal device (and, when rdev is
 * not 0, that very device). Never makes it a controlling terminal. */
static int open_terminal(const char *path, dev_t rdev)
{
	struct stat st;
	int fd;

	fd = open(path, O_WRONLY | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode) || !isatty(fd) ||
	    (rdev != 0 && st.st_rdev != rdev)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Opens the recorded tty when it names a device ("/dev/pts/3", "pts/3",
 * "tty1"); sshd records "ssh" there, which names none. */
static int open_recorded_terminal(const char *tty)
{
	char path[64];

	if (tty == NULL || tty[0] == '\0' || strstr(tty, "..") != NULL)
		return -1;
	if (strncmp(tty, "/dev/", 5) == 0)
		return open_terminal(tty, 0);
	if (snprintf(path, sizeof(path), "/dev/%s", tty) >= (int)sizeof(path))
		return -1;
	return open_terminal(path, 0);
}

/* Opens the controlling terminal of one of the session's processes. */
static int open_session_terminal(const jit_session_ending *ending)
{
	for (size_t i = 0; i < ending->count; i++) {
		jit_proc_stat stat;
		char path[64];
		int fd;

		if (jit_proc_stat_read(ending->targets[i].pid, &stat, NULL) != JIT_OK ||
		    stat.tty_nr == 0 || !tty_path(stat.tty_nr, path, sizeof(path)))
			continue;
		fd = open_terminal(path, makedev(tty_major(stat.tty_nr),
						 tty_minor(stat.tty_nr)));
		if (fd >= 0)
			return fd;
	}
	return -1;
}

static jit_err write_all(int fd, const char *text, jit_error *error)
{
	size_t left = strlen(text);

	while (left > 0) {
		ssize_t n = write(fd, text, left);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return jit_error_set(error, JIT_ERR_IO,
					     "writing to the session's terminal failed: %s",
					     n < 0 ? strerror(errno) : "nothing written");
		text += n;
		left -= (size_t)n;
	}
	return JIT_OK;
}

jit_err jit_session_tell(const jit_session_record *record, const char *text,
			 jit_error *error)
{
	jit_session_ending *ending = NULL;
	jit_err r;
	int fd;

	if (record == NULL || text == NULL)
		return jit_error_set(error, JIT_ERR_INVALID,
				     "writing to a session failed: invalid argument");

	fd = open_recorded_terminal(record->tty);
	if (fd < 0) {
		ending = calloc(1, sizeof(*ending));
		if (ending == NULL)
			return jit_error_set(error, JIT_ERR_NOMEM,
					     "writing to a session failed: out of memory");
		ending->key = record->key;
		r = ending_find(ending, record, error);
		if (r == JIT_OK)
			fd = open_session_terminal(ending);
		jit_session_ending_free(ending);
		if (r != JIT_OK)
			return r;
	}
	if (fd < 0)
		return jit_error_set(error, JIT_ERR_NOT_FOUND,
				     "the session of leader pid %lu has no terminal",
				     (unsigned long)record->key.leader_pid);

	r = write_all(fd, text, error);
	close(fd);
	return r;
}
