/* Accounts: uid 0 accounts other than root, and root or system accounts
 * that can log in with a password or a shell.
 *
 * The files are read directly rather than through NSS, so that evidence can
 * name the file and line. Accounts from LDAP or SSSD are not seen. Password
 * hashes are only tested for being usable and never copied into a finding. */
#include <errno.h>
#include <shadow.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "inventory.h"

#define PASSWD_FILE "/etc/passwd"
#define SHADOW_FILE "/etc/shadow"
#define LOGIN_DEFS "/etc/login.defs"
#define DEFAULT_UID_MIN 1000
#define NOBODY_UID 65534

/* Returns false for the shells that run no command for the account, such
 * as nologin and false. */
static bool shell_is_usable(const char *shell)
{
	static const char *const unusable[] = {
		"nologin", "false", "true", "sync", "shutdown", "halt",
	};
	const char *base = strrchr(shell, '/');

	/* An empty shell field means /bin/sh. */
	if (shell[0] == '\0')
		return true;
	base = base != NULL ? base + 1 : shell;
	for (size_t i = 0; i < sizeof(unusable) / sizeof(unusable[0]); i++)
		if (strcmp(base, unusable[i]) == 0)
			return false;
	return true;
}

/* Splits line at ':' into exactly count fields. */
static bool split_fields(char *line, char **fields, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		fields[i] = strsep(&line, ":");
		if (fields[i] == NULL)
			return false;
	}
	return line == NULL;
}

static bool parse_id(const char *text, unsigned long *id)
{
	char *end;

	if (text[0] < '0' || text[0] > '9')
		return false;
	errno = 0;
	*id = strtoul(text, &end, 10);
	return errno == 0 && *end == '\0' && *id <= 0xfffffffeUL;
}

static void report_malformed(inventory *inv, const char *file, unsigned line,
			     const char *source)
{
	char evidence[256];

	snprintf(evidence, sizeof(evidence), "%s:%u", file, line);
	inv_add(inv, INV_LOW, INV_HOST, source, evidence,
		"fix the line: tools disagree on what a malformed line means",
		"malformed line in %s", file);
}

static bool append_account(inventory *inv, char **fields, unsigned long uid,
			   unsigned long gid, unsigned line)
{
	inv_account *grown, *account;

	grown = reallocarray(inv->accounts, inv->account_count + 1, sizeof(*grown));
	if (grown == NULL)
		return false;
	inv->accounts = grown;

	account = &inv->accounts[inv->account_count];
	account->name = strdup(fields[0]);
	account->home = strdup(fields[5]);
	account->shell = strdup(fields[6]);
	account->uid = (uid_t)uid;
	account->gid = (gid_t)gid;
	account->line = line;
	if (account->name == NULL || account->home == NULL || account->shell == NULL) {
		free(account->name);
		free(account->home);
		free(account->shell);
		return false;
	}
	inv->account_count++;
	return true;
}

/* Reads /etc/passwd into inv->accounts; the password field goes to
 * passwords (same order) for the checks against /etc/shadow. */
static void load_passwd(inventory *inv, jit_strlist *passwords)
{
	char *text = NULL, *cursor, *end, *line;
	unsigned number = 0;
	size_t length;

	switch (inv_read_file(inv, PASSWD_FILE, "accounts", &text, &length)) {
	case INV_READ_OK:
		break;
	case INV_READ_MISSING:
		inv_add(inv, INV_HIGH, INV_HOST, "accounts", PASSWD_FILE ": missing",
			"restore /etc/passwd; without it no account can be inventoried",
			"cannot read %s", PASSWD_FILE);
		return;
	case INV_READ_FAILED:
		return;
	}

	cursor = text;
	end = text + length;
	while ((line = inv_next_line(&cursor, end)) != NULL) {
		char *fields[7];
		unsigned long uid, gid;

		number++;
		/* NIS compatibility entries ("+", "-name") are not accounts. */
		if (line[0] == '\0' || line[0] == '+' || line[0] == '-')
			continue;
		if (!split_fields(line, fields, 7) || !parse_id(fields[2], &uid) ||
		    !parse_id(fields[3], &gid) || fields[0][0] == '\0') {
			report_malformed(inv, PASSWD_FILE, number, "accounts");
			continue;
		}
		if (!append_account(inv, fields, uid, gid, number) ||
		    jit_strlist_append(passwords, fields[1]) != JIT_OK) {
			inv->out_of_memory = true;
			break;
		}
	}
	inv->accounts_read = true;
	free(text);
}

