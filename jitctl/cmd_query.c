/* jitctl list and show: what the store holds, read-only. Without root,
 * list asks the broker for the caller's own grants. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* Reads the review of each break-glass grant among views; one without a
 * review is marked unreviewed, so every listing shows it until someone
 * reviews it. */
static int load_reviews(const jitctl *ctl, grant_view *views, size_t count)
{
	jit_store *store = NULL;
	bool any = false;
	jit_error error;
	int r;

	for (size_t i = 0; i < count; i++)
		any = any || (views[i].grant != NULL && views[i].grant->break_glass);
	if (!any)
		return CTL_EXIT_OK;

	r = ctl_store_open(ctl, JIT_STORE_READ, &store);
	for (size_t i = 0; r == CTL_EXIT_OK && i < count; i++) {
		uint8_t id[JIT_GRANT_ID_LEN];
		jit_err e;

		if (views[i].grant == NULL || !views[i].grant->break_glass ||
		    jit_grant_id_parse(views[i].id, id, NULL) != JIT_OK)
			continue;
		jit_error_clear(&error);
		e = jit_store_get_review(store, id, &views[i].review, &error);
		views[i].review_known = e == JIT_OK || e == JIT_ERR_NOT_FOUND;
		if (e == JIT_ERR_NOT_FOUND)
			views[i].unreviewed = true;
		else if (e != JIT_OK)
			r = ctl_lib_error(ctl, &error);
	}
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
	r = load_reviews(ctl, views->items, views->count);
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

/* Turns one grant of the broker's response into a view, verified here
 * against the trusted keys as root's listing verifies the store's. */
static jit_err view_from_response(const jitctl *ctl, json_object *item,
				const jit_keyring *keys, grant_view *view)
{
	const char *token = ctl_response_string(item, "token");
	json_object *revoked = ctl_response_get(item, "revoked");
	json_object *reviewed = ctl_response_get(item, "reviewed");
	uint8_t *blob = NULL;
	size_t blob_len = 0;
	jit_err r;

	memset(view, 0, sizeof(*view));
	r = jit_token_decode(token, &blob, &blob_len, NULL);
	if (r == JIT_ERR_NOMEM)
		return r;
	r = grant_view_load(view, NULL, blob != NULL ? blob : (const uint8_t *)"",
			    blob_len, json_object_get_boolean(revoked), keys,
			    ctl->config, ctl->now_ms);
	if (r == JIT_OK && view->grant != NULL && view->grant->break_glass) {
		view->review_known = true;
		view->unreviewed = !json_object_get_boolean(reviewed);
	}
	free(blob);
	return r;
}

/* Without root, the broker sends the caller's own grants as tokens. */
static int load_views_from_broker(const jitctl *ctl, bool all,
				  grant_views *views)
{
	jit_broker_message message = { .op = JIT_BROKER_LIST, .all = all };
	jit_keyring *keys = NULL;
	json_object *grants;
	broker_reply reply;
	size_t count;
	int r;

	r = ctl_broker_call(ctl, &message, &reply);
	if (r == CTL_EXIT_OK)
		r = ctl_keyring_load(ctl, &keys);
	if (r != CTL_EXIT_OK)
		goto out;

	grants = ctl_response_get(reply.response, "grants");
	count = grants != NULL ? json_object_array_length(grants) : 0;
	views->items = calloc(count > 0 ? count : 1, sizeof(*views->items));
	for (size_t i = 0; views->items != NULL && i < count; i++) {
		if (view_from_response(ctl, json_object_array_get_idx(grants, i),
				     keys, &views->items[i]) != JIT_OK)
			break;
		views->count++;
	}
	if (views->items == NULL || views->count < count) {
		ctl_error(ctl, "out of memory");
		r = CTL_EXIT_FAIL;
	}
out:
	jit_keyring_free(keys);
	ctl_broker_finish(ctl, &reply);
	return r;
}

/* A user other than root sees only their own grants. */
static int load_own_views(const jitctl *ctl, const char *user, bool all,
			  grant_views *views)
{
	char *self = NULL;
	int r;

	r = ctl_invoking_user(ctl, &self);
	if (r == CTL_EXIT_OK && user != NULL && strcmp(user, self) != 0) {
		ctl_error(ctl, "only root lists the grants of other users; leave out --user to list your own");
		r = CTL_EXIT_FAIL;
	}
	if (r == CTL_EXIT_OK)
		r = load_views_from_broker(ctl, all, views);
	free(self);
	return r;
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

	if (geteuid() != 0)
		r = load_own_views(ctl, user, all, &views);
	else
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
	r = load_reviews(ctl, &view, 1);
	if (r != CTL_EXIT_OK)
		goto out;

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
