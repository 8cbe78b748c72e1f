/* Groups: members of root-equivalent groups, directly or through their
 * primary group, and the lookups other sources use to name a group's
 * members. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "inventory.h"

#define GROUP_FILE "/etc/group"
#define PASSWD_FILE "/etc/passwd"

typedef struct root_group {
	const char *name;
	inv_severity severity;
	const char *why;          /* what membership allows */
	const char *commands;     /* the scope of a replacing role */
} root_group;

static const root_group root_groups[] = {
	{ "sudo", INV_HIGH, "runs any command as root through the distribution's sudoers rule", "ALL" },
	{ "wheel", INV_HIGH, "runs any command as root where sudoers or su allow wheel", "ALL" },
	{ "admin", INV_HIGH, "runs any command as root through the older Ubuntu sudoers rule", "ALL" },
	{ "docker", INV_HIGH, "starts containers that mount the host's root file system", "/usr/bin/docker" },
	{ "lxd", INV_HIGH, "starts privileged containers that mount the host's root file system", "/usr/bin/lxc" },
	{ "libvirt", INV_HIGH, "starts virtual machines with the host's disks attached", "/usr/bin/virsh" },
	{ "disk", INV_HIGH, "reads and writes raw disks, including the root file system", "the disk tools that are needed" },
	{ "shadow", INV_MEDIUM, "reads every password hash in /etc/shadow", "the command that needs /etc/shadow" },
	{ "adm", INV_LOW, "reads the system logs", "/usr/bin/journalctl" },
};

#define ROOT_GROUP_COUNT (sizeof(root_groups) / sizeof(root_groups[0]))

const inv_account *inv_find_account(const inventory *inv, const char *name)
{
	for (size_t i = 0; i < inv->account_count; i++)
		if (strcmp(inv->accounts[i].name, name) == 0)
			return &inv->accounts[i];
	return NULL;
}

const inv_group *inv_find_group(const inventory *inv, const char *name)
{
	for (size_t i = 0; i < inv->group_count; i++)
		if (strcmp(inv->groups[i].name, name) == 0)
			return &inv->groups[i];
	return NULL;
}

static void append_unique(inventory *inv, jit_strlist *list, const char *item)
{
	if (!jit_strlist_contains(list, item) &&
	    jit_strlist_append(list, item) != JIT_OK)
		inv->out_of_memory = true;
}

void inv_group_members(const inventory *inv, const char *group_name,
		       jit_strlist *list)
{
	const inv_group *group = inv_find_group(inv, group_name);

	if (group == NULL)
		return;
	for (size_t i = 0; i < group->members.count; i++)
		append_unique((inventory *)inv, list, group->members.items[i]);
	for (size_t i = 0; i < inv->account_count; i++)
		if (inv->accounts[i].gid == group->gid)
			append_unique((inventory *)inv, list, inv->accounts[i].name);
}

static bool parse_gid(const char *text, gid_t *gid)
{
	unsigned long value;
	char *end;

	if (text[0] < '0' || text[0] > '9')
		return false;
	errno = 0;
	value = strtoul(text, &end, 10);
	*gid = (gid_t)value;
	return errno == 0 && *end == '\0' && value <= 0xfffffffeUL;
}

/* Parses "name:password:gid:member,member"; false when malformed. */
static bool parse_group_line(char *line, inv_group *group)
{
	char *name = strsep(&line, ":");
	char *password = strsep(&line, ":");
	char *gid = strsep(&line, ":");
	char *members = strsep(&line, ":");
	char *member;

	if (members == NULL || line != NULL || name[0] == '\0' ||
	    password == NULL || !parse_gid(gid, &group->gid))
		return false;

	/* A NULL name on return means out of memory. */
	group->name = strdup(name);
	while (group->name != NULL && (member = strsep(&members, ",")) != NULL) {
		if (member[0] != '\0' &&
		    jit_strlist_append(&group->members, member) != JIT_OK) {
			free(group->name);
			group->name = NULL;
		}
	}
	return true;
}

