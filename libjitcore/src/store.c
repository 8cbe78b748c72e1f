/* The LMDB store: signed grant blobs, their user and expiry indexes, and
 * revocations. This file and store_requests.c are the only ones that
 * include lmdb.h, and every LMDB result code becomes a jit_err in
 * store_error(). */
#include "jit/store.h"
#include "jit/chain.h"
#include "store_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <lmdb.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

/* grants, by_user, by_expiry, revocations, sessions, requests, reviews,
 * chain, chain_meta and checkpoints, with room for more: opening one past the limit fails with MDB_DBS_FULL. */
#define STORE_MAX_DBS 16
#define STORE_USER_MAX 255
#define STORE_EXPIRY_KEY_LEN (8 + JIT_GRANT_ID_LEN)
#define STORE_MAX_FDS 8
#define STORE_WHAT_MAX 160
#define STORE_NOT_INITIALISED "is not initialised: run jitctl init"
#define STORE_NEEDS_ROOT \
	"the store can only be read as root: run this as root"

enum { STORE_DATA_FILE, STORE_LOCK_FILE, STORE_FILE_COUNT };

static const char *const store_file_names[STORE_FILE_COUNT] = {
	[STORE_DATA_FILE] = "data.mdb",
	[STORE_LOCK_FILE] = "lock.mdb",
};

struct jit_store {
	MDB_env *env;
	MDB_dbi grants;
	MDB_dbi by_user;
	MDB_dbi by_expiry;
	MDB_dbi revocations;
	jit_store_mode mode;
	pid_t pid;
	char *dir;
	/* Descriptors the environment has open, closed by hand when a forked
	 * child drops an inherited handle (see jit_store_close). */
	int fds[STORE_MAX_FDS];
	size_t fd_count;
};

/* A write transaction with a sticky error: after the first failure every
 * operation is a no-op, and store_write_end aborts instead of committing,
 * so a sequence of changes is written straight and never half-applied. */
typedef struct store_write {
	MDB_txn *txn;
	int rc;
} store_write;

typedef struct grant_list {
	jit_stored_grant *items;
	size_t count;
	size_t capacity;
} grant_list;

typedef struct reaped_grant {
	uint8_t id[JIT_GRANT_ID_LEN];
	char *user;
	int64_t not_after;
} reaped_grant;

typedef struct reap_batch {
	reaped_grant *items;
	size_t count;
	size_t capacity;
	size_t visited;
	bool more;
} reap_batch;

/* Turns an LMDB or errno result into a jit_err whose message names what
 * failed and the store folder. */
static jit_err store_error(const char *dir, int rc, jit_error *error,
			   const char *format, ...)
	__attribute__((format(printf, 4, 5)));

static jit_err store_error(const char *dir, int rc, jit_error *error,
			   const char *format, ...)
{
	char what[STORE_WHAT_MAX];
	va_list ap;

	va_start(ap, format);
	vsnprintf(what, sizeof(what), format, ap);
	va_end(ap);

	switch (rc) {
	case MDB_MAP_FULL:
		return jit_error_set(error, JIT_ERR_STORE_FULL,
				     "store full: %s in %s failed: run jitctl reap or raise the map size",
				     what, dir);
	case MDB_READERS_FULL:
		return jit_error_set(error, JIT_ERR_READERS_FULL,
				     "%s in %s failed: the reader table is full even after clearing stale readers",
				     what, dir);
	case MDB_NOTFOUND:
		return jit_error_set(error, JIT_ERR_NOT_FOUND,
				     "%s in %s failed: not found", what, dir);
	case MDB_KEYEXIST:
		return jit_error_set(error, JIT_ERR_EXISTS,
				     "%s in %s failed: already stored", what, dir);
	case ENOMEM:
		return jit_error_set(error, JIT_ERR_NOMEM,
				     "%s in %s failed: out of memory", what, dir);
	case EACCES:
	case EPERM:
		return jit_error_set(error, JIT_ERR_PERMISSION,
				     "%s in %s failed: %s", what, dir,
				     STORE_NEEDS_ROOT);
	default:
		return jit_error_set(error, JIT_ERR_STORE,
				     "%s in %s failed: %s", what, dir,
				     mdb_strerror(rc));
	}
}

static void format_id(const uint8_t id[JIT_GRANT_ID_LEN],
		      char hex[JIT_GRANT_ID_HEX_LEN + 1])
{
	sodium_bin2hex(hex, JIT_GRANT_ID_HEX_LEN + 1, id, JIT_GRANT_ID_LEN);
}

static void put_be16(uint8_t *out, uint16_t value)
{
	out[0] = (uint8_t)(value >> 8);
	out[1] = (uint8_t)value;
}

static uint16_t get_be16(const uint8_t *in)
{
	return (uint16_t)((unsigned)in[0] << 8 | in[1]);
}

static void put_be64(uint8_t *out, uint64_t value)
{
	for (int i = 7; i >= 0; i--) {
		out[i] = (uint8_t)value;
		value >>= 8;
	}
}

static uint64_t get_be64(const uint8_t *in)
{
	uint64_t value = 0;

	for (int i = 0; i < 8; i++)
		value = value << 8 | in[i];
	return value;
}

static MDB_val make_val(const void *data, size_t size)
{
	MDB_val val = { .mv_size = size, .mv_data = (void *)data };

	return val;
}

bool jit_store_fs_is_network(long f_type, const char **name)
{
	static const struct {
		uint32_t magic;
		const char *name;
	} network_fs[] = {
		{ NFS_SUPER_MAGIC, "nfs" },
		{ SMB_SUPER_MAGIC, "smb" },
		{ SMB2_SUPER_MAGIC, "smb2" },
		{ CIFS_SUPER_MAGIC, "cifs" },
		{ CEPH_SUPER_MAGIC, "ceph" },
		{ AFS_SUPER_MAGIC, "afs" },
		{ AFS_FS_MAGIC, "afs" },
		{ CODA_SUPER_MAGIC, "coda" },
		{ V9FS_MAGIC, "9p" },
		{ NCP_SUPER_MAGIC, "ncp" },
	};
	/* Magic numbers are 32 bits, and f_type is a signed 32-bit value on
	 * some architectures. */
	uint32_t magic = (uint32_t)f_type;

	if (name != NULL)
		*name = NULL;

	for (size_t i = 0; i < sizeof(network_fs) / sizeof(network_fs[0]); i++) {
		if (network_fs[i].magic != magic)
			continue;
		if (name != NULL)
			*name = network_fs[i].name;
		return true;
	}
	return false;
}

/* Checks the store folder: it must exist, be a directory owned by root,
 * not writable by group or others, and not on a network file system (LMDB
 * locking and shared memory maps do not work there). */
static jit_err check_folder(const char *dir, jit_error *error)
{
	struct statfs fs;
	struct stat st;
	const char *fs_name;
	jit_err r;
	int fd;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return jit_error_set(error, JIT_ERR_NOT_FOUND,
					     "store %s does not exist: run jitctl init",
					     dir);
		if (errno == EACCES || errno == EPERM)
			return jit_error_set(error, JIT_ERR_PERMISSION,
					     "opening store %s failed: %s",
					     dir, STORE_NEEDS_ROOT);
		if (errno == ENOTDIR)
			return jit_error_set(error, JIT_ERR_UNSAFE_FILE,
					     "store %s is not a directory", dir);
		return jit_error_set(error, JIT_ERR_IO,
				     "opening store %s failed: %s",
				     dir, strerror(errno));
	}

	if (fstat(fd, &st) < 0 || fstatfs(fd, &fs) < 0) {
		r = jit_error_set(error, JIT_ERR_IO,
				  "checking store %s failed: %s",
				  dir, strerror(errno));
		goto out;
	}

	r = JIT_ERR_UNSAFE_FILE;
	if (st.st_uid != 0)
		jit_error_set(error, r, "store %s is owned by uid %lu, not root",
			      dir, (unsigned long)st.st_uid);
	else if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
		jit_error_set(error, r,
			      "store %s has mode %04o: it must not be writable by group or others",
			      dir, (unsigned)(st.st_mode & 07777));
	else if (jit_store_fs_is_network((long)fs.f_type, &fs_name))
		r = jit_error_set(error, JIT_ERR_NETWORK_FS,
				  "store %s is on a network file system (%s); keep it on a local disk",
				  dir, fs_name);
	else
		r = JIT_OK;
out:
	close(fd);
	return r;
}

static jit_err check_store_file(const char *path, const struct stat *st,
				jit_error *error)
{
	if (!S_ISREG(st->st_mode))
		return jit_error_set(error, JIT_ERR_UNSAFE_FILE,
				     "store file %s is not a regular file",
				     path);
	if (st->st_uid != 0)
		return jit_error_set(error, JIT_ERR_UNSAFE_FILE,
				     "store file %s is owned by uid %lu, not root",
				     path, (unsigned long)st->st_uid);
	if ((st->st_mode & (S_IWGRP | S_IWOTH)) != 0)
		return jit_error_set(error, JIT_ERR_UNSAFE_FILE,
				     "store file %s has mode %04o: it must not be writable by group or others",
				     path, (unsigned)(st->st_mode & 07777));
	return JIT_OK;
}

