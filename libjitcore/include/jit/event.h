/* Structured events to journald, with a syslog (authpriv) fallback.
 *
 * Every event carries MESSAGE, MESSAGE_ID, PRIORITY, SYSLOG_IDENTIFIER=jit
 * and JIT_* fields named by ^JIT_[A-Z0-9_]*$. Values longer than
 * JIT_EVENT_VALUE_MAX bytes are cut to exactly that many bytes, and the
 * field gains companions <NAME>_LENGTH (the full length in bytes) and
 * <NAME>_SHA256 (hex digest of the full value). When journald is not
 * reachable the event is written to syslog as one line of KEY=value pairs
 * with control characters escaped; it is never silently dropped. */
#ifndef JIT_EVENT_H
#define JIT_EVENT_H

#include <stdbool.h>
#include <stdint.h>

#include "jit/decision.h"
#include "jit/error.h"
#include "jit/util.h"

#define JIT_EVENT_VALUE_MAX 4096

typedef enum jit_event_type {
	JIT_EVENT_ACCESS_ALLOWED,
	JIT_EVENT_ACCESS_DENIED,
	JIT_EVENT_GRANT_ISSUED,
	JIT_EVENT_GRANT_IMPORTED,
	JIT_EVENT_GRANT_REVOKED,
	JIT_EVENT_GRANT_REMOVED,    /* removed by reap after expiry */
	JIT_EVENT_SESSION_OPENED,   /* a PAM session began under a grant */
	JIT_EVENT_SESSION_CLOSED,   /* its PAM session close ran */
	JIT_EVENT_SESSION_ENDED,    /* ended because its grant is over */
	JIT_EVENT_GRANT_EXPIRING,   /* "grant-expiring-warning": a session
				     * was told its grant ends soon */
	JIT_EVENT_REQUEST_CREATED,
	JIT_EVENT_REQUEST_APPROVED, /* one approval; the last one also
				     * issues the grant (grant-issued) */
	JIT_EVENT_REQUEST_DENIED,
	JIT_EVENT_REQUEST_CANCELLED,
	JIT_EVENT_REQUEST_EXPIRED,  /* nobody decided it within request_ttl */
	JIT_EVENT_BREAK_GLASS_USED, /* a grant issued without approval */
	JIT_EVENT_GRANT_REVIEWED,   /* a break-glass grant was reviewed */
	JIT_EVENT_TYPE_COUNT,
} jit_event_type;

/* Returns the event's short name ("access-allowed") and MESSAGE_ID. */
const char *jit_event_name(jit_event_type type);
const char *jit_event_message_id(jit_event_type type);

typedef struct jit_event {
	jit_event_type type;
	jit_reason reason;          /* access events: allow or the deny reason */
	const char *detail;         /* access-denied: why, for people */
	const char *grant_id;       /* hex, may be NULL */
	const char *request_id;
	const char *user;           /* whose privilege */
	const char *actor;          /* who acted */
	const char *role;
	const char *justification;  /* JIT_REASON: the grant's reason text */
	const char *service;
	const char *command;        /* full command line */
	const char *runas;
	const char *tty;
	const char *rhost;
	int64_t expires;            /* 0 = unknown */

	/* Session events; each is left out when 0 or NULL. */
	const char *session_id;     /* JIT_SESSION_ID: the logind session */
	int64_t leader_pid;         /* JIT_LEADER_PID: the session's leader */
	int64_t duration_ms;        /* JIT_DURATION_MS: how long it lasted */
	const char *end_method;     /* JIT_END_METHOD: "signals", "logind" */
} jit_event;

/* Returns the event's syslog priority: LOG_NOTICE for access-allowed,
 * grant-issued, grant-imported, grant-revoked, session-opened and
 * session-ended, LOG_WARNING for access-denied, LOG_INFO for
 * grant-removed, session-closed and grant-expiring-warning. Requests:
 * LOG_NOTICE for request-created, request-approved, request-denied and
 * grant-reviewed, LOG_INFO for request-cancelled and request-expired.
 * break-glass-used is LOG_ALERT, the highest priority jit uses: a grant
 * was issued without approval and someone must review it. */
int jit_event_priority(jit_event_type type);

/* Builds ev's journal fields as "NAME=value" strings, replacing the
 * contents of fields: MESSAGE, MESSAGE_ID, PRIORITY, SYSLOG_IDENTIFIER,
 * JIT_EVENT, then JIT_DECISION and JIT_DENY_REASON where they apply, then
 * each set (non-NULL, non-empty) value, with the long-value companions
 * described above. session-ended also gets JIT_END_REASON, the name of
 * reason (expired, revoked, no-grant or malformed). In MESSAGE, quoted
 * values are escaped and cut to 256 bytes. For grant-revoked, MESSAGE ends
 * with detail (the revocation reason), or with justification when detail
 * is NULL. */
jit_err jit_event_build(const jit_event *ev, jit_strlist *fields,
			jit_error *error);

/* Formats fields as the syslog fallback line: NAME="value" pairs joined by
 * spaces, with backslash, double quote, newline ("\n") and other control
 * bytes ("\xHH") escaped. An escaped value is cut at JIT_EVENT_VALUE_MAX
 * bytes, never inside an escape, and then gains NAME_LENGTH and
 * NAME_SHA256 of its unescaped value unless fields already has them. On
 * success *line is malloc'd. */
jit_err jit_event_format_syslog(const jit_strlist *fields, char **line,
				jit_error *error);

/* Sends ev to journald, or to syslog when journald is unreachable.
 * Returns JIT_ERR_IO only when both failed. */
jit_err jit_event_emit(const jit_event *ev, jit_error *error);

#endif
