/* Output: grants as aligned text for people and as JSON for programs. */
#include <stdlib.h>
#include <string.h>

#include "jitctl.h"

/* Maximum length of a user or role name in the list table. The show
 * command prints names whole. */
#define TABLE_NAME_MAX 32
/* Width of the list table's SCOPE column, "..." included. */
#define TABLE_SCOPE_MAX 48

char *output_join(const jit_strlist *list, const char *separator)
{
	size_t length = 1;
	char *text;

	for (size_t i = 0; i < list->count; i++)
		length += strlen(list->items[i]) + strlen(separator);

	text = malloc(length);
	if (text == NULL)
		return NULL;

	text[0] = '\0';
	for (size_t i = 0; i < list->count; i++) {
		if (i > 0)
			strcat(text, separator);
		strcat(text, list->items[i]);
	}
	return text;
}

/* Writes a command the way grant --command takes it: "ALL", "/path" for
 * any arguments, "/path ARG..." for exactly those, "/path \"\"" for none. */
char *output_command_text(const jit_command *command)
{
	char *args, *text = NULL;

	if (!command->args_given)
		return strdup(command->path);
	if (command->args.count == 0)
		return asprintf(&text, "%s \"\"", command->path) < 0 ? NULL : text;

	args = output_join(&command->args, " ");
	if (args == NULL)
		return NULL;
	if (asprintf(&text, "%s %s", command->path, args) < 0)
		text = NULL;
	free(args);
	return text;
}

char *output_commands_text(const jit_grant *grant, const char *separator)
{
	jit_strlist texts = { 0 };
	char *joined = NULL;

	for (size_t i = 0; i < grant->command_count; i++) {
		char *text = output_command_text(&grant->commands[i]);
		jit_err r;

		if (text == NULL)
			goto out;
		r = jit_strlist_append(&texts, text);
		free(text);
		if (r != JIT_OK)
			goto out;
	}

	joined = output_join(&texts, separator);
out:
	jit_strlist_clear(&texts);
	return joined;
}

void output_time(int64_t t, char *out, size_t out_len)
{
	jit_time_format(t, out, out_len);
}

/* Writes the time from now until not_after ("12m30s"), or "-" once it
 * has passed. */
void output_time_left(int64_t not_after, int64_t now_ms, char *out,
		      size_t out_len)
{
	int64_t now = now_ms / 1000;

	if (now >= not_after) {
		snprintf(out, out_len, "-");
		return;
	}
	jit_duration_format(not_after - now, out, out_len);
}

/* Appends piece to out and returns true. When out_len is too small, the
 * text is cut to end in "..." and false is returned. */
static bool append_cut(char *out, size_t out_len, const char *separator,
		       const char *piece)
{
	size_t used = strlen(out);
	size_t needed = (used > 0 ? strlen(separator) : 0) + strlen(piece);

	if (used + needed < out_len) {
		if (used > 0)
			strcat(out, separator);
		strcat(out, piece);
		return true;
	}

	if (out_len >= 4) {
		size_t keep = out_len - 4;

		if (used < keep)
			snprintf(out + used, keep - used + 1, "%s%s",
				 used > 0 ? separator : "", piece);
		strcpy(out + keep, "...");
	}
	return false;
}

/* Writes the commands and services a grant covers, cut to fit out_len. */
void output_scope(const jit_grant *grant, char *out, size_t out_len)
{
	bool room = true;

	if (out_len == 0)
		return;
	out[0] = '\0';

	for (size_t i = 0; room && i < grant->command_count; i++) {
		char *text = output_command_text(&grant->commands[i]);

		room = append_cut(out, out_len, ", ",
				  text != NULL ? text : grant->commands[i].path);
		free(text);
	}

	for (size_t i = 0; room && i < grant->services.count; i++) {
		char piece[256];

		snprintf(piece, sizeof(piece), "service:%s",
			 grant->services.items[i]);
		room = append_cut(out, out_len, ", ", piece);
	}

	if (out[0] == '\0')
		snprintf(out, out_len, "-");
}

typedef struct table_row {
	const char *id;
	const char *user;
	const char *role;
	const char *state;
	char expires[32];
	char left[32];
	char scope[TABLE_SCOPE_MAX + 1];
} table_row;

