/* polkit: rules that make accounts administrators or authorize actions
 * without authentication, in files no package installed.
 *
 * polkit rules are JavaScript, which the inventory does not run. It reads
 * them line by line instead: an addAdminRule names administrators, and a
 * "polkit.Result.YES" authorizes whoever the conditions above it in the same
 * rule name. A rule that computes its identities is reported without an
 * account. The older .pkla files and AdminIdentities are INI, read with
 * inih. */
#include <dirent.h>
#include <errno.h>
#include <ini.h>
#include <stdlib.h>
#include <string.h>

#include "inventory.h"

static const struct {
	const char *dir;
	const char *suffix;
	int depth;          /* 1: files in dir; 2: files in its subfolders */
} polkit_sources[] = {
	{ "/etc/polkit-1/rules.d", ".rules", 1 },
	{ "/usr/share/polkit-1/rules.d", ".rules", 1 },
	{ "/etc/polkit-1/localauthority", ".pkla", 2 },
	{ "/var/lib/polkit-1/localauthority", ".pkla", 2 },
	{ "/etc/polkit-1/localauthority.conf.d", ".conf", 1 },
};

static bool has_suffix(const char *name, const char *suffix)
{
	size_t length = strlen(name), suffix_length = strlen(suffix);

	return length > suffix_length &&
	       strcmp(name + length - suffix_length, suffix) == 0;
}

static void collect_files(inventory *inv, const char *dir, const char *suffix,
			  int depth, jit_strlist *files)
{
	struct dirent **entries = NULL;
	int count = scandir(dir, &entries, NULL, alphasort);

	if (count < 0) {
		if (errno != ENOENT && errno != ENOTDIR) {
			char evidence[1024];

			snprintf(evidence, sizeof(evidence), "%s: %s", dir, strerror(errno));
			inv_add(inv, INV_HIGH, INV_HOST, "polkit", evidence,
				"run jitctl inventory as root: an unread source can hide standing privilege",
				"cannot read %s", dir);
		}
		return;
	}

	for (int i = 0; i < count; i++) {
		const char *name = entries[i]->d_name;
		char *path = NULL;

		if (name[0] != '.' && asprintf(&path, "%s/%s", dir, name) >= 0) {
			if (depth > 1)
				collect_files(inv, path, suffix, depth - 1, files);
			else if (has_suffix(name, suffix) &&
				 jit_strlist_append(files, path) != JIT_OK)
				inv->out_of_memory = true;
		}
		free(path);
		free(entries[i]);
	}
	free(entries);
}

/* Appends the identities line names: "unix-user:NAME" and
 * subject.user == "NAME" as NAME, "unix-group:NAME" and
 * subject.isInGroup("NAME") as %NAME. */
static void find_identities(inventory *inv, const char *line, jit_strlist *found)
{
	static const struct { const char *marker, *prefix; bool quoted; } forms[] = {
		{ "unix-user:", "", false },
		{ "unix-group:", "%", false },
		{ "subject.user", "", true },
		{ "isInGroup(", "%", true },
	};

	for (size_t f = 0; f < sizeof(forms) / sizeof(forms[0]); f++) {
		for (const char *p = strstr(line, forms[f].marker); p != NULL;
		     p = strstr(p + 1, forms[f].marker)) {
			const char *name = p + strlen(forms[f].marker);
			char identity[128];
			size_t length;

			if (forms[f].quoted) {
				name = strchr(name, '"');
				if (name == NULL || strchr(name + 1, '"') == NULL)
					continue;
				name++;
				length = strcspn(name, "\"");
			} else {
				length = strspn(name, "abcdefghijklmnopqrstuvwxyz"
					       "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-");
			}
			if (length == 0 || length > 64)
				continue;
			snprintf(identity, sizeof(identity), "%s%.*s", forms[f].prefix,
				 (int)length, name);
			if (!jit_strlist_contains(found, identity) &&
			    jit_strlist_append(found, identity) != JIT_OK)
				inv->out_of_memory = true;
		}
	}
}

static void report_identities(inventory *inv, const jit_strlist *identities,
			      bool admin, const char *evidence)
{
	const char *suggestion = admin ?
		"remove the identity from the rule; administrators then authenticate through grants of a role with commands = ALL" :
		"limit the rule to the one action needed, or authorize it through a grant of a role with the matching command";

	if (identities->count == 0) {
		inv_add(inv, admin ? INV_HIGH : INV_MEDIUM, INV_HOST, "polkit", evidence,
			suggestion, admin ? "polkit administrators chosen at run time"
					  : "polkit rule authorizes without authentication");
		return;
	}
	for (size_t i = 0; i < identities->count; i++) {
		const char *identity = identities->items[i];

		inv_add(inv, admin ? INV_HIGH : INV_MEDIUM, identity, "polkit", evidence,
			suggestion, admin ? "polkit administrator"
					  : "polkit rule authorizes without authentication");
		if (admin && identity[0] != '%')
			inv_mark_privileged(inv, identity);
	}
}

typedef struct rules_block {
	bool admin;              /* inside polkit.addAdminRule */
	bool admin_named;        /* the admin rule named an identity */
	char start[1024];        /* evidence of the block's first line */
	jit_strlist identities;  /* named so far in an addRule block */
} rules_block;

