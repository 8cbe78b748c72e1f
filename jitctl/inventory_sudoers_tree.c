/* The files sudoers is read from: /etc/sudoers and what it includes, in
 * the order sudo reads them.
 *
 * cvtsudoers parses the rules, but its JSON names no file, skips an
 * include it cannot read without failing, and does not check who may write
 * the files. So this walk follows the include directives only, to report
 * unreadable and unsafe files and to find the line where each rule starts.
 * It understands nothing else of the grammar. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "inventory.h"
#include "inventory_sudoers.h"

/* sudo's own limit on nested includes. */
#define INCLUDE_DEPTH_MAX 128

static const char *const non_rule_words[] = {
	"Defaults", "Cmnd_Alias", "Cmd_Alias", "Host_Alias", "User_Alias",
	"Runas_Alias",
};

/* Anyone but root who can write a sudoers file or folder can give
 * themselves root. sudo itself refuses such files, which breaks sudo but
 * leaves the write access in place. */
static void check_writable(inventory *inv, const char *path,
			   const struct stat *st)
{
	char evidence[1024];

	if (st->st_uid == 0 && (st->st_mode & (S_IWGRP | S_IWOTH)) == 0)
		return;
	snprintf(evidence, sizeof(evidence), "%s: owner uid %u gid %u mode %04o",
		 path, (unsigned)st->st_uid, (unsigned)st->st_gid,
		 (unsigned)(st->st_mode & 07777));
	inv_add(inv, INV_HIGH, INV_HOST, "sudoers", evidence,
		"make it owned by root and writable by root only (chown root:root, chmod 0440 for files, 0755 for folders)",
		"sudoers %s writable by an account other than root",
		S_ISDIR(st->st_mode) ? "folder" : "file");
}

static bool add_rule_line(sudoers_tree *tree, const char *file,
			  unsigned line, const char *principal, size_t length)
{
	sudoers_rule_line *grown;

	grown = reallocarray(tree->lines, tree->count + 1, sizeof(*grown));
	if (grown == NULL)
		return false;
	tree->lines = grown;
	grown[tree->count].file = strdup(file);
	grown[tree->count].principal = strndup(principal, length);
	grown[tree->count].line = line;
	tree->count++;
	return grown[tree->count - 1].file != NULL &&
	       grown[tree->count - 1].principal != NULL;
}

static bool starts_with_word(const char *text, const char *word)
{
	size_t length = strlen(word);
	char next = text[length];

	return strncmp(text, word, length) == 0 &&
	       !(next == '_' || (next >= 'a' && next <= 'z') ||
		 (next >= 'A' && next <= 'Z') || (next >= '0' && next <= '9'));
}

/* Copies the path argument of an include directive into word: quoted, or
 * a bare word in which a backslash escapes the next character (sudo 1.9.1
 * and later). Returns false when it is empty or too long. */
static bool include_word(const char *argument, char *word, size_t word_len)
{
	size_t length = 0;
	bool quoted;

	argument += strspn(argument, " \t");
	quoted = argument[0] == '"';
	argument += quoted;

	for (const char *p = argument; *p != '\0'; p++) {
		if (quoted ? *p == '"' : (*p == ' ' || *p == '\t'))
			break;
		if (!quoted && *p == '\\' && p[1] != '\0')
			p++;
		if (length + 1 >= word_len)
			return false;
		word[length++] = *p;
	}
	word[length] = '\0';
	return length > 0;
}

/* Returns the include path of a directive as a new string, relative to the
 * including file's folder, with %h as the short host name, as sudo 1.9
 * does. */
static char *include_path(const char *argument, const char *file)
{
	char word[4096], host[256] = "", *dot, *path = NULL, *percent;

	if (!include_word(argument, word, sizeof(word)))
		return NULL;

	percent = strstr(word, "%h");
	if (percent != NULL) {
		gethostname(host, sizeof(host) - 1);
		dot = strchr(host, '.');
		if (dot != NULL)
			*dot = '\0';
		if (strlen(word) + strlen(host) >= sizeof(word))
			return NULL;
		memmove(percent + strlen(host), percent + 2, strlen(percent + 2) + 1);
		memcpy(percent, host, strlen(host));
	}

	if (word[0] == '/')
		return strdup(word);
	dot = strrchr(file, '/');
	if (asprintf(&path, "%.*s/%s", (int)(dot != NULL ? dot - file : 0), file,
		     word) < 0)
		return NULL;
	return path;
}

static void walk_file(inventory *inv, sudoers_tree *tree, const char *path,
		      unsigned depth);

/* sudo reads the files of an included folder in name order, skipping
 * names that end in '~' or contain a '.', and anything but regular files. */
static int include_filter(const struct dirent *entry)
{
	size_t length = strlen(entry->d_name);

	return strchr(entry->d_name, '.') == NULL && length > 0 &&
	       entry->d_name[length - 1] != '~';
}

