/* sudoers for jitctl inventory: the include tree walked by
 * inventory_sudoers_tree.c and read by inventory_sudoers.c. */
#ifndef JITCTL_INVENTORY_SUDOERS_H
#define JITCTL_INVENTORY_SUDOERS_H

#include "inventory.h"

/* Where a rule starts: a line that is no directive, alias or Defaults. */
typedef struct sudoers_rule_line {
	char *file;
	unsigned line;
	char *principal;     /* the first user list item as written */
} sudoers_rule_line;

typedef struct sudoers_tree {
	sudoers_rule_line *lines;
	size_t count;
	bool present;        /* the top file exists */
	bool complete;       /* every file of the tree was read */
} sudoers_tree;

/* Walks path and its includes, adding findings for unreadable files and
 * files or folders writable by others than root. */
void inv_sudoers_tree_read(inventory *inv, const char *path,
			   sudoers_tree *tree);
void inv_sudoers_tree_clear(sudoers_tree *tree);

/* Returns how many rule lines start with principal; *found is the first. */
size_t inv_sudoers_tree_find(const sudoers_tree *tree, const char *principal,
			     const sudoers_rule_line **found);

#define TEXT_MAX 1024

/* What one Cmnd_Spec of a rule allows. */
typedef struct rule_scope {
	char commands[TEXT_MAX];   /* as sudoers writes them */
	char runas[256];
	char tags[256];            /* NOPASSWD:, NOEXEC:, NOTAFTER=... */
	jit_strlist command_list;  /* the allowed (not negated) commands */
	jit_strlist runas_list;    /* runas users, root when none is named */
	bool all;
	char escape[64];           /* a program that runs other commands */
	bool nopasswd;
	bool runas_privileged;     /* root, ALL, a group or a privileged account */
	const char *not_after;     /* NOTAFTER as written (owned by the JSON) */
	int64_t not_after_time;    /* -1 when absent or not understood */
	int64_t not_before_time;   /* NOTBEFORE, the same way */
} rule_scope;

/* Fills scope from one Cmnd_Spec object. privileged (may be NULL) lists
 * the accounts a runas target counts as privileged for; global_nopasswd is
 * "Defaults !authenticate". Returns false when out of memory. */
bool inv_rule_scope_read(json_object *spec, const jit_strlist *privileged,
			 bool global_nopasswd, rule_scope *scope);
void inv_rule_scope_clear(rule_scope *scope);

/* Returns the length of array, or 0 when it is no array: cvtsudoers' JSON
 * is read without trusting its shape. */
size_t inv_json_length(json_object *array);

/* Writes a User_Spec object back as one sudoers line. */
void inv_rule_render(json_object *user_spec, char *out, size_t out_len);

/* Writes a member object such as {"usergroup": "sudo"} as sudoers does,
 * "%sudo", and returns its JSON type name in *type. */
void inv_member_text(json_object *item, char *out, size_t out_len,
		     const char **type);

#endif
