/* The credential cache. One root-only file per invoking user and terminal,
 * "<uid>-tty<device number in hex>" or "<uid>-notty", in the configured
 * timestamp folder. A file contains one line:
 *
 *   jit-ts1 <grant id hex> <authentication time, ms since the epoch> <sid>
 *
 * It counts only for the grant it names, while younger than the configured
 * timeout, and never past that grant's not_after. On a terminal it also
 * counts only for the session that authenticated, so a later login that
 * gets the same pseudo-terminal does not inherit it. */
#include "plugin.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TIMESTAMP_TAG "jit-ts1"
#define TIMESTAMP_FILE_MAX 256

static bool timestamp_name(const struct plugin *p, char *name, size_t len)
{
	struct stat st;

	if (p->user.tty[0] == '\0') {
		snprintf(name, len, "%u-notty", (unsigned)p->user.uid);
		return true;
	}

	/* Without the terminal's device number there is no safe key. */
	if (stat(p->user.tty, &st) != 0 || !S_ISCHR(st.st_mode))
		return false;
	snprintf(name, len, "%u-tty%llx", (unsigned)p->user.uid,
		 (unsigned long long)st.st_rdev);
	return true;
}

static jit_err make_parents(const char *dir, jit_error *error)
{
	char path[4096];
	size_t len = strlen(dir);

	if (dir[0] != '/' || len >= sizeof(path))
		return jit_error_set(error, JIT_ERR_CONFIG,
				     "timestamp_dir must be an absolute path: '%.256s'",
				     dir);

	memcpy(path, dir, len + 1);
	for (char *slash = strchr(path + 1, '/'); slash != NULL;
	     slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		if (mkdir(path, 0755) == 0) {
			/* sudo keeps the caller's group id, but root's
			 * folder gets root's group. */
			if (chown(path, 0, 0) != 0)
				return jit_error_set(error, JIT_ERR_IO,
						     "cannot set the owner of %.256s: %s",
						     path, strerror(errno));
		} else if (errno != EEXIST) {
			return jit_error_set(error, JIT_ERR_IO,
					     "cannot create folder %.256s: %s",
					     path, strerror(errno));
		}
		*slash = '/';
	}
	return JIT_OK;
}

/* Opens the timestamp folder, creating it (mode 0700) when create is set.
 * A folder not owned by root or writable by others is never used. */
static jit_err timestamp_dir_open(const char *dir, bool create, int *dir_fd,
				  jit_error *error)
{
	bool created = false;
	struct stat st;
	jit_err r;
	int fd;

	*dir_fd = -1;

	if (create) {
		r = make_parents(dir, error);
		if (r != JIT_OK)
			return r;
		if (mkdir(dir, 0700) == 0)
			created = true;
		else if (errno != EEXIST)
			return jit_error_set(error, JIT_ERR_IO,
					     "cannot create folder %.256s: %s",
					     dir, strerror(errno));
	}

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return jit_error_set(error, JIT_ERR_IO, "cannot open folder %.256s: %s",
				     dir, strerror(errno));

	/* mkdir's mode went through the umask and its group is the caller's:
	 * set both exactly. */
	if (created && (fchown(fd, 0, 0) != 0 || fchmod(fd, 0700) != 0)) {
		r = jit_error_set(error, JIT_ERR_IO,
				  "cannot set the owner and mode of %.256s: %s",
				  dir, strerror(errno));
		close(fd);
		return r;
	}

	if (fstat(fd, &st) != 0 || st.st_uid != 0 || (st.st_mode & 022) != 0) {
		close(fd);
		return jit_error_set(error, JIT_ERR_UNSAFE_FILE,
				     "timestamp folder %.256s is not owned by root or is writable by others",
				     dir);
	}

	*dir_fd = fd;
	return JIT_OK;
}

static bool read_timestamp(int dir_fd, const char *name, char *text,
			   size_t text_len)
{
	struct stat st;
	ssize_t got;
	int fd;

	fd = openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return false;

	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != 0 ||
	    (st.st_mode & 077) != 0 || st.st_size >= (off_t)text_len) {
		close(fd);
		return false;
	}

	got = read(fd, text, text_len - 1);
	close(fd);
	if (got <= 0)
		return false;
	text[got] = '\0';
	return true;
}

