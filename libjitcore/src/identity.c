/* Caller identities: the user name and groups of a uid the kernel
 * reported, and their membership in a role's members lists. */
#include "jit/request.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* NSS lookups grow their buffer up to this size; groups per user up to
 * GROUPS_MAX. */
#define NSS_BUFFER_MAX (1024 * 1024)
#define GROUPS_MAX 65536

static size_t start_size(int name)
{
	long size = sysconf(name);

	return size > 0 && size < NSS_BUFFER_MAX ? (size_t)size : 1024;
}

static jit_err lookup_user(uid_t uid, char **name, gid_t *gid,
			   jit_error *error)
{
	size_t size = start_size(_SC_GETPW_R_SIZE_MAX);
	struct passwd pw, *result = NULL;
	char *buffer = NULL;
	jit_err r;
	int rc;

	for (;;) {
		char *bigger = realloc(buffer, size);

		if (bigger == NULL) {
			r = jit_error_set(error, JIT_ERR_NOMEM, "out of memory");
			goto out;
		}
		buffer = bigger;
		rc = getpwuid_r(uid, &pw, buffer, size, &result);
		if (rc != ERANGE || size >= NSS_BUFFER_MAX)
			break;
		size *= 2;
	}

	if (rc != 0)
		r = jit_error_set(error, JIT_ERR_IO, "looking up uid %lu failed: %s",
				  (unsigned long)uid, strerror(rc));
	else if (result == NULL)
		r = jit_error_set(error, JIT_ERR_NOT_FOUND,
				  "uid %lu has no user name", (unsigned long)uid);
	else if ((*name = strdup(pw.pw_name)) == NULL)
		r = jit_error_set(error, JIT_ERR_NOMEM, "out of memory");
	else
		r = JIT_OK;
	if (r == JIT_OK)
		*gid = pw.pw_gid;
out:
	free(buffer);
	return r;
}

/* Appends the name of group gid; a gid without a name is skipped, because
 * members lists name groups. */
static jit_err add_group_name(jit_strlist *groups, gid_t gid, jit_error *error)
{
	size_t size = start_size(_SC_GETGR_R_SIZE_MAX);
	struct group gr, *result = NULL;
	char *buffer = NULL;
	jit_err r = JIT_OK;
	int rc;

	for (;;) {
		char *bigger = realloc(buffer, size);

		if (bigger == NULL) {
			r = jit_error_set(error, JIT_ERR_NOMEM, "out of memory");
			goto out;
		}
		buffer = bigger;
		rc = getgrgid_r(gid, &gr, buffer, size, &result);
		if (rc != ERANGE || size >= NSS_BUFFER_MAX)
			break;
		size *= 2;
	}

	if (rc != 0)
		r = jit_error_set(error, JIT_ERR_IO, "looking up group %lu failed: %s",
				  (unsigned long)gid, strerror(rc));
	else if (result != NULL && !jit_strlist_contains(groups, gr.gr_name) &&
		 jit_strlist_append(groups, gr.gr_name) != JIT_OK)
		r = jit_error_set(error, JIT_ERR_NOMEM, "out of memory");
out:
	free(buffer);
	return r;
}

static jit_err lookup_groups(const char *user, gid_t primary,
			     jit_strlist *groups, jit_error *error)
{
	int size = 64, n;
	gid_t *list = NULL;
	jit_err r = JIT_OK;

	for (;;) {
		gid_t *bigger = reallocarray(list, (size_t)size, sizeof(*list));

		if (bigger == NULL) {
			free(list);
			return jit_error_set(error, JIT_ERR_NOMEM, "out of memory");
		}
		list = bigger;
		n = size;
		if (getgrouplist(user, primary, list, &n) >= 0)
			break;
		if (size >= GROUPS_MAX) {
			free(list);
			return jit_error_set(error, JIT_ERR_IO,
					     "listing the groups of %.64s failed",
					     user);
		}
		size = n > size && n <= GROUPS_MAX ? n : size * 2;
		if (size > GROUPS_MAX)
			size = GROUPS_MAX;
	}

	for (int i = 0; i < n && r == JIT_OK; i++)
		r = add_group_name(groups, list[i], error);
	free(list);
	return r;
}

jit_err jit_identity_lookup(uid_t uid, jit_identity *identity,
			    jit_error *error)
{
	jit_identity found = { .uid = uid };
	gid_t primary = 0;
	jit_err r;

	memset(identity, 0, sizeof(*identity));

	r = lookup_user(uid, &found.user, &primary, error);
	if (r == JIT_OK)
		r = lookup_groups(found.user, primary, &found.groups, error);
	if (r != JIT_OK) {
		jit_identity_clear(&found);
		return r;
	}

	*identity = found;
	return JIT_OK;
}

void jit_identity_clear(jit_identity *identity)
{
	if (identity == NULL)
		return;
	free(identity->user);
	jit_strlist_clear(&identity->groups);
	memset(identity, 0, sizeof(*identity));
}

bool jit_identity_in(const jit_identity *who, const jit_strlist *members)
{
	if (who == NULL || who->user == NULL || members == NULL)
		return false;

	for (size_t i = 0; i < members->count; i++) {
		const char *item = members->items[i];

		if (item[0] == '%' ? jit_strlist_contains(&who->groups, item + 1)
				   : strcmp(item, who->user) == 0)
			return true;
	}
	return false;
}

bool jit_identity_approves(const jit_identity *who, const jit_role *role)
{
	if (who == NULL)
		return false;
	return who->uid == 0 || (role != NULL && jit_identity_in(who, &role->approvers));
}

bool jit_identity_approves_any(const jit_identity *who,
			       const jit_config *config)
{
	if (who != NULL && who->uid == 0)
		return true;
	for (size_t i = 0; config != NULL && i < config->role_count; i++)
		if (jit_identity_approves(who, &config->roles[i]))
			return true;
	return false;
}

jit_err jit_identity_lookup_name(const char *user, jit_identity *identity,
				 jit_error *error)
{
	size_t size = start_size(_SC_GETPW_R_SIZE_MAX);
	struct passwd pw, *result = NULL;
	char *buffer = NULL;
	jit_err r;
	int rc;

	memset(identity, 0, sizeof(*identity));
	for (;;) {
		char *bigger = realloc(buffer, size);

		if (bigger == NULL) {
			free(buffer);
			return jit_error_set(error, JIT_ERR_NOMEM, "out of memory");
		}
		buffer = bigger;
		rc = getpwnam_r(user, &pw, buffer, size, &result);
		if (rc != ERANGE || size >= NSS_BUFFER_MAX)
			break;
		size *= 2;
	}

	if (rc != 0)
		r = jit_error_set(error, JIT_ERR_IO, "looking up user %.64s failed: %s",
				  user, strerror(rc));
	else if (result == NULL)
		r = jit_error_set(error, JIT_ERR_NOT_FOUND, "unknown user %.64s",
				  user);
	else
		r = jit_identity_lookup(pw.pw_uid, identity, error);
	free(buffer);
	return r;
}
