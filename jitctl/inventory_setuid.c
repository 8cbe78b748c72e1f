/* Setuid, setgid and file-capability binaries that no package installed:
 * each lets whoever runs it act with privilege that no grant controls.
 *
 * The scan walks the folders below, without following symlinks or crossing
 * into other file systems, so a binary on a separate mount below them (an
 * NFS home, a container's layers) is not seen unless the mount is one of
 * the folders itself. */
#include <errno.h>
#include <fts.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/stat.h>

#include "inventory.h"

static char *const scan_roots[] = {
	"/usr", "/bin", "/sbin", "/lib", "/lib64", "/opt", "/srv", "/etc",
	"/home", "/root", "/boot", "/tmp", "/var/tmp", "/var/local",
	"/var/opt", NULL,
};

/* Entries visited before the scan stops, so that a huge tree cannot make
 * the inventory run without end. */
#define SCAN_ENTRIES_MAX 5000000

/* Capabilities that lead to root: reading or writing any file, changing
 * ids, or loading code into the kernel or other processes. */
static const cap_value_t root_capabilities[] = {
	CAP_SYS_ADMIN, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_SETUID,
	CAP_SETGID, CAP_SYS_PTRACE, CAP_SYS_MODULE, CAP_CHOWN, CAP_FOWNER,
	CAP_SYS_RAWIO, CAP_SETFCAP, CAP_MKNOD, CAP_SYS_CHROOT, CAP_BPF,
};

typedef struct privileged_file {
	char *path;
	mode_t mode;
	uid_t uid;
	gid_t gid;
	char *capabilities;     /* cap_to_text form, or NULL */
	bool root_capability;
} privileged_file;

typedef struct scan_result {
	privileged_file *files;
	size_t count;
	size_t unreadable;      /* folders the walk could not enter */
	char first_unreadable[512];
	bool stopped;           /* SCAN_ENTRIES_MAX reached */
} scan_result;

static bool read_capabilities(const char *path, privileged_file *file)
{
	cap_t caps = cap_get_file(path);
	char *text;

	if (caps == NULL)
		return true;   /* none, or no xattr support: nothing granted */

	for (size_t i = 0; i < sizeof(root_capabilities) / sizeof(root_capabilities[0]); i++) {
		cap_flag_value_t value = CAP_CLEAR;

		if (cap_get_flag(caps, root_capabilities[i], CAP_PERMITTED, &value) == 0 &&
		    value == CAP_SET)
			file->root_capability = true;
	}
	text = cap_to_text(caps, NULL);
	cap_free(caps);
	if (text == NULL)
		return false;
	file->capabilities = strdup(text);
	cap_free(text);
	return file->capabilities != NULL;
}

static bool add_file(scan_result *result, const FTSENT *entry)
{
	privileged_file file = {
		.mode = entry->fts_statp->st_mode,
		.uid = entry->fts_statp->st_uid,
		.gid = entry->fts_statp->st_gid,
	};
	privileged_file *grown;

	/* Capabilities act only on exec, so files nobody can execute are
	 * not asked for them, which saves a getxattr per data file. */
	if ((file.mode & 0111) != 0 && !read_capabilities(entry->fts_accpath, &file))
		return false;
	if ((file.mode & (S_ISUID | S_ISGID)) == 0 && file.capabilities == NULL)
		return true;

	file.path = strdup(entry->fts_path);
	grown = reallocarray(result->files, result->count + 1, sizeof(*grown));
	if (file.path == NULL || grown == NULL) {
		free(file.path);
		free(file.capabilities);
		return false;
	}
	result->files = grown;
	result->files[result->count++] = file;
	return true;
}

static void note_unreadable(scan_result *result, const FTSENT *entry)
{
	if (result->unreadable++ == 0)
		snprintf(result->first_unreadable, sizeof(result->first_unreadable),
			 "%s: %s", entry->fts_path, strerror(entry->fts_errno));
}

static bool walk_roots(scan_result *result)
{
	FTS *fts = fts_open(scan_roots, FTS_PHYSICAL | FTS_XDEV | FTS_NOCHDIR, NULL);
	size_t visited = 0;
	FTSENT *entry;
	bool ok = true;

	if (fts == NULL)
		return false;

	while (ok && (entry = fts_read(fts)) != NULL) {
		if (++visited > SCAN_ENTRIES_MAX) {
			result->stopped = true;
			break;
		}
		switch (entry->fts_info) {
		case FTS_F:
			ok = add_file(result, entry);
			break;
		case FTS_DNR:
		case FTS_ERR:
			/* A missing root folder is no finding. */
			if (!(entry->fts_level == 0 && entry->fts_errno == ENOENT))
				note_unreadable(result, entry);
			break;
		case FTS_NS:
			if (entry->fts_errno != ENOENT)
				note_unreadable(result, entry);
			break;
		default:
			break;
		}
	}
	fts_close(fts);
	return ok;
}

