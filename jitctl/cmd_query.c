/* jitctl list and show: what the store holds, read-only. */
#include <stdlib.h>
#include <string.h>

#include "jitctl.h"

enum {
	OPT_USER = CTL_OPT_FIRST,
	OPT_ALL,
};

typedef struct grant_views {
	grant_view *items;
	size_t count;
} grant_views;

static void grant_views_clear(grant_views *views)
{
	for (size_t i = 0; i < views->count; i++)
		grant_view_clear(&views->items[i]);
	free(views->items);
	views->items = NULL;
	views->count = 0;
}

static int load_stored(const jitctl *ctl, jit_stored_grant **stored,
		       size_t *count)
{
	jit_store *store = NULL;
	jit_error error;
	int r;

	r = ctl_store_open(ctl, JIT_STORE_READ, &store);
	if (r != CTL_EXIT_OK)
		return r;

	jit_error_clear(&error);
	if (jit_store_load_all(store, stored, count, &error) != JIT_OK)
		r = ctl_lib_error(ctl, &error);
	jit_store_close(store);
	return r;
}

/* Loads every stored grant as a view: verified where possible, with its
 * state now. */
static int load_views(const jitctl *ctl, grant_views *views)
{
	jit_stored_grant *stored = NULL;
	jit_keyring *keys = NULL;
	size_t count = 0;
	int r;

	r = load_stored(ctl, &stored, &count);
	if (r == CTL_EXIT_OK)
		r = ctl_keyring_load(ctl, &keys);
	if (r != CTL_EXIT_OK)
		goto out;

	views->items = calloc(count > 0 ? count : 1, sizeof(*views->items));
	if (views->items == NULL) {
		ctl_error(ctl, "out of memory");
		r = CTL_EXIT_FAIL;
		goto out;
	}

	for (size_t i = 0; i < count; i++) {
		if (grant_view_load(&views->items[i], stored[i].id, stored[i].blob,
				    stored[i].blob_len, stored[i].revoked, keys,
				    ctl->config, ctl->now_ms) != JIT_OK) {
			ctl_error(ctl, "out of memory");
			r = CTL_EXIT_FAIL;
			goto out;
		}
		views->count++;
	}
out:
	jit_keyring_free(keys);
	jit_stored_grants_free(stored, count);
	return r;
}

/* Keeps the views to list: the user's only, and active ones only unless
 * all is set. A grant that does not parse has no user and is listed only
 * with --all and without --user. */
static void filter_views(grant_views *views, const char *user, bool all)
{
	size_t kept = 0;

	for (size_t i = 0; i < views->count; i++) {
		grant_view *view = &views->items[i];
		bool keep = all || view->state == GRANT_ACTIVE;

		if (user != NULL &&
		    (view->grant == NULL || strcmp(view->grant->user, user) != 0))
			keep = false;

		if (keep)
			views->items[kept++] = *view;
		else
			grant_view_clear(view);
	}
	views->count = kept;
}

/* Orders by expiry, soonest first, then by id. Unparsable grants go last. */
static int compare_views(const void *a, const void *b)
{
	const grant_view *x = a, *y = b;

	if (x->grant == NULL || y->grant == NULL) {
		if (x->grant != y->grant)
			return x->grant == NULL ? 1 : -1;
	} else if (x->grant->not_after != y->grant->not_after) {
		return x->grant->not_after < y->grant->not_after ? -1 : 1;
	}
	return strcmp(x->id, y->id);
}

static int print_views_json(const jitctl *ctl, const grant_views *views)
{
	json_object *array = json_object_new_array();

	if (array == NULL)
		return output_json(ctl, NULL);

	for (size_t i = 0; i < views->count; i++) {
		json_object *item = output_grant_json(&views->items[i], NULL);

		if (item == NULL || json_object_array_add(array, item) < 0) {
			json_object_put(item);
			json_object_put(array);
			return output_json(ctl, NULL);
		}
	}
	return output_json(ctl, array);
}

static int print_views(const jitctl *ctl, const grant_views *views,
		       const char *user, bool all)
{
	if (ctl->json)
		return print_views_json(ctl, views);

	if (views->count == 0) {
		printf("no %sgrants%s%s\n", all ? "" : "active ",
		       user != NULL ? " for " : "", user != NULL ? user : "");
		return CTL_EXIT_OK;
	}
	return output_grant_table(ctl, views->items, views->count, ctl->now_ms);
}

