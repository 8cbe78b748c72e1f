/* Sessions tied to grants: recording what pam_jit opens, and ending what
 * outlives its grant.
 *
 * pam_jit records every session it opens under the grant that allowed it,
 * named by the session's leader process: the process that opened it (in
 * sshd, the per-connection privileged process) and that process's start
 * time. jitctl revoke, reap and watch then sweep the records:
 *
 *   leader exited                 the record is removed quietly
 *   grant expired, revoked, gone  the session is ended and its record
 *   from the store, or the        removed; the caller reports why
 *   record unreadable
 *   grant ends within the         the session's terminal, when it has one,
 *   warning time                  is told once
 *
 * Ending a session: when logind runs (sd_booted()) and the record holds a
 * logind session id, logind is asked to TerminateSession over the system
 * bus. Then, with logind or without, the session's processes are
 * signalled: the leader, its descendants, every process in a kernel
 * session (setsid) led by one of them, and the processes of the logind
 * session's cgroup. They get SIGHUP and SIGCONT, then SIGKILL when they are
 * still there after a grace period. Each process is held by a pidfd and
 * checked against its start time first, so a recycled pid is never
 * signalled. A process that left the tree and its kernel session, and is
 * outside a logind cgroup, is not found. */
#ifndef JIT_SESSION_H
#define JIT_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "jit/config.h"
#include "jit/decision.h"
#include "jit/error.h"
#include "jit/event.h"
#include "jit/store.h"

/* A session is warned once when its grant has less than this left. */
#define JIT_SESSION_WARN_SECONDS 300

/* How long processes get after SIGHUP before SIGKILL. */
#define JIT_SESSION_GRACE_MS 1000

/* Upper bound on records read in one sweep. */
#define JIT_MAX_SESSIONS 65536

/* Upper bound on processes signalled for one session. */
#define JIT_SESSION_MAX_PROCESSES 4096

/* One process, as its /proc/PID/stat line describes it. */
typedef struct jit_proc_stat {
	pid_t pid;
	pid_t ppid;
	pid_t pgrp;
	pid_t sid;          /* kernel session id */
	int tty_nr;         /* controlling terminal, 0 for none */
	char state;
	uint64_t start;     /* clock ticks after boot */
} jit_proc_stat;

/* Parses a /proc/PID/stat line. The command name may contain spaces and
 * parentheses, so the fields are read after the last ')'. */
jit_err jit_proc_stat_parse(const char *text, jit_proc_stat *stat,
			    jit_error *error);

/* Reads /proc/PID/stat; JIT_ERR_NOT_FOUND when the process is gone. */
jit_err jit_proc_stat_read(pid_t pid, jit_proc_stat *stat, jit_error *error);

/* True while the leader named by key runs: the pid exists, has the
 * recorded start time and is not a zombie. */
bool jit_session_leader_alive(const jit_session_key *key);

/* Fills record's leader pid and start time from pid, and its logind
 * session id and cgroup where logind tracks the process (empty strings
 * otherwise). */
jit_err jit_session_describe_leader(pid_t pid, jit_session_record *record,
				    jit_error *error);

/* Opens the store named by config, writes or removes one record, and
 * closes it again. Removing a record that is not there returns
 * JIT_ERR_NOT_FOUND. When opened_by (the use or the session-opened event)
 * is given, its evidence record is written in the session record's
 * transaction. A front end then pays for one durable commit, and a
 * session is never recorded without its evidence. */
jit_err jit_session_record_open(const jit_config *config,
				const jit_session_record *record,
				const jit_event *opened_by, jit_error *error);
jit_err jit_session_record_close(const jit_config *config,
				 const jit_session_key *key, jit_error *error);

typedef enum jit_session_verdict {
	JIT_SESSION_LIVE,     /* nothing to do */
	JIT_SESSION_WARN,     /* live, and due its one warning */
	JIT_SESSION_OVER,     /* its grant is over: end it */
	JIT_SESSION_GONE,     /* its leader exited: forget it */
} jit_session_verdict;