/* Ends a block: an admin rule that named nobody computes its
 * administrators, which the inventory cannot follow. */
static void end_block(inventory *inv, rules_block *block)
{
	jit_strlist none = { 0 };

	if (block->admin && !block->admin_named)
		report_identities(inv, &none, true, block->start);
	jit_strlist_clear(&block->identities);
	block->admin = block->admin_named = false;
}

static void scan_rules_line(inventory *inv, rules_block *block,
			    const char *line, const char *evidence)
{
	if (strstr(line, "addAdminRule") != NULL || strstr(line, "addRule") != NULL) {
		end_block(inv, block);
		block->admin = strstr(line, "addAdminRule") != NULL;
		snprintf(block->start, sizeof(block->start), "%s", evidence);
	}

	if (block->admin) {
		jit_strlist named = { 0 };

		/* Each administrator is reported where the rule names it. */
		find_identities(inv, line, &named);
		if (named.count > 0) {
			report_identities(inv, &named, true, evidence);
			block->admin_named = true;
		}
		jit_strlist_clear(&named);
		return;
	}

	find_identities(inv, line, &block->identities);
	if (strstr(line, "polkit.Result.YES") != NULL)
		report_identities(inv, &block->identities, false, evidence);
}

static void scan_rules_file(inventory *inv, const char *path)
{
	rules_block block = { .admin = false };
	char *text = NULL, *cursor, *line;
	unsigned number = 0;
	size_t length;

	if (inv_read_file(inv, path, "polkit", &text, &length) != INV_READ_OK)
		return;

	cursor = text;
	while ((line = inv_next_line(&cursor, text + length)) != NULL) {
		char evidence[1024];

		number++;
		line += strspn(line, " \t");
		snprintf(evidence, sizeof(evidence), "%s:%u: %s", path, number, line);
		scan_rules_line(inv, &block, line, evidence);
	}
	end_block(inv, &block);
	free(text);
}

typedef struct pkla_section {
	inventory *inv;
	const char *path;
	char name[256];
	jit_strlist identities;
	char result[128];      /* "ResultActive=yes", when a result is yes */
} pkla_section;

static void flush_section(pkla_section *section)
{
	char evidence[1024];

	if (section->result[0] != '\0') {
		snprintf(evidence, sizeof(evidence), "%s [%s]: %s", section->path,
			 section->name, section->result);
		report_identities(section->inv, &section->identities, false, evidence);
	}
	jit_strlist_clear(&section->identities);
	section->result[0] = '\0';
}

/* Identity=unix-user:a;unix-group:b, and AdminIdentities the same way. */
static int handle_pkla_pair(void *user, const char *section_name,
			    const char *key, const char *value)
{
	pkla_section *section = user;

	if (strcmp(section->name, section_name) != 0) {
		flush_section(section);
		snprintf(section->name, sizeof(section->name), "%s", section_name);
	}

	if (strcmp(key, "Identity") == 0) {
		find_identities(section->inv, value, &section->identities);
	} else if (strcmp(key, "AdminIdentities") == 0) {
		jit_strlist admins = { 0 };
		char evidence[1024];

		find_identities(section->inv, value, &admins);
		snprintf(evidence, sizeof(evidence), "%s [%s]: AdminIdentities=%s",
			 section->path, section_name, value);
		report_identities(section->inv, &admins, true, evidence);
		jit_strlist_clear(&admins);
	} else if (strncmp(key, "Result", 6) == 0 && strcmp(value, "yes") == 0) {
		snprintf(section->result, sizeof(section->result), "%s=yes", key);
	}
	return 1;
}

static void scan_ini_file(inventory *inv, const char *path)
{
	pkla_section section = { .inv = inv, .path = path };
	char *text = NULL, evidence[1024];
	size_t length;
	int line;

	if (inv_read_file(inv, path, "polkit", &text, &length) != INV_READ_OK)
		return;

	line = ini_parse_string(text, handle_pkla_pair, &section);
	flush_section(&section);
	if (line != 0) {
		snprintf(evidence, sizeof(evidence), "%s:%d", path, line);
		inv_add(inv, INV_LOW, INV_HOST, "polkit", evidence,
			"fix the file; polkit may read it differently",
			"malformed polkit file");
	}
	free(text);
}

void inv_scan_polkit(inventory *inv)
{
	jit_strlist files = { 0 };
	bool *owned = NULL;

	for (size_t i = 0; i < sizeof(polkit_sources) / sizeof(polkit_sources[0]); i++)
		collect_files(inv, polkit_sources[i].dir, polkit_sources[i].suffix,
			      polkit_sources[i].depth, &files);
	if (files.count == 0)
		goto out;

	owned = calloc(files.count, sizeof(*owned));
	if (owned == NULL) {
		inv->out_of_memory = true;
		goto out;
	}
	/* Without the package database every file is scanned. */
	inv_packaged(inv, (const char *const *)files.items, files.count, owned);

	for (size_t i = 0; i < files.count; i++) {
		if (owned[i])
			continue;
		if (has_suffix(files.items[i], ".rules"))
			scan_rules_file(inv, files.items[i]);
		else
			scan_ini_file(inv, files.items[i]);
	}
out:
	free(owned);
	jit_strlist_clear(&files);
}