/* Reads UID_MIN from /etc/login.defs: accounts below it are system
 * accounts. */
static unsigned long load_uid_min(inventory *inv)
{
	char *text = NULL, *cursor, *end, *line;
	unsigned long uid_min = DEFAULT_UID_MIN;
	size_t length;

	if (inv_read_file(inv, LOGIN_DEFS, "accounts", &text, &length) != INV_READ_OK)
		return uid_min;

	cursor = text;
	end = text + length;
	while ((line = inv_next_line(&cursor, end)) != NULL) {
		char *save = NULL, *key = strtok_r(line, " \t", &save);
		char *value = strtok_r(NULL, " \t", &save);
		unsigned long parsed;

		if (key != NULL && value != NULL && strcmp(key, "UID_MIN") == 0 &&
		    parse_id(value, &parsed))
			uid_min = parsed;
	}
	free(text);
	return uid_min;
}

typedef struct shadow_entry {
	char *name;
	bool usable;      /* a password that can be typed */
	bool empty;       /* no password at all */
	unsigned line;
} shadow_entry;

static void password_state(const char *hash, bool *usable, bool *empty)
{
	*empty = hash[0] == '\0';
	*usable = !*empty && hash[0] != '!' && hash[0] != '*';
}

/* Parses one shadow line with glibc's sgetspent_r; an account whose
 * expiry date has passed cannot log in, so its password counts as locked. */
static bool parse_shadow_line(const char *line, shadow_entry *entry)
{
	struct spwd sp, *result = NULL;
	char buffer[4096];
	long today = (long)(time(NULL) / 86400);

	if (sgetspent_r(line, &sp, buffer, sizeof(buffer), &result) != 0 ||
	    result == NULL)
		return false;

	password_state(sp.sp_pwdp, &entry->usable, &entry->empty);
	if (sp.sp_expire >= 0 && sp.sp_expire <= today)
		entry->usable = entry->empty = false;
	entry->name = strdup(sp.sp_namp);
	return entry->name != NULL;
}

static shadow_entry *load_shadow(inventory *inv, size_t *count)
{
	char *text = NULL, *cursor, *end, *line;
	shadow_entry *entries = NULL;
	unsigned number = 0;
	size_t length;

	*count = 0;
	if (inv_read_file(inv, SHADOW_FILE, "accounts", &text, &length) != INV_READ_OK)
		return NULL;

	cursor = text;
	end = text + length;
	while ((line = inv_next_line(&cursor, end)) != NULL) {
		shadow_entry entry = { .line = ++number }, *grown;

		if (line[0] == '\0' || line[0] == '+' || line[0] == '-')
			continue;
		if (!parse_shadow_line(line, &entry)) {
			report_malformed(inv, SHADOW_FILE, number, "accounts");
			continue;
		}
		grown = reallocarray(entries, *count + 1, sizeof(*grown));
		if (grown == NULL) {
			free(entry.name);
			inv->out_of_memory = true;
			break;
		}
		entries = grown;
		entries[(*count)++] = entry;
	}
	free(text);
	return entries;
}

static const shadow_entry *find_shadow(const shadow_entry *entries,
				       size_t count, const char *name)
{
	for (size_t i = 0; i < count; i++)
		if (strcmp(entries[i].name, name) == 0)
			return &entries[i];
	return NULL;
}

