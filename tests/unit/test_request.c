/* Requests, approvals, break-glass and reviews: the rules of request.c,
 * the store records of store_requests.c and the workflow of
 * request_flow.c, against a temporary store and issuer key. */
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define NOW 1800000000LL

typedef struct fixture {
	char *dir;
	jit_config *config;
	jit_identity alice;      /* requester of db-admin and pair */
	jit_identity bob;        /* nobody special */
	jit_identity frank;      /* dba-leads: approver */
	jit_identity grace;      /* dba-leads: approver */
	jit_identity heidi;      /* jit-break-glass */
	jit_identity root;
} fixture;

static void make_identity(jit_identity *who, uid_t uid, const char *user,
			  const char *group)
{
	memset(who, 0, sizeof(*who));
	who->uid = uid;
	who->user = strdup(user);
	assert_non_null(who->user);
	assert_int_equal(jit_strlist_append(&who->groups, user), JIT_OK);
	if (group != NULL)
		assert_int_equal(jit_strlist_append(&who->groups, group), JIT_OK);
}

static jit_config *parse_config(const char *dir, const char *roles)
{
	jit_config *config = NULL;
	jit_error error;
	char *text = NULL;

	assert_true(asprintf(&text,
		"[jit]\n"
		"store = %s/store\n"
		"issuer_key = %s/issuer.key\n"
		"trusted_keys = %s/trusted.d\n"
		"hostname = web1\n"
		"max_duration = 8h\n"
		"%s", dir, dir, dir, roles) > 0);
	if (jit_config_parse("test.conf", text, &config, &error) != JIT_OK)
		fail_msg("config: %s", error.message);
	free(text);
	return config;
}

static const char *roles_text =
	"[role db-admin]\n"
	"commands = /usr/bin/psql\n"
	"runas = postgres\n"
	"requesters = alice, frank\n"
	"approvers = %dba-leads\n"
	"reason_pattern = ^INC-[0-9]+\n"
	"default_duration = 30m\n"
	"max_duration = 2h\n"
	"request_ttl = 1h\n"
	"[role pair]\n"
	"commands = /usr/bin/whoami\n"
	"requesters = %engineers, alice\n"
	"approvers = %dba-leads, frank\n"
	"approvals = 2\n"
	"[role ssh]\n"
	"services = sshd\n";

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));
	jit_issuer_key *key = NULL;
	char *path = NULL;

	assert_non_null(f);
	f->dir = test_mkdtemp();
	assert_true(asprintf(&path, "%s/issuer.key", f->dir) > 0);
	assert_int_equal(jit_issuer_key_generate(path, NULL), JIT_OK);
	assert_int_equal(jit_issuer_key_load(path, &key, NULL), JIT_OK);
	free(path);
	assert_true(asprintf(&path, "%s/trusted.d", f->dir) > 0);
	assert_int_equal(mkdir(path, 0755), 0);
	assert_int_equal(jit_issuer_key_write_public(key, path, NULL), JIT_OK);
	free(path);
	jit_issuer_key_free(key);

	f->config = parse_config(f->dir, roles_text);
	assert_int_equal(jit_store_create(f->config->store, NULL), JIT_OK);

	make_identity(&f->alice, 1001, "alice", "engineers");
	make_identity(&f->bob, 1002, "bob", NULL);
	make_identity(&f->frank, 1003, "frank", "dba-leads");
	make_identity(&f->grace, 1004, "grace", "dba-leads");
	make_identity(&f->heidi, 1005, "heidi", "jit-break-glass");
	make_identity(&f->root, 0, "root", NULL);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;

	test_rmtree(f->dir);
	free(f->dir);
	jit_config_free(f->config);
	jit_identity_clear(&f->alice);
	jit_identity_clear(&f->bob);
	jit_identity_clear(&f->frank);
	jit_identity_clear(&f->grace);
	jit_identity_clear(&f->heidi);
	jit_identity_clear(&f->root);
	free(f);
	return 0;
}

/* A pending db-admin request of alice, made at NOW. */
static void new_request(const fixture *f, const char *role, jit_request *request)
{
	jit_request_spec spec = {
		.role = role,
		.duration = "1h",
		.reason = "INC-4821 disk full",
	};
	jit_error error;

	if (jit_request_new(f->config, &f->alice, &spec, 0, NOW, request,
			    &error) != JIT_OK)
		fail_msg("jit_request_new: %s", error.message);
}

