/* jitctl request, requests, approve, deny, cancel, break-glass and review:
 * the command line of the request workflow. Each command turns its
 * options into one broker message, sends it (or, as root, runs it here)
 * and prints the response. */
#include <stdlib.h>
#include <string.h>

#include "jitctl.h"

enum {
	OPT_ROLE = CTL_OPT_FIRST,
	OPT_FOR,
	OPT_REASON,
	OPT_START,
	OPT_ALL,
	OPT_NOTE,
};

/* Options every workflow command may take; each command says which. */
typedef struct workflow_options {
	const char *role;
	const char *duration;
	const char *reason;
	const char *start;
	const char *note;
	bool all;
	const char *id;          /* the one argument, when the command takes it */
} workflow_options;

static int set_once(const jitctl *ctl, const char **field, const char *name)
{
	if (*field != NULL)
		return ctl_usage_error(ctl, "option --%s given more than once", name);
	*field = optarg;
	return CTL_CONTINUE;
}

static int workflow_option(jitctl *ctl, workflow_options *opts, int opt,
			   char **argv)
{
	switch (opt) {
	case OPT_ROLE:
		return set_once(ctl, &opts->role, "role");
	case OPT_FOR:
		return set_once(ctl, &opts->duration, "for");
	case OPT_REASON:
		return set_once(ctl, &opts->reason, "reason");
	case OPT_START:
		return set_once(ctl, &opts->start, "start");
	case OPT_NOTE:
		return set_once(ctl, &opts->note, "note");
	case OPT_ALL:
		opts->all = true;
		return CTL_CONTINUE;
	case CTL_OPT_JSON:
		ctl->json = true;
		return CTL_CONTINUE;
	default:
		return ctl_common_option(ctl, opt, argv);
	}
}

/* Parses the options in allowed; id_name is the argument's name, or NULL
 * when the command takes none. */
static int parse_workflow(jitctl *ctl, int argc, char **argv,
			  const struct option *allowed, const char *id_name,
			  workflow_options *opts)
{
	int opt, r;

	while ((opt = getopt_long(argc, argv, ":h", allowed, NULL)) != -1) {
		r = workflow_option(ctl, opts, opt, argv);
		if (r != CTL_CONTINUE)
			return r;
	}

	if (id_name != NULL && optind >= argc)
		return ctl_usage_error(ctl, "missing %s", id_name);
	if (id_name != NULL)
		opts->id = argv[optind++];
	if (optind < argc)
		return ctl_usage_error(ctl, "unexpected argument '%s'", argv[optind]);
	return CTL_CONTINUE;
}

#define OPTION_ROLE { "role", required_argument, NULL, OPT_ROLE }
#define OPTION_FOR { "for", required_argument, NULL, OPT_FOR }
#define OPTION_REASON { "reason", required_argument, NULL, OPT_REASON }
#define OPTION_START { "start", required_argument, NULL, OPT_START }
#define OPTION_NOTE { "note", required_argument, NULL, OPT_NOTE }
#define OPTION_ALL { "all", no_argument, NULL, OPT_ALL }
#define OPTION_JSON { "json", no_argument, NULL, CTL_OPT_JSON }
#define OPTIONS_END CTL_COMMON_OPTIONS, { NULL, 0, NULL, 0 }

/* Sends message and, with --json, prints the response's field key;
 * otherwise print(response) prints text. Runs the notify command after the
 * output, when this jitctl ran the operation itself. */
static int run_message(jitctl *ctl, const jit_broker_message *message,
		       const char *key, void (*print)(json_object *response))
{
	broker_reply reply;
	int r;

	r = ctl_prepare(ctl);
	if (r != CTL_EXIT_OK)
		return r;

	r = ctl_broker_call(ctl, message, &reply);
	if (r == CTL_EXIT_OK && ctl->json)
		r = output_json(ctl, json_object_get(ctl_response_get(reply.response, key)));
	else if (r == CTL_EXIT_OK)
		print(reply.response);
	ctl_broker_finish(ctl, &reply);
	return r;
}

static void print_request_id(json_object *response)
{
	printf("%s\n", ctl_response_string(ctl_response_get(response, "request"), "id"));
}

int cmd_request(jitctl *ctl, int argc, char **argv)
{
	static const struct option options[] = {
		OPTION_ROLE, OPTION_FOR, OPTION_REASON, OPTION_START, OPTION_JSON,
		OPTIONS_END,
	};
	workflow_options opts = { 0 };
	jit_broker_message message = { .op = JIT_BROKER_REQUEST };
	int r;

	r = parse_workflow(ctl, argc, argv, options, NULL, &opts);
	if (r != CTL_CONTINUE)
		return r;
	if (opts.role == NULL)
		return ctl_usage_error(ctl, "missing --role NAME");
	if (opts.reason == NULL)
		return ctl_usage_error(ctl, "missing --reason TEXT");

	message.role = (char *)opts.role;
	message.duration = (char *)opts.duration;
	message.reason = (char *)opts.reason;
	message.start = (char *)opts.start;
	return run_message(ctl, &message, "request", print_request_id);
}

static const char *text_or_dash(const char *text)
{
	return text != NULL && text[0] != '\0' ? text : "-";
}

