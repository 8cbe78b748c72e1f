/* The decision: allow, or deny with one reason from a closed set.
 *
 * jit_decide is a pure function of the stored grants, the trusted keys, the
 * revocations, the access being asked for and the clock. jit_check wraps it:
 * it loads the keyring and the user's grants (opening and closing the store
 * inside the call) and turns any failure into a denial. Nothing is cached
 * between calls and nothing in this path changes grant state. */
#ifndef JIT_DECISION_H
#define JIT_DECISION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jit/config.h"
#include "jit/grant.h"
#include "jit/keys.h"
#include "jit/store.h"

typedef enum jit_reason {
	JIT_REASON_ALLOW = 0,
	JIT_REASON_NO_GRANT,
	JIT_REASON_EXPIRED,
	JIT_REASON_NOT_YET_VALID,
	JIT_REASON_REVOKED,
	JIT_REASON_WRONG_HOST,
	JIT_REASON_WRONG_USER,
	JIT_REASON_OUT_OF_SCOPE,
	JIT_REASON_BAD_SIGNATURE,
	JIT_REASON_UNKNOWN_KEY,
	JIT_REASON_MALFORMED,
	JIT_REASON_STORE_ERROR,
	JIT_REASON_CONFIG_ERROR,
	JIT_REASON_AUTH_FAILED,
	JIT_REASON_INTERNAL_ERROR,
} jit_reason;

/* Returns the reason's fixed name: "allow", "no-grant", "expired", ... */
const char *jit_reason_name(jit_reason reason);

typedef enum jit_access_kind {
	JIT_ACCESS_COMMAND,   /* sudo */
	JIT_ACCESS_SERVICE,   /* PAM */
} jit_access_kind;

/* What is being asked for. */
typedef struct jit_access {
	jit_access_kind kind;
	const char *user;
	const char *host;
	/* JIT_ACCESS_SERVICE */
	const char *service;
	/* JIT_ACCESS_COMMAND */
	const char *command;        /* resolved absolute path; NULL for a shell */
	size_t argc;                /* arguments after the command itself */
	char *const *argv;
	bool shell;                 /* sudo -s, sudo -i: needs a grant for ALL */
	const char *runas_user;     /* NULL means root */
	const char *runas_group;    /* NULL when none was asked for */
} jit_access;

/* Commands need at least this much time left: sudo's timeout=0 means "no
 * limit", so a grant that would round down to it is refused instead. */
#define JIT_COMMAND_MIN_REMAINING_MS 1000

/* Upper bound on grants considered per user and check. */
#define JIT_MAX_GRANTS_PER_USER 1024

typedef struct jit_decision {
	jit_reason reason;
	bool has_grant;              /* grant_id etc. name the allowing grant,
				      * or on a denial the closest one */
	uint8_t grant_id[JIT_GRANT_ID_LEN];
	int64_t not_before;
	int64_t not_after;
	char role[64];
	char detail[512];            /* one sentence for people */
} jit_decision;

static inline bool jit_decision_allowed(const jit_decision *decision)
{
	return decision->reason == JIT_REASON_ALLOW;
}

/* Decides access from grants already loaded. host binding, user binding,
 * signature, key, revocation, time (clock_skew applies to not_before only;
 * now >= not_after is always expired) and scope are all checked. When
 * several grants deny, the reason of the one that came closest wins. */
void jit_decide(const jit_config *config, const jit_keyring *keys,
		const jit_stored_grant *grants, size_t count,
		const jit_access *access, int64_t now_ms,
		jit_decision *decision);

/* Returns the seconds an allowed command may run from now_ms, for sudo's
 * timeout=, rounded up to a whole second: 0 when under
 * JIT_COMMAND_MIN_REMAINING_MS remain (the caller must then deny), at most
 * INT_MAX (the largest sudo accepts). */
int64_t jit_decision_timeout(const jit_decision *decision, int64_t now_ms);

/* Loads keys and grants and decides; every failure denies with
 * store-error or config-error and a detail naming the cause. */
void jit_check(const jit_config *config, const jit_access *access,
	       int64_t now_ms, jit_decision *decision);

/* Loads the user's grants that are verified, unrevoked, bound to this host
 * and not expired at now_ms (including ones not yet valid), for sudo -l and
 * jitctl. */
jit_err jit_active_grants(const jit_config *config, const char *user,
			  int64_t now_ms, jit_grant ***grants, size_t *count,
			  jit_error *error);
void jit_grants_free(jit_grant **grants, size_t count);

/* Resolves name to an absolute path using only secure_path (never the
 * caller's PATH). A name containing '/' must be absolute. The result must
 * be an executable regular file. */
jit_err jit_command_resolve(const char *name, const char *secure_path,
			    char **path, jit_error *error);

/* Returns whether path is a login shell listed in /etc/shells. A grant for
 * a shell allows any command, as a grant for ALL does. */
bool jit_command_is_shell(const char *path);

/* Returns whether grant's scope covers access (ignoring time and host). */
bool jit_grant_covers(const jit_grant *grant, const jit_access *access);

#endif