static void identity_membership(void **state)
{
	fixture *f = *state;
	jit_strlist members = { 0 };

	assert_int_equal(jit_strlist_split(&members, "alice, %dba-leads"), JIT_OK);
	assert_true(jit_identity_in(&f->alice, &members));
	assert_true(jit_identity_in(&f->grace, &members));
	assert_false(jit_identity_in(&f->bob, &members));
	/* A group name is not a user name, and the reverse. */
	jit_strlist_clear(&members);
	assert_int_equal(jit_strlist_split(&members, "dba-leads, %alice2"), JIT_OK);
	assert_false(jit_identity_in(&f->frank, &members));
	jit_strlist_clear(&members);
	assert_false(jit_identity_in(&f->alice, &members));

	assert_true(jit_identity_approves(&f->root, jit_config_find_role(f->config, "ssh")));
	assert_false(jit_identity_approves(&f->frank, jit_config_find_role(f->config, "ssh")));
	assert_true(jit_identity_approves_any(&f->frank, f->config));
	assert_false(jit_identity_approves_any(&f->alice, f->config));
}

static void request_new_records_the_ask(void **state)
{
	fixture *f = *state;
	jit_request request;

	new_request(f, "db-admin", &request);
	assert_int_equal(request.state, JIT_REQUEST_PENDING);
	assert_string_equal(request.requester, "alice");
	assert_string_equal(request.role, "db-admin");
	assert_string_equal(request.reason, "INC-4821 disk full");
	assert_int_equal(request.duration, 3600);
	assert_int_equal(request.start, 0);
	assert_int_equal(request.created_at, NOW);
	assert_int_equal(request.expires_at, NOW + 3600);
	assert_int_equal(request.approval_count, 0);
	assert_false(request.has_grant);
	jit_request_clear(&request);
}

static void request_new_rejects_what_a_grant_would(void **state)
{
	static const struct {
		const char *role, *duration, *reason, *start, *message;
		jit_err code;
	} cases[] = {
		{ "nope", "1h", "INC-1 x", NULL, "role nope is not defined", JIT_ERR_NOT_FOUND },
		{ "ssh", "1h", "INC-1 x", NULL, "not in its requesters", JIT_ERR_PERMISSION },
		{ "db-admin", "1h", "", NULL, "reason is empty", JIT_ERR_INVALID },
		{ "db-admin", "1h", "disk full", NULL, "reason_pattern", JIT_ERR_INVALID },
		{ "db-admin", "3h", "INC-1 x", NULL, "above the maximum of 2h", JIT_ERR_RANGE },
		{ "db-admin", "0", "INC-1 x", NULL, "greater than zero", JIT_ERR_RANGE },
		{ "db-admin", "1h", "INC-1 x\nforged", NULL, "control character", JIT_ERR_INVALID },
		{ "db-admin", "1h", "INC-1 x", "2020-01-01T00:00:00Z", "in the past", JIT_ERR_RANGE },
	};
	fixture *f = *state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		jit_request_spec spec = { cases[i].role, cases[i].duration,
					  cases[i].reason, cases[i].start };
		jit_request request;
		jit_error error;
		jit_err r;

		jit_error_clear(&error);
		r = jit_request_new(f->config, &f->alice, &spec, 0, NOW, &request,
				    &error);
		if (r == JIT_OK)
			fail_msg("case %zu was accepted", i);
		if (cases[i].code != r)
			fail_msg("case %zu: code %s, expected %s: %s", i,
				 jit_err_name(r), jit_err_name(cases[i].code),
				 error.message);
		if (cases[i].message != NULL &&
		    strstr(error.message, cases[i].message) == NULL)
			fail_msg("case %zu: message '%s' lacks '%s'", i,
				 error.message, cases[i].message);
	}
}

static void request_new_bounds(void **state)
{
	fixture *f = *state;
	char reason[JIT_REQUEST_TEXT_MAX + 2];
	jit_request_spec spec = { .role = "db-admin", .reason = reason };
	jit_request request;
	jit_error error;

	memset(reason, 'x', sizeof(reason) - 1);
	memcpy(reason, "INC-1 ", 6);
	reason[sizeof(reason) - 1] = '\0';
	assert_int_equal(jit_request_new(f->config, &f->alice, &spec, 0, NOW,
					 &request, &error), JIT_ERR_TOO_LARGE);

	spec.reason = "INC-1 again";
	assert_int_equal(jit_request_new(f->config, &f->alice, &spec,
					 JIT_REQUEST_PENDING_MAX, NOW, &request,
					 &error), JIT_ERR_TOO_LARGE);
	assert_non_null(strstr(error.message, "pending requests"));

	/* No duration: the role's default_duration. */
	assert_int_equal(jit_request_new(f->config, &f->alice, &spec,
					 JIT_REQUEST_PENDING_MAX - 1, NOW, &request,
					 &error), JIT_OK);
	assert_int_equal(request.duration, 30 * 60);
	jit_request_clear(&request);

	/* Root may request any role, even one without requesters. */
	spec = (jit_request_spec){ .role = "ssh", .duration = "10m", .reason = "x" };
	assert_int_equal(jit_request_new(f->config, &f->root, &spec, 0, NOW,
					 &request, &error), JIT_OK);
	jit_request_clear(&request);
}

