/* jitctl export, import and verify: grants in their text form. */
#include <stdlib.h>
#include <string.h>

#include "jitctl.h"

static const char *input_name(const char *file)
{
	if (file == NULL || strcmp(file, "-") == 0)
		return "standard input";
	return file;
}

/* Parses the options of a command taking only an optional FILE (import,
 * verify) or a required ID (export). */
static int parse_one_argument(jitctl *ctl, int argc, char **argv,
			      bool required, const char *what,
			      const char **argument)
{
	static const struct option options[] = {
		CTL_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	int opt, r;

	*argument = NULL;
	while ((opt = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
		r = ctl_common_option(ctl, opt, argv);
		if (r != CTL_CONTINUE)
			return r;
	}

	if (optind < argc)
		*argument = argv[optind++];
	if (optind < argc)
		return ctl_usage_error(ctl, "unexpected argument '%s'", argv[optind]);
	if (required && *argument == NULL)
		return ctl_usage_error(ctl, "missing %s", what);
	return CTL_CONTINUE;
}

static int export_grant(const jitctl *ctl, const char *id_text)
{
	uint8_t id[JIT_GRANT_ID_LEN];
	jit_stored_grant stored = { 0 };
	jit_store *store = NULL;
	char *token = NULL;
	jit_error error;
	int r;

	r = ctl_parse_grant_id(ctl, id_text, id);
	if (r == CTL_EXIT_OK)
		r = ctl_store_open(ctl, JIT_STORE_READ, &store);
	if (r != CTL_EXIT_OK)
		return r;

	jit_error_clear(&error);
	if (jit_store_get_grant(store, id, &stored, &error) != JIT_OK) {
		if (error.code == JIT_ERR_NOT_FOUND)
			ctl_error(ctl, "no grant with id %s in %s; 'jitctl list --all' shows the stored ids",
				  id_text, ctl->config->store);
		else
			ctl_lib_error(ctl, &error);
		r = CTL_EXIT_FAIL;
	}
	jit_store_close(store);
	if (r != CTL_EXIT_OK)
		return r;

	if (jit_token_encode(stored.blob, stored.blob_len, &token, &error) == JIT_OK)
		printf("%s\n", token);
	else
		r = ctl_lib_error(ctl, &error);

	free(token);
	jit_stored_grant_clear(&stored);
	return r;
}

int cmd_export(jitctl *ctl, int argc, char **argv)
{
	const char *id;
	int r;

	r = parse_one_argument(ctl, argc, argv, true, "grant ID", &id);
	if (r != CTL_CONTINUE)
		return r;

	r = ctl_prepare(ctl);
	if (r != CTL_EXIT_OK)
		return r;
	return export_grant(ctl, id);
}

/* Reads and decodes a token. A decoding failure is returned in error for
 * the caller to print with the input's name. */
static int read_blob(const jitctl *ctl, const char *file, uint8_t **blob,
		     size_t *blob_len, jit_error *error)
{
	char *text = NULL;
	int r;

	r = ctl_read_token(ctl, file, &text);
	if (r != CTL_EXIT_OK)
		return r;

	jit_error_clear(error);
	if (jit_token_decode(text, blob, blob_len, error) != JIT_OK)
		r = CTL_EXIT_FAIL;
	free(text);
	return r;
}

/* Rejects a verified grant that this host could never use. */
static int check_importable(const jitctl *ctl, const jit_grant *grant,
			    const char *id)
{
	char when[32];

	if (!jit_grant_matches_host(grant, ctl->config->hostname)) {
		char *hosts = output_join(&grant->hosts, ", ");

		ctl_error(ctl, "grant %s is for hosts %s, which do not include this host (%s); import it on one of those hosts",
			  id, hosts != NULL ? hosts : "(out of memory)",
			  ctl->config->hostname);
		free(hosts);
		return CTL_EXIT_FAIL;
	}

	if (ctl->now_ms / 1000 >= grant->not_after) {
		output_time(grant->not_after, when, sizeof(when));
		ctl_error(ctl, "grant %s expired at %s; ask for a new grant", id, when);
		return CTL_EXIT_FAIL;
	}
	return CTL_EXIT_OK;
}

static jit_err put_imported(jit_store *store, const jit_grant *grant,
			    const uint8_t *blob, size_t blob_len,
			    const char *actor, jit_error *error)
{
	jit_chain_grant_event evidence;

	jit_chain_grant_event_init(&evidence,
				   jit_event_name(JIT_EVENT_GRANT_IMPORTED),
				   grant, actor);
	return jit_store_put_grant_with_evidence(store, grant->id, grant->user,
						 grant->not_after, blob,
						 blob_len, &evidence.ev, error);
}

/* Stores the blob and sets *stored. An identical grant already stored is
 * left alone with *stored false. A different blob under the same id is
 * rejected rather than overwritten. */
static int store_imported(const jitctl *ctl, const jit_grant *grant,
			  const char *id, const uint8_t *blob, size_t blob_len,
			  const char *actor, bool *stored)
{
	jit_stored_grant existing = { 0 };
	jit_store *store = NULL;
	jit_error error;
	int r;

	*stored = false;

	r = ctl_store_open(ctl, JIT_STORE_WRITE, &store);
	if (r != CTL_EXIT_OK)
		return r;

	jit_error_clear(&error);
	if (jit_store_get_grant(store, grant->id, &existing, &error) == JIT_OK) {
		if (existing.blob_len == blob_len &&
		    memcmp(existing.blob, blob, blob_len) == 0) {
			ctl_warn(ctl, "grant %s is already stored; nothing changed", id);
		} else {
			ctl_error(ctl, "a different grant with id %s is already stored; not replacing it",
				  id);
			r = CTL_EXIT_FAIL;
		}
	} else if (error.code != JIT_ERR_NOT_FOUND) {
		r = ctl_lib_error(ctl, &error);
	} else if (put_imported(store, grant, blob, blob_len, actor,
				&error) != JIT_OK) {
		r = ctl_lib_error(ctl, &error);
	} else {
		*stored = true;
	}

	jit_stored_grant_clear(&existing);
	jit_store_close(store);
	return r;
}

static int emit_imported(const jitctl *ctl, const jit_grant *grant,
			 const char *id, const char *actor)
{
	jit_event event = {
		.type = JIT_EVENT_GRANT_IMPORTED,
		.reason = JIT_REASON_ALLOW,
		.grant_id = id,
		.request_id = grant->request_id,
		.user = grant->user,
		.actor = actor,
		.role = grant->role,
		.justification = grant->reason,
		.expires = grant->not_after,
	};
	jit_error error;

	jit_error_clear(&error);
	if (jit_event_emit(&event, &error) != JIT_OK) {
		ctl_error(ctl, "grant %s is stored, but its grant-imported event was not recorded: %s; check journald or syslog",
			  id, error.message);
		return CTL_EXIT_FAIL;
	}
	return CTL_EXIT_OK;
}

static int import_token(const jitctl *ctl, const char *file)
{
	char id[JIT_GRANT_ID_HEX_LEN + 1];
	jit_keyring *keys = NULL;
	jit_grant *grant = NULL;
	uint8_t *blob = NULL;
	size_t blob_len = 0;
	char *actor = NULL;
	bool stored = false;
	jit_error error;
	int r;

	jit_error_clear(&error);
	r = read_blob(ctl, file, &blob, &blob_len, &error);
	if (r != CTL_EXIT_OK) {
		if (error.code != JIT_OK)
			ctl_error(ctl, "%s: %s", input_name(file), error.message);
		goto out;
	}

	r = ctl_keyring_load(ctl, &keys);
	if (r != CTL_EXIT_OK)
		goto out;
	if (jit_grant_verify(blob, blob_len, keys, &grant, &error) != JIT_OK) {
		if (error.code == JIT_ERR_UNKNOWN_KEY)
			ctl_error(ctl, "%s: %s; to trust that issuer, copy its public key file into %s",
				  input_name(file), error.message,
				  ctl->config->trusted_keys);
		else
			ctl_error(ctl, "%s: %s", input_name(file), error.message);
		r = CTL_EXIT_FAIL;
		goto out;
	}

	jit_grant_id_format(grant->id, id);
	r = check_importable(ctl, grant, id);
	if (r == CTL_EXIT_OK)
		r = ctl_invoking_user(ctl, &actor);
	if (r == CTL_EXIT_OK)
		r = store_imported(ctl, grant, id, blob, blob_len, actor,
				   &stored);
	if (r != CTL_EXIT_OK)
		goto out;

	printf("%s\n", id);
	if (stored)
		r = emit_imported(ctl, grant, id, actor);
out:
	free(actor);
	jit_grant_free(grant);
	jit_keyring_free(keys);
	free(blob);
	return r;
}

int cmd_import(jitctl *ctl, int argc, char **argv)
{
	const char *file;
	int r;

	r = parse_one_argument(ctl, argc, argv, false, "FILE", &file);
	if (r != CTL_CONTINUE)
		return r;

	r = ctl_prepare(ctl);
	if (r != CTL_EXIT_OK)
		return r;
	return import_token(ctl, file);
}

/* Prints the token's fields and a last line "valid" or "invalid: WHY".
 * Revocations live in the store, which verify does not read, so a revoked
 * grant can still print "valid". */
static int verify_token(const jitctl *ctl, const char *file)
{
	jit_keyring *keys = NULL;
	grant_view view = { 0 };
	uint8_t *blob = NULL;
	size_t blob_len = 0;
	jit_error error;
	int r;

	jit_error_clear(&error);
	r = read_blob(ctl, file, &blob, &blob_len, &error);
	if (r != CTL_EXIT_OK) {
		if (error.code != JIT_OK)
			printf("invalid: %s\n", error.message);
		goto out;
	}

	r = ctl_keyring_load(ctl, &keys);
	if (r != CTL_EXIT_OK)
		goto out;

	if (grant_view_load(&view, NULL, blob, blob_len, false, keys,
			    ctl->config, ctl->now_ms) != JIT_OK) {
		ctl_error(ctl, "out of memory");
		r = CTL_EXIT_FAIL;
		goto out;
	}

	if (view.grant != NULL)
		output_grant_fields(&view, NULL, ctl->now_ms);
	if (view.verified) {
		puts("valid");
	} else {
		printf("invalid: %s\n", view.verify_error.message);
		r = CTL_EXIT_FAIL;
	}
out:
	grant_view_clear(&view);
	jit_keyring_free(keys);
	free(blob);
	return r;
}

int cmd_verify(jitctl *ctl, int argc, char **argv)
{
	const char *file;
	int r;

	r = parse_one_argument(ctl, argc, argv, false, "FILE", &file);
	if (r != CTL_CONTINUE)
		return r;

	r = ctl_prepare(ctl);
	if (r != CTL_EXIT_OK)
		return r;
	return verify_token(ctl, file);
}