static jit_err open_file_error(const char *dir, const char *path,
			       jit_store_mode mode, jit_error *error)
{
	if (errno == ENOENT && mode == JIT_STORE_READ)
		return jit_error_set(error, JIT_ERR_NOT_FOUND,
				     "store %s " STORE_NOT_INITIALISED, dir);
	if (errno == EACCES || errno == EPERM)
		return jit_error_set(error, JIT_ERR_PERMISSION,
				     "opening %s failed: %s", path,
				     STORE_NEEDS_ROOT);
	if (errno == ELOOP)
		return jit_error_set(error, JIT_ERR_UNSAFE_FILE,
				     "store file %s is a symbolic link", path);
	return jit_error_set(error, JIT_ERR_IO, "opening %s failed: %s",
			     path, strerror(errno));
}

/* Opens one store file before LMDB does. A write open creates it and sets
 * mode 0600 itself, so the result never depends on the umask. A read open
 * creates nothing, because LMDB would otherwise create lock.mdb even in
 * read-only mode. O_NONBLOCK keeps a FIFO planted in the folder from
 * blocking the open. st receives the file's identity, which is used to find
 * LMDB's descriptors. */
static jit_err prepare_file(const char *dir, int which, jit_store_mode mode,
			    struct stat *st, jit_error *error)
{
	char path[PATH_MAX];
	jit_err r = JIT_OK;
	int flags = O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK;
	int fd;

	if (snprintf(path, sizeof(path), "%s/%s", dir,
		     store_file_names[which]) >= (int)sizeof(path))
		return jit_error_set(error, JIT_ERR_TOO_LARGE,
				     "store folder name %.64s... is too long", dir);

	/* LMDB opens the lock file read-write even for readers. */
	if (mode == JIT_STORE_WRITE)
		flags |= O_RDWR | O_CREAT;
	else
		flags |= which == STORE_LOCK_FILE ? O_RDWR : O_RDONLY;

	fd = open(path, flags, 0600);
	if (fd < 0)
		return open_file_error(dir, path, mode, error);

	if (mode == JIT_STORE_WRITE && fchmod(fd, 0600) < 0)
		r = jit_error_set(error, JIT_ERR_IO, "setting mode 0600 on %s failed: %s",
				  path, strerror(errno));
	else if (fstat(fd, st) < 0)
		r = jit_error_set(error, JIT_ERR_IO, "checking %s failed: %s",
				  path, strerror(errno));
	else
		r = check_store_file(path, st, error);

	if (r == JIT_OK && mode == JIT_STORE_READ && which == STORE_DATA_FILE &&
	    st->st_size == 0)
		r = jit_error_set(error, JIT_ERR_NOT_FOUND,
				  "store %s " STORE_NOT_INITIALISED, dir);

	/* Closing is safe here: no LMDB lock is held by this process yet. */
	close(fd);
	return r;
}

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

static void remember_fd(jit_store *store, int fd)
{
	for (size_t i = 0; i < store->fd_count; i++)
		if (store->fds[i] == fd)
			return;
	if (store->fd_count < STORE_MAX_FDS)
		store->fds[store->fd_count++] = fd;
}

static jit_err set_cloexec(jit_store *store, int fd, jit_error *error)
{
	int flags = fcntl(fd, F_GETFD);

	if (flags < 0 || fcntl(fd, F_SETFD, flags | FD_CLOEXEC) < 0)
		return jit_error_set(error, JIT_ERR_IO,
				     "marking descriptor %d of store %s close-on-exec failed: %s",
				     fd, store->dir, strerror(errno));
	remember_fd(store, fd);
	return JIT_OK;
}

/* Marks every descriptor the environment has open close-on-exec. LMDB
 * 0.9.24 leaves the data file's descriptor inheritable on purpose, and
 * mdb_env_get_fd exists so a forked child can close it. It opens the others
 * with O_CLOEXEC, but they are found and marked too so that no LMDB version
 * is trusted on this. Without /proc only the data descriptor is found. */
static jit_err mark_store_fds(jit_store *store,
			      const struct stat files[STORE_FILE_COUNT],
			      jit_error *error)
{
	struct dirent *entry;
	mdb_filehandle_t data_fd;
	jit_err r;
	DIR *fds;
	int rc;

	rc = mdb_env_get_fd(store->env, &data_fd);
	if (rc != 0)
		return store_error(store->dir, rc, error, "opening the store");
	r = set_cloexec(store, data_fd, error);
	if (r != JIT_OK)
		return r;

	fds = opendir("/proc/self/fd");
	if (fds == NULL)
		return JIT_OK;

	while (r == JIT_OK && (entry = readdir(fds)) != NULL) {
		struct stat st;
		int fd = atoi(entry->d_name);

		if (entry->d_name[0] == '.' || fd == dirfd(fds) ||
		    fstat(fd, &st) < 0)
			continue;
		if (same_file(&st, &files[STORE_DATA_FILE]) ||
		    same_file(&st, &files[STORE_LOCK_FILE]))
			r = set_cloexec(store, fd, error);
	}

	closedir(fds);
	return r;
}

/* Begins a transaction, sweeping stale reader slots and retrying once when
 * the reader table is full, and adopting a map another process grew. */
static int store_txn_begin(jit_store *store, unsigned int flags,
			   MDB_txn **txn)
{
	int dead = 0;
	int rc;

	rc = mdb_txn_begin(store->env, NULL, flags, txn);
	if (rc == MDB_READERS_FULL) {
		/* Readers killed inside a transaction keep their slot until
		 * someone checks whether their process is still alive. */
		(void)mdb_reader_check(store->env, &dead);
		rc = mdb_txn_begin(store->env, NULL, flags, txn);
	} else if (rc == MDB_MAP_RESIZED) {
		rc = mdb_env_set_mapsize(store->env, 0);
		if (rc == 0)
			rc = mdb_txn_begin(store->env, NULL, flags, txn);
	}
	return rc;
}

static int open_dbis(jit_store *store, MDB_txn *txn)
{
	unsigned int create = store->mode == JIT_STORE_WRITE ? MDB_CREATE : 0;
	int rc;

	rc = mdb_dbi_open(txn, "grants", create, &store->grants);
	if (rc == 0)
		rc = mdb_dbi_open(txn, "by_user", create | MDB_DUPSORT,
				  &store->by_user);
	if (rc == 0)
		rc = mdb_dbi_open(txn, "by_expiry", create, &store->by_expiry);
	if (rc == 0)
		rc = mdb_dbi_open(txn, "revocations", create,
				  &store->revocations);
	return rc;
}

/* Opens the named databases. In read mode they must already exist: a
 * store that was never created is reported, not created. */
static jit_err store_open_dbis(jit_store *store, jit_error *error)
{
	unsigned int flags = store->mode == JIT_STORE_READ ? MDB_RDONLY : 0;
	MDB_txn *txn = NULL;
	int rc;

	rc = store_txn_begin(store, flags, &txn);
	if (rc != 0)
		return store_error(store->dir, rc, error, "opening the store");

	rc = open_dbis(store, txn);
	if (rc != 0) {
		mdb_txn_abort(txn);
		if (rc == MDB_NOTFOUND)
			return jit_error_set(error, JIT_ERR_NOT_FOUND,
					     "store %s " STORE_NOT_INITIALISED,
					     store->dir);
		return store_error(store->dir, rc, error,
				   "opening the databases");
	}

	/* Committing keeps the handles open for later transactions. */
	rc = mdb_txn_commit(txn);
	if (rc != 0)
		return store_error(store->dir, rc, error,
				   "opening the databases");
	return JIT_OK;
}

static jit_err store_open_env(jit_store *store, size_t map_size,
			      const struct stat files[STORE_FILE_COUNT],
			      jit_error *error)
{
	unsigned int flags = MDB_NOTLS;
	int dead = 0;
	jit_err r;
	int rc;

	if (store->mode == JIT_STORE_READ)
		flags |= MDB_RDONLY;

	rc = mdb_env_create(&store->env);
	if (rc != 0)
		return store_error(store->dir, rc, error, "opening the store");

	rc = mdb_env_set_maxdbs(store->env, STORE_MAX_DBS);
	if (rc == 0)
		rc = mdb_env_set_mapsize(store->env, map_size);
	if (rc == 0)
		rc = mdb_env_open(store->env, store->dir, flags, 0600);
	if (rc != 0)
		return store_error(store->dir, rc, error, "opening the store");

	r = mark_store_fds(store, files, error);
	if (r != JIT_OK)
		return r;

	rc = mdb_reader_check(store->env, &dead);
	if (rc != 0)
		return store_error(store->dir, rc, error,
				   "clearing stale readers");
	return JIT_OK;
}

