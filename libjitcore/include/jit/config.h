/* The one configuration parser, shared by jitctl, the sudo plugin and the
 * PAM module.
 *
 * The file is INI (parsed by inih), at most 64 KiB, and must be root-owned
 * and not writable by group or others; otherwise loading fails with
 * JIT_ERR_UNSAFE_FILE and every component denies. Unknown sections and keys
 * are errors naming the file and line. */
#ifndef JIT_CONFIG_H
#define JIT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jit/error.h"
#include "jit/util.h"

#define JIT_DEFAULT_CONFIG "/etc/jit/jit.conf"
#define JIT_CONFIG_MAX_SIZE (64 * 1024)

typedef enum jit_tristate {
	JIT_UNSET = -1,
	JIT_NO = 0,
	JIT_YES = 1,
} jit_tristate;

typedef struct jit_role {
	char *name;
	jit_strlist runas;         /* runas users */
	jit_strlist runas_groups;
	jit_strlist commands;      /* "ALL", "/path", or "/path arg arg" */
	jit_strlist services;
	jit_strlist hosts;
	jit_strlist requesters;    /* user names and %groups */
	jit_strlist approvers;     /* user names and %groups */
	int64_t default_duration;  /* seconds, 0 = the global max */
	int64_t max_duration;      /* seconds, 0 = the global max */
	unsigned approvals;        /* distinct approvals needed, default 1 */
	char *reason_pattern;      /* POSIX extended regex, NULL = any */
	jit_tristate authenticate; /* JIT_UNSET = [sudo] authenticate */
	int64_t request_ttl;       /* seconds, default 3600 */
} jit_role;

typedef struct jit_config {
	char *path;

	/* [jit] */
	char *store;               /* default /var/lib/jit */
	char *issuer_key;          /* default /etc/jit/issuer.key */
	char *trusted_keys;        /* default /etc/jit/trusted.d */
	char *hostname;            /* resolved: the configured value or gethostname() */
	int64_t clock_skew;        /* seconds, default 60 */
	int64_t max_duration;      /* seconds, default 8h */
	char *broker_socket;       /* default /run/jit/broker.sock */
	char *break_glass_group;   /* default jit-break-glass */
	int64_t break_glass_max_duration; /* seconds, default 1h, at most
					   * max_duration */
	char *notify_command;      /* absolute path, NULL = none */
	int64_t evidence_retention; /* seconds; 0 (default) keeps every
				     * evidence record */

	/* [sudo] */
	bool sudo_authenticate;    /* default true */
	char *secure_path;         /* default /usr/local/sbin:...:/bin */
	char *timestamp_dir;       /* default /run/jit/ts */
	int64_t timestamp_timeout; /* seconds, default 300 */

	/* [pam] */
	jit_strlist gate;          /* "all", "user:NAME", "group:NAME"; default group:jit-gated */
	jit_strlist exempt;        /* default user:root */

	size_t role_count;
	jit_role *roles;
} jit_config;

/* Syntax rules on top of plain INI:
 * - Every section and every key may appear once; [role NAME] needs a valid
 *   name. Values are checked when read, and role durations against the
 *   global max_duration once the whole file is read.
 * - A line may hold at most the bytes inih's line buffer can take,
 *   INI_MAX_LINE - 2 (198 bytes with Debian's inih 55); longer lines are
 *   errors, never cut.
 * - A list value (gate, exempt, runas, runas_groups, commands, services,
 *   hosts, requesters, approvers) may continue on indented lines, which add
 *   to it; an indented line after any other key is an error.
 * - ';' after a blank starts a comment, as does ';' or '#' at the start of
 *   a line. An empty list value ("services =") is an empty list.
 * - A role with requesters or approvers takes part in requests: it needs
 *   approvers, and when they are all user names (no %group), at least
 *   approvals of them. A role with neither is for administrators only.
 *   break_glass_max_duration may not exceed max_duration; when it is not
 *   set, it is 1h or max_duration, whichever is shorter. */

/* Loads path; on failure *config is NULL and error names file and line. */
jit_err jit_config_load(const char *path, jit_config **config, jit_error *error);

/* Parses text as if read from path, without the file checks (tests, fuzzing). */
jit_err jit_config_parse(const char *path, const char *text,
			 jit_config **config, jit_error *error);

void jit_config_free(jit_config *config);

const jit_role *jit_config_find_role(const jit_config *config, const char *name);

/* Returns whether authentication is required for a grant of role
 * role_name (the role's setting, else [sudo] authenticate). */
bool jit_config_role_authenticates(const jit_config *config,
				   const char *role_name);

/* Decides whether pam_jit gates user: exempt wins over gate. Looking up the
 * user's groups fails with JIT_ERR_NOT_FOUND for an unknown user. */
jit_err jit_config_user_is_gated(const jit_config *config, const char *user,
				 bool *gated, jit_error *error);

/* Checks an open file: root-owned, a regular file, not writable by group
 * or others; when secret, also not readable by group or others. */
jit_err jit_file_check_safe(int fd, const char *path, bool secret,
			    jit_error *error);

#endif