/* Judges a loaded record at now_ms. For JIT_SESSION_OVER, *reason is
 * JIT_REASON_MALFORMED (damaged record), JIT_REASON_REVOKED,
 * JIT_REASON_EXPIRED (now_ms at or past not_after) or JIT_REASON_NO_GRANT
 * (the grant is no longer stored), in that order. A warning is due when
 * warn_seconds > 0, the record is not marked warned, and less than
 * warn_seconds remain. */
jit_session_verdict jit_session_judge(const jit_session_record *record,
				      bool leader_alive, int64_t now_ms,
				      int64_t warn_seconds, jit_reason *reason);

/* Ending sessions, in two steps so that many sessions share one grace
 * period: jit_session_end_start asks logind and sends SIGHUP and SIGCONT,
 * jit_session_end_finish waits, then sends SIGKILL to what is left. */
typedef struct jit_session_ending jit_session_ending;

jit_err jit_session_end_start(const jit_session_record *record,
			      jit_session_ending **ending, jit_error *error);
void jit_session_end_finish(jit_session_ending *const *endings, size_t count,
			    int64_t grace_ms);
void jit_session_ending_free(jit_session_ending *ending);

typedef struct jit_session_end_result {
	const char *method;        /* "logind" or "signals" */
	size_t processes;          /* processes found and signalled */
	size_t killed;             /* of them, still there after the grace */
	size_t survivors;          /* still there after SIGKILL */
	bool logind_failed;        /* logind was asked and refused */
	char logind_error[256];
} jit_session_end_result;

void jit_session_ending_result(const jit_session_ending *ending,
			       jit_session_end_result *result);

/* Writes text to the session's terminal: the recorded tty when it is a
 * terminal device, else the controlling terminal of one of the session's
 * processes. JIT_ERR_NOT_FOUND when the session has no terminal. */
jit_err jit_session_tell(const jit_session_record *record, const char *text,
			 jit_error *error);

/* What a sweep did to one session. */
typedef enum jit_session_action {
	JIT_SESSION_FORGOTTEN,   /* leader gone: record removed */
	JIT_SESSION_ENDED,       /* grant over: ended, record removed */
	JIT_SESSION_WARNED,      /* told that its grant ends soon */
	JIT_SESSION_FAILED,      /* ending or warning failed: see error */
} jit_session_action;

typedef struct jit_session_report {
	jit_session_action action;
	const jit_session_record *record;
	jit_reason reason;                     /* ENDED: why */
	const jit_session_end_result *result;  /* ENDED and ending FAILED */
	int64_t at_ms;                         /* when the action ended */
	const jit_error *error;                /* FAILED */
	bool told;                             /* WARNED: a terminal was
						* found and written to */
} jit_session_report;

typedef void (*jit_session_report_fn)(const jit_session_report *report,
				      void *context);

typedef struct jit_session_sweep {
	/* In: */
	const uint8_t *grant_id;     /* only this grant's sessions, or NULL */
	int64_t now_ms;
	int64_t grace_ms;
	int64_t warn_seconds;        /* 0: never warn */
	jit_session_report_fn report;
	void *context;

	/* Out: */
	size_t live;                 /* sessions still running */
	int64_t next_due_ms;         /* earliest grant end or warning time of
				      * a live session, 0 when none */
} jit_session_sweep;

/* Sweeps the recorded sessions as described at the top of this file and
 * calls sweep->report for each one acted on. A session is claimed by
 * removing its record before it is ended, so two sweeps at once never end
 * or report the same session twice; when ending fails, the record is put
 * back for the next sweep. Returns an error only when the records could not
 * be read or claimed; what failed for one session is reported as
 * JIT_SESSION_FAILED. */
jit_err jit_sessions_sweep(const jit_config *config, jit_session_sweep *sweep,
			   jit_error *error);

#endif