static void table_row_fill(table_row *row, const grant_view *view,
			   int64_t now_ms)
{
	const jit_grant *grant = view->grant;

	row->id = view->id;
	row->state = grant_state_name(view->state);
	if (grant == NULL) {
		row->user = row->role = "-";
		strcpy(row->expires, "-");
		strcpy(row->left, "-");
		strcpy(row->scope, "-");
		return;
	}

	row->user = grant->user;
	row->role = grant->role;
	output_time(grant->not_after, row->expires, sizeof(row->expires));
	if (view->state == GRANT_ACTIVE)
		output_time_left(grant->not_after, now_ms, row->left,
				 sizeof(row->left));
	else
		strcpy(row->left, "-");
	output_scope(grant, row->scope, sizeof(row->scope));
}

static int column_width(int width, const char *text)
{
	size_t length = strnlen(text, TABLE_NAME_MAX);

	return (int)length > width ? (int)length : width;
}

int output_grant_table(const jitctl *ctl, const grant_view *views,
		       size_t count, int64_t now_ms)
{
	int user_w = 4, role_w = 4, state_w = 5, expires_w = 7, left_w = 4;
	table_row *rows = calloc(count > 0 ? count : 1, sizeof(*rows));

	if (rows == NULL) {
		ctl_error(ctl, "out of memory");
		return CTL_EXIT_FAIL;
	}

	for (size_t i = 0; i < count; i++) {
		table_row_fill(&rows[i], &views[i], now_ms);
		user_w = column_width(user_w, rows[i].user);
		role_w = column_width(role_w, rows[i].role);
		state_w = column_width(state_w, rows[i].state);
		expires_w = column_width(expires_w, rows[i].expires);
		left_w = column_width(left_w, rows[i].left);
	}

	printf("%-*s  %-*s  %-*s  %-*s  %-*s  %-*s  %s\n",
	       JIT_GRANT_ID_HEX_LEN, "ID", user_w, "USER", role_w, "ROLE",
	       state_w, "STATE", expires_w, "EXPIRES", left_w, "LEFT", "SCOPE");
	for (size_t i = 0; i < count; i++)
		printf("%-*s  %-*.*s  %-*.*s  %-*s  %-*s  %-*s  %s\n",
		       JIT_GRANT_ID_HEX_LEN, rows[i].id,
		       user_w, TABLE_NAME_MAX, rows[i].user,
		       role_w, TABLE_NAME_MAX, rows[i].role,
		       state_w, rows[i].state, expires_w, rows[i].expires,
		       left_w, rows[i].left, rows[i].scope);

	/* Why each invalid grant failed, which the table has no room for. */
	for (size_t i = 0; i < count; i++)
		if (views[i].state == GRANT_INVALID)
			printf("%s: invalid: %s\n", views[i].id,
			       views[i].verify_error.message);
	for (size_t i = 0; i < count; i++)
		if (views[i].unreviewed)
			printf("%s: break-glass, unreviewed: jitctl review %s --note TEXT\n",
			       views[i].id, views[i].id);

	free(rows);
	return CTL_EXIT_OK;
}

static void print_field(const char *label, const char *value)
{
	printf("%-14s %s\n", label, value != NULL && value[0] != '\0' ? value : "-");
}

/* Prints one value per line, the first beside the label. */
static void print_list_field(const char *label, const jit_strlist *list)
{
	if (list->count == 0) {
		print_field(label, "-");
		return;
	}
	for (size_t i = 0; i < list->count; i++)
		print_field(i == 0 ? label : "", list->items[i]);
}

static void print_time_field(const char *label, int64_t t)
{
	char text[32];

	output_time(t, text, sizeof(text));
	print_field(label, text);
}

static void print_scope_fields(const jit_grant *grant)
{
	print_list_field("runas users", &grant->runas_users);
	print_list_field("runas groups", &grant->runas_groups);

	if (grant->command_count == 0)
		print_field("commands", "-");
	for (size_t i = 0; i < grant->command_count; i++) {
		char *text = output_command_text(&grant->commands[i]);

		print_field(i == 0 ? "commands" : "",
			    text != NULL ? text : grant->commands[i].path);
		free(text);
	}

	print_list_field("services", &grant->services);
}