jit_err jit_store_open_sized(const char *dir, jit_store_mode mode,
			     size_t map_size, jit_store **store,
			     jit_error *error)
{
	struct stat files[STORE_FILE_COUNT];
	jit_store *s = NULL;
	jit_err r;

	if (store != NULL)
		*store = NULL;
	if (dir == NULL || dir[0] == '\0' || store == NULL || map_size == 0 ||
	    (mode != JIT_STORE_READ && mode != JIT_STORE_WRITE))
		return jit_error_set(error, JIT_ERR_INVALID,
				     "opening the store failed: invalid argument");

	r = check_folder(dir, error);
	if (r != JIT_OK)
		return r;

	for (int i = 0; i < STORE_FILE_COUNT; i++) {
		r = prepare_file(dir, i, mode, &files[i], error);
		if (r != JIT_OK)
			return r;
	}

	r = JIT_ERR_NOMEM;
	s = calloc(1, sizeof(*s));
	if (s == NULL || (s->dir = strdup(dir)) == NULL) {
		jit_error_set(error, r, "opening store %s failed: out of memory", dir);
		goto out;
	}
	s->mode = mode;
	s->pid = getpid();

	r = store_open_env(s, map_size, files, error);
	if (r == JIT_OK)
		r = store_open_dbis(s, error);
	if (r != JIT_OK)
		goto out;

	*store = s;
	s = NULL;
out:
	jit_store_close(s);
	return r;
}

jit_err jit_store_open(const char *dir, jit_store_mode mode, jit_store **store,
		       jit_error *error)
{
	return jit_store_open_sized(dir, mode, JIT_STORE_MAP_SIZE, store, error);
}

void jit_store_close(jit_store *store)
{
	if (store == NULL)
		return;

	if (store->env != NULL && store->pid == getpid()) {
		mdb_env_close(store->env);
	} else if (store->env != NULL) {
		/* An inherited handle in a forked child: mdb_env_close would
		 * clear the reader slots registered under the parent's pid.
		 * Closing the descriptors is safe because the child holds no
		 * locks. NOTE: the environment's memory and mappings stay
		 * until the child exits or execs. */
		for (size_t i = 0; i < store->fd_count; i++)
			close(store->fds[i]);
	}

	free(store->dir);
	free(store);
}

/* Makes dir a root-owned folder with mode 0700, set explicitly so that the
 * umask does not matter. */
static jit_err prepare_folder(const char *dir, jit_error *error)
{
	struct stat st;
	jit_err r;
	int fd;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return jit_error_set(error,
				     errno == ENOENT ? JIT_ERR_NOT_FOUND : JIT_ERR_IO,
				     "creating store %s failed: %s", dir,
				     strerror(errno));

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return jit_error_set(error,
				     errno == ENOTDIR ? JIT_ERR_UNSAFE_FILE : JIT_ERR_IO,
				     "opening store %s failed: %s", dir,
				     strerror(errno));

	if (fstat(fd, &st) < 0)
		r = jit_error_set(error, JIT_ERR_IO, "checking store %s failed: %s",
				  dir, strerror(errno));
	else if (st.st_uid != 0)
		r = jit_error_set(error, JIT_ERR_UNSAFE_FILE,
				  "store %s is owned by uid %lu, not root",
				  dir, (unsigned long)st.st_uid);
	else if (fchmod(fd, 0700) < 0)
		r = jit_error_set(error, JIT_ERR_IO,
				  "setting mode 0700 on store %s failed: %s",
				  dir, strerror(errno));
	else
		r = JIT_OK;

	close(fd);
	return r;
}

jit_err jit_store_create(const char *dir, jit_error *error)
{
	jit_store *store = NULL;
	jit_err r;

	if (dir == NULL || dir[0] == '\0')
		return jit_error_set(error, JIT_ERR_INVALID,
				     "creating the store failed: no folder given");

	r = prepare_folder(dir, error);
	if (r != JIT_OK)
		return r;

	/* A write open creates the files and the named databases. */
	r = jit_store_open(dir, JIT_STORE_WRITE, &store, error);
	jit_store_close(store);
	return r;
}

/* Rejects a handle used in another process than the one that opened it,
 * because an LMDB environment must not be used across fork(). */
static jit_err check_handle(const jit_store *store, bool write,
			    jit_error *error)
{
	if (store == NULL)
		return jit_error_set(error, JIT_ERR_INVALID,
				     "using the store failed: no store handle");
	if (store->pid != getpid())
		return jit_error_set(error, JIT_ERR_STORE,
				     "using store %s failed: the handle was opened by process %ld before fork(); open the store again",
				     store->dir, (long)store->pid);
	if (write && store->mode != JIT_STORE_WRITE)
		return jit_error_set(error, JIT_ERR_INVALID,
				     "changing store %s failed: it was opened read-only",
				     store->dir);
	return JIT_OK;
}

static void store_write_begin(store_write *w, jit_store *store)
{
	w->txn = NULL;
	w->rc = store_txn_begin(store, 0, &w->txn);
}

static void store_write_put(store_write *w, MDB_dbi dbi, MDB_val key,
			    MDB_val data, unsigned int flags)
{
	if (w->rc == 0)
		w->rc = mdb_put(w->txn, dbi, &key, &data, flags);
}

/* Deletes key (or only the key/data pair when data is given). What is
 * already gone is not an error: another reaper or a torn index may have
 * removed it. Returns whether something was deleted. */
static bool store_write_del(store_write *w, MDB_dbi dbi, MDB_val key,
			    const MDB_val *data)
{
	int rc;

	if (w->rc != 0)
		return false;
	rc = mdb_del(w->txn, dbi, &key, (MDB_val *)data);
	if (rc != 0 && rc != MDB_NOTFOUND)
		w->rc = rc;
	return rc == 0;
}

/* Commits when every step succeeded and aborts otherwise. Returns the first
 * error. */
static int store_write_end(store_write *w)
{
	int rc = w->rc;

	if (w->txn == NULL)
		return rc;
	if (rc == 0)
		rc = mdb_txn_commit(w->txn);
	else
		mdb_txn_abort(w->txn);
	w->txn = NULL;
	return rc;
}

static jit_err check_user(const jit_store *store, const char *user,
			  jit_error *error)
{
	size_t len = user != NULL ? strlen(user) : 0;

	if (len == 0 || len > STORE_USER_MAX)
		return jit_error_set(error, JIT_ERR_INVALID,
				     "invalid user name for store %s: it must be 1 to %d bytes",
				     store->dir, STORE_USER_MAX);
	return JIT_OK;
}

static void make_expiry_key(uint8_t key[STORE_EXPIRY_KEY_LEN],
			    int64_t not_after,
			    const uint8_t id[JIT_GRANT_ID_LEN])
{
	put_be64(key, (uint64_t)not_after);
	memcpy(key + 8, id, JIT_GRANT_ID_LEN);
}

static jit_err check_put_args(jit_store *store, const uint8_t *id,
			      const char *user, int64_t not_after,
			      const uint8_t *blob, size_t blob_len,
			      jit_error *error)
{
	jit_err r;

	r = check_handle(store, true, error);
	if (r == JIT_OK)
		r = check_user(store, user, error);
	if (r != JIT_OK)
		return r;

	if (id == NULL || blob == NULL || blob_len == 0)
		return jit_error_set(error, JIT_ERR_INVALID,
				     "storing a grant in %s failed: missing id or blob",
				     store->dir);
	if (blob_len > JIT_GRANT_MAX_BLOB)
		return jit_error_set(error, JIT_ERR_TOO_LARGE,
				     "storing a grant in %s failed: %zu bytes, over the limit of %d",
				     store->dir, blob_len, JIT_GRANT_MAX_BLOB);
	/* The expiry index sorts the unsigned value, so a negative time would
	 * sort after every real one and never be reaped. */
	if (not_after < 0)
		return jit_error_set(error, JIT_ERR_RANGE,
				     "storing a grant in %s failed: not-after %lld is before 1970",
				     store->dir, (long long)not_after);
	return JIT_OK;
}

/* Writes a grant blob and its index entries into w's transaction. */
static void put_grant_entries(store_write *w, jit_store *store,
			      const uint8_t *id, const char *user,
			      int64_t not_after, const uint8_t *blob,
			      size_t blob_len)
{
	uint8_t expiry_key[STORE_EXPIRY_KEY_LEN];
	MDB_val id_val = make_val(id, JIT_GRANT_ID_LEN);
	MDB_val user_val = make_val(user, strlen(user));

	make_expiry_key(expiry_key, not_after, id);
	store_write_put(w, store->grants, id_val, make_val(blob, blob_len),
			MDB_NOOVERWRITE);
	store_write_put(w, store->by_user, user_val, id_val, MDB_NODUPDATA);
	store_write_put(w, store->by_expiry,
			make_val(expiry_key, sizeof(expiry_key)), user_val, 0);
}