static void approve_refuses_own_and_outsiders(void **state)
{
	fixture *f = *state;
	jit_request request;
	jit_error error;
	bool complete;

	new_request(f, "db-admin", &request);
	assert_int_equal(jit_request_approve(f->config, &request, &f->alice, NULL,
					     NOW + 1, &complete, &error),
			 JIT_ERR_PERMISSION);
	assert_non_null(strstr(error.message, "their own request"));
	assert_int_equal(jit_request_approve(f->config, &request, &f->bob, NULL,
					     NOW + 1, &complete, &error),
			 JIT_ERR_PERMISSION);
	assert_non_null(strstr(error.message, "not in its approvers"));
	assert_int_equal(request.approval_count, 0);

	assert_int_equal(jit_request_approve(f->config, &request, &f->frank, "ok",
					     NOW + 1, &complete, &error), JIT_OK);
	assert_true(complete);
	assert_int_equal(request.approval_count, 1);
	assert_string_equal(request.approvals[0].approver, "frank");
	assert_string_equal(request.approvals[0].note, "ok");
	assert_int_equal(request.approvals[0].at, NOW + 1);
	jit_request_clear(&request);
}

static void approve_counts_each_approver_once(void **state)
{
	fixture *f = *state;
	jit_request request;
	jit_error error;
	bool complete;

	new_request(f, "pair", &request);
	assert_int_equal(jit_request_approve(f->config, &request, &f->frank, NULL,
					     NOW, &complete, &error), JIT_OK);
	assert_false(complete);
	assert_int_equal(jit_request_approve(f->config, &request, &f->frank, NULL,
					     NOW, &complete, &error), JIT_ERR_EXISTS);
	assert_false(complete);
	assert_int_equal(request.approval_count, 1);
	assert_int_equal(jit_request_approve(f->config, &request, &f->root, NULL,
					     NOW, &complete, &error), JIT_OK);
	assert_true(complete);
	jit_request_clear(&request);
}

static void approve_refuses_closed_or_expired(void **state)
{
	fixture *f = *state;
	jit_request request;
	jit_error error;
	bool complete;

	new_request(f, "db-admin", &request);
	assert_int_equal(jit_request_approve(f->config, &request, &f->frank, NULL,
					     NOW + 3600, &complete, &error),
			 JIT_ERR_INVALID);
	assert_non_null(strstr(error.message, "expired"));

	assert_int_equal(jit_request_deny(f->config, &request, &f->grace, "no",
					  NOW + 5, &error), JIT_OK);
	assert_int_equal(request.state, JIT_REQUEST_DENIED);
	assert_string_equal(request.decided_by, "grace");
	assert_int_equal(request.decided_at, NOW + 5);
	assert_int_equal(jit_request_approve(f->config, &request, &f->frank, NULL,
					     NOW + 6, &complete, &error),
			 JIT_ERR_INVALID);
	assert_non_null(strstr(error.message, "is denied"));
	jit_request_clear(&request);

	new_request(f, "db-admin", &request);
	assert_int_equal(jit_request_cancel(&request, &f->alice, NULL, NOW, &error),
			 JIT_OK);
	assert_int_equal(jit_request_approve(f->config, &request, &f->frank, NULL,
					     NOW, &complete, &error),
			 JIT_ERR_INVALID);
	assert_non_null(strstr(error.message, "is cancelled"));
	jit_request_clear(&request);
}

static void deny_and_cancel_rules(void **state)
{
	fixture *f = *state;
	jit_request request;
	jit_error error;

	new_request(f, "db-admin", &request);
	assert_int_equal(jit_request_deny(f->config, &request, &f->frank, "",
					  NOW, &error), JIT_ERR_INVALID);
	assert_int_equal(jit_request_deny(f->config, &request, &f->alice, "no",
					  NOW, &error), JIT_ERR_PERMISSION);
	assert_int_equal(jit_request_deny(f->config, &request, &f->bob, "no",
					  NOW, &error), JIT_ERR_PERMISSION);
	assert_int_equal(jit_request_cancel(&request, &f->frank, NULL, NOW, &error),
			 JIT_ERR_PERMISSION);
	assert_int_equal(request.state, JIT_REQUEST_PENDING);
	assert_int_equal(jit_request_cancel(&request, &f->root, "stale", NOW, &error),
			 JIT_OK);
	assert_int_equal(request.state, JIT_REQUEST_CANCELLED);
	assert_string_equal(request.note, "stale");
	jit_request_clear(&request);
}