/* Break-glass grants say whether someone has reviewed them. */
static void print_break_glass(const grant_view *view)
{
	const jit_review *review = &view->review;
	char at[32], text[JIT_REQUEST_TEXT_MAX + 128];

	if (!view->grant->break_glass) {
		print_field("break-glass", "no");
		return;
	}
	if (review->reviewer == NULL) {
		print_field("break-glass", view->unreviewed ? "yes, unreviewed" : "yes");
		return;
	}

	output_time(review->reviewed_at, at, sizeof(at));
	print_field("break-glass", "yes, reviewed");
	snprintf(text, sizeof(text), "%s at %s: %s", review->reviewer, at,
		 review->note);
	print_field("reviewed by", text);
}

static void print_grant_body(const grant_view *view, int64_t now_ms)
{
	const jit_grant *grant = view->grant;
	char key_id[JIT_KEY_ID_HEX_LEN + 1];
	char left[32];

	print_field("user", grant->user);
	print_field("role", grant->role);
	print_list_field("hosts", &grant->hosts);
	print_time_field("not before", grant->not_before);
	print_time_field("not after", grant->not_after);
	output_time_left(grant->not_after, now_ms, left, sizeof(left));
	print_field("time left", left);
	print_time_field("issued at", grant->issued_at);
	print_scope_fields(grant);
	print_field("requester", grant->requester);
	print_list_field("approvers", &grant->approvers);
	print_field("request id", grant->request_id);
	print_field("reason", grant->reason);
	print_break_glass(view);
	jit_key_id_format(grant->key_id, key_id);
	print_field("issuer key", key_id);
}

void output_grant_fields(const grant_view *view,
			 const jit_revocation *revocation, int64_t now_ms)
{
	print_field("id", view->id);
	print_field("state", grant_state_name(view->state));
	if (view->verified) {
		print_field("signature", "valid");
	} else {
		char text[JIT_ERROR_MESSAGE_MAX + 16];

		snprintf(text, sizeof(text), "invalid: %s",
			 view->verify_error.message);
		print_field("signature", text);
		if (view->grant != NULL)
			puts("The fields below were read without a valid signature.");
	}

	if (view->grant != NULL)
		print_grant_body(view, now_ms);

	if (revocation != NULL) {
		print_time_field("revoked at", revocation->revoked_at);
		print_field("revoked by", revocation->actor);
		print_field("revoke reason", revocation->reason);
	}
}

void json_put(json_builder *b, json_object *object, const char *key,
	      json_object *value)
{
	if (value == NULL) {
		b->failed = true;
		return;
	}
	if (json_object_object_add(object, key, value) < 0) {
		json_object_put(value);
		b->failed = true;
	}
}

void json_put_null(json_builder *b, json_object *object, const char *key)
{
	if (json_object_object_add(object, key, NULL) < 0)
		b->failed = true;
}

void json_append(json_builder *b, json_object *array, json_object *value)
{
	if (value == NULL) {
		b->failed = true;
		return;
	}
	if (json_object_array_add(array, value) < 0) {
		json_object_put(value);
		b->failed = true;
	}
}

static json_object *json_strlist(json_builder *b, const jit_strlist *list)
{
	json_object *array = json_object_new_array();

	if (array == NULL)
		return NULL;
	for (size_t i = 0; i < list->count; i++)
		json_append(b, array, json_object_new_string(list->items[i]));
	return array;
}

static json_object *json_time(int64_t t)
{
	char text[32];

	output_time(t, text, sizeof(text));
	return json_object_new_string(text);
}

static json_object *json_commands(json_builder *b, const jit_grant *grant)
{
	json_object *array = json_object_new_array();

	if (array == NULL)
		return NULL;

	for (size_t i = 0; i < grant->command_count; i++) {
		const jit_command *command = &grant->commands[i];
		json_object *item = json_object_new_object();

		if (item == NULL) {
			b->failed = true;
			continue;
		}
		json_put(b, item, "path", json_object_new_string(command->path));
		/* null: any arguments; an array: exactly these. */
		if (command->args_given)
			json_put(b, item, "args", json_strlist(b, &command->args));
		else
			json_put_null(b, item, "args");
		json_append(b, array, item);
	}
	return array;
}