static void load_groups(inventory *inv)
{
	char *text = NULL, *cursor, *end, *line;
	unsigned number = 0;
	size_t length;

	if (inv_read_file(inv, GROUP_FILE, "groups", &text, &length) != INV_READ_OK)
		return;

	cursor = text;
	end = text + length;
	while ((line = inv_next_line(&cursor, end)) != NULL) {
		inv_group group = { .line = ++number }, *grown;

		if (line[0] == '\0' || line[0] == '+' || line[0] == '-')
			continue;
		if (!parse_group_line(line, &group)) {
			char evidence[64];

			jit_strlist_clear(&group.members);
			snprintf(evidence, sizeof(evidence), "%s:%u", GROUP_FILE, number);
			inv_add(inv, INV_LOW, INV_HOST, "groups", evidence,
				"fix the line: tools disagree on what a malformed line means",
				"malformed line in %s", GROUP_FILE);
			continue;
		}
		grown = reallocarray(inv->groups, inv->group_count + 1, sizeof(*grown));
		if (group.name == NULL || grown == NULL) {
			free(group.name);
			jit_strlist_clear(&group.members);
			inv->out_of_memory = true;
			break;
		}
		inv->groups = grown;
		inv->groups[inv->group_count++] = group;
	}
	free(text);
}

static void report_member(inventory *inv, const root_group *root,
			  const char *user, const char *evidence, bool primary)
{
	char suggestion[768];

	if (primary)
		snprintf(suggestion, sizeof(suggestion),
			 "the group %s; give %s another primary group (usermod -g) and a role with commands = %s through grants instead",
			 root->why, user, root->commands);
	else
		snprintf(suggestion, sizeof(suggestion),
			 "the group %s; remove %s from it (gpasswd -d %s %s) and give a role with commands = %s through grants instead",
			 root->why, user, user, root->name, root->commands);
	inv_add(inv, root->severity, user, "groups", evidence, suggestion,
		"%s group %s", primary ? "primary" : "member of", root->name);
	if (root->severity == INV_HIGH)
		inv_mark_privileged(inv, user);
}

static void check_group(inventory *inv, const root_group *root)
{
	const inv_group *group = inv_find_group(inv, root->name);
	char members[512] = "", evidence[1024];

	if (group == NULL)
		return;

	for (size_t i = 0; i < group->members.count; i++)
		snprintf(members + strlen(members), sizeof(members) - strlen(members),
			 "%s%s", i > 0 ? "," : "", group->members.items[i]);
	snprintf(evidence, sizeof(evidence), "%s:%u: %s gid %u members %s",
		 GROUP_FILE, group->line, group->name, (unsigned)group->gid,
		 members);

	/* root is root already; membership gives it nothing new. */
	for (size_t i = 0; i < group->members.count; i++)
		if (strcmp(group->members.items[i], "root") != 0)
			report_member(inv, root, group->members.items[i], evidence, false);

	for (size_t i = 0; i < inv->account_count; i++) {
		const inv_account *account = &inv->accounts[i];

		if (account->gid != group->gid || account->uid == 0)
			continue;
		snprintf(evidence, sizeof(evidence), "%s:%u: %s uid %u gid %u",
			 PASSWD_FILE, account->line, account->name,
			 (unsigned)account->uid, (unsigned)account->gid);
		report_member(inv, root, account->name, evidence, true);
	}
}

static void check_extra_group(inventory *inv, const char *name)
{
	const root_group extra = {
		.name = name,
		.severity = INV_HIGH,
		.why = "was named root-equivalent with --group",
		.commands = "the commands it was needed for",
	};

	for (size_t i = 0; i < ROOT_GROUP_COUNT; i++)
		if (strcmp(root_groups[i].name, name) == 0)
			return;   /* checked already */

	if (inv_find_group(inv, name) == NULL) {
		inv_add(inv, INV_INFO, INV_HOST, "groups", GROUP_FILE,
			"check the name given with --group",
			"group %s given with --group does not exist", name);
		return;
	}
	check_group(inv, &extra);
}

void inv_scan_groups(inventory *inv)
{
	load_groups(inv);

	for (size_t i = 0; i < ROOT_GROUP_COUNT; i++)
		check_group(inv, &root_groups[i]);
	for (size_t i = 0; i < inv->extra_groups.count; i++)
		check_extra_group(inv, inv->extra_groups.items[i]);
}