static void grant_from_request_carries_the_story(void **state)
{
	fixture *f = *state;
	jit_request request;
	jit_grant *grant = NULL;
	char id[JIT_REQUEST_ID_HEX_LEN + 1];
	jit_error error;
	bool complete;

	new_request(f, "pair", &request);
	assert_int_equal(jit_request_approve(f->config, &request, &f->frank, NULL,
					     NOW + 10, &complete, &error), JIT_OK);
	assert_int_equal(jit_request_approve(f->config, &request, &f->grace, NULL,
					     NOW + 20, &complete, &error), JIT_OK);
	assert_true(complete);

	/* The clock starts when the grant is issued, not at the request. */
	assert_int_equal(jit_request_build_grant(f->config, &request, NOW + 600,
						 &grant, &error), JIT_OK);
	jit_request_id_format(request.id, id);
	assert_string_equal(grant->request_id, id);
	assert_string_equal(grant->user, "alice");
	assert_string_equal(grant->requester, "alice");
	assert_string_equal(grant->reason, "INC-4821 disk full");
	assert_string_equal(grant->role, "pair");
	assert_int_equal(grant->approvers.count, 2);
	assert_string_equal(grant->approvers.items[0], "frank");
	assert_string_equal(grant->approvers.items[1], "grace");
	assert_int_equal(grant->not_before, NOW + 600);
	assert_int_equal(grant->not_after, NOW + 600 + 3600);
	assert_false(grant->break_glass);
	jit_grant_free(grant);
	jit_request_clear(&request);
}

static void requested_start_only_delays(void **state)
{
	fixture *f = *state;
	jit_request_spec spec = {
		.role = "db-admin", .duration = "1h",
		.reason = "INC-1 window", .start = "+2h",
	};
	jit_request request;
	jit_grant *grant = NULL;
	jit_error error;

	assert_int_equal(jit_request_new(f->config, &f->alice, &spec, 0, NOW,
					 &request, &error), JIT_OK);
	assert_int_equal(request.start, NOW + 7200);

	assert_int_equal(jit_request_build_grant(f->config, &request, NOW + 60,
						 &grant, &error), JIT_OK);
	assert_int_equal(grant->not_before, NOW + 7200);
	assert_int_equal(grant->not_after, NOW + 7200 + 3600);
	jit_grant_free(grant);

	/* Approved after the start passed: it starts when issued. */
	assert_int_equal(jit_request_build_grant(f->config, &request, NOW + 9000,
						 &grant, &error), JIT_OK);
	assert_int_equal(grant->not_before, NOW + 9000);
	assert_int_equal(grant->not_after, NOW + 9000 + 3600);
	jit_grant_free(grant);
	jit_request_clear(&request);
}

static void visibility(void **state)
{
	fixture *f = *state;
	jit_request request;

	new_request(f, "db-admin", &request);
	assert_true(jit_request_visible(f->config, &request, &f->alice));
	assert_true(jit_request_visible(f->config, &request, &f->frank));
	assert_true(jit_request_visible(f->config, &request, &f->root));
	assert_false(jit_request_visible(f->config, &request, &f->bob));
	assert_int_equal(jit_request_approvals_needed(f->config, &request), 1);
	jit_request_clear(&request);
}

static void break_glass_rules(void **state)
{
	fixture *f = *state;
	jit_break_glass_spec spec = { .duration = "30m", .reason = "db down" };
	jit_grant *grant = NULL;
	jit_error error;

	assert_int_equal(f->config->break_glass_max_duration, 3600);
	assert_int_equal(jit_break_glass_build(f->config, &f->alice, &spec, NOW,
					       &grant, &error), JIT_ERR_PERMISSION);
	assert_non_null(strstr(error.message, "not a member of group jit-break-glass"));
	assert_int_equal(jit_break_glass_build(f->config, &f->root, &spec, NOW,
					       &grant, &error), JIT_ERR_PERMISSION);

	spec.duration = "2h";
	assert_int_equal(jit_break_glass_build(f->config, &f->heidi, &spec, NOW,
					       &grant, &error), JIT_ERR_RANGE);
	spec.duration = NULL;
	assert_int_equal(jit_break_glass_build(f->config, &f->heidi, &spec, NOW,
					       &grant, &error), JIT_ERR_INVALID);
	spec = (jit_break_glass_spec){ .duration = "30m", .reason = "" };
	assert_int_equal(jit_break_glass_build(f->config, &f->heidi, &spec, NOW,
					       &grant, &error), JIT_ERR_INVALID);

	spec.reason = "db down";
	assert_int_equal(jit_break_glass_build(f->config, &f->heidi, &spec, NOW,
					       &grant, &error), JIT_OK);
	assert_true(grant->break_glass);
	assert_string_equal(grant->user, "heidi");
	assert_string_equal(grant->requester, "heidi");
	assert_int_equal(grant->approvers.count, 0);
	assert_int_equal(grant->command_count, 1);
	assert_string_equal(grant->commands[0].path, "ALL");
	assert_int_equal(grant->not_after - grant->not_before, 1800);
	jit_grant_free(grant);

	/* A role narrows break-glass to its scope. */
	spec = (jit_break_glass_spec){ .role = "ssh", .duration = "10m", .reason = "x" };
	assert_int_equal(jit_break_glass_build(f->config, &f->heidi, &spec, NOW,
					       &grant, &error), JIT_OK);
	assert_int_equal(grant->command_count, 0);
	assert_string_equal(grant->services.items[0], "sshd");
	assert_true(grant->break_glass);
	jit_grant_free(grant);
}

