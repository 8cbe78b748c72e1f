/* jitctl inventory: the standing privilege on this host that grants
 * should replace, as a list of findings.
 *
 * Each source (accounts and groups, sudoers, SSH, polkit, setuid and
 * file-capability binaries, jit's own grants) is scanned by its own
 * inventory_*.c file and adds findings. Scanning only reads: no source
 * file is ever opened for writing. A source that cannot be read is itself a
 * high finding, so that an incomplete inventory never passes for a clean
 * one. */
#ifndef JITCTL_INVENTORY_H
#define JITCTL_INVENTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "jitctl.h"

/* Ordered from least to most severe. */
typedef enum inv_severity {
	INV_INFO,
	INV_LOW,
	INV_MEDIUM,
	INV_HIGH,
} inv_severity;

/* The account column of findings that belong to no single account. */
#define INV_HOST "(host)"

/* Largest text file a source reads; larger files are reported. */
#define INV_FILE_MAX (4 * 1024 * 1024)

typedef struct inv_finding {
	inv_severity severity;
	char *account;     /* user, "%group", or INV_HOST */
	char *source;      /* accounts, groups, sudoers, ssh, polkit, setuid, jit */
	char *title;       /* what was found, one line */
	char *evidence;    /* file:line and text, or command and output */
	char *suggestion;  /* the jit replacement */
	size_t order;      /* insertion order, for a stable sort */
} inv_finding;

typedef struct inv_account {
	char *name;
	uid_t uid;
	gid_t gid;
	char *home;
	char *shell;
	unsigned line;     /* in /etc/passwd */
} inv_account;

typedef struct inv_group {
	char *name;
	gid_t gid;
	jit_strlist members;
	unsigned line;     /* in /etc/group */
} inv_group;

typedef struct inventory {
	const jitctl *ctl;
	const char *sshd_config;
	jit_strlist extra_groups;   /* root-equivalent groups given with --group */

	inv_finding *findings;
	size_t count;
	size_t capacity;
	bool out_of_memory;         /* sticky: a finding could not be stored */

	inv_account *accounts;
	size_t account_count;
	inv_group *groups;
	size_t group_count;
	bool accounts_read;         /* /etc/passwd was read */
	bool packages_failed;       /* dpkg-query failed once: not asked again */

	/* Accounts with a standing path to root, collected by the earlier
	 * sources; SSH then inventories their authorized_keys. */
	jit_strlist privileged;
} inventory;

/* inventory_util.c: findings, bounded file reads and child processes. */
/* Adds a finding; the title is printf-formatted. Text is copied with
 * control characters replaced, so file contents cannot forge output. */
void inv_add(inventory *inv, inv_severity severity, const char *account,
	     const char *source, const char *evidence, const char *suggestion,
	     const char *title_format, ...)
	__attribute__((format(printf, 7, 8)));
const char *inv_severity_name(inv_severity severity);
inv_severity inv_severity_lower(inv_severity severity);
void inv_clear(inventory *inv);

typedef enum inv_read_result {
	INV_READ_OK,
	INV_READ_MISSING,  /* ENOENT or ENOTDIR: nothing to inventory */
	INV_READ_FAILED,   /* reported as a high finding already */
} inv_read_result;

inv_read_result inv_read_file(inventory *inv, const char *path,
			      const char *source, char **text, size_t *length);

/* Cuts the next line out of *cursor (in place) and returns it, or NULL at
 * the end. */
char *inv_next_line(char **cursor, char *end);

void inv_mark_privileged(inventory *inv, const char *user);

typedef struct inv_child {
	char *out;         /* NUL-terminated standard output */
	size_t out_len;
	char *err;         /* NUL-terminated standard error, cut at 64 KiB */
	int status;        /* exit status; -1 when killed by a signal */
} inv_child;

/* Runs argv[0] (an absolute path) with a fixed argv, no shell, standard
 * input from /dev/null and a minimal environment, for at most timeout_ms,
 * with standard output cut off at max_out bytes. Returns 0 when the child
 * ran to its end (whatever its status), otherwise -1 with why filled. */
int inv_run(const char *const argv[], size_t max_out, int timeout_ms,
	    inv_child *child, char *why, size_t why_len);
void inv_child_clear(inv_child *child);

/* Marks in owned[i] which of paths[0..count) a Debian package installs
 * (dpkg-query -S), looking through the merged-/usr aliases. Returns false
 * (and adds a finding) when the package database cannot be asked. */
bool inv_packaged(inventory *inv, const char *const *paths, size_t count,
		  bool *owned);

/* inventory_accounts.c */
void inv_scan_accounts(inventory *inv);
void inv_scan_groups(inventory *inv);
const inv_account *inv_find_account(const inventory *inv, const char *name);
const inv_group *inv_find_group(const inventory *inv, const char *name);
/* Appends the members of group, direct and by primary group, to list. */
void inv_group_members(const inventory *inv, const char *group,
		       jit_strlist *list);

/* One scan per source. */
void inv_scan_sudoers(inventory *inv);
void inv_scan_polkit(inventory *inv);
void inv_scan_ssh(inventory *inv);
void inv_scan_setuid(inventory *inv);
void inv_scan_grants(inventory *inv);

#endif