jit_err jit_store_put_grant(jit_store *store, const uint8_t id[JIT_GRANT_ID_LEN],
			    const char *user, int64_t not_after,
			    const uint8_t *blob, size_t blob_len,
			    jit_error *error)
{
	return jit_store_put_grant_with_evidence(store, id, user, not_after,
						 blob, blob_len, NULL, error);
}

jit_err jit_store_put_grant_with_evidence(jit_store *store,
					  const uint8_t id[JIT_GRANT_ID_LEN],
					  const char *user, int64_t not_after,
					  const uint8_t *blob, size_t blob_len,
					  const jit_chain_event *ev,
					  jit_error *error)
{
	char hex[JIT_GRANT_ID_HEX_LEN + 1];
	store_write w;
	jit_err r;
	int rc;

	r = check_put_args(store, id, user, not_after, blob, blob_len, error);
	if (r != JIT_OK)
		return r;

	store_write_begin(&w, store);
	put_grant_entries(&w, store, id, user, not_after, blob, blob_len);
	if (w.rc == 0)
		w.rc = jit_store__evidence_grant(store, w.txn, id, user, ev);
	rc = store_write_end(&w);
	if (rc == 0)
		return JIT_OK;

	format_id(id, hex);
	if (rc == EINVAL)
		return jit_error_set(error, JIT_ERR_INVALID,
				     "storing grant %s failed: its evidence record is invalid",
				     hex);
	return store_error(store->dir, rc, error, "storing grant %s", hex);
}

/* ------------------------------------------------------------------------
 * The internal interface of store_internal.h, for store_requests.c.
 */

int jit_store__txn_begin(jit_store *store, unsigned int flags, MDB_txn **txn)
{
	return store_txn_begin(store, flags, txn);
}

jit_err jit_store__check_handle(const jit_store *store, bool write,
				jit_error *error)
{
	return check_handle(store, write, error);
}

jit_err jit_store__error(const jit_store *store, int rc, jit_error *error,
			 const char *what)
{
	return store_error(store->dir, rc, error, "%s", what);
}

const char *jit_store__dir(const jit_store *store)
{
	return store->dir;
}

jit_err jit_store__check_grant(jit_store *store, const uint8_t *id,
			       const char *user, int64_t not_after,
			       const uint8_t *blob, size_t blob_len,
			       jit_error *error)
{
	return check_put_args(store, id, user, not_after, blob, blob_len, error);
}

int jit_store__put_grant_txn(jit_store *store, MDB_txn *txn,
			     const uint8_t *id, const char *user,
			     int64_t not_after, const uint8_t *blob,
			     size_t blob_len)
{
	store_write w = { .txn = txn, .rc = 0 };

	put_grant_entries(&w, store, id, user, not_after, blob, blob_len);
	return w.rc;
}

MDB_dbi jit_store__grants_dbi(const jit_store *store)
{
	return store->grants;
}

static jit_err store_read_begin(jit_store *store, MDB_txn **txn,
				jit_error *error)
{
	int rc;

	*txn = NULL;
	rc = store_txn_begin(store, MDB_RDONLY, txn);
	if (rc != 0)
		return store_error(store->dir, rc, error,
				   "starting a read transaction");
	return JIT_OK;
}

/* Copies one grant out of the map (pointers into it die with the
 * transaction) and looks up its revocation. Any lookup error fails: a
 * grant whose revocation state is unknown must not be used. */
static jit_err copy_grant(jit_store *store, MDB_txn *txn, const MDB_val *id,
			  const MDB_val *blob, jit_stored_grant *out,
			  jit_error *error)
{
	MDB_val key = *id, val;
	int rc;

	memset(out, 0, sizeof(*out));

	rc = mdb_get(txn, store->revocations, &key, &val);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return store_error(store->dir, rc, error,
				   "reading a revocation");

	/* A zero-length blob is copied as such (and rejected when parsed). */
	out->blob = malloc(blob->mv_size > 0 ? blob->mv_size : 1);
	if (out->blob == NULL)
		return jit_error_set(error, JIT_ERR_NOMEM,
				     "copying a grant from %s failed: out of memory",
				     store->dir);
	memcpy(out->blob, blob->mv_data, blob->mv_size);
	out->blob_len = blob->mv_size;
	memcpy(out->id, id->mv_data, JIT_GRANT_ID_LEN);
	out->revoked = rc == 0;
	return JIT_OK;
}

void jit_stored_grant_clear(jit_stored_grant *grant)
{
	if (grant == NULL)
		return;
	free(grant->blob);
	memset(grant, 0, sizeof(*grant));
}

void jit_stored_grants_free(jit_stored_grant *grants, size_t count)
{
	if (grants == NULL)
		return;
	for (size_t i = 0; i < count; i++)
		free(grants[i].blob);
	free(grants);
}

jit_err jit_store_get_grant(jit_store *store, const uint8_t id[JIT_GRANT_ID_LEN],
			    jit_stored_grant *grant, jit_error *error)
{
	char hex[JIT_GRANT_ID_HEX_LEN + 1];
	MDB_val key, blob;
	MDB_txn *txn = NULL;
	jit_err r;
	int rc;

	if (grant != NULL)
		memset(grant, 0, sizeof(*grant));
	r = check_handle(store, false, error);
	if (r != JIT_OK)
		return r;
	if (id == NULL || grant == NULL)
		return jit_error_set(error, JIT_ERR_INVALID,
				     "reading a grant from %s failed: invalid argument",
				     store->dir);

	r = store_read_begin(store, &txn, error);
	if (r != JIT_OK)
		return r;

	key = make_val(id, JIT_GRANT_ID_LEN);
	rc = mdb_get(txn, store->grants, &key, &blob);
	if (rc == 0) {
		r = copy_grant(store, txn, &key, &blob, grant, error);
	} else {
		format_id(id, hex);
		r = store_error(store->dir, rc, error, "reading grant %s", hex);
	}

	mdb_txn_abort(txn);
	return r;
}

static jit_err grant_list_reserve(grant_list *list, const char *dir,
				  jit_error *error)
{
	jit_stored_grant *items;
	size_t capacity;

	if (list->count < list->capacity)
		return JIT_OK;

	capacity = list->capacity == 0 ? 8 : list->capacity * 2;
	items = reallocarray(list->items, capacity, sizeof(*items));
	if (items == NULL)
		return jit_error_set(error, JIT_ERR_NOMEM,
				     "loading grants from %s failed: out of memory",
				     dir);
	list->items = items;
	list->capacity = capacity;
	return JIT_OK;
}

/* One walk over the grants indexed under a user. */
typedef struct user_walk {
	const char *user;
	size_t max_grants;
	size_t seen;
	jit_grant_visit_fn visit;
	void *context;
	bool stop;
} user_walk;

/* Passes the grant named by id to the visitor. An index entry that is not
 * a grant id, or whose grant is gone, is skipped because it allows
 * nothing. */
static jit_err walk_entry(jit_store *store, MDB_txn *txn, const MDB_val *id,
			  user_walk *walk, jit_error *error)
{
	jit_stored_grant grant;
	MDB_val key = *id, blob;
	jit_err r;
	int rc;

	if (id->mv_size != JIT_GRANT_ID_LEN)
		return JIT_OK;

	rc = mdb_get(txn, store->grants, &key, &blob);
	if (rc == MDB_NOTFOUND)
		return JIT_OK;
	if (rc != 0)
		return store_error(store->dir, rc, error, "reading a grant");

	if (walk->seen == walk->max_grants)
		return jit_error_set(error, JIT_ERR_TOO_LARGE,
				     "reading grants of user %.64s from %s failed: more than %zu stored",
				     walk->user, store->dir, walk->max_grants);
	walk->seen++;

	r = copy_grant(store, txn, id, &blob, &grant, error);
	if (r == JIT_OK)
		r = walk->visit(&grant, &walk->stop, walk->context, error);
	jit_stored_grant_clear(&grant);
	return r;
}

static jit_err walk_user_entries(jit_store *store, MDB_txn *txn,
				 user_walk *walk, jit_error *error)
{
	MDB_cursor *cursor = NULL;
	MDB_val key = make_val(walk->user, strlen(walk->user)), id;
	jit_err r = JIT_OK;
	int rc;

	rc = mdb_cursor_open(txn, store->by_user, &cursor);
	if (rc != 0)
		return store_error(store->dir, rc, error,
				   "reading grants of user %.64s", walk->user);

	rc = mdb_cursor_get(cursor, &key, &id, MDB_SET);
	while (rc == 0 && !walk->stop) {
		r = walk_entry(store, txn, &id, walk, error);
		if (r != JIT_OK)
			break;

		rc = mdb_cursor_get(cursor, &key, &id, MDB_NEXT_DUP);
	}

	if (r == JIT_OK && !walk->stop && rc != MDB_NOTFOUND)
		r = store_error(store->dir, rc, error,
				"reading grants of user %.64s", walk->user);
	mdb_cursor_close(cursor);
	return r;
}

