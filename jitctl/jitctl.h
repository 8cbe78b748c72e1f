/* Shared declarations of jitctl, the command line over libjitcore.
 *
 * Every command parses its own options, then calls ctl_prepare() to check
 * privileges and load the configuration. Errors are printed here, in the
 * front end, as one line starting with "jitctl COMMAND: "; libjitcore only
 * returns them. */
#ifndef JITCTL_H
#define JITCTL_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

#include "jit.h"

/* Exit statuses: 0 success or allow, 1 failure, deny or rejected value,
 * 2 malformed command line. */
#define CTL_EXIT_OK 0
#define CTL_EXIT_FAIL 1
#define CTL_EXIT_USAGE 2

/* Returned by ctl_common_option() when parsing should go on. */
#define CTL_CONTINUE (-1)

/* Largest token text import and verify read, newline included. */
#define CTL_TOKEN_INPUT_MAX (128 * 1024)

/* Long-option values shared by every command; command-specific values
 * start at CTL_OPT_FIRST. */
enum {
	CTL_OPT_CONFIG = 0x100,
	CTL_OPT_JSON,
	CTL_OPT_FIRST,
};

#define CTL_COMMON_OPTIONS \
	{ "config", required_argument, NULL, CTL_OPT_CONFIG }, \
	{ "help", no_argument, NULL, 'h' }

typedef struct ctl_command ctl_command;

typedef struct jitctl {
	const ctl_command *command;
	const char *config_path;
	jit_config *config;
	bool json;
	int64_t now_ms;        /* one clock reading per run */
} jitctl;

struct ctl_command {
	const char *name;
	const char *synopsis;  /* the arguments after "jitctl NAME" */
	const char *summary;   /* one line for "jitctl --help" */
	const char *notes;     /* a paragraph for "jitctl NAME --help", or "" */
	const char *options;   /* option lines for "jitctl NAME --help", or "" */
	bool writes;           /* changes the store or keys: root only */
	int (*run)(jitctl *ctl, int argc, char **argv);
};

/* Commands, one per function. argv[0] is the command's name. */
int cmd_init(jitctl *ctl, int argc, char **argv);
int cmd_grant(jitctl *ctl, int argc, char **argv);
int cmd_list(jitctl *ctl, int argc, char **argv);
int cmd_show(jitctl *ctl, int argc, char **argv);
int cmd_revoke(jitctl *ctl, int argc, char **argv);
int cmd_reap(jitctl *ctl, int argc, char **argv);
int cmd_check(jitctl *ctl, int argc, char **argv);
int cmd_export(jitctl *ctl, int argc, char **argv);
int cmd_import(jitctl *ctl, int argc, char **argv);
int cmd_verify(jitctl *ctl, int argc, char **argv);
int cmd_inventory(jitctl *ctl, int argc, char **argv);
int cmd_watch(jitctl *ctl, int argc, char **argv);
int cmd_request(jitctl *ctl, int argc, char **argv);
int cmd_requests(jitctl *ctl, int argc, char **argv);
int cmd_approve(jitctl *ctl, int argc, char **argv);
int cmd_deny(jitctl *ctl, int argc, char **argv);
int cmd_cancel(jitctl *ctl, int argc, char **argv);
int cmd_break_glass(jitctl *ctl, int argc, char **argv);
int cmd_review(jitctl *ctl, int argc, char **argv);
int cmd_broker(jitctl *ctl, int argc, char **argv);
int cmd_audit(jitctl *ctl, int argc, char **argv);
int cmd_report(jitctl *ctl, int argc, char **argv);

/* cmd_audit.c: signs a checkpoint of the evidence chain in store, which
 * must be open for writing. With print, says so on stdout and fails
 * without an issuer key; without, only warns when there is none. */
int ctl_chain_checkpoint(const jitctl *ctl, jit_store *store, bool print);

/* context.c: messages, privileges, configuration and store access. */
void ctl_error(const jitctl *ctl, const char *format, ...)
	__attribute__((format(printf, 2, 3)));
void ctl_warn(const jitctl *ctl, const char *format, ...)
	__attribute__((format(printf, 2, 3)));
int ctl_lib_error(const jitctl *ctl, const jit_error *error);
int ctl_usage_error(const jitctl *ctl, const char *format, ...)
	__attribute__((format(printf, 2, 3)));
void ctl_print_help(const jitctl *ctl);
int ctl_common_option(jitctl *ctl, int opt, char **argv);
int ctl_prepare(jitctl *ctl);
int ctl_invoking_user(const jitctl *ctl, char **name);
int ctl_parse_grant_id(const jitctl *ctl, const char *text,
		       uint8_t id[JIT_GRANT_ID_LEN]);
int ctl_store_open(const jitctl *ctl, jit_store_mode mode, jit_store **store);
int ctl_keyring_load(const jitctl *ctl, jit_keyring **keys);
int ctl_read_token(const jitctl *ctl, const char *file, char **text);

/* sessions.c and cmd_revoke.c: ending sessions and removing grants, shared
 * by revoke, reap and watch. */
typedef struct session_sweep_options {
	const uint8_t *grant_id;   /* only this grant's sessions, or NULL */
	int64_t now_ms;
	int64_t warn_seconds;      /* 0: warn no session */
	bool print;                /* one line on stdout per ended session */
	bool hold_hangup;          /* ignore SIGHUP while sweeping */
	int64_t next_due_ms;       /* set: when a session next needs a look */
} session_sweep_options;

