/* Authentication of the invoking user through the PAM service "sudo", with
 * PAM's prompts carried over sudo's conversation function. */
#include "plugin.h"

#include <security/pam_appl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SUDO_PAM_SERVICE "sudo"
/* Password attempts per sudo call, as sudoers' passwd_tries default. */
#define AUTH_TRIES 3

struct conv_context {
	const struct plugin *p;
	bool failed;             /* the user ended input (EOF, ^C) */
};

static void free_responses(struct pam_response *responses, int count)
{
	if (responses == NULL)
		return;
	for (int i = 0; i < count; i++) {
		if (responses[i].resp != NULL) {
			explicit_bzero(responses[i].resp, strlen(responses[i].resp));
			free(responses[i].resp);
		}
	}
	free(responses);
}

/* pam_unix prompts with "Password: ". The -p prompt or sudo's own wording
 * is shown in its place. */
static const char *prompt_text(const struct plugin *p, const char *pam_prompt,
			       char *buffer, size_t buffer_len)
{
	/* NOTE: the -p prompt is shown as given. sudoers' %u, %h and %p
	 * escapes are not expanded. */
	if (p->settings.prompt != NULL)
		return p->settings.prompt;
	if (strcmp(pam_prompt, "Password: ") != 0 &&
	    strcmp(pam_prompt, "Password:") != 0)
		return pam_prompt;
	snprintf(buffer, buffer_len, "[sudo] password for %s: ", p->user.name);
	return buffer;
}

static int ask_user(struct conv_context *context, int style,
		    const char *pam_prompt, char **reply)
{
	const struct plugin *p = context->p;
	struct sudo_conv_message message = { 0 };
	struct sudo_conv_reply answer = { 0 };
	char buffer[256];

	*reply = NULL;
	/* -n never prompts. PAM should not get here then, but make sure. */
	if (p->settings.noninteractive || p->conversation == NULL)
		return PAM_CONV_ERR;

	message.msg_type = style == PAM_PROMPT_ECHO_OFF ?
			   SUDO_CONV_PROMPT_ECHO_OFF : SUDO_CONV_PROMPT_ECHO_ON;
	message.msg = prompt_text(p, pam_prompt, buffer, sizeof(buffer));
	/* No time limit, like the password timeout of 0 that Debian 12 builds
	 * sudo 1.9.13 with. */
	message.timeout = 0;

	if (p->conversation(1, &message, &answer, NULL) != 0 ||
	    answer.reply == NULL) {
		context->failed = true;
		return PAM_CONV_ERR;
	}

	/* The front end strdup()s the reply, and PAM frees it after use. */
	*reply = answer.reply;
	return PAM_SUCCESS;
}

static int pam_bridge(int count, const struct pam_message **messages,
		      struct pam_response **responses_out, void *data)
{
	struct conv_context *context = data;
	struct pam_response *responses;

	*responses_out = NULL;
	if (count <= 0 || count > PAM_MAX_NUM_MSG)
		return PAM_CONV_ERR;

	responses = calloc((size_t)count, sizeof(*responses));
	if (responses == NULL)
		return PAM_BUF_ERR;

	for (int i = 0; i < count; i++) {
		const struct pam_message *m = messages[i];

		switch (m->msg_style) {
		case PAM_PROMPT_ECHO_OFF:
		case PAM_PROMPT_ECHO_ON:
			if (ask_user(context, m->msg_style, m->msg,
				     &responses[i].resp) != PAM_SUCCESS)
				goto fail;
			break;
		case PAM_ERROR_MSG:
			if (context->p->print != NULL)
				context->p->print(SUDO_CONV_ERROR_MSG, "%s\n", m->msg);
			break;
		case PAM_TEXT_INFO:
			if (context->p->print != NULL)
				context->p->print(SUDO_CONV_INFO_MSG, "%s\n", m->msg);
			break;
		default:
			goto fail;
		}
	}

	*responses_out = responses;
	return PAM_SUCCESS;

fail:
	free_responses(responses, count);
	return PAM_CONV_ERR;
}

static jit_err pam_result(pam_handle_t *pamh, int status, const char *step,
			  jit_error *error)
{
	switch (status) {
	case PAM_SUCCESS:
		return JIT_OK;
	case PAM_NEW_AUTHTOK_REQD:
		return jit_error_set(error, JIT_ERR_PERMISSION,
				     "the password has expired: change it with passwd, then retry");
	case PAM_AUTH_ERR:
	case PAM_MAXTRIES:
	case PAM_USER_UNKNOWN:
		return jit_error_set(error, JIT_ERR_PERMISSION,
				     "authentication failed");
	default:
		return jit_error_set(error, JIT_ERR_PERMISSION,
				     "PAM %s failed: %s", step,
				     pam_strerror(pamh, status));
	}
}

static jit_err pam_run(const struct plugin *p, jit_error *error)
{
	struct conv_context context = { .p = p };
	struct pam_conv conv = { pam_bridge, &context };
	pam_handle_t *pamh = NULL;
	int status;
	jit_err r;

	status = pam_start(SUDO_PAM_SERVICE, p->user.name, &conv, &pamh);
	if (status != PAM_SUCCESS)
		return jit_error_set(error, JIT_ERR_PERMISSION,
				     "PAM start for service %s failed: %s",
				     SUDO_PAM_SERVICE, pam_strerror(pamh, status));

	status = pam_set_item(pamh, PAM_RUSER, p->user.name);
	if (status == PAM_SUCCESS && p->user.tty[0] != '\0')
		status = pam_set_item(pamh, PAM_TTY, p->user.tty);
	if (status != PAM_SUCCESS) {
		r = pam_result(pamh, status, "setup", error);
		goto out;
	}

	for (int attempt = 1; attempt <= AUTH_TRIES; attempt++) {
		status = pam_authenticate(pamh, 0);
		if (status != PAM_AUTH_ERR || context.failed || attempt == AUTH_TRIES)
			break;
		if (p->print != NULL)
			p->print(SUDO_CONV_ERROR_MSG, "Sorry, try again.\n");
	}
	r = pam_result(pamh, status, "authentication", error);
	if (r != JIT_OK)
		goto out;

	status = pam_acct_mgmt(pamh, 0);
	r = pam_result(pamh, status, "account check", error);

out:
	pam_end(pamh, status);
	return r;
}

jit_err auth_for_grant(const struct plugin *p, const jit_config *config,
		       const uint8_t grant_id[JIT_GRANT_ID_LEN],
		       int64_t not_after, bool *prompted, jit_error *error)
{
	jit_error cache_error;
	jit_err r;

	*prompted = false;

	if (!p->settings.ignore_ticket &&
	    timestamp_is_valid(p, config, grant_id, not_after,
			       jit_clock_now_ms()))
		return JIT_OK;

	if (p->settings.noninteractive)
		return jit_error_set(error, JIT_ERR_PERMISSION,
				     "a password is required, and -n forbids asking for it");

	*prompted = true;
	r = pam_run(p, error);
	if (r != JIT_OK)
		return r;

	/* A cache that cannot be written only means asking again next time. */
	if (p->settings.update_ticket &&
	    timestamp_write(p, config, grant_id, jit_clock_now_ms(),
			    &cache_error) != JIT_OK)
		plugin_error(p, "warning: %s", cache_error.message);
	return JIT_OK;
}