jit_err jit_store_visit_user(jit_store *store, const char *user,
			     size_t max_grants, jit_grant_visit_fn visit,
			     void *context, jit_error *error)
{
	user_walk walk = { 0 };
	MDB_txn *txn = NULL;
	jit_err r;

	r = check_handle(store, false, error);
	if (r == JIT_OK)
		r = check_user(store, user, error);
	if (r != JIT_OK)
		return r;
	if (visit == NULL)
		return jit_error_set(error, JIT_ERR_INVALID,
				     "reading grants from %s failed: invalid argument",
				     store->dir);

	r = store_read_begin(store, &txn, error);
	if (r != JIT_OK)
		return r;

	walk.user = user;
	walk.max_grants = max_grants;
	walk.visit = visit;
	walk.context = context;
	r = walk_user_entries(store, txn, &walk, error);
	mdb_txn_abort(txn);
	return r;
}

/* Moves each visited grant into the list. */
typedef struct grant_collector {
	grant_list list;
	const char *dir;
} grant_collector;

static jit_err collect_grant(jit_stored_grant *grant, bool *stop,
			     void *context, jit_error *error)
{
	grant_collector *collector = context;
	jit_err r;

	(void)stop;
	r = grant_list_reserve(&collector->list, collector->dir, error);
	if (r != JIT_OK)
		return r;

	collector->list.items[collector->list.count++] = *grant;
	memset(grant, 0, sizeof(*grant));
	return JIT_OK;
}

jit_err jit_store_load_user(jit_store *store, const char *user,
			    size_t max_grants, jit_stored_grant **grants,
			    size_t *count, jit_error *error)
{
	grant_collector collector = { 0 };
	jit_err r;

	if (grants != NULL)
		*grants = NULL;
	if (count != NULL)
		*count = 0;
	r = check_handle(store, false, error);
	if (r != JIT_OK)
		return r;
	if (grants == NULL || count == NULL)
		return jit_error_set(error, JIT_ERR_INVALID,
				     "reading grants from %s failed: invalid argument",
				     store->dir);

	collector.dir = store->dir;
	r = jit_store_visit_user(store, user, max_grants, collect_grant,
				 &collector, error);
	if (r != JIT_OK) {
		jit_stored_grants_free(collector.list.items,
				       collector.list.count);
		return r;
	}

	*grants = collector.list.items;
	*count = collector.list.count;
	return JIT_OK;
}

static jit_err load_all_entries(jit_store *store, MDB_txn *txn,
				grant_list *list, jit_error *error)
{
	MDB_cursor *cursor = NULL;
	MDB_val key, blob;
	jit_err r = JIT_OK;
	int rc;

	rc = mdb_cursor_open(txn, store->grants, &cursor);
	if (rc != 0)
		return store_error(store->dir, rc, error, "listing grants");

	rc = mdb_cursor_get(cursor, &key, &blob, MDB_FIRST);
	while (rc == 0) {
		if (key.mv_size == JIT_GRANT_ID_LEN) {
			r = grant_list_reserve(list, store->dir, error);
			if (r == JIT_OK)
				r = copy_grant(store, txn, &key, &blob,
					       &list->items[list->count], error);
			if (r != JIT_OK)
				break;
			list->count++;
		}
		rc = mdb_cursor_get(cursor, &key, &blob, MDB_NEXT);
	}

	if (r == JIT_OK && rc != MDB_NOTFOUND)
		r = store_error(store->dir, rc, error, "listing grants");
	mdb_cursor_close(cursor);
	return r;
}

jit_err jit_store_load_all(jit_store *store, jit_stored_grant **grants,
			   size_t *count, jit_error *error)
{
	grant_list list = { 0 };
	MDB_txn *txn = NULL;
	jit_err r;

	if (grants != NULL)
		*grants = NULL;
	if (count != NULL)
		*count = 0;
	r = check_handle(store, false, error);
	if (r != JIT_OK)
		return r;
	if (grants == NULL || count == NULL)
		return jit_error_set(error, JIT_ERR_INVALID,
				     "listing grants in %s failed: invalid argument",
				     store->dir);

	r = store_read_begin(store, &txn, error);
	if (r != JIT_OK)
		return r;

	r = load_all_entries(store, txn, &list, error);
	mdb_txn_abort(txn);
	if (r != JIT_OK) {
		jit_stored_grants_free(list.items, list.count);
		return r;
	}

	*grants = list.items;
	*count = list.count;
	return JIT_OK;
}

void jit_revocation_clear(jit_revocation *revocation)
{
	if (revocation == NULL)
		return;
	free(revocation->actor);
	free(revocation->reason);
	memset(revocation, 0, sizeof(*revocation));
}

/* Encodes a revocation: revoked_at as i64 big-endian, then actor and
 * reason, each as a u16 big-endian length and its bytes. */
static jit_err revocation_encode(const jit_store *store,
				 const jit_revocation *revocation,
				 uint8_t **out, size_t *out_len,
				 jit_error *error)
{
	size_t actor_len, reason_len, len;
	uint8_t *buf, *p;

	*out = NULL;
	if (revocation == NULL || revocation->actor == NULL ||
	    revocation->reason == NULL)
		return jit_error_set(error, JIT_ERR_INVALID,
				     "revoking a grant in %s failed: missing actor or reason",
				     store->dir);

	actor_len = strlen(revocation->actor);
	reason_len = strlen(revocation->reason);
	if (actor_len > UINT16_MAX || reason_len > UINT16_MAX)
		return jit_error_set(error, JIT_ERR_TOO_LARGE,
				     "revoking a grant in %s failed: actor or reason over %d bytes",
				     store->dir, UINT16_MAX);

	len = 8 + 2 + actor_len + 2 + reason_len;
	buf = malloc(len);
	if (buf == NULL)
		return jit_error_set(error, JIT_ERR_NOMEM,
				     "revoking a grant in %s failed: out of memory",
				     store->dir);

	p = buf;
	put_be64(p, (uint64_t)revocation->revoked_at);
	p += 8;
	put_be16(p, (uint16_t)actor_len);
	memcpy(p + 2, revocation->actor, actor_len);
	p += 2 + actor_len;
	put_be16(p, (uint16_t)reason_len);
	memcpy(p + 2, revocation->reason, reason_len);

	*out = buf;
	*out_len = len;
	return JIT_OK;
}

/* Reads one u16-length string at *offset, strictly: it must fit in len and
 * contain no NUL byte. Returns NULL with *malformed set when it does not. */
static char *decode_string(const uint8_t *data, size_t len, size_t *offset,
			   bool *malformed)
{
	size_t n;

	if (len - *offset < 2) {
		*malformed = true;
		return NULL;
	}
	n = get_be16(data + *offset);
	*offset += 2;
	if (len - *offset < n || memchr(data + *offset, '\0', n) != NULL) {
		*malformed = true;
		return NULL;
	}

	*offset += n;
	return strndup((const char *)data + *offset - n, n);
}

static jit_err revocation_decode(const jit_store *store, const MDB_val *val,
				 jit_revocation *revocation, jit_error *error)
{
	const uint8_t *data = val->mv_data;
	jit_revocation decoded = { 0 };
	bool malformed = val->mv_size < 8;
	size_t offset = 8;

	if (!malformed)
		decoded.actor = decode_string(data, val->mv_size, &offset,
					      &malformed);
	if (!malformed)
		decoded.reason = decode_string(data, val->mv_size, &offset,
					       &malformed);

	if (malformed || offset != val->mv_size) {
		jit_revocation_clear(&decoded);
		return jit_error_set(error, JIT_ERR_MALFORMED,
				     "a revocation record in %s is malformed",
				     store->dir);
	}
	if (decoded.actor == NULL || decoded.reason == NULL) {
		jit_revocation_clear(&decoded);
		return jit_error_set(error, JIT_ERR_NOMEM,
				     "reading a revocation from %s failed: out of memory",
				     store->dir);
	}

	decoded.revoked_at = (int64_t)get_be64(data);
	*revocation = decoded;
	return JIT_OK;
}

jit_err jit_store_revoke(jit_store *store, const uint8_t id[JIT_GRANT_ID_LEN],
			 const jit_revocation *revocation, jit_error *error)
{
	return jit_store_revoke_with_evidence(store, id, revocation, NULL,
					      error);
}

