/* SSH: the effective sshd settings (sshd -T) that let root or privileged
 * accounts log in, and the keys in their authorized_keys files.
 *
 * sshd -T prints the settings without Match blocks applied, so a Match
 * block that permits more for some users or addresses is not seen. */
#include <fnmatch.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "inventory.h"

#define SSHD "/usr/sbin/sshd"
#define SSHD_TIMEOUT_MS 15000
#define SSHD_OUTPUT_MAX (1024 * 1024)
/* sshd's AuthorizedKeysFile when it cannot be asked. */
#define DEFAULT_KEYS_FILES ".ssh/authorized_keys .ssh/authorized_keys2"

typedef struct sshd_settings {
	bool installed;
	bool known;                     /* sshd -T ran and succeeded */
	char permit_root_login[32];
	char keys_files[1024];
	char keys_command[512];
	char user_ca_keys[512];
	jit_strlist allow_users, allow_groups, deny_users, deny_groups;
} sshd_settings;

static void settings_clear(sshd_settings *settings)
{
	jit_strlist_clear(&settings->allow_users);
	jit_strlist_clear(&settings->allow_groups);
	jit_strlist_clear(&settings->deny_users);
	jit_strlist_clear(&settings->deny_groups);
}

static void read_setting(inventory *inv, sshd_settings *settings,
			 const char *key, const char *value)
{
	static const struct { const char *key; size_t offset; } lists[] = {
		{ "allowusers", offsetof(sshd_settings, allow_users) },
		{ "allowgroups", offsetof(sshd_settings, allow_groups) },
		{ "denyusers", offsetof(sshd_settings, deny_users) },
		{ "denygroups", offsetof(sshd_settings, deny_groups) },
	};

	if (strcmp(key, "permitrootlogin") == 0)
		snprintf(settings->permit_root_login,
			 sizeof(settings->permit_root_login), "%s", value);
	else if (strcmp(key, "authorizedkeysfile") == 0)
		snprintf(settings->keys_files, sizeof(settings->keys_files), "%s", value);
	else if (strcmp(key, "authorizedkeyscommand") == 0)
		snprintf(settings->keys_command, sizeof(settings->keys_command), "%s", value);
	else if (strcmp(key, "trustedusercakeys") == 0)
		snprintf(settings->user_ca_keys, sizeof(settings->user_ca_keys), "%s", value);

	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		jit_strlist *list = (jit_strlist *)((char *)settings + lists[i].offset);

		if (strcmp(key, lists[i].key) == 0 &&
		    jit_strlist_append(list, value) != JIT_OK)
			inv->out_of_memory = true;
	}
}

static void report_sshd_failure(inventory *inv, const char *evidence)
{
	inv_add(inv, INV_HIGH, INV_HOST, "ssh", evidence,
		"fix what sshd reports (sshd -T needs its host keys and /run/sshd), then run jitctl inventory again",
		"cannot check the sshd configuration");
}

/* Asks sshd for its effective settings; "sshd -T" needs root to read the
 * host keys. */
static void load_settings(inventory *inv, sshd_settings *settings)
{
	const char *const argv[] = { SSHD, "-T", "-f", inv->sshd_config, NULL };
	char why[512], evidence[1024], first[512] = "";
	char *cursor, *line;
	inv_child child;

	snprintf(settings->keys_files, sizeof(settings->keys_files), "%s",
		 DEFAULT_KEYS_FILES);
	if (access(SSHD, F_OK) < 0) {
		inv_add(inv, INV_INFO, INV_HOST, "ssh", SSHD " is missing",
			"nothing to replace while no SSH server runs; authorized_keys files are still listed",
			"sshd not installed");
		return;
	}
	settings->installed = true;

	if (inv_run(argv, SSHD_OUTPUT_MAX, SSHD_TIMEOUT_MS, &child, why,
		    sizeof(why)) < 0) {
		report_sshd_failure(inv, why);
		return;
	}
	if (child.status != 0) {
		sscanf(child.err, "%511[^\r\n]", first);
		snprintf(evidence, sizeof(evidence), "%s -T -f %s: exit status %d: %s",
			 SSHD, inv->sshd_config, child.status, first);
		report_sshd_failure(inv, evidence);
		inv_child_clear(&child);
		return;
	}

	cursor = child.out;
	while ((line = inv_next_line(&cursor, child.out + child.out_len)) != NULL) {
		char *value = strchr(line, ' ');

		if (value == NULL)
			continue;
		*value++ = '\0';
		read_setting(inv, settings, line, value);
	}
	settings->known = true;
	inv_child_clear(&child);
}