static void account_evidence(const inv_account *account, char *out,
			     size_t out_len)
{
	snprintf(out, out_len, "%s:%u: %s uid %u gid %u home %s shell %s",
		 PASSWD_FILE, account->line, account->name,
		 (unsigned)account->uid, (unsigned)account->gid, account->home,
		 account->shell[0] != '\0' ? account->shell : "(empty: /bin/sh)");
}

static void check_uid0(inventory *inv, const inv_account *account)
{
	char evidence[1024];

	account_evidence(account, evidence, sizeof(evidence));
	inv_add(inv, INV_HIGH, account->name, "accounts", evidence,
		"delete the account or give it its own uid; root work goes through grants of a role with commands = ALL, emergencies through break-glass",
		"uid 0 account other than root");
	inv_mark_privileged(inv, account->name);
}

/* Checks the password of account, taken from /etc/shadow when the
 * /etc/passwd field is "x". */
static void check_password(inventory *inv, const inv_account *account,
			   const char *passwd_field, const shadow_entry *shadow,
			   bool is_root)
{
	char evidence[512];
	bool usable, empty;
	const char *kind = is_root ? "root" : "system account";

	if (strcmp(passwd_field, "x") == 0) {
		if (shadow == NULL)
			return;   /* no shadow entry, or shadow unreadable (reported) */
		usable = shadow->usable;
		empty = shadow->empty;
		snprintf(evidence, sizeof(evidence), "%s:%u: %s: %s", SHADOW_FILE,
			 shadow->line, account->name,
			 empty ? "empty password field" : "password hash set, not locked");
	} else {
		password_state(passwd_field, &usable, &empty);
		snprintf(evidence, sizeof(evidence), "%s:%u: %s: %s", PASSWD_FILE,
			 account->line, account->name,
			 empty ? "empty password field" : "password hash in /etc/passwd itself");
	}

	if (empty)
		inv_add(inv, INV_HIGH, account->name, "accounts", evidence,
			"lock the account (usermod -L) now; use grants for what it was needed for",
			"%s with an empty password", kind);
	else if (usable)
		inv_add(inv, INV_MEDIUM, account->name, "accounts", evidence,
			is_root ? "lock root's password (passwd -l root) and use grants of a role with commands = ALL; keep a sealed password only for break-glass"
				: "lock the account (usermod -L) and run what needs it through a grant of a role with runas = the account",
			"%s with a usable password", kind);
}

static void check_system_shell(inventory *inv, const inv_account *account)
{
	char evidence[1024];

	if (!shell_is_usable(account->shell))
		return;
	account_evidence(account, evidence, sizeof(evidence));
	inv_add(inv, INV_LOW, account->name, "accounts", evidence,
		"set the shell to /usr/sbin/nologin (usermod -s) and run what needs the account through a grant of a role with runas = the account",
		"system account with a login shell");
}

void inv_scan_accounts(inventory *inv)
{
	jit_strlist passwords = { 0 };
	shadow_entry *shadow = NULL;
	size_t shadow_count = 0;
	unsigned long uid_min;

	load_passwd(inv, &passwords);
	if (!inv->accounts_read)
		goto out;
	uid_min = load_uid_min(inv);
	shadow = load_shadow(inv, &shadow_count);

	for (size_t i = 0; i < inv->account_count && i < passwords.count; i++) {
		const inv_account *account = &inv->accounts[i];
		const shadow_entry *entry = find_shadow(shadow, shadow_count, account->name);
		bool is_root = strcmp(account->name, "root") == 0;

		if (account->uid == 0 && !is_root) {
			check_uid0(inv, account);
			continue;
		}
		if (is_root || account->uid < uid_min || account->uid == NOBODY_UID)
			check_password(inv, account, passwords.items[i], entry,
				       is_root);
		if (!is_root && (account->uid < uid_min || account->uid == NOBODY_UID))
			check_system_shell(inv, account);
	}
out:
	for (size_t i = 0; i < shadow_count; i++)
		free(shadow[i].name);
	free(shadow);
	jit_strlist_clear(&passwords);
}