/* One line per request; the reason comes last and is cut to fit. */
static void print_requests(json_object *response)
{
	json_object *list = ctl_response_get(response, "requests");
	size_t count = list != NULL ? json_object_array_length(list) : 0;

	if (count == 0) {
		puts("no requests");
		return;
	}

	printf("%-32s  %-9s  %-16s  %-12s  %-6s  %-9s  %-20s  %s\n", "ID", "STATE",
	       "ROLE", "REQUESTER", "FOR", "APPROVALS", "EXPIRES", "REASON");
	for (size_t i = 0; i < count; i++) {
		json_object *item = json_object_array_get_idx(list, i);
		json_object *approvals = ctl_response_get(item, "approvals");
		char progress[32];

		snprintf(progress, sizeof(progress), "%zu/%d",
			 approvals != NULL ? json_object_array_length(approvals) : 0,
			 json_object_get_int(ctl_response_get(item, "approvals_needed")));
		printf("%-32s  %-9s  %-16.32s  %-12.32s  %-6s  %-9s  %-20s  %.60s\n",
		       ctl_response_string(item, "id"), ctl_response_string(item, "state"),
		       ctl_response_string(item, "role"),
		       ctl_response_string(item, "requester"),
		       ctl_response_string(item, "duration"), progress,
		       text_or_dash(ctl_response_string(item, "expires_at")),
		       ctl_response_string(item, "reason"));
	}
}

int cmd_requests(jitctl *ctl, int argc, char **argv)
{
	static const struct option options[] = {
		OPTION_ALL, OPTION_JSON, OPTIONS_END,
	};
	workflow_options opts = { 0 };
	jit_broker_message message = { .op = JIT_BROKER_REQUESTS };
	int r;

	r = parse_workflow(ctl, argc, argv, options, NULL, &opts);
	if (r != CTL_CONTINUE)
		return r;
	message.all = opts.all;
	return run_message(ctl, &message, "requests", print_requests);
}

static void print_decision(json_object *response)
{
	json_object *request = ctl_response_get(response, "request");
	json_object *grant = ctl_response_get(response, "grant");
	json_object *approvals = ctl_response_get(request, "approvals");
	const char *state = ctl_response_string(request, "state");
	const char *id = ctl_response_string(request, "id");

	if (grant != NULL) {
		printf("request %s approved: grant %s issued to %s, valid until %s\n",
		       id, ctl_response_string(grant, "id"),
		       ctl_response_string(grant, "user"),
		       ctl_response_string(grant, "not_after"));
	} else if (strcmp(state, "pending") == 0) {
		printf("request %s: approval %zu of %d recorded; it needs another approver\n",
		       id, approvals != NULL ? json_object_array_length(approvals) : 0,
		       json_object_get_int(ctl_response_get(request, "approvals_needed")));
	} else {
		printf("request %s %s\n", id, state);
	}
}

static int decide(jitctl *ctl, int argc, char **argv, jit_broker_op op)
{
	static const struct option options[] = {
		OPTION_REASON, OPTION_JSON, OPTIONS_END,
	};
	workflow_options opts = { 0 };
	jit_broker_message message = { .op = op };
	int r;

	r = parse_workflow(ctl, argc, argv, options, "request ID", &opts);
	if (r != CTL_CONTINUE)
		return r;
	if (op == JIT_BROKER_DENY && opts.reason == NULL)
		return ctl_usage_error(ctl, "missing --reason TEXT");

	message.id = (char *)opts.id;
	message.reason = (char *)opts.reason;
	return run_message(ctl, &message, "request", print_decision);
}

int cmd_approve(jitctl *ctl, int argc, char **argv)
{
	return decide(ctl, argc, argv, JIT_BROKER_APPROVE);
}

int cmd_deny(jitctl *ctl, int argc, char **argv)
{
	return decide(ctl, argc, argv, JIT_BROKER_DENY);
}

int cmd_cancel(jitctl *ctl, int argc, char **argv)
{
	return decide(ctl, argc, argv, JIT_BROKER_CANCEL);
}

static void print_grant_id(json_object *response)
{
	printf("%s\n", ctl_response_string(ctl_response_get(response, "grant"), "id"));
}

int cmd_break_glass(jitctl *ctl, int argc, char **argv)
{
	static const struct option options[] = {
		OPTION_ROLE, OPTION_FOR, OPTION_REASON, OPTION_JSON, OPTIONS_END,
	};
	workflow_options opts = { 0 };
	jit_broker_message message = { .op = JIT_BROKER_BREAK_GLASS };
	int r;

	r = parse_workflow(ctl, argc, argv, options, NULL, &opts);
	if (r != CTL_CONTINUE)
		return r;
	if (opts.duration == NULL)
		return ctl_usage_error(ctl, "missing --for DURATION");
	if (opts.reason == NULL)
		return ctl_usage_error(ctl, "missing --reason TEXT");

	message.role = (char *)opts.role;
	message.duration = (char *)opts.duration;
	message.reason = (char *)opts.reason;
	return run_message(ctl, &message, "grant", print_grant_id);
}

static void print_review(json_object *response)
{
	json_object *review = ctl_response_get(response, "review");

	printf("grant %s reviewed by %s\n", ctl_response_string(review, "grant_id"),
	       ctl_response_string(review, "reviewer"));
}

int cmd_review(jitctl *ctl, int argc, char **argv)
{
	static const struct option options[] = {
		OPTION_NOTE, OPTION_JSON, OPTIONS_END,
	};
	workflow_options opts = { 0 };
	jit_broker_message message = { .op = JIT_BROKER_REVIEW };
	int r;

	r = parse_workflow(ctl, argc, argv, options, "grant ID", &opts);
	if (r != CTL_CONTINUE)
		return r;
	if (opts.note == NULL)
		return ctl_usage_error(ctl, "missing --note TEXT");

	message.id = (char *)opts.id;
	message.note = (char *)opts.note;
	return run_message(ctl, &message, "review", print_review);
}
