/* Package ownership of files through dpkg-query -S, run once per batch of
 * paths. Setuid binaries and polkit rules that a package installed are the
 * distribution's defaults, and the others were added on this host. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "inventory.h"

#define DPKG_QUERY "/usr/bin/dpkg-query"
/* Paths per run, well below the kernel's limit on arguments. */
#define DPKG_BATCH 200
#define DPKG_TIMEOUT_MS 60000
#define DPKG_OUTPUT_MAX (4 * 1024 * 1024)

/* On a merged-/usr system /bin is a symlink to usr/bin, but a package may
 * list its files under either name (Debian 12's login lists /bin/su, which
 * the scan finds as /usr/bin/su), so both names are asked. */
static const char *const merged_dirs[] = {
	"bin", "sbin", "lib", "lib32", "lib64", "libx32",
};

typedef struct query {
	char *path;
	size_t index;    /* into the caller's paths */
} query;

static bool is_merged(const char *dir)
{
	char top[16], target[32], expected[32];
	ssize_t n;

	snprintf(top, sizeof(top), "/%s", dir);
	snprintf(expected, sizeof(expected), "usr/%s", dir);
	n = readlink(top, target, sizeof(target) - 1);
	if (n < 0)
		return false;
	target[n] = '\0';
	return strcmp(target[0] == '/' ? target + 1 : target, expected) == 0;
}

/* Returns the other name of path under merged /usr, or NULL. */
static char *merged_alias(const char *path)
{
	for (size_t i = 0; i < sizeof(merged_dirs) / sizeof(merged_dirs[0]); i++) {
		char usr_prefix[24], top_prefix[24];
		char *alias = NULL;

		snprintf(usr_prefix, sizeof(usr_prefix), "/usr/%s/", merged_dirs[i]);
		snprintf(top_prefix, sizeof(top_prefix), "/%s/", merged_dirs[i]);

		if (strncmp(path, usr_prefix, strlen(usr_prefix)) == 0) {
			if (is_merged(merged_dirs[i]))
				alias = strdup(path + 4);
			return alias;
		}
		if (strncmp(path, top_prefix, strlen(top_prefix)) == 0) {
			if (is_merged(merged_dirs[i]) && asprintf(&alias, "/usr%s", path) < 0)
				alias = NULL;
			return alias;
		}
	}
	return NULL;
}

/* dpkg-query takes shell patterns; a path with pattern characters or
 * control characters cannot be asked for literally. */
static bool is_literal(const char *path)
{
	for (const char *p = path; *p != '\0'; p++)
		if (strchr("*?[\\", *p) != NULL || (unsigned char)*p < 0x20)
			return false;
	return path[0] == '/';
}

static bool add_query(query *queries, size_t *count, char *path, size_t index)
{
	if (path == NULL)
		return false;
	queries[*count].path = path;
	queries[*count].index = index;
	(*count)++;
	return true;
}

/* Lines are "pkg[, pkg]: /path" or "diversion by pkg from|to: /path". */
static void mark_owned(char *out, size_t out_len, const query *queries,
		       size_t count, bool *owned)
{
	char *cursor = out, *line;

	while ((line = inv_next_line(&cursor, out + out_len)) != NULL) {
		char *path = strstr(line, ": ");

		if (path == NULL)
			continue;
		path += 2;
		for (size_t i = 0; i < count; i++)
			if (strcmp(queries[i].path, path) == 0)
				owned[queries[i].index] = true;
	}
}

static bool run_batch(inventory *inv, const query *queries, size_t count,
		      bool *owned)
{
	const char **argv = calloc(count + 3, sizeof(*argv));
	inv_child child;
	char why[256], evidence[512];
	bool ok = false;

	if (argv == NULL) {
		inv->out_of_memory = true;
		return false;
	}
	argv[0] = DPKG_QUERY;
	argv[1] = "-S";
	for (size_t i = 0; i < count; i++)
		argv[i + 2] = queries[i].path;

	if (inv_run(argv, DPKG_OUTPUT_MAX, DPKG_TIMEOUT_MS, &child, why,
		    sizeof(why)) < 0) {
		inv_add(inv, INV_HIGH, INV_HOST, "packages", why,
			"check that dpkg-query works, then run jitctl inventory again",
			"cannot ask the package database");
		goto out;
	}

	/* 1 means that some path belongs to no package, which is a result too. */
	if (child.status != 0 && child.status != 1) {
		snprintf(evidence, sizeof(evidence), "%s -S: exit status %d: %s",
			 DPKG_QUERY, child.status, child.err);
		inv_add(inv, INV_HIGH, INV_HOST, "packages", evidence,
			"check that dpkg-query works, then run jitctl inventory again",
			"cannot ask the package database");
		inv_child_clear(&child);
		goto out;
	}

	mark_owned(child.out, child.out_len, queries, count, owned);
	inv_child_clear(&child);
	ok = true;
out:
	free(argv);
	return ok;
}

static bool flush_batch(inventory *inv, query *queries, size_t *queued,
			bool *owned)
{
	bool ok = *queued == 0 || run_batch(inv, queries, *queued, owned);

	while (*queued > 0)
		free(queries[--*queued].path);
	return ok;
}

static bool ask_dpkg(inventory *inv, const char *const *paths, size_t count,
		     bool *owned, query *queries)
{
	size_t queued = 0;

	for (size_t i = 0; i < count; i++) {
		if (!is_literal(paths[i]))
			continue;
		if (!add_query(queries, &queued, strdup(paths[i]), i)) {
			inv->out_of_memory = true;
			while (queued > 0)
				free(queries[--queued].path);
			return false;
		}
		add_query(queries, &queued, merged_alias(paths[i]), i);

		if (queued + 2 > DPKG_BATCH && !flush_batch(inv, queries, &queued, owned))
			return false;
	}
	return flush_batch(inv, queries, &queued, owned);
}

bool inv_packaged(inventory *inv, const char *const *paths, size_t count,
		  bool *owned)
{
	query *queries;
	bool ok;

	for (size_t i = 0; i < count; i++)
		owned[i] = false;
	if (count == 0)
		return true;
	if (inv->packages_failed)
		return false;

	if (access(DPKG_QUERY, X_OK) < 0) {
		inv_add(inv, INV_INFO, INV_HOST, "packages",
			DPKG_QUERY " is missing, so every setuid binary and polkit rule is reported",
			"install dpkg, or review the listed files by hand",
			"package database not available");
		inv->packages_failed = true;
		return false;
	}

	queries = calloc(DPKG_BATCH, sizeof(*queries));
	if (queries == NULL) {
		inv->out_of_memory = true;
		return false;
	}
	ok = ask_dpkg(inv, paths, count, owned, queries);
	free(queries);
	if (!ok)
		inv->packages_failed = true;
	return ok;
}