static void walk_folder(inventory *inv, sudoers_tree *tree, const char *dir,
			unsigned depth)
{
	struct dirent **entries = NULL;
	struct stat st;
	int count;

	if (stat(dir, &st) == 0)
		check_writable(inv, dir, &st);

	count = scandir(dir, &entries, include_filter, alphasort);
	if (count < 0) {
		if (errno != ENOENT) {
			char evidence[1024];

			snprintf(evidence, sizeof(evidence), "%s: %s", dir, strerror(errno));
			inv_add(inv, INV_HIGH, INV_HOST, "sudoers", evidence,
				"run jitctl inventory as root: an unread source can hide standing privilege",
				"cannot read %s", dir);
			tree->complete = false;
		}
		return;
	}

	for (int i = 0; i < count; i++) {
		char *path = NULL;

		if (asprintf(&path, "%s/%s", dir, entries[i]->d_name) < 0) {
			inv->out_of_memory = true;
		} else if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			walk_file(inv, tree, path, depth + 1);
		}
		free(path);
		free(entries[i]);
	}
	free(entries);
}

static void follow_include(inventory *inv, sudoers_tree *tree,
			   const char *file, const char *line, unsigned depth)
{
	bool is_dir = starts_with_word(line + 1, "includedir");
	const char *argument = line + 1 + strlen(is_dir ? "includedir" : "include");
	char *path = include_path(argument, file);

	/* An empty or overlong path is a syntax error, which cvtsudoers
	 * reports. */
	if (path == NULL)
		return;
	if (is_dir)
		walk_folder(inv, tree, path, depth);
	else
		walk_file(inv, tree, path, depth + 1);
	free(path);
}

/* Records where a rule starts: its first user list item as written. */
static void scan_line(inventory *inv, sudoers_tree *tree, const char *file,
		      char *line, unsigned number, unsigned depth)
{
	line += strspn(line, " \t");

	if ((line[0] == '@' || line[0] == '#') &&
	    (starts_with_word(line + 1, "include") ||
	     starts_with_word(line + 1, "includedir"))) {
		follow_include(inv, tree, file, line, depth);
		return;
	}
	/* "#" starts a comment, except "#1000", a user id. */
	if ((line[0] == '#' && !(line[1] >= '0' && line[1] <= '9')) || line[0] == '\0')
		return;
	for (size_t i = 0; i < sizeof(non_rule_words) / sizeof(non_rule_words[0]); i++)
		if (starts_with_word(line, non_rule_words[i]))
			return;

	if (!add_rule_line(tree, file, number, line, strcspn(line, " \t,")))
		inv->out_of_memory = true;
}

/* Joins lines ending in a backslash, as sudoers does, and hands over each
 * logical line with the number of its first line. */
static void scan_text(inventory *inv, sudoers_tree *tree, const char *file,
		      char *text, size_t length, unsigned depth)
{
	char *cursor = text, *end = text + length, *line;
	unsigned number = 0;

	while ((line = inv_next_line(&cursor, end)) != NULL) {
		unsigned first = ++number;
		size_t line_length = strlen(line);

		/* Pull continuation lines up over the cut newline. */
		while (line_length > 0 && line[line_length - 1] == '\\' &&
		       cursor < end) {
			char *next = inv_next_line(&cursor, end);

			number++;
			line[line_length - 1] = ' ';
			memmove(line + line_length, next, strlen(next) + 1);
			line_length = strlen(line);
		}
		scan_line(inv, tree, file, line, first, depth);
	}
}

static void walk_file(inventory *inv, sudoers_tree *tree, const char *path,
		      unsigned depth)
{
	char *text = NULL;
	size_t length;
	struct stat st;

	if (depth > INCLUDE_DEPTH_MAX) {
		inv_add(inv, INV_HIGH, INV_HOST, "sudoers", path,
			"remove the include loop; sudo stops at the same depth",
			"sudoers includes nest deeper than %d", INCLUDE_DEPTH_MAX);
		tree->complete = false;
		return;
	}

	switch (inv_read_file(inv, path, "sudoers", &text, &length)) {
	case INV_READ_OK:
		break;
	case INV_READ_MISSING:
		return;
	case INV_READ_FAILED:
		tree->complete = false;
		return;
	}
	if (depth == 0)
		tree->present = true;

	if (stat(path, &st) == 0)
		check_writable(inv, path, &st);
	scan_text(inv, tree, path, text, length, depth);
	free(text);
}

void inv_sudoers_tree_read(inventory *inv, const char *path,
			   sudoers_tree *tree)
{
	tree->complete = true;
	walk_file(inv, tree, path, 0);
}

void inv_sudoers_tree_clear(sudoers_tree *tree)
{
	for (size_t i = 0; i < tree->count; i++) {
		free(tree->lines[i].file);
		free(tree->lines[i].principal);
	}
	free(tree->lines);
	tree->lines = NULL;
	tree->count = 0;
}

size_t inv_sudoers_tree_find(const sudoers_tree *tree, const char *principal,
			     const sudoers_rule_line **found)
{
	size_t matches = 0;

	*found = NULL;
	for (size_t i = 0; i < tree->count; i++) {
		if (strcmp(tree->lines[i].principal, principal) != 0)
			continue;
		if (matches++ == 0)
			*found = &tree->lines[i];
	}
	return matches;
}
