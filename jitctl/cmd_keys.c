/* jitctl init: the store, the issuer key and the trusted public key. */
#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jitctl.h"

/* Creates one folder with mode 0755, set explicitly so the umask cannot
 * change it; an existing folder is left as it is. */
static int make_folder(const jitctl *ctl, const char *path)
{
	struct stat st;

	if (mkdir(path, 0755) == 0) {
		if (chmod(path, 0755) < 0) {
			ctl_error(ctl, "setting the mode of %s failed: %s",
				  path, strerror(errno));
			return CTL_EXIT_FAIL;
		}
		return CTL_EXIT_OK;
	}

	if (errno != EEXIST) {
		ctl_error(ctl, "creating folder %s failed: %s", path, strerror(errno));
		return CTL_EXIT_FAIL;
	}
	if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode)) {
		ctl_error(ctl, "%s exists but is not a folder; move it away", path);
		return CTL_EXIT_FAIL;
	}
	return CTL_EXIT_OK;
}

/* Creates path and its missing parents, as mkdir -p does. */
static int make_folders(const jitctl *ctl, const char *path)
{
	char *copy = strdup(path);
	int r = CTL_EXIT_OK;

	if (copy == NULL) {
		ctl_error(ctl, "out of memory");
		return CTL_EXIT_FAIL;
	}

	for (char *p = copy + 1; r == CTL_EXIT_OK && *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		r = make_folder(ctl, copy);
		*p = '/';
	}
	if (r == CTL_EXIT_OK)
		r = make_folder(ctl, copy);

	free(copy);
	return r;
}

static bool path_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static void print_step(const char *label, const char *path, bool created)
{
	printf("%-12s %s (%s)\n", label, path, created ? "created" : "exists");
}

static int init_store(const jitctl *ctl)
{
	bool existed = path_exists(ctl->config->store);
	jit_error error;

	jit_error_clear(&error);
	if (jit_store_create(ctl->config->store, &error) != JIT_OK)
		return ctl_lib_error(ctl, &error);

	print_step("store", ctl->config->store, !existed);
	return CTL_EXIT_OK;
}

/* Loads the issuer key, generating it first when the file is missing. */
static int init_issuer_key(const jitctl *ctl, jit_issuer_key **key)
{
	const char *path = ctl->config->issuer_key;
	bool existed = path_exists(path);
	jit_error error;

	jit_error_clear(&error);

	if (!existed) {
		char *copy = strdup(path);
		int r;

		if (copy == NULL) {
			ctl_error(ctl, "out of memory");
			return CTL_EXIT_FAIL;
		}
		r = make_folders(ctl, dirname(copy));
		free(copy);
		if (r != CTL_EXIT_OK)
			return r;

		if (jit_issuer_key_generate(path, &error) != JIT_OK)
			return ctl_lib_error(ctl, &error);
	}

	if (jit_issuer_key_load(path, key, &error) != JIT_OK)
		return ctl_lib_error(ctl, &error);

	print_step("issuer key", path, !existed);
	return CTL_EXIT_OK;
}

/* Checks that the trusted keys now include the issuer's own key, which
 * also proves every file in that folder loads. */
static int check_trusted(const jitctl *ctl, const uint8_t id[JIT_KEY_ID_LEN],
			 const char *path)
{
	jit_keyring *keys = NULL;
	int r;

	r = ctl_keyring_load(ctl, &keys);
	if (r != CTL_EXIT_OK)
		return r;

	if (jit_keyring_find(keys, id) == NULL) {
		ctl_error(ctl, "%s does not hold the issuer's public key; remove it and run jitctl init again",
			  path);
		r = CTL_EXIT_FAIL;
	}

	jit_keyring_free(keys);
	return r;
}

static int init_trusted_key(const jitctl *ctl, const jit_issuer_key *key)
{
	uint8_t id[JIT_KEY_ID_LEN];
	char hex[JIT_KEY_ID_HEX_LEN + 1];
	char *path = NULL;
	bool existed;
	jit_error error;
	int r;

	r = make_folders(ctl, ctl->config->trusted_keys);
	if (r != CTL_EXIT_OK)
		return r;

	jit_issuer_key_id(key, id);
	jit_key_id_format(id, hex);
	if (asprintf(&path, "%s/%s.pub", ctl->config->trusted_keys, hex) < 0) {
		ctl_error(ctl, "out of memory");
		return CTL_EXIT_FAIL;
	}

	existed = path_exists(path);
	jit_error_clear(&error);
	if (!existed && jit_issuer_key_write_public(key, ctl->config->trusted_keys,
						    &error) != JIT_OK) {
		r = ctl_lib_error(ctl, &error);
		goto out;
	}

	r = check_trusted(ctl, id, path);
	if (r != CTL_EXIT_OK)
		goto out;

	print_step("trusted key", path, !existed);
	printf("issuer key id: %s\n", hex);
out:
	free(path);
	return r;
}

int cmd_init(jitctl *ctl, int argc, char **argv)
{
	static const struct option options[] = {
		CTL_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	jit_issuer_key *key = NULL;
	int opt, r;

	while ((opt = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
		r = ctl_common_option(ctl, opt, argv);
		if (r != CTL_CONTINUE)
			return r;
	}
	if (optind < argc)
		return ctl_usage_error(ctl, "unexpected argument '%s'", argv[optind]);

	r = ctl_prepare(ctl);
	if (r != CTL_EXIT_OK)
		return r;

	r = init_store(ctl);
	if (r != CTL_EXIT_OK)
		return r;

	r = init_issuer_key(ctl, &key);
	if (r != CTL_EXIT_OK)
		return r;

	r = init_trusted_key(ctl, key);
	jit_issuer_key_free(key);
	return r;
}