static void review_rules(void **state)
{
	fixture *f = *state;
	jit_break_glass_spec spec = { .duration = "30m", .reason = "db down" };
	jit_grant *grant = NULL;
	jit_error error;

	assert_int_equal(jit_break_glass_build(f->config, &f->heidi, &spec, NOW,
					       &grant, &error), JIT_OK);
	assert_int_equal(jit_review_check(f->config, &f->heidi, grant, "fine", &error),
			 JIT_ERR_PERMISSION);
	assert_int_equal(jit_review_check(f->config, &f->bob, grant, "fine", &error),
			 JIT_ERR_PERMISSION);
	assert_int_equal(jit_review_check(f->config, &f->frank, grant, "", &error),
			 JIT_ERR_INVALID);
	assert_int_equal(jit_review_check(f->config, &f->frank, grant, "fine", &error),
			 JIT_OK);
	assert_int_equal(jit_review_check(f->config, &f->root, grant, "fine", &error),
			 JIT_OK);

	grant->break_glass = false;
	assert_int_equal(jit_review_check(f->config, &f->frank, grant, "fine", &error),
			 JIT_ERR_INVALID);
	assert_non_null(strstr(error.message, "not a break-glass grant"));
	jit_grant_free(grant);
}

static void issuer_rules(void **state)
{
	fixture *f = *state;
	jit_grant_spec spec = { .user = "alice", .role = "db-admin" };
	jit_error error;

	assert_int_equal(jit_grant_check_issuer(f->config, &f->frank, &spec, &error),
			 JIT_OK);
	assert_int_equal(jit_grant_check_issuer(f->config, &f->bob, &spec, &error),
			 JIT_ERR_PERMISSION);
	spec.user = "frank";
	assert_int_equal(jit_grant_check_issuer(f->config, &f->frank, &spec, &error),
			 JIT_ERR_PERMISSION);
	assert_non_null(strstr(error.message, "to themselves"));
	spec.role = NULL;
	spec.user = "alice";
	assert_int_equal(jit_grant_check_issuer(f->config, &f->frank, &spec, &error),
			 JIT_ERR_PERMISSION);
	assert_int_equal(jit_grant_check_issuer(f->config, &f->root, &spec, &error),
			 JIT_OK);
}

static void request_ids_round_trip(void **state)
{
	uint8_t id[JIT_REQUEST_ID_LEN], back[JIT_REQUEST_ID_LEN];
	char text[JIT_REQUEST_ID_HEX_LEN + 1];
	jit_error error;

	(void)state;
	for (size_t i = 0; i < sizeof(id); i++)
		id[i] = (uint8_t)(i * 17);
	jit_request_id_format(id, text);
	assert_int_equal(strlen(text), 32);
	assert_int_equal(jit_request_id_parse(text, back, &error), JIT_OK);
	assert_memory_equal(id, back, sizeof(id));
	assert_int_equal(jit_request_id_parse("12ab", back, &error), JIT_ERR_INVALID);
	assert_int_equal(jit_request_id_parse("", back, &error), JIT_ERR_INVALID);
	assert_string_equal(jit_request_state_name(JIT_REQUEST_EXPIRED), "expired");
}

/* ---- The store and the workflow ---------------------------------------- */

static void store_round_trips_a_request(void **state)
{
	fixture *f = *state;
	jit_request request, read, *all = NULL;
	jit_store *store = NULL;
	jit_error error;
	size_t count = 0;
	bool complete;

	new_request(f, "pair", &request);
	assert_int_equal(jit_request_approve(f->config, &request, &f->frank, "n1",
					     NOW, &complete, &error), JIT_OK);
	assert_int_equal(jit_store_open(f->config->store, JIT_STORE_WRITE, &store,
					&error), JIT_OK);
	assert_int_equal(jit_store_put_request(store, &request, &error), JIT_OK);
	assert_int_equal(jit_store_put_request(store, &request, &error), JIT_ERR_EXISTS);

	assert_int_equal(jit_store_get_request(store, request.id, &read, &error), JIT_OK);
	assert_memory_equal(read.id, request.id, JIT_REQUEST_ID_LEN);
	assert_string_equal(read.requester, "alice");
	assert_string_equal(read.role, "pair");
	assert_string_equal(read.reason, request.reason);
	assert_int_equal(read.expires_at, request.expires_at);
	assert_int_equal(read.duration, request.duration);
	assert_int_equal(read.approval_count, 1);
	assert_string_equal(read.approvals[0].approver, "frank");
	assert_string_equal(read.approvals[0].note, "n1");
	jit_request_clear(&read);

	assert_int_equal(jit_store_load_requests(store, 10, &all, &count, &error), JIT_OK);
	assert_int_equal(count, 1);
	jit_requests_free(all, count);
	assert_int_equal(jit_store_load_requests(store, 0, &all, &count, &error),
			 JIT_ERR_TOO_LARGE);

	request.id[0] ^= 0xff;
	assert_int_equal(jit_store_get_request(store, request.id, &read, &error),
			 JIT_ERR_NOT_FOUND);
	jit_store_close(store);
	jit_request_clear(&request);
}

