/* Shared by the account phase (pam_jit.c) and the session phase
 * (session.c) of pam_jit. Everything here stays inside the module: the
 * version script exports only the pam_sm_* entry points. */
#ifndef PAM_JIT_H
#define PAM_JIT_H

#include <stdbool.h>

#include <security/pam_modules.h>

#include "jit.h"

#define EXPORT __attribute__((visibility("default")))

/* PAM items reach log lines and messages cut to this many bytes, because
 * PAM_RHOST and PAM_USER can come from the network. */
#define ITEM_PRINT_MAX 64

typedef struct module_options {
	const char *config_path;
	bool debug;
} module_options;

typedef struct login_items {
	const char *user;
	const char *service;
	const char *rhost;
	const char *tty;
} login_items;

/* Every way a check ends. All but the first two deny. */
typedef enum outcome {
	OUTCOME_NOT_GATED,
	OUTCOME_ALLOWED,
	OUTCOME_DENIED,
	OUTCOME_UNKNOWN_USER,
	OUTCOME_CONFIG_ERROR,
	OUTCOME_NO_MEMORY,
	OUTCOME_SESSION_ERROR,
} outcome;

typedef struct account_check {
	module_options options;
	login_items login;
	jit_config *config;
	outcome result;
	jit_decision decision;  /* reason and detail of every denial */
} account_check;

/* The PAM code for an outcome; every outcome but "not gated" and "allowed"
 * denies. */
int outcome_pam_code(outcome result);

/* Records a denial that happened before or instead of a decision. */
void check_fail(account_check *check, outcome result, jit_reason reason,
		const char *format, ...)
	__attribute__((format(printf, 4, 5)));

/* Copies text into out, cut and made printable for log lines and
 * messages; NULL and "" print "-". */
const char *printable(const char *text, char out[ITEM_PRINT_MAX + 1]);

/* Parses the module arguments; false on an invalid config=. */
bool parse_options(pam_handle_t *pamh, int argc, const char **argv,
		   module_options *options);

const char *get_string_item(pam_handle_t *pamh, int type);

/* Reads the items, loads the configuration and decides, leaving the
 * outcome and decision in check. */
void run_check(pam_handle_t *pamh, int argc, const char **argv,
	       account_check *check);

/* Emits the access event, logs the outcome and tells a denied user why. */
void report_outcome(pam_handle_t *pamh, int flags, account_check *check);

/* Appends ev to the evidence chain of config's store (skipped when config
 * is NULL because it did not load), then sends it to the journal. Fails
 * when either failed; the journal gets the event either way. */
jit_err pam_jit_record(const jit_config *config, const jit_event *ev,
		       jit_error *error);

#endif