static void json_grant_body(json_builder *b, json_object *object,
			    const jit_grant *grant)
{
	char key_id[JIT_KEY_ID_HEX_LEN + 1];

	json_put(b, object, "user", json_object_new_string(grant->user));
	json_put(b, object, "role", json_object_new_string(grant->role));
	json_put(b, object, "hosts", json_strlist(b, &grant->hosts));
	json_put(b, object, "not_before", json_time(grant->not_before));
	json_put(b, object, "not_after", json_time(grant->not_after));
	json_put(b, object, "issued_at", json_time(grant->issued_at));
	json_put(b, object, "runas_users", json_strlist(b, &grant->runas_users));
	json_put(b, object, "runas_groups", json_strlist(b, &grant->runas_groups));
	json_put(b, object, "commands", json_commands(b, grant));
	json_put(b, object, "services", json_strlist(b, &grant->services));
	json_put(b, object, "requester", json_object_new_string(grant->requester));
	json_put(b, object, "approvers", json_strlist(b, &grant->approvers));
	json_put(b, object, "request_id", json_object_new_string(grant->request_id));
	json_put(b, object, "reason", json_object_new_string(grant->reason));
	json_put(b, object, "break_glass", json_object_new_boolean(grant->break_glass));
	jit_key_id_format(grant->key_id, key_id);
	json_put(b, object, "key_id", json_object_new_string(key_id));
}

static json_object *json_revocation(json_builder *b,
				    const jit_revocation *revocation)
{
	json_object *object = json_object_new_object();

	if (object == NULL)
		return NULL;
	json_put(b, object, "revoked_at", json_time(revocation->revoked_at));
	json_put(b, object, "actor", json_object_new_string(revocation->actor));
	json_put(b, object, "reason", json_object_new_string(revocation->reason));
	return object;
}

static json_object *json_review(json_builder *b, const jit_review *review)
{
	json_object *object = json_object_new_object();

	if (object == NULL)
		return NULL;
	json_put(b, object, "reviewed_at", json_time(review->reviewed_at));
	json_put(b, object, "reviewer", json_object_new_string(review->reviewer));
	json_put(b, object, "note", json_object_new_string(review->note));
	return object;
}

/* Returns the view as a JSON object, or NULL when out of memory. Nothing
 * in it but the state depends on the clock, so two readings of an unchanged
 * grant compare equal. */
json_object *output_grant_json(const grant_view *view,
			       const jit_revocation *revocation)
{
	json_builder b = { .failed = false };
	json_object *object = json_object_new_object();

	if (object == NULL)
		return NULL;

	json_put(&b, object, "id", json_object_new_string(view->id));
	json_put(&b, object, "state",
		 json_object_new_string(grant_state_name(view->state)));
	json_put(&b, object, "valid", json_object_new_boolean(view->verified));
	if (!view->verified)
		json_put(&b, object, "error",
			 json_object_new_string(view->verify_error.message));
	json_put(&b, object, "revoked", json_object_new_boolean(view->revoked));
	if (view->grant != NULL)
		json_grant_body(&b, object, view->grant);
	if (revocation != NULL)
		json_put(&b, object, "revocation", json_revocation(&b, revocation));
	if (view->review_known && view->grant != NULL && view->grant->break_glass)
		json_put(&b, object, "reviewed",
			 json_object_new_boolean(!view->unreviewed));
	if (view->review.reviewer != NULL)
		json_put(&b, object, "review", json_review(&b, &view->review));

	if (b.failed) {
		json_object_put(object);
		return NULL;
	}
	return object;
}

/* Prints object (NULL means building it ran out of memory) and frees it. */
int output_json(const jitctl *ctl, json_object *object)
{
	const char *text;

	if (object == NULL) {
		ctl_error(ctl, "out of memory while building JSON output");
		return CTL_EXIT_FAIL;
	}

	text = json_object_to_json_string_ext(object,
			JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
			JSON_C_TO_STRING_NOSLASHESCAPE);
	if (text == NULL) {
		json_object_put(object);
		ctl_error(ctl, "out of memory while writing JSON output");
		return CTL_EXIT_FAIL;
	}
	puts(text);
	json_object_put(object);
	return CTL_EXIT_OK;
}
