/* Building a grant from what was asked for: a role's defaults and caps,
 * the command syntax, and a grant's state at one instant.
 *
 * jitctl grant, approved requests and break-glass all build grants with
 * jit_grant_build, so a grant can never exceed its role whichever way it
 * is made. */
#ifndef JIT_ISSUE_H
#define JIT_ISSUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jit/config.h"
#include "jit/decision.h"
#include "jit/grant.h"
#include "jit/util.h"

/* The role name of a grant issued without a role. */
#define JIT_DIRECT_ROLE "direct"

/* What is asked for. Lists may be NULL or empty: the role's values apply,
 * then the defaults (runas root, this host). With a role, every explicit
 * runas user, command, service and host must lie inside the role's scope. */
typedef struct jit_grant_spec {
	const char *user;
	const char *role;             /* NULL: a direct grant */
	const char *duration;         /* "30m"; NULL: the role's default_duration;
				       * capped by role and global max */
	const char *start;            /* NULL: now; never in the past */
	const char *reason;           /* required; must match reason_pattern */
	const char *requester;
	const char *request_id;       /* NULL: "" */
	const jit_strlist *approvers;
	const jit_strlist *runas;
	const jit_strlist *commands;  /* jit_command_spec syntax */
	const jit_strlist *services;
	const jit_strlist *hosts;
	bool break_glass;
} jit_grant_spec;

/* Builds an unsigned grant with a fresh id; now is in seconds. */
jit_err jit_grant_build(const jit_config *config, const jit_grant_spec *spec,
			int64_t now, jit_grant **grant, jit_error *error);

/* Appends one command written as "ALL", "/path" (any arguments),
 * "/path ARG..." (exactly those arguments, separated by blanks) or
 * "/path \"\"" (exactly no arguments). */
jit_err jit_grant_add_command_spec(jit_grant *grant, const char *spec,
				   jit_error *error);

/* Checks reason against the role's reason_pattern (any non-empty reason
 * when the role has none, or role is NULL). */
jit_err jit_role_check_reason(const jit_role *role, const char *reason,
			      jit_error *error);

/* Returns the role to suggest in a denial: the closest grant's role when it
 * still exists and covers access, else the first role whose scope covers
 * access, else NULL. */
const jit_role *jit_config_suggest_role(const jit_config *config,
					const jit_access *access,
					const jit_decision *decision);

/* Writes the next step for a user denied access, one line without a
 * trailing newline. When a role covers access and the user is among its
 * requesters, that is
 *   request a grant: jitctl request --role db-admin --for 30m --reason "..."
 * and otherwise
 *   ask an administrator for a grant: jitctl grant alice --role db-admin --for 30m --reason "..."
 * naming a role that covers access when one exists, else the exact
 * --command, --runas or --service the grant needs. */
void jit_request_hint(const jit_config *config, const jit_access *access,
		      const jit_decision *decision, char *out, size_t out_len);

typedef enum jit_grant_state {
	JIT_STATE_ACTIVE,
	JIT_STATE_NOT_YET_VALID,
	JIT_STATE_OTHER_HOST,
	JIT_STATE_EXPIRED,
	JIT_STATE_REVOKED,
} jit_grant_state;

/* A verified grant's state at now_ms, by the decision's time rules. */
jit_grant_state jit_grant_state_at(const jit_config *config,
				   const jit_grant *grant, bool revoked,
				   int64_t now_ms);
const char *jit_grant_state_name(jit_grant_state state);

#endif
