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
} jit_event;

/* Returns the event's syslog priority: LOG_NOTICE for access-allowed,
 * grant-issued, grant-imported and grant-revoked, LOG_WARNING for
 * access-denied, LOG_INFO for grant-removed. */
int jit_event_priority(jit_event_type type);

/* Builds ev's journal fields as "NAME=value" strings, replacing the
 * contents of fields: MESSAGE, MESSAGE_ID, PRIORITY, SYSLOG_IDENTIFIER,
 * JIT_EVENT, then JIT_DECISION and JIT_DENY_REASON where they apply, then
 * each set (non-NULL, non-empty) value, with the long-value companions
 * described above. In MESSAGE, quoted values are escaped and cut to 256
 * bytes. For grant-revoked, MESSAGE ends with detail (the revocation
 * reason), or with justification when detail is NULL. */
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
