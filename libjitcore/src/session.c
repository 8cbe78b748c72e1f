/* Session records: what pam_jit records when a session opens, how a record
 * is judged against its grant, and the sweep that ends sessions whose grant
 * is over. */
#include "jit/session.h"
#include "jit/chain.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <systemd/sd-login.h>

/* /proc/PID/stat is one line; the fields up to the start time fit well
 * inside this even with a 16-byte command name and 64-bit numbers. */
#define PROC_STAT_MAX 1024

/* The fields after the command name, counted from 3 as in proc(5). */
#define STAT_FIELD_STATE 3
#define STAT_FIELD_STARTTIME 22

static bool parse_number(const char **cursor, long long *value)
{
	char *end;

	errno = 0;
	*value = strtoll(*cursor, &end, 10);
	if (end == *cursor || errno != 0 || (*end != ' ' && *end != '\0' &&
					     *end != '\n'))
		return false;
	*cursor = end;
	return true;
}

static jit_err stat_malformed(jit_error *error)
{
	return jit_error_set(error, JIT_ERR_MALFORMED,
			     "a /proc/PID/stat line does not parse");
}

jit_err jit_proc_stat_parse(const char *text, jit_proc_stat *stat,
			    jit_error *error)
{
	long long values[STAT_FIELD_STARTTIME + 1] = { 0 };
	const char *close, *cursor;
	long long pid;

	memset(stat, 0, sizeof(*stat));
	cursor = text;
	close = strrchr(text, ')');
	if (close == NULL || !parse_number(&cursor, &pid) || pid <= 0 ||
	    close[1] != ' ' || close[2] == '\0')
		return stat_malformed(error);

	stat->pid = (pid_t)pid;
	stat->state = close[2];
	cursor = close + 3;
	for (int field = STAT_FIELD_STATE + 1; field <= STAT_FIELD_STARTTIME;
	     field++) {
		if (*cursor != ' ')
			return stat_malformed(error);
		cursor++;
		if (!parse_number(&cursor, &values[field]))
			return stat_malformed(error);
	}

	stat->ppid = (pid_t)values[4];
	stat->pgrp = (pid_t)values[5];
	stat->sid = (pid_t)values[6];
	stat->tty_nr = (int)values[7];
	stat->start = (uint64_t)values[STAT_FIELD_STARTTIME];
	return JIT_OK;
}

jit_err jit_proc_stat_read(pid_t pid, jit_proc_stat *stat, jit_error *error)
{
	char path[64], text[PROC_STAT_MAX];
	ssize_t n;
	int fd;

	memset(stat, 0, sizeof(*stat));
	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return jit_error_set(error,
				     errno == ENOENT || errno == ESRCH ?
				     JIT_ERR_NOT_FOUND : JIT_ERR_IO,
				     "reading %s failed: %s", path,
				     strerror(errno));

	do
		n = read(fd, text, sizeof(text) - 1);
	while (n < 0 && errno == EINTR);
	close(fd);
	if (n <= 0)
		return jit_error_set(error, JIT_ERR_NOT_FOUND,
				     "reading %s failed: %s", path,
				     n < 0 ? strerror(errno) : "the process exited");

	text[n] = '\0';
	return jit_proc_stat_parse(text, stat, error);
}

bool jit_session_leader_alive(const jit_session_key *key)
{
	jit_proc_stat stat;

	return key->leader_pid > 0 &&
	       jit_proc_stat_read((pid_t)key->leader_pid, &stat, NULL) == JIT_OK &&
	       stat.start == key->leader_start && stat.state != 'Z';
}

/* Replaces *field with a copy of value ("" for NULL). */
static jit_err set_string(char **field, const char *value)
{
	char *copy = strdup(value != NULL ? value : "");

	if (copy == NULL)
		return JIT_ERR_NOMEM;
	free(*field);
	*field = copy;
	return JIT_OK;
}

jit_err jit_session_describe_leader(pid_t pid, jit_session_record *record,
				    jit_error *error)
{
	char *session = NULL, *cgroup = NULL;
	jit_proc_stat stat;
	jit_err r;

	if (record == NULL || pid <= 0)
		return jit_error_set(error, JIT_ERR_INVALID,
				     "describing a session leader failed: invalid argument");

	r = jit_proc_stat_read(pid, &stat, error);
	if (r != JIT_OK)
		return r;

	/* Both fail with -ENODATA or -ENOENT when logind does not track the
	 * process, and the record's logind fields stay empty. */
	(void)sd_pid_get_session(pid, &session);
	(void)sd_pid_get_cgroup(pid, &cgroup);

	r = set_string(&record->logind_session, session);
	if (r == JIT_OK)
		r = set_string(&record->cgroup, cgroup);
	free(session);
	free(cgroup);
	if (r != JIT_OK)
		return jit_error_set(error, r,
				     "describing session leader %ld failed: out of memory",
				     (long)pid);

	record->key.leader_pid = (uint32_t)pid;
	record->key.leader_start = stat.start;
	return JIT_OK;
}

jit_err jit_session_record_open(const jit_config *config,
				const jit_session_record *record,
				const jit_event *opened_by, jit_error *error)
{
	jit_chain_use_event evidence;
	jit_store *store = NULL;
	jit_err r;

	r = jit_store_open(config->store, JIT_STORE_WRITE, &store, error);
	if (r == JIT_OK && opened_by != NULL) {
		jit_chain_use_event_init(&evidence, opened_by);
		r = jit_store_put_session_with_evidence(store, record,
							&evidence.ev, error);
	} else if (r == JIT_OK) {
		r = jit_store_put_session(store, record, error);
	}
	jit_store_close(store);
	return r;
}

jit_err jit_session_record_close(const jit_config *config,
				 const jit_session_key *key, jit_error *error)
{
	jit_store *store = NULL;
	jit_err r;

	r = jit_store_open(config->store, JIT_STORE_WRITE, &store, error);
	if (r == JIT_OK)
		r = jit_store_delete_session(store, key, error);
	jit_store_close(store);
	return r;
}

jit_session_verdict jit_session_judge(const jit_session_record *record,
				      bool leader_alive, int64_t now_ms,
				      int64_t warn_seconds, jit_reason *reason)
{
	*reason = JIT_REASON_ALLOW;

	if (!leader_alive)
		return JIT_SESSION_GONE;

	if (record->damaged)
		*reason = JIT_REASON_MALFORMED;
	else if (record->grant_revoked)
		*reason = JIT_REASON_REVOKED;
	else if (now_ms >= record->not_after * 1000)
		*reason = JIT_REASON_EXPIRED;
	else if (!record->grant_stored)
		*reason = JIT_REASON_NO_GRANT;
	if (*reason != JIT_REASON_ALLOW)
		return JIT_SESSION_OVER;

	if (warn_seconds > 0 && (record->flags & JIT_SESSION_FLAG_WARNED) == 0 &&
	    now_ms >= (record->not_after - warn_seconds) * 1000)
		return JIT_SESSION_WARN;
	return JIT_SESSION_LIVE;
}