static jit_err fail_update(jit_request *request, jit_grant_record *grant,
			   void *context, jit_error *error)
{
	static const uint8_t blob[] = "not a grant";

	(void)context;
	request->state = JIT_REQUEST_DENIED;
	grant->id = request->id;
	grant->user = "alice";
	grant->not_after = NOW + 10;
	grant->blob = blob;
	grant->blob_len = sizeof(blob);
	return jit_error_set(error, JIT_ERR_INVALID, "refused by the test");
}

static void failed_update_writes_nothing(void **state)
{
	fixture *f = *state;
	jit_stored_grant stored = { 0 };
	jit_request request, read;
	jit_store *store = NULL;
	jit_error error;

	new_request(f, "db-admin", &request);
	assert_int_equal(jit_store_open(f->config->store, JIT_STORE_WRITE, &store,
					&error), JIT_OK);
	assert_int_equal(jit_store_put_request(store, &request, &error), JIT_OK);
	assert_int_equal(jit_store_update_request(store, request.id, fail_update,
						  NULL, &error), JIT_ERR_INVALID);
	assert_string_equal(error.message, "refused by the test");
	assert_int_equal(jit_store_get_request(store, request.id, &read, &error), JIT_OK);
	assert_int_equal(read.state, JIT_REQUEST_PENDING);
	assert_int_equal(jit_store_get_grant(store, request.id, &stored, &error),
			 JIT_ERR_NOT_FOUND);
	jit_request_clear(&read);
	jit_store_close(store);
	jit_request_clear(&request);
}

static void workflow_issues_one_grant_in_one_step(void **state)
{
	fixture *f = *state;
	jit_request_spec spec = { .role = "pair", .duration = "1h", .reason = "INC-5" };
	jit_request_outcome outcome;
	jit_stored_grant stored = { 0 };
	jit_request request;
	jit_keyring *keys = NULL;
	jit_grant *verified = NULL;
	jit_store *store = NULL;
	jit_error error;

	assert_int_equal(jit_request_submit_stored(f->config, &f->alice, &spec, NOW,
						   &request, &error), JIT_OK);
	assert_int_equal(jit_request_approve_stored(f->config, &f->frank, request.id,
						    NULL, NOW + 1, &outcome, &error),
			 JIT_OK);
	assert_null(outcome.grant);
	assert_int_equal(outcome.approvals_needed, 2);
	assert_int_equal(outcome.request.state, JIT_REQUEST_PENDING);
	jit_request_outcome_clear(&outcome);

	assert_int_equal(jit_request_approve_stored(f->config, &f->frank, request.id,
						    NULL, NOW + 2, &outcome, &error),
			 JIT_ERR_EXISTS);
	assert_int_equal(jit_request_approve_stored(f->config, &f->grace, request.id,
						    NULL, NOW + 3, &outcome, &error),
			 JIT_OK);
	assert_non_null(outcome.grant);
	assert_int_equal(outcome.request.state, JIT_REQUEST_APPROVED);
	assert_true(outcome.request.has_grant);
	assert_memory_equal(outcome.request.grant_id, outcome.grant->id,
			    JIT_GRANT_ID_LEN);

	/* The grant stored with the request verifies and tells its story. */
	assert_int_equal(jit_store_open(f->config->store, JIT_STORE_READ, &store,
					&error), JIT_OK);
	assert_int_equal(jit_store_get_grant(store, outcome.grant->id, &stored, &error),
			 JIT_OK);
	jit_store_close(store);
	assert_int_equal(jit_keyring_load(f->config->trusted_keys, &keys, &error), JIT_OK);
	assert_int_equal(jit_grant_verify(stored.blob, stored.blob_len, keys, &verified,
					  &error), JIT_OK);
	assert_int_equal(verified->approvers.count, 2);
	assert_int_equal(verified->not_before, NOW + 3);

	/* A decided request takes no more decisions. */
	jit_request_outcome_clear(&outcome);
	assert_int_equal(jit_request_deny_stored(f->config, &f->frank, request.id,
						 "late", NOW + 4, &outcome, &error),
			 JIT_ERR_INVALID);

	jit_grant_free(verified);
	jit_keyring_free(keys);
	jit_stored_grant_clear(&stored);
	jit_request_clear(&request);
}