jit_err jit_store_revoke_with_evidence(jit_store *store,
				       const uint8_t id[JIT_GRANT_ID_LEN],
				       const jit_revocation *revocation,
				       const jit_chain_event *ev,
				       jit_error *error)
{
	char hex[JIT_GRANT_ID_HEX_LEN + 1];
	uint8_t *record = NULL;
	size_t record_len = 0;
	MDB_val key, blob;
	store_write w;
	jit_err r;
	int rc;

	r = check_handle(store, true, error);
	if (r != JIT_OK)
		return r;
	if (id == NULL)
		return jit_error_set(error, JIT_ERR_INVALID,
				     "revoking a grant in %s failed: no grant id",
				     store->dir);

	r = revocation_encode(store, revocation, &record, &record_len, error);
	if (r != JIT_OK)
		return r;

	key = make_val(id, JIT_GRANT_ID_LEN);
	store_write_begin(&w, store);
	if (w.rc == 0)
		w.rc = mdb_get(w.txn, store->grants, &key, &blob);
	store_write_put(&w, store->revocations, key,
			make_val(record, record_len), MDB_NOOVERWRITE);
	if (w.rc == 0)
		w.rc = jit_store__evidence_revoked(store, w.txn, id, revocation,
						   ev);
	rc = store_write_end(&w);
	free(record);
	if (rc == 0)
		return JIT_OK;

	format_id(id, hex);
	if (rc == EINVAL)
		return jit_error_set(error, JIT_ERR_INVALID,
				     "revoking grant %s failed: its evidence record is invalid",
				     hex);
	if (rc == MDB_NOTFOUND)
		return jit_error_set(error, JIT_ERR_NOT_FOUND,
				     "revoking grant %s failed: it is not in %s",
				     hex, store->dir);
	if (rc == MDB_KEYEXIST)
		return jit_error_set(error, JIT_ERR_EXISTS,
				     "revoking grant %s failed: it is already revoked in %s",
				     hex, store->dir);
	return store_error(store->dir, rc, error, "revoking grant %s", hex);
}

jit_err jit_store_get_revocation(jit_store *store,
				 const uint8_t id[JIT_GRANT_ID_LEN],
				 jit_revocation *revocation, jit_error *error)
{
	char hex[JIT_GRANT_ID_HEX_LEN + 1];
	MDB_txn *txn = NULL;
	MDB_val key, val;
	jit_err r;
	int rc;

	if (revocation != NULL)
		memset(revocation, 0, sizeof(*revocation));
	r = check_handle(store, false, error);
	if (r != JIT_OK)
		return r;
	if (id == NULL || revocation == NULL)
		return jit_error_set(error, JIT_ERR_INVALID,
				     "reading a revocation from %s failed: invalid argument",
				     store->dir);

	r = store_read_begin(store, &txn, error);
	if (r != JIT_OK)
		return r;

	key = make_val(id, JIT_GRANT_ID_LEN);
	rc = mdb_get(txn, store->revocations, &key, &val);
	if (rc == 0) {
		r = revocation_decode(store, &val, revocation, error);
	} else {
		format_id(id, hex);
		r = store_error(store->dir, rc, error,
				"reading the revocation of grant %s", hex);
	}

	mdb_txn_abort(txn);
	return r;
}

static void reap_batch_clear(reap_batch *batch)
{
	for (size_t i = 0; i < batch->count; i++)
		free(batch->items[i].user);
	batch->count = 0;
	batch->visited = 0;
	batch->more = false;
}

static int reap_batch_add(reap_batch *batch, const uint8_t *expiry_key,
			  const MDB_val *user)
{
	reaped_grant *item;

	if (batch->count == batch->capacity) {
		size_t capacity = batch->capacity == 0 ? 16 : batch->capacity * 2;
		reaped_grant *items = reallocarray(batch->items, capacity,
						   sizeof(*items));

		if (items == NULL)
			return ENOMEM;
		batch->items = items;
		batch->capacity = capacity;
	}

	item = &batch->items[batch->count];
	item->user = strndup(user->mv_data, user->mv_size);
	if (item->user == NULL)
		return ENOMEM;
	item->not_after = (int64_t)get_be64(expiry_key);
	memcpy(item->id, expiry_key + 8, JIT_GRANT_ID_LEN);
	batch->count++;
	return 0;
}

/* Removes the grant one expiry entry names, with its user index entry and
 * revocation. The caller deletes the expiry entry itself. The key and user
 * are copied first because they point into a page the deletes may move. A
 * user name of the wrong size cannot name a user index entry, so only the
 * grant and its revocation go then. */
static void reap_entry(jit_store *store, store_write *w, const MDB_val *key,
		       const MDB_val *value, reap_batch *batch)
{
	uint8_t expiry_key[STORE_EXPIRY_KEY_LEN];
	char user[STORE_USER_MAX + 1] = "";
	MDB_val id, user_val;
	bool removed;

	memcpy(expiry_key, key->mv_data, sizeof(expiry_key));
	if (value->mv_size <= STORE_USER_MAX)
		memcpy(user, value->mv_data, value->mv_size);
	user[value->mv_size <= STORE_USER_MAX ? value->mv_size : 0] = '\0';
	id = make_val(expiry_key + 8, JIT_GRANT_ID_LEN);
	user_val = make_val(user, strlen(user));

	removed = store_write_del(w, store->grants, id, NULL);
	if (user_val.mv_size > 0)
		store_write_del(w, store->by_user, user_val, &id);
	store_write_del(w, store->revocations, id, NULL);

	/* Only a grant that was still stored counts as removed, so two
	 * reapers never report the same grant, nor record its removal twice. */
	if (removed && w->rc == 0)
		w->rc = reap_batch_add(batch, expiry_key, &user_val);
	if (removed && w->rc == 0)
		w->rc = jit_store__evidence_removed(store, w->txn, id.mv_data,
						    user,
						    (int64_t)get_be64(expiry_key));
}

/* Walks the expiry index from its start in one write transaction, removing
 * up to batch_size expired entries. Entries are re-read inside the
 * transaction, so what a concurrent reaper already removed is not seen. */
static int reap_one_batch(jit_store *store, int64_t now, size_t batch_size,
			  reap_batch *batch)
{
	MDB_cursor *cursor = NULL;
	MDB_val key, value;
	store_write w;

	store_write_begin(&w, store);
	if (w.rc == 0)
		w.rc = mdb_cursor_open(w.txn, store->by_expiry, &cursor);
	if (w.rc == 0)
		w.rc = mdb_cursor_get(cursor, &key, &value, MDB_FIRST);

	while (w.rc == 0 && batch->visited < batch_size) {
		/* A key of the wrong size is not a valid index entry: drop it. */
		if (key.mv_size == STORE_EXPIRY_KEY_LEN) {
			if ((int64_t)get_be64(key.mv_data) > now)
				break;
			reap_entry(store, &w, &key, &value, batch);
		}
		if (w.rc == 0)
			w.rc = mdb_cursor_del(cursor, 0);
		if (w.rc == 0)
			w.rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT);
		batch->visited++;
	}

	batch->more = w.rc == 0 && batch->visited == batch_size;
	if (w.rc == MDB_NOTFOUND)
		w.rc = 0;
	if (cursor != NULL)
		mdb_cursor_close(cursor);
	return store_write_end(&w);
}

/* Chooses how to retry a batch that found the map full. A delete copies
 * pages too, and LMDB reuses a freed page only once no reader can see it,
 * so in a full map even a reap can fail. Smaller batches are tried first,
 * then the map is grown once by a sixteenth (at least 1 MiB) so the reap
 * can finish and free room. NOTE: LMDB records the larger map size in the
 * store, so a store that keeps filling up grows by that much each time. */
static bool reap_make_room(jit_store *store, size_t *size, size_t batch_size,
			   bool *grown)
{
	const size_t mib = (size_t)1 << 20;
	MDB_envinfo info;
	size_t extra;

	if (*size > 1) {
		*size /= 2;
		return true;
	}
	if (*grown || mdb_env_info(store->env, &info) != 0)
		return false;

	extra = (info.me_mapsize / 16 + mib - 1) / mib * mib;
	if (mdb_env_set_mapsize(store->env, info.me_mapsize + extra) != 0)
		return false;
	*grown = true;
	*size = batch_size;
	return true;
}

jit_err jit_store_reap(jit_store *store, int64_t now, size_t batch_size,
		       jit_reap_fn on_removed, void *context, size_t *removed,
		       jit_error *error)
{
	reap_batch batch = { 0 };
	size_t size = batch_size, total = 0;
	bool grown = false;
	jit_err r;
	int rc;

	/* Set on failure too: batches committed before it stay removed. */
	if (removed != NULL)
		*removed = 0;
	r = check_handle(store, true, error);
	if (r != JIT_OK)
		return r;
	if (batch_size == 0)
		return jit_error_set(error, JIT_ERR_INVALID,
				     "reaping %s failed: batch size is 0",
				     store->dir);

	do {
		reap_batch_clear(&batch);
		rc = reap_one_batch(store, now, size, &batch);
		if (rc == MDB_MAP_FULL &&
		    reap_make_room(store, &size, batch_size, &grown)) {
			batch.more = true;
			continue;
		}
		if (rc != 0)
			break;

		for (size_t i = 0; on_removed != NULL && i < batch.count; i++)
			on_removed(batch.items[i].id, batch.items[i].user,
				   batch.items[i].not_after, context);
		total += batch.count;
		if (removed != NULL)
			*removed = total;
	} while (batch.more);

	reap_batch_clear(&batch);
	free(batch.items);
	if (rc != 0)
		return store_error(store->dir, rc, error,
				   "reaping expired grants (%zu removed before)",
				   total);
	return JIT_OK;
}