int ctl_sweep_sessions(const jitctl *ctl, session_sweep_options *options);
int ctl_reap_grants(const jitctl *ctl, size_t batch, int64_t now_ms,
		    size_t *removed, bool *reaped);

/* view.c: a stored grant or token, verified or parsed for display, and its
 * state at one instant. */
typedef enum grant_state {
	GRANT_ACTIVE,
	GRANT_NOT_YET_VALID,
	GRANT_OTHER_HOST,
	GRANT_EXPIRED,
	GRANT_REVOKED,
	GRANT_INVALID,
} grant_state;

typedef struct grant_view {
	char id[JIT_GRANT_ID_HEX_LEN + 1];
	jit_grant *grant;        /* NULL when the blob does not even parse */
	bool verified;
	jit_error verify_error;  /* why verification failed, when !verified */
	bool revoked;
	grant_state state;
	/* Break-glass review, filled in by the listings that read it: */
	bool review_known;       /* whether the store was asked */
	bool unreviewed;         /* break-glass and no review recorded */
	jit_review review;       /* the recorded review; reviewer NULL if none */
} grant_view;

const char *grant_state_name(grant_state state);
grant_state grant_state_at(const jit_config *config, const jit_grant *grant,
			   bool revoked, int64_t now_ms);
jit_err grant_view_load(grant_view *view, const uint8_t *stored_id,
			const uint8_t *blob, size_t blob_len, bool revoked,
			const jit_keyring *keys, const jit_config *config,
			int64_t now_ms);
void grant_view_clear(grant_view *view);

/* output.c: text for people and JSON. */
char *output_join(const jit_strlist *list, const char *separator);
char *output_command_text(const jit_command *command);
char *output_commands_text(const jit_grant *grant, const char *separator);
void output_time(int64_t t, char *out, size_t out_len);
void output_time_left(int64_t not_after, int64_t now_ms, char *out,
		      size_t out_len);
void output_scope(const jit_grant *grant, char *out, size_t out_len);
int output_grant_table(const jitctl *ctl, const grant_view *views,
		       size_t count, int64_t now_ms);
void output_grant_fields(const grant_view *view,
			 const jit_revocation *revocation, int64_t now_ms);
json_object *output_grant_json(const grant_view *view,
			       const jit_revocation *revocation);
int output_json(const jitctl *ctl, json_object *object);

/* Builds JSON with one sticky failure flag, so each step stays a plain
 * statement and allocation failures are checked once, at the end. A NULL
 * value counts as a failed allocation. */
typedef struct json_builder {
	bool failed;
} json_builder;

void json_put(json_builder *b, json_object *object, const char *key,
	      json_object *value);
void json_put_null(json_builder *b, json_object *object, const char *key);
void json_append(json_builder *b, json_object *array, json_object *value);

/* The request workflow, in broker_*.c, notify.c and cmd_request.c. */

/* Events of one operation waiting for the notify command, as JSON texts. */
typedef struct broker_events {
	jit_strlist texts;
	size_t dropped;          /* events over the per-operation limit */
} broker_events;

/* What ctl_broker_call hands back: the response (with "ok": true) and, when
 * this process ran the operation, its events for the notify command. */
typedef struct broker_reply {
	json_object *response;
	broker_events events;
} broker_reply;

/* One operation in progress inside broker_response. */
typedef struct broker_call {
	const jitctl *ctl;
	const jit_identity *caller;
	const jit_broker_message *message;
	broker_events *events;
	int64_t now;              /* seconds */
	json_object *response;
	json_builder json;
	jit_error error;
} broker_call;

/* broker_ops.c: parses a message, runs it for caller and returns the
 * response object, an error response included; NULL only when out of memory. */
json_object *broker_response(const jitctl *ctl, const jit_identity *caller,
			   const char *text, size_t len, broker_events *events);
json_object *broker_error_response(jit_err code, const char *message);
void broker_emit(broker_call *call, const jit_event *ev);
json_object *broker_time_json(int64_t t);
json_object *broker_request_json(json_builder *b, const jit_config *config,
				 const jit_request *request);

/* broker_grants.c */
jit_err broker_grant_operation(broker_call *call);
json_object *broker_grant_json(json_builder *b, const jit_grant *grant);
void broker_emit_issued(broker_call *call, const jit_grant *grant,
			const char *id);

/* notify.c */
void notify_record(broker_events *events, const jit_config *config,
		   const jit_event *ev);
void notify_run(const jit_config *config, const broker_events *events,
		bool detach);
void broker_events_clear(broker_events *events);

/* broker_client.c: sends message to the broker, or runs it here for root.
 * An error response is printed and gives CTL_EXIT_FAIL. ctl_broker_finish
 * runs the notify command (detached) and frees the reply; call it after
 * printing, whatever ctl_broker_call returned. */
int ctl_broker_call(const jitctl *ctl, const jit_broker_message *message,
		    broker_reply *reply);
void ctl_broker_finish(const jitctl *ctl, broker_reply *reply);
json_object *ctl_response_get(json_object *response, const char *key);
const char *ctl_response_string(json_object *object, const char *key);

/* cmd_check.c: a decision as JSON, as jitctl check --json prints it. */
json_object *check_decision_json(const jit_access *access,
				 const jit_decision *decision);

#endif