static void report_root_login(inventory *inv, const sshd_settings *settings)
{
	char evidence[512];
	const char *value = settings->permit_root_login;

	snprintf(evidence, sizeof(evidence), "%s -T -f %s: permitrootlogin %s",
		 SSHD, inv->sshd_config, value);
	if (strcmp(value, "yes") == 0)
		inv_add(inv, INV_HIGH, "root", "ssh", evidence,
			"set PermitRootLogin no; administrators log in as themselves and use grants of a role with commands = ALL",
			"sshd permits root logins, with a password too");
	else if (strcmp(value, "no") != 0 && value[0] != '\0')
		inv_add(inv, INV_LOW, "root", "ssh", evidence,
			"set PermitRootLogin no; administrators log in as themselves and use grants of a role with commands = ALL",
			"sshd permits root logins with a key");
}

static void report_unseen_keys(inventory *inv, const sshd_settings *settings)
{
	char evidence[1024];

	if (settings->keys_command[0] != '\0' && strcmp(settings->keys_command, "none") != 0) {
		snprintf(evidence, sizeof(evidence), "%s -T -f %s: authorizedkeyscommand %s",
			 SSHD, inv->sshd_config, settings->keys_command);
		inv_add(inv, INV_MEDIUM, INV_HOST, "ssh", evidence,
			"review which keys the command returns for root and privileged accounts; gate their logins with pam_jit",
			"sshd takes keys from a command, which the inventory cannot list");
	}
	if (settings->user_ca_keys[0] != '\0' && strcmp(settings->user_ca_keys, "none") != 0) {
		snprintf(evidence, sizeof(evidence), "%s -T -f %s: trustedusercakeys %s",
			 SSHD, inv->sshd_config, settings->user_ca_keys);
		inv_add(inv, INV_MEDIUM, INV_HOST, "ssh", evidence,
			"issue short-lived certificates only, and gate privileged logins with pam_jit",
			"sshd accepts user certificates, which the inventory cannot list");
	}
}

/* Tests patterns such as "alice", "adm*" or "bob@10.0.0.*" against name;
 * a host part only narrows where from, so it is ignored. */
static bool matches_any(const jit_strlist *patterns, const char *name)
{
	for (size_t i = 0; i < patterns->count; i++) {
		char pattern[256];

		snprintf(pattern, sizeof(pattern), "%s", patterns->items[i]);
		pattern[strcspn(pattern, "@")] = '\0';
		if (fnmatch(pattern, name, 0) == 0)
			return true;
	}
	return false;
}

static bool groups_match(const inventory *inv, const inv_account *account,
			 const jit_strlist *patterns)
{
	for (size_t i = 0; i < inv->group_count; i++) {
		const inv_group *group = &inv->groups[i];

		if ((group->gid == account->gid ||
		     jit_strlist_contains(&group->members, account->name)) &&
		    matches_any(patterns, group->name))
			return true;
	}
	return false;
}

/* sshd's order: DenyUsers, AllowUsers, DenyGroups, AllowGroups. */
static bool login_allowed(const inventory *inv, const sshd_settings *settings,
			  const inv_account *account)
{
	if (matches_any(&settings->deny_users, account->name))
		return false;
	if (settings->allow_users.count > 0 &&
	    !matches_any(&settings->allow_users, account->name))
		return false;
	if (groups_match(inv, account, &settings->deny_groups))
		return false;
	if (settings->allow_groups.count > 0 &&
	    !groups_match(inv, account, &settings->allow_groups))
		return false;
	return true;
}

/* PermitRootLogin applies to every uid 0 account, as in sshd. */
static inv_severity key_severity(const inventory *inv,
				 const sshd_settings *settings,
				 const inv_account *account, bool forced_command)
{
	const char *root_login = settings->permit_root_login;

	if (!settings->installed)
		return INV_LOW;
	if (settings->known && !login_allowed(inv, settings, account))
		return INV_LOW;
	if (account->uid != 0)
		return INV_MEDIUM;
	if (!settings->known)
		return INV_HIGH;
	if (strcmp(root_login, "no") == 0)
		return INV_LOW;
	if (strcmp(root_login, "forced-commands-only") == 0)
		return forced_command ? INV_MEDIUM : INV_LOW;
	return INV_HIGH;
}

/* Says why a key counts for as much as it does. */
static void login_note(const inventory *inv, const sshd_settings *settings,
		       const inv_account *account, char *out, size_t out_len)
{
	if (!settings->installed)
		snprintf(out, out_len, "; sshd is not installed");
	else if (!settings->known)
		snprintf(out, out_len, "; sshd's settings are unknown");
	else if (!login_allowed(inv, settings, account))
		snprintf(out, out_len,
			 "; AllowUsers, AllowGroups, DenyUsers or DenyGroups keep %s out",
			 account->name);
	else if (account->uid == 0)
		snprintf(out, out_len, "; permitrootlogin %s", settings->permit_root_login);
	else
		snprintf(out, out_len, "; sshd lets %s log in", account->name);
}

static bool is_key_type(const char *word)
{
	return strncmp(word, "ssh-", 4) == 0 || strncmp(word, "ecdsa-", 6) == 0 ||
	       strncmp(word, "sk-", 3) == 0;
}

/* Describes an authorized_keys line by key type, comment and options; the
 * key itself is left out. Options end at the first blank outside quotes. */