static const char *account_name(const inventory *inv, uid_t uid, char *out,
				size_t out_len)
{
	for (size_t i = 0; i < inv->account_count; i++)
		if (inv->accounts[i].uid == uid)
			return inv->accounts[i].name;
	snprintf(out, out_len, "uid %u", (unsigned)uid);
	return out;
}

static const char *group_name(const inventory *inv, gid_t gid, char *out,
			      size_t out_len)
{
	for (size_t i = 0; i < inv->group_count; i++)
		if (inv->groups[i].gid == gid)
			return inv->groups[i].name;
	snprintf(out, out_len, "gid %u", (unsigned)gid);
	return out;
}

static void report_file(inventory *inv, const privileged_file *file)
{
	char owner_buffer[32], group_buffer[32], evidence[1024], suggestion[1024];
	const char *owner = account_name(inv, file->uid, owner_buffer, sizeof(owner_buffer));
	const char *group = group_name(inv, file->gid, group_buffer, sizeof(group_buffer));

	snprintf(evidence, sizeof(evidence), "%s: mode %04o owner %s group %s%s%s",
		 file->path, (unsigned)(file->mode & 07777), owner, group,
		 file->capabilities != NULL ? " capabilities " : "",
		 file->capabilities != NULL ? file->capabilities : "");
	snprintf(suggestion, sizeof(suggestion),
		 "remove the privilege (%s %s) and give the users who need the program a role with commands = %s",
		 file->capabilities != NULL ? "setcap -r" : "chmod u-s,g-s",
		 file->path, file->path);

	if (file->mode & S_ISUID)
		inv_add(inv, file->uid == 0 ? INV_HIGH : INV_MEDIUM, INV_HOST, "setuid",
			evidence, suggestion, "setuid %s binary outside the distribution's packages",
			owner);
	else if (file->mode & S_ISGID)
		inv_add(inv, INV_MEDIUM, INV_HOST, "setuid", evidence, suggestion,
			"setgid %s binary outside the distribution's packages", group);

	if (file->capabilities != NULL)
		inv_add(inv, file->root_capability ? INV_HIGH : INV_MEDIUM, INV_HOST,
			"setuid", evidence, suggestion,
			"binary with file capabilities outside the distribution's packages");
}

static void report_scan_limits(inventory *inv, const scan_result *result)
{
	char evidence[768];

	if (result->unreadable > 0) {
		snprintf(evidence, sizeof(evidence), "%zu folders, the first %s",
			 result->unreadable, result->first_unreadable);
		inv_add(inv, INV_HIGH, INV_HOST, "setuid", evidence,
			"run jitctl inventory as root: an unread folder can hide a setuid binary",
			"cannot read every folder of the setuid scan");
	}
	if (result->stopped) {
		snprintf(evidence, sizeof(evidence), "more than %d entries", SCAN_ENTRIES_MAX);
		inv_add(inv, INV_HIGH, INV_HOST, "setuid", evidence,
			"look for setuid binaries by hand (find / -xdev -perm /6000)",
			"setuid scan stopped before its end");
	}
}

void inv_scan_setuid(inventory *inv)
{
	scan_result result = { .count = 0 };
	const char **paths = NULL;
	bool *owned = NULL;

	if (!walk_roots(&result))
		inv->out_of_memory = true;
	report_scan_limits(inv, &result);
	if (result.count == 0)
		goto out;

	paths = calloc(result.count, sizeof(*paths));
	owned = calloc(result.count, sizeof(*owned));
	if (paths == NULL || owned == NULL) {
		inv->out_of_memory = true;
		goto out;
	}
	for (size_t i = 0; i < result.count; i++)
		paths[i] = result.files[i].path;

	/* Without the package database every file is reported. */
	inv_packaged(inv, paths, result.count, owned);
	for (size_t i = 0; i < result.count; i++)
		if (!owned[i])
			report_file(inv, &result.files[i]);
out:
	for (size_t i = 0; i < result.count; i++) {
		free(result.files[i].path);
		free(result.files[i].capabilities);
	}
	free(result.files);
	free(paths);
	free(owned);
}