static void sweep_expires_and_forgets(void **state)
{
	fixture *f = *state;
	jit_request_spec spec = { .role = "db-admin", .duration = "1h", .reason = "INC-6" };
	jit_request pending, cancelled, *expired = NULL, *visible = NULL;
	jit_request_outcome outcome;
	jit_error error;
	size_t count = 0;

	assert_int_equal(jit_request_submit_stored(f->config, &f->alice, &spec, NOW,
						   &pending, &error), JIT_OK);
	assert_int_equal(jit_request_submit_stored(f->config, &f->alice, &spec, NOW,
						   &cancelled, &error), JIT_OK);
	assert_int_equal(jit_request_cancel_stored(f->config, &f->alice, cancelled.id,
						   NULL, NOW + 1, &outcome, &error),
			 JIT_OK);
	jit_request_outcome_clear(&outcome);

	assert_int_equal(jit_requests_sweep_stored(f->config, NOW + 3599, &expired,
						   &count, &error), JIT_OK);
	assert_int_equal(count, 0);
	assert_int_equal(jit_requests_sweep_stored(f->config, NOW + 3600, &expired,
						   &count, &error), JIT_OK);
	assert_int_equal(count, 1);
	assert_memory_equal(expired[0].id, pending.id, JIT_REQUEST_ID_LEN);
	assert_int_equal(expired[0].state, JIT_REQUEST_EXPIRED);
	jit_requests_free(expired, count);

	/* Expired once: a second sweep reports nothing. */
	assert_int_equal(jit_requests_sweep_stored(f->config, NOW + 3601, &expired,
						   &count, &error), JIT_OK);
	assert_int_equal(count, 0);
	assert_int_equal(jit_requests_list_stored(f->config, &f->alice, true,
						  &visible, &count, &error), JIT_OK);
	assert_int_equal(count, 2);
	jit_requests_free(visible, count);
	assert_int_equal(jit_requests_list_stored(f->config, &f->alice, false,
						  &visible, &count, &error), JIT_OK);
	assert_int_equal(count, 0);
	jit_requests_free(visible, count);

	/* After the retention period both are gone. */
	assert_int_equal(jit_requests_sweep_stored(f->config,
						   NOW + 3600 + JIT_REQUEST_RETENTION,
						   &expired, &count, &error), JIT_OK);
	assert_int_equal(jit_requests_list_stored(f->config, &f->root, true,
						  &visible, &count, &error), JIT_OK);
	assert_int_equal(count, 0);
	jit_requests_free(visible, count);
	jit_request_clear(&pending);
	jit_request_clear(&cancelled);
}

static void pending_limit_per_requester(void **state)
{
	fixture *f = *state;
	jit_request_spec spec = { .role = "db-admin", .duration = "1h", .reason = "INC-8" };
	jit_request request;
	jit_error error;

	for (int i = 0; i < JIT_REQUEST_PENDING_MAX; i++) {
		assert_int_equal(jit_request_submit_stored(f->config, &f->alice, &spec,
							   NOW, &request, &error), JIT_OK);
		jit_request_clear(&request);
	}
	assert_int_equal(jit_request_submit_stored(f->config, &f->alice, &spec, NOW,
						   &request, &error), JIT_ERR_TOO_LARGE);
	/* Another requester is not affected. */
	assert_int_equal(jit_request_submit_stored(f->config, &f->frank, &spec, NOW,
						   &request, &error), JIT_OK);
	jit_request_clear(&request);
}

static void review_stored_once(void **state)
{
	fixture *f = *state;
	jit_break_glass_spec spec = { .duration = "30m", .reason = "db down" };
	jit_grant *grant = NULL, *reviewed = NULL;
	jit_review review = { 0 };
	jit_store *store = NULL;
	jit_error error;
	bool done = true;

	assert_int_equal(jit_break_glass_stored(f->config, &f->heidi, &spec, NOW,
						&grant, &error), JIT_OK);
	assert_int_equal(jit_grant_reviewed_stored(f->config, grant->id, &done,
						   &error), JIT_OK);
	assert_false(done);

	assert_int_equal(jit_review_stored(f->config, &f->heidi, grant->id, "fine",
					   NOW + 1, &reviewed, &error),
			 JIT_ERR_PERMISSION);
	assert_int_equal(jit_review_stored(f->config, &f->frank, grant->id, "fine",
					   NOW + 2, &reviewed, &error), JIT_OK);
	assert_string_equal(reviewed->user, "heidi");
	jit_grant_free(reviewed);
	assert_int_equal(jit_review_stored(f->config, &f->grace, grant->id, "again",
					   NOW + 3, &reviewed, &error), JIT_ERR_EXISTS);

	assert_int_equal(jit_grant_reviewed_stored(f->config, grant->id, &done,
						   &error), JIT_OK);
	assert_true(done);
	assert_int_equal(jit_store_open(f->config->store, JIT_STORE_READ, &store,
					&error), JIT_OK);
	assert_int_equal(jit_store_get_review(store, grant->id, &review, &error), JIT_OK);
	assert_string_equal(review.reviewer, "frank");
	assert_string_equal(review.note, "fine");
	assert_int_equal(review.reviewed_at, NOW + 2);
	jit_review_clear(&review);
	jit_store_close(store);

	grant->id[0] ^= 0xff;
	assert_int_equal(jit_review_stored(f->config, &f->frank, grant->id, "fine",
					   NOW, &reviewed, &error), JIT_ERR_NOT_FOUND);
	jit_grant_free(grant);
}