int cmd_list(jitctl *ctl, int argc, char **argv)
{
	static const struct option options[] = {
		{ "user", required_argument, NULL, OPT_USER },
		{ "all", no_argument, NULL, OPT_ALL },
		{ "json", no_argument, NULL, CTL_OPT_JSON },
		CTL_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	grant_views views = { 0 };
	const char *user = NULL;
	bool all = false;
	int opt, r;

	while ((opt = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
		if (opt == OPT_USER) {
			user = optarg;
		} else if (opt == OPT_ALL) {
			all = true;
		} else if (opt == CTL_OPT_JSON) {
			ctl->json = true;
		} else {
			r = ctl_common_option(ctl, opt, argv);
			if (r != CTL_CONTINUE)
				return r;
		}
	}
	if (optind < argc)
		return ctl_usage_error(ctl, "unexpected argument '%s'", argv[optind]);

	r = ctl_prepare(ctl);
	if (r != CTL_EXIT_OK)
		return r;

	r = load_views(ctl, &views);
	if (r == CTL_EXIT_OK) {
		filter_views(&views, user, all);
		qsort(views.items, views.count, sizeof(*views.items), compare_views);
		r = print_views(ctl, &views, user, all);
	}

	grant_views_clear(&views);
	return r;
}

/* Reads one grant and its revocation, if any, in one store session. */
static int load_one(const jitctl *ctl, const uint8_t id[JIT_GRANT_ID_LEN],
		    const char *id_text, jit_stored_grant *stored,
		    jit_revocation *revocation, bool *revoked)
{
	jit_store *store = NULL;
	jit_error error;
	int r;

	*revoked = false;

	r = ctl_store_open(ctl, JIT_STORE_READ, &store);
	if (r != CTL_EXIT_OK)
		return r;

	jit_error_clear(&error);
	if (jit_store_get_grant(store, id, stored, &error) != JIT_OK) {
		if (error.code == JIT_ERR_NOT_FOUND)
			ctl_error(ctl, "no grant with id %s in %s; 'jitctl list --all' shows the stored ids",
				  id_text, ctl->config->store);
		else
			ctl_lib_error(ctl, &error);
		r = CTL_EXIT_FAIL;
	} else if (jit_store_get_revocation(store, id, revocation, &error) == JIT_OK) {
		*revoked = true;
	} else if (error.code != JIT_ERR_NOT_FOUND) {
		r = ctl_lib_error(ctl, &error);
	}

	jit_store_close(store);
	return r;
}

static int show_grant(const jitctl *ctl, const char *id_text)
{
	uint8_t id[JIT_GRANT_ID_LEN];
	jit_stored_grant stored = { 0 };
	jit_revocation revocation = { 0 };
	jit_keyring *keys = NULL;
	grant_view view = { 0 };
	bool revoked = false;
	int r;

	r = ctl_parse_grant_id(ctl, id_text, id);
	if (r == CTL_EXIT_OK)
		r = load_one(ctl, id, id_text, &stored, &revocation, &revoked);
	if (r == CTL_EXIT_OK)
		r = ctl_keyring_load(ctl, &keys);
	if (r != CTL_EXIT_OK)
		goto out;

	if (grant_view_load(&view, id, stored.blob, stored.blob_len,
			    revoked || stored.revoked, keys, ctl->config,
			    ctl->now_ms) != JIT_OK) {
		ctl_error(ctl, "out of memory");
		r = CTL_EXIT_FAIL;
		goto out;
	}

	if (ctl->json)
		r = output_json(ctl, output_grant_json(&view,
						       revoked ? &revocation : NULL));
	else
		output_grant_fields(&view, revoked ? &revocation : NULL, ctl->now_ms);
out:
	grant_view_clear(&view);
	jit_keyring_free(keys);
	jit_revocation_clear(&revocation);
	jit_stored_grant_clear(&stored);
	return r;
}

int cmd_show(jitctl *ctl, int argc, char **argv)
{
	static const struct option options[] = {
		{ "json", no_argument, NULL, CTL_OPT_JSON },
		CTL_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	int opt, r;

	while ((opt = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
		if (opt == CTL_OPT_JSON) {
			ctl->json = true;
			continue;
		}
		r = ctl_common_option(ctl, opt, argv);
		if (r != CTL_CONTINUE)
			return r;
	}
	if (optind >= argc)
		return ctl_usage_error(ctl, "missing grant ID");
	if (optind + 1 < argc)
		return ctl_usage_error(ctl, "unexpected argument '%s'", argv[optind + 1]);

	r = ctl_prepare(ctl);
	if (r != CTL_EXIT_OK)
		return r;
	return show_grant(ctl, argv[optind]);
}