static void describe_key(const char *line, char *out, size_t out_len,
			 bool *forced_command)
{
	char options[256] = "", type[64] = "", comment[256] = "";
	const char *p = line;

	if (!is_key_type(p)) {
		const char *q = p;
		bool quoted = false;

		for (; *q != '\0' && (quoted || (*q != ' ' && *q != '\t')); q++)
			if (*q == '"')
				quoted = !quoted;
		snprintf(options, sizeof(options), "%.*s", (int)(q - p), p);
		p = q + strspn(q, " \t");
	}

	snprintf(type, sizeof(type), "%.*s", (int)strcspn(p, " \t"), p);
	p += strcspn(p, " \t");
	p += strspn(p, " \t");
	p += strcspn(p, " \t");            /* the key */
	p += strspn(p, " \t");
	snprintf(comment, sizeof(comment), "%s", p);

	*forced_command = strstr(options, "command=") != NULL;
	snprintf(out, out_len, "%s key%s%s%s%s", type[0] != '\0' ? type : "unknown",
		 comment[0] != '\0' ? ", comment " : "", comment,
		 options[0] != '\0' ? ", options " : "", options);
}

static void report_keys_file(inventory *inv, const sshd_settings *settings,
			     const inv_account *account, const char *path)
{
	char *text = NULL, *cursor, *line, note[160];
	unsigned number = 0;
	size_t length;

	if (inv_read_file(inv, path, "ssh", &text, &length) != INV_READ_OK)
		return;
	login_note(inv, settings, account, note, sizeof(note));

	cursor = text;
	while ((line = inv_next_line(&cursor, text + length)) != NULL) {
		char description[800], evidence[1200];
		bool forced = false;

		number++;
		line += strspn(line, " \t");
		if (line[0] == '\0' || line[0] == '#')
			continue;

		describe_key(line, description, sizeof(description), &forced);
		snprintf(evidence, sizeof(evidence), "%s:%u: %s%s", path, number,
			 description, note);
		inv_add(inv, key_severity(inv, settings, account, forced), account->name,
			"ssh", evidence,
			account->uid == 0 ?
				"remove the key and set PermitRootLogin no; administrators log in as themselves and use grants of a role with commands = ALL" :
				"gate the account's logins with pam_jit (add it to the gated group) and issue grants for the sshd service when a login is needed",
			"SSH key for %s", account->name);
	}
	free(text);
}

/* Expands one AuthorizedKeysFile pattern: %h home, %u name, %U uid, %%.
 * As in sshd, a path that is not absolute after expansion starts at the
 * home folder. */
static char *keys_path(const inv_account *account, const char *pattern)
{
	char expanded[4096] = "", piece[32], *path = NULL;
	size_t used = 0;

	for (const char *p = pattern; *p != '\0' && used < sizeof(expanded); p++) {
		const char *add = piece;

		if (p[0] == '%' && p[1] == 'h')
			add = account->home;
		else if (p[0] == '%' && p[1] == 'u')
			add = account->name;
		else if (p[0] == '%' && p[1] == 'U')
			snprintf(piece, sizeof(piece), "%u", (unsigned)account->uid);
		else if (p[0] == '%' && p[1] == '%')
			snprintf(piece, sizeof(piece), "%%");
		else
			snprintf(piece, sizeof(piece), "%c", p[0]);
		if (p[0] == '%' && p[1] != '\0')
			p++;
		used += (size_t)snprintf(expanded + used, sizeof(expanded) - used, "%s", add);
	}
	if (used >= sizeof(expanded))
		return NULL;

	if (expanded[0] == '/')
		return strdup(expanded);
	if (asprintf(&path, "%s/%s", account->home, expanded) < 0)
		return NULL;
	return path;
}

static void report_account_keys(inventory *inv, const sshd_settings *settings,
				const char *name)
{
	const inv_account *account = inv_find_account(inv, name);
	char files[sizeof(settings->keys_files)], *cursor = files, *pattern;

	/* A privileged name that is no local account has no home to look in. */
	if (account == NULL)
		return;

	snprintf(files, sizeof(files), "%s", settings->keys_files);
	while ((pattern = strsep(&cursor, " ")) != NULL) {
		char *path;

		if (pattern[0] == '\0' || strcmp(pattern, "none") == 0)
			continue;
		path = keys_path(account, pattern);
		if (path == NULL) {
			inv->out_of_memory = true;
			continue;
		}
		report_keys_file(inv, settings, account, path);
		free(path);
	}
}

void inv_scan_ssh(inventory *inv)
{
	sshd_settings settings = { 0 };

	load_settings(inv, &settings);
	if (settings.known) {
		report_root_login(inv, &settings);
		report_unseen_keys(inv, &settings);
	}

	report_account_keys(inv, &settings, "root");
	for (size_t i = 0; i < inv->privileged.count; i++)
		if (strcmp(inv->privileged.items[i], "root") != 0)
			report_account_keys(inv, &settings, inv->privileged.items[i]);

	settings_clear(&settings);
}