/* ------------------------------------------------------------------------
 * Sessions: one record per live session opened through pam_jit.
 *
 * The "sessions" database is opened inside each transaction rather than
 * with the others, so that read-only callers of a store created before it
 * existed still work: to them it is simply empty.
 */

#define SESSIONS_DB "sessions"
#define SESSION_KEY_LEN (JIT_GRANT_ID_LEN + 4 + 8)
#define SESSION_RECORD_VERSION 1
/* version, opened_at_ms, not_after, flags */
#define SESSION_FIXED_LEN (1 + 8 + 8 + 4)
#define SESSION_FLAGS_OFFSET (1 + 8 + 8)
#define SESSION_STRING_COUNT 6

typedef struct session_list {
	jit_session_record *items;
	size_t count;
	size_t capacity;
} session_list;

static void put_be32(uint8_t *out, uint32_t value)
{
	out[0] = (uint8_t)(value >> 24);
	out[1] = (uint8_t)(value >> 16);
	out[2] = (uint8_t)(value >> 8);
	out[3] = (uint8_t)value;
}

static uint32_t get_be32(const uint8_t *in)
{
	return (uint32_t)in[0] << 24 | (uint32_t)in[1] << 16 |
	       (uint32_t)in[2] << 8 | in[3];
}

static void session_key_encode(const jit_session_key *key,
			       uint8_t out[SESSION_KEY_LEN])
{
	memcpy(out, key->grant_id, JIT_GRANT_ID_LEN);
	put_be32(out + JIT_GRANT_ID_LEN, key->leader_pid);
	put_be64(out + JIT_GRANT_ID_LEN + 4, key->leader_start);
}

static void session_key_decode(const uint8_t in[SESSION_KEY_LEN],
			       jit_session_key *key)
{
	memcpy(key->grant_id, in, JIT_GRANT_ID_LEN);
	key->leader_pid = get_be32(in + JIT_GRANT_ID_LEN);
	key->leader_start = get_be64(in + JIT_GRANT_ID_LEN + 4);
}

void jit_session_record_clear(jit_session_record *record)
{
	if (record == NULL)
		return;
	free(record->user);
	free(record->service);
	free(record->rhost);
	free(record->tty);
	free(record->logind_session);
	free(record->cgroup);
	memset(record, 0, sizeof(*record));
}

void jit_session_records_free(jit_session_record *records, size_t count)
{
	if (records == NULL)
		return;
	for (size_t i = 0; i < count; i++)
		jit_session_record_clear(&records[i]);
	free(records);
}

/* The record's strings in their stored order. */
static void session_strings(const jit_session_record *record,
			    const char *strings[SESSION_STRING_COUNT])
{
	strings[0] = record->user;
	strings[1] = record->service;
	strings[2] = record->rhost;
	strings[3] = record->tty;
	strings[4] = record->logind_session;
	strings[5] = record->cgroup;
}

/* Encodes the fixed fields (big-endian), then each string as a u16 length
 * and its bytes. */
static jit_err session_encode(const jit_store *store,
			      const jit_session_record *record,
			      uint8_t **out, size_t *out_len, jit_error *error)
{
	const char *strings[SESSION_STRING_COUNT];
	size_t len = SESSION_FIXED_LEN;
	uint8_t *buf, *p;

	*out = NULL;
	session_strings(record, strings);
	for (int i = 0; i < SESSION_STRING_COUNT; i++) {
		size_t n = strings[i] != NULL ? strlen(strings[i]) : 0;

		if (n > UINT16_MAX)
			return jit_error_set(error, JIT_ERR_TOO_LARGE,
					     "recording a session in %s failed: a field is over %d bytes",
					     store->dir, UINT16_MAX);
		len += 2 + n;
	}

	buf = malloc(len);
	if (buf == NULL)
		return jit_error_set(error, JIT_ERR_NOMEM,
				     "recording a session in %s failed: out of memory",
				     store->dir);

	buf[0] = SESSION_RECORD_VERSION;
	put_be64(buf + 1, (uint64_t)record->opened_at_ms);
	put_be64(buf + 9, (uint64_t)record->not_after);
	put_be32(buf + SESSION_FLAGS_OFFSET, record->flags);
	p = buf + SESSION_FIXED_LEN;
	for (int i = 0; i < SESSION_STRING_COUNT; i++) {
		size_t n = strings[i] != NULL ? strlen(strings[i]) : 0;

		put_be16(p, (uint16_t)n);
		if (n > 0)
			memcpy(p + 2, strings[i], n);
		p += 2 + n;
	}

	*out = buf;
	*out_len = len;
	return JIT_OK;
}

/* Decodes a stored value into record, whose key is already set. Returns
 * false when the value is malformed; record's strings are then NULL. */
static bool session_decode(const MDB_val *val, jit_session_record *record,
			   bool *no_memory)
{
	char **strings[SESSION_STRING_COUNT] = {
		&record->user, &record->service, &record->rhost,
		&record->tty, &record->logind_session, &record->cgroup,
	};
	const uint8_t *data = val->mv_data;
	size_t offset = SESSION_FIXED_LEN;
	bool malformed = false;

	*no_memory = false;
	if (val->mv_size < SESSION_FIXED_LEN || data[0] != SESSION_RECORD_VERSION)
		return false;

	for (int i = 0; i < SESSION_STRING_COUNT && !malformed; i++) {
		*strings[i] = decode_string(data, val->mv_size, &offset,
					    &malformed);
		if (!malformed && *strings[i] == NULL)
			*no_memory = true;
	}
	if (malformed || *no_memory || offset != val->mv_size) {
		for (int i = 0; i < SESSION_STRING_COUNT; i++) {
			free(*strings[i]);
			*strings[i] = NULL;
		}
		return false;
	}

	record->opened_at_ms = (int64_t)get_be64(data + 1);
	record->not_after = (int64_t)get_be64(data + 9);
	record->flags = get_be32(data + SESSION_FLAGS_OFFSET);
	return true;
}

static void session_write_begin(store_write *w, jit_store *store,
				MDB_dbi *dbi)
{
	/* Every sudo call and login writes a session record, so its commit
	 * skips the second of LMDB's two syncs (the meta page). That keeps
	 * the store consistent; a crash may only lose the last commit, and
	 * sessions do not outlive a crash anyway. The handle is this call's
	 * own, so other writes keep both syncs. */
	mdb_env_set_flags(store->env, MDB_NOMETASYNC, 1);
	store_write_begin(w, store);
	if (w->rc == 0)
		w->rc = mdb_dbi_open(w->txn, SESSIONS_DB, MDB_CREATE, dbi);
}

static void format_session(const jit_session_key *key, char *out,
			   size_t out_len)
{
	char hex[JIT_GRANT_ID_HEX_LEN + 1];

	format_id(key->grant_id, hex);
	snprintf(out, out_len, "session of grant %s with leader pid %lu", hex,
		 (unsigned long)key->leader_pid);
}

/* Writes the session record and, when ev is given, its evidence record in
 * one transaction. A record alone skips the meta-page sync (see
 * session_write_begin); with evidence the commit syncs fully. */
static jit_err put_session(jit_store *store, const jit_session_record *record,
			   const jit_chain_event *ev, jit_error *error)
{
	uint8_t key[SESSION_KEY_LEN];
	char what[STORE_WHAT_MAX];
	uint8_t *value = NULL;
	size_t value_len = 0;
	store_write w;
	MDB_dbi dbi;
	jit_err r;
	int rc;

	r = check_handle(store, true, error);
	if (r != JIT_OK)
		return r;
	if (record == NULL)
		return jit_error_set(error, JIT_ERR_INVALID,
				     "recording a session in %s failed: no record",
				     store->dir);

	r = session_encode(store, record, &value, &value_len, error);
	if (r != JIT_OK)
		return r;

	session_key_encode(&record->key, key);
	if (ev == NULL) {
		session_write_begin(&w, store, &dbi);
	} else {
		store_write_begin(&w, store);
		if (w.rc == 0)
			w.rc = mdb_dbi_open(w.txn, SESSIONS_DB, MDB_CREATE, &dbi);
	}
	store_write_put(&w, dbi, make_val(key, sizeof(key)),
			make_val(value, value_len), 0);
	if (w.rc == 0 && ev != NULL)
		w.rc = jit_store__chain_append_txn(store, w.txn, ev);
	rc = store_write_end(&w);
	free(value);
	if (rc == 0)
		return JIT_OK;

	format_session(&record->key, what, sizeof(what));
	if (rc == EINVAL)
		return jit_error_set(error, JIT_ERR_INVALID,
				     "recording the %s in %s failed: its evidence record is invalid",
				     what, store->dir);
	return store_error(store->dir, rc, error, "recording the %s", what);
}