static void config_rejects_unapprovable_roles(void **state)
{
	static const struct {
		const char *text;
		const char *message;
	} cases[] = {
		{ "[role r]\ncommands = ALL\nrequesters = alice\n",
		  "test.conf:3: [role r] has requesters but no approvers" },
		{ "[role r]\ncommands = ALL\napprovers = frank, grace\napprovals = 3\n",
		  "test.conf:4: [role r] needs 3 approvals but names only 2 approvers" },
		{ "[role r]\ncommands = ALL\napprovers = frank, frank\napprovals = 2\n",
		  "names only 1 approvers" },
		{ "[jit]\nmax_duration = 2h\nbreak_glass_max_duration = 3h\n",
		  "test.conf:3: break_glass_max_duration 3h in [jit] is above max_duration 2h" },
	};
	jit_config *config = NULL;
	jit_error error;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		jit_error_clear(&error);
		assert_int_equal(jit_config_parse("test.conf", cases[i].text, &config,
						  &error), JIT_ERR_CONFIG);
		if (strstr(error.message, cases[i].message) == NULL)
			fail_msg("case %zu: '%s' lacks '%s'", i, error.message,
				 cases[i].message);
	}

	/* A group may hold any number of approvers. */
	assert_int_equal(jit_config_parse("test.conf",
		"[role r]\ncommands = ALL\nrequesters = alice\napprovers = %leads\napprovals = 5\n",
		&config, &error), JIT_OK);
	jit_config_free(config);
}

static void config_break_glass_and_notify(void **state)
{
	jit_config *config = NULL;
	jit_error error;

	(void)state;
	assert_int_equal(jit_config_parse("test.conf", "[jit]\nmax_duration = 30m\n",
					  &config, &error), JIT_OK);
	assert_int_equal(config->break_glass_max_duration, 1800);
	assert_null(config->notify_command);
	jit_config_free(config);

	assert_int_equal(jit_config_parse("test.conf",
		"[jit]\nbreak_glass_max_duration = 15m\nnotify_command = /usr/local/bin/jit-notify\n",
		&config, &error), JIT_OK);
	assert_int_equal(config->break_glass_max_duration, 900);
	assert_string_equal(config->notify_command, "/usr/local/bin/jit-notify");
	jit_config_free(config);

	assert_int_equal(jit_config_parse("test.conf", "[jit]\nnotify_command = notify\n",
					  &config, &error), JIT_ERR_CONFIG);
	assert_non_null(strstr(error.message, "test.conf:2: invalid notify_command"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(identity_membership, setup, teardown),
		cmocka_unit_test_setup_teardown(request_new_records_the_ask, setup, teardown),
		cmocka_unit_test_setup_teardown(request_new_rejects_what_a_grant_would, setup, teardown),
		cmocka_unit_test_setup_teardown(request_new_bounds, setup, teardown),
		cmocka_unit_test_setup_teardown(approve_refuses_own_and_outsiders, setup, teardown),
		cmocka_unit_test_setup_teardown(approve_counts_each_approver_once, setup, teardown),
		cmocka_unit_test_setup_teardown(approve_refuses_closed_or_expired, setup, teardown),
		cmocka_unit_test_setup_teardown(deny_and_cancel_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(grant_from_request_carries_the_story, setup, teardown),
		cmocka_unit_test_setup_teardown(requested_start_only_delays, setup, teardown),
		cmocka_unit_test_setup_teardown(visibility, setup, teardown),
		cmocka_unit_test_setup_teardown(break_glass_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(review_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(issuer_rules, setup, teardown),
		cmocka_unit_test(request_ids_round_trip),
		cmocka_unit_test_setup_teardown(store_round_trips_a_request, setup, teardown),
		cmocka_unit_test_setup_teardown(failed_update_writes_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(workflow_issues_one_grant_in_one_step, setup, teardown),
		cmocka_unit_test_setup_teardown(sweep_expires_and_forgets, setup, teardown),
		cmocka_unit_test_setup_teardown(pending_limit_per_requester, setup, teardown),
		cmocka_unit_test_setup_teardown(review_stored_once, setup, teardown),
		cmocka_unit_test(config_rejects_unapprovable_roles),
		cmocka_unit_test(config_break_glass_and_notify),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