bool timestamp_is_valid(const struct plugin *p, const jit_config *config,
			const uint8_t grant_id[JIT_GRANT_ID_LEN],
			int64_t not_after, int64_t now_ms)
{
	char name[64], text[TIMESTAMP_FILE_MAX];
	char expected_id[JIT_GRANT_ID_HEX_LEN + 1];
	char stored_id[JIT_GRANT_ID_HEX_LEN + 1];
	int64_t auth_ms;
	int sid, end = 0, dir_fd;
	bool found;

	if (config->timestamp_timeout <= 0 || config->timestamp_dir == NULL ||
	    !timestamp_name(p, name, sizeof(name)))
		return false;

	if (timestamp_dir_open(config->timestamp_dir, false, &dir_fd,
			       NULL) != JIT_OK)
		return false;
	found = read_timestamp(dir_fd, name, text, sizeof(text));
	close(dir_fd);
	if (!found)
		return false;

	if (sscanf(text, TIMESTAMP_TAG " %32[0-9a-f] %" SCNd64 " %d%n",
		   stored_id, &auth_ms, &sid, &end) != 3 ||
	    strcmp(text + end, "\n") != 0)
		return false;

	jit_grant_id_format(grant_id, expected_id);
	if (strcmp(stored_id, expected_id) != 0)
		return false;
	if (p->user.tty[0] != '\0' && sid != (int)p->user.sid)
		return false;

	/* A clock that went back makes the file's age unknown: not valid. */
	return auth_ms <= now_ms &&
	       now_ms - auth_ms < config->timestamp_timeout * 1000 &&
	       now_ms < not_after * 1000;
}

static jit_err write_file_at(int dir_fd, const char *name, const char *text,
			     jit_error *error)
{
	char temp[96];
	size_t len = strlen(text);
	jit_err r;
	int fd;

	snprintf(temp, sizeof(temp), "%s.%ld.tmp", name, (long)getpid());
	fd = openat(dir_fd, temp,
		    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return jit_error_set(error, JIT_ERR_IO,
				     "cannot create timestamp file %s: %s",
				     temp, strerror(errno));

	if (fchown(fd, 0, 0) != 0 || fchmod(fd, 0600) != 0 ||
	    write(fd, text, len) != (ssize_t)len) {
		r = jit_error_set(error, JIT_ERR_IO,
				  "cannot write timestamp file %s: %s",
				  temp, strerror(errno));
		close(fd);
		goto fail;
	}
	if (close(fd) != 0) {
		r = jit_error_set(error, JIT_ERR_IO,
				  "cannot write timestamp file %s: %s",
				  temp, strerror(errno));
		goto fail;
	}

	if (renameat(dir_fd, temp, dir_fd, name) != 0) {
		r = jit_error_set(error, JIT_ERR_IO,
				  "cannot rename timestamp file %s: %s",
				  temp, strerror(errno));
		goto fail;
	}
	return JIT_OK;

fail:
	unlinkat(dir_fd, temp, 0);
	return r;
}

jit_err timestamp_write(const struct plugin *p, const jit_config *config,
			const uint8_t grant_id[JIT_GRANT_ID_LEN],
			int64_t now_ms, jit_error *error)
{
	char name[64], text[TIMESTAMP_FILE_MAX];
	char id[JIT_GRANT_ID_HEX_LEN + 1];
	jit_err r;
	int dir_fd;

	if (config->timestamp_timeout <= 0 || config->timestamp_dir == NULL)
		return JIT_OK;
	if (!timestamp_name(p, name, sizeof(name)))
		return jit_error_set(error, JIT_ERR_IO,
				     "cannot identify the terminal %.256s",
				     p->user.tty);

	r = timestamp_dir_open(config->timestamp_dir, true, &dir_fd, error);
	if (r != JIT_OK)
		return r;

	jit_grant_id_format(grant_id, id);
	snprintf(text, sizeof(text), TIMESTAMP_TAG " %s %" PRId64 " %d\n", id,
		 now_ms, p->user.tty[0] != '\0' ? (int)p->user.sid : 0);
	r = write_file_at(dir_fd, name, text, error);
	close(dir_fd);
	return r;
}

jit_err timestamp_remove_all(const struct plugin *p, const jit_config *config,
			     jit_error *error)
{
	char prefix[32];
	size_t prefix_len;
	struct dirent *entry;
	jit_err r = JIT_OK;
	DIR *dir;
	int dir_fd;

	if (config->timestamp_dir == NULL)
		return JIT_OK;

	dir_fd = open(config->timestamp_dir,
		      O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dir_fd < 0) {
		if (errno == ENOENT)
			return JIT_OK;
		return jit_error_set(error, JIT_ERR_IO, "cannot open folder %.256s: %s",
				     config->timestamp_dir, strerror(errno));
	}

	dir = fdopendir(dir_fd);
	if (dir == NULL) {
		close(dir_fd);
		return jit_error_set(error, JIT_ERR_IO, "cannot read folder %.256s: %s",
				     config->timestamp_dir, strerror(errno));
	}

	/* The '-' ends the uid, so uid 10 never removes uid 100's files. */
	prefix_len = (size_t)snprintf(prefix, sizeof(prefix), "%u-",
				      (unsigned)p->user.uid);
	while ((entry = readdir(dir)) != NULL) {
		if (strncmp(entry->d_name, prefix, prefix_len) != 0)
			continue;
		if (unlinkat(dirfd(dir), entry->d_name, 0) != 0 && errno != ENOENT)
			r = jit_error_set(error, JIT_ERR_IO,
					  "cannot remove timestamp file %.256s: %s",
					  entry->d_name, strerror(errno));
	}
	closedir(dir);
	return r;
}