jit_err jit_store_put_session(jit_store *store,
			      const jit_session_record *record,
			      jit_error *error)
{
	return put_session(store, record, NULL, error);
}

jit_err jit_store_put_session_with_evidence(jit_store *store,
					    const jit_session_record *record,
					    const jit_chain_event *ev,
					    jit_error *error)
{
	if (ev == NULL)
		return jit_error_set(error, JIT_ERR_INVALID,
				     "recording a session failed: no evidence record");
	return put_session(store, record, ev, error);
}

jit_err jit_store_delete_session(jit_store *store, const jit_session_key *key,
				 jit_error *error)
{
	uint8_t encoded[SESSION_KEY_LEN];
	char what[STORE_WHAT_MAX];
	store_write w;
	MDB_dbi dbi;
	jit_err r;
	int rc;

	r = check_handle(store, true, error);
	if (r != JIT_OK)
		return r;
	if (key == NULL)
		return jit_error_set(error, JIT_ERR_INVALID,
				     "removing a session from %s failed: no key",
				     store->dir);

	session_key_encode(key, encoded);
	session_write_begin(&w, store, &dbi);
	/* Not store_write_del: here a missing record is the answer. */
	if (w.rc == 0)
		w.rc = mdb_del(w.txn, dbi, &(MDB_val){ sizeof(encoded), encoded },
			       NULL);
	rc = store_write_end(&w);
	if (rc == 0)
		return JIT_OK;

	format_session(key, what, sizeof(what));
	return store_error(store->dir, rc, error, "removing the %s", what);
}

jit_err jit_store_set_session_flags(jit_store *store,
				    const jit_session_key *key, uint32_t flags,
				    jit_error *error)
{
	uint8_t encoded[SESSION_KEY_LEN];
	char what[STORE_WHAT_MAX];
	MDB_val k, val;
	store_write w;
	MDB_dbi dbi;
	jit_err r;
	int rc;

	r = check_handle(store, true, error);
	if (r != JIT_OK)
		return r;
	if (key == NULL)
		return jit_error_set(error, JIT_ERR_INVALID,
				     "updating a session in %s failed: no key",
				     store->dir);

	session_key_encode(key, encoded);
	k = make_val(encoded, sizeof(encoded));
	session_write_begin(&w, store, &dbi);
	if (w.rc == 0)
		w.rc = mdb_get(w.txn, dbi, &k, &val);
	if (w.rc == 0 && val.mv_size < SESSION_FIXED_LEN)
		w.rc = MDB_CORRUPTED;
	if (w.rc == 0) {
		/* The value points into the map, which the put may change
		 * under it, so it is changed in a copy. */
		uint8_t *copy = malloc(val.mv_size);

		if (copy == NULL) {
			w.rc = ENOMEM;
		} else {
			memcpy(copy, val.mv_data, val.mv_size);
			put_be32(copy + SESSION_FLAGS_OFFSET, flags);
			store_write_put(&w, dbi, k, make_val(copy, val.mv_size), 0);
			free(copy);
		}
	}
	rc = store_write_end(&w);
	if (rc == 0)
		return JIT_OK;

	format_session(key, what, sizeof(what));
	if (rc == MDB_CORRUPTED)
		return jit_error_set(error, JIT_ERR_MALFORMED,
				     "updating the %s in %s failed: the record is malformed",
				     what, store->dir);
	return store_error(store->dir, rc, error, "updating the %s", what);
}

static jit_err session_list_reserve(session_list *list, const char *dir,
				    jit_error *error)
{
	jit_session_record *items;
	size_t capacity;

	if (list->count < list->capacity)
		return JIT_OK;

	capacity = list->capacity == 0 ? 8 : list->capacity * 2;
	items = reallocarray(list->items, capacity, sizeof(*items));
	if (items == NULL)
		return jit_error_set(error, JIT_ERR_NOMEM,
				     "loading sessions from %s failed: out of memory",
				     dir);
	list->items = items;
	list->capacity = capacity;
	return JIT_OK;
}

/* Fills one record from a stored entry, with its grant's state. */
static jit_err session_load_entry(jit_store *store, MDB_txn *txn,
				  const MDB_val *key, const MDB_val *value,
				  jit_session_record *record, jit_error *error)
{
	MDB_val id, unused;
	bool no_memory;
	int rc;

	memset(record, 0, sizeof(*record));
	session_key_decode(key->mv_data, &record->key);
	record->damaged = !session_decode(value, record, &no_memory);
	if (no_memory)
		return jit_error_set(error, JIT_ERR_NOMEM,
				     "loading sessions from %s failed: out of memory",
				     store->dir);

	id = make_val(record->key.grant_id, JIT_GRANT_ID_LEN);
	rc = mdb_get(txn, store->grants, &id, &unused);
	if (rc == 0 || rc == MDB_NOTFOUND) {
		record->grant_stored = rc == 0;
		rc = mdb_get(txn, store->revocations, &id, &unused);
	}
	if (rc != 0 && rc != MDB_NOTFOUND) {
		jit_session_record_clear(record);
		return store_error(store->dir, rc, error,
				   "reading the grant of a session");
	}
	record->grant_revoked = rc == 0;
	return JIT_OK;
}

static bool session_key_wanted(const MDB_val *key, const uint8_t *grant_id)
{
	return grant_id == NULL ||
	       memcmp(key->mv_data, grant_id, JIT_GRANT_ID_LEN) == 0;
}

static jit_err session_load_all(jit_store *store, MDB_txn *txn, MDB_dbi dbi,
				const uint8_t *grant_id, size_t max_records,
				session_list *list, jit_error *error)
{
	MDB_cursor *cursor = NULL;
	MDB_val key, value;
	jit_err r = JIT_OK;
	int rc;

	rc = mdb_cursor_open(txn, dbi, &cursor);
	if (rc != 0)
		return store_error(store->dir, rc, error, "listing sessions");

	key = make_val(grant_id, grant_id != NULL ? JIT_GRANT_ID_LEN : 0);
	rc = mdb_cursor_get(cursor, &key, &value,
			    grant_id != NULL ? MDB_SET_RANGE : MDB_FIRST);
	while (rc == 0) {
		if (key.mv_size < JIT_GRANT_ID_LEN ||
		    !session_key_wanted(&key, grant_id))
			break;
		if (key.mv_size == SESSION_KEY_LEN) {
			if (list->count == max_records) {
				r = jit_error_set(error, JIT_ERR_TOO_LARGE,
						  "listing sessions in %s failed: more than %zu recorded",
						  store->dir, max_records);
				break;
			}
			r = session_list_reserve(list, store->dir, error);
			if (r == JIT_OK)
				r = session_load_entry(store, txn, &key, &value,
						       &list->items[list->count],
						       error);
			if (r != JIT_OK)
				break;
			list->count++;
		}
		rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT);
	}

	if (r == JIT_OK && rc != 0 && rc != MDB_NOTFOUND)
		r = store_error(store->dir, rc, error, "listing sessions");
	mdb_cursor_close(cursor);
	return r;
}

jit_err jit_store_load_sessions(jit_store *store, const uint8_t *grant_id,
				size_t max_records,
				jit_session_record **records, size_t *count,
				jit_error *error)
{
	session_list list = { 0 };
	MDB_txn *txn = NULL;
	MDB_dbi dbi;
	jit_err r;
	int rc;

	if (records != NULL)
		*records = NULL;
	if (count != NULL)
		*count = 0;
	r = check_handle(store, false, error);
	if (r != JIT_OK)
		return r;
	if (records == NULL || count == NULL)
		return jit_error_set(error, JIT_ERR_INVALID,
				     "listing sessions in %s failed: invalid argument",
				     store->dir);

	r = store_read_begin(store, &txn, error);
	if (r != JIT_OK)
		return r;

	rc = mdb_dbi_open(txn, SESSIONS_DB, 0, &dbi);
	if (rc == MDB_NOTFOUND) {
		mdb_txn_abort(txn);
		return JIT_OK;
	}
	if (rc == 0)
		r = session_load_all(store, txn, dbi, grant_id, max_records,
				     &list, error);
	else
		r = store_error(store->dir, rc, error, "listing sessions");

	/* Committing a read transaction keeps the database handle open. */
	if (mdb_txn_commit(txn) != 0 && r == JIT_OK)
		r = jit_error_set(error, JIT_ERR_STORE,
				  "listing sessions in %s failed: ending the read transaction failed",
				  store->dir);
	if (r != JIT_OK) {
		jit_session_records_free(list.items, list.count);
		return r;
	}

	*records = list.items;
	*count = list.count;
	return JIT_OK;
}
