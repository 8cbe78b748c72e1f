/* Internal interface of the sudo policy plugin: the state kept between the
 * sudo front end's calls, and the helpers each source file provides. None of
 * these names is exported: the version script keeps only jit_policy. */
#ifndef SUDO_JIT_PLUGIN_H
#define SUDO_JIT_PLUGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <sudo_plugin.h>

#include "jit.h"

/* The front end's options that jit reads. Every other setting is ignored
 * because a newer front end may send settings this plugin does not know. */
struct plugin_settings {
	char *runas_user;        /* -u, NULL when not given */
	char *runas_group;       /* -g, NULL when not given */
	char *prompt;            /* -p, NULL when not given */
	char *timeout;           /* -T, NULL when not given */
	bool login_shell;        /* -i */
	bool run_shell;          /* -s */
	bool implied_shell;      /* sudo run without a command */
	bool noninteractive;     /* -n */
	bool ignore_ticket;      /* -k given with a command */
	bool update_ticket;      /* false with -N */
	/* The first option given that jit does not support, as "-E (...)",
	 * or NULL. */
	const char *unsupported_option;
};

/* The invoking user, from the front end's user_info. */
struct plugin_user {
	char *name;
	uid_t uid;
	gid_t gid;
	char *tty;               /* "" without a terminal */
	char *host;
	char *cwd;
	mode_t umask;
	pid_t sid;               /* session id, 0 when unknown */
};

struct plugin {
	unsigned int api_version;
	sudo_conv_t conversation;
	sudo_printf_t print;
	char *config_path;
	struct plugin_settings settings;
	struct plugin_user user;
	char *const *user_env;   /* owned by the front end */

	/* Vectors handed to the front end by check_policy and freed by close. */
	char **command_info;
	char **argv_out;
	char **env_out;
	char *command;           /* the path that runs, for close's message */
	uint8_t grant_id[JIT_GRANT_ID_LEN];  /* the grant that allowed it */
	int64_t grant_ends;      /* that grant's not_after */
	bool session_recorded;   /* a session record exists under session_key */
	jit_session_key session_key;
	/* The allowed use, for its evidence record written with the session. */
	char *use_command_line;
	char *use_runas;
	char use_role[64];
	char errbuf[JIT_ERROR_MESSAGE_MAX];
};

/* The access requested by one check_policy or "sudo -l CMD" call, with
 * everything the decision and the command's execution need. */
struct sudo_request {
	jit_access access;
	bool shell;
	bool login;
	char *user;              /* whose grants are checked */
	char *command;           /* absolute path that runs */
	char **exec_argv;        /* NULL-terminated argument vector that runs */
	char *command_line;      /* command and arguments, for events */
	char *runas_user;
	uid_t runas_uid;
	gid_t runas_gid;         /* the runas user's primary group */
	char *runas_home;
	char *runas_shell;       /* from the password database */
	char *runas_group;       /* -g, NULL when not given */
	gid_t group_gid;         /* valid when runas_group is set */
};

/* messages.c: output through the front end's printf callback. */
void plugin_error(const struct plugin *p, const char *format, ...)
	__attribute__((format(printf, 2, 3)));
void plugin_info(const struct plugin *p, const char *format, ...)
	__attribute__((format(printf, 2, 3)));
/* Copies text into out for display with control bytes written as \xNN.
 * Text longer than out_len - 4 bytes is cut and ends in "...". */
void text_escape(const char *text, char *out, size_t out_len);
/* Joins argv with single spaces into a malloc'd string, or returns NULL
 * when out of memory. */
char *argv_join(const char *first, int argc, char *const argv[]);

/* settings.c: parse what the front end passes to open. */
jit_err settings_parse(struct plugin_settings *settings,
		       char *const settings_list[], jit_error *error);
void settings_clear(struct plugin_settings *settings);
jit_err user_info_parse(struct plugin_user *user, char *const user_info[],
			jit_error *error);
void user_info_clear(struct plugin_user *user);
jit_err plugin_options_parse(char *const options[], char **config_path,
			     jit_error *error);

/* request.c: turn the front end's argv and settings into a jit_access. */
jit_err request_build(const struct plugin *p, const jit_config *config,
		      const char *user, int argc, char *const argv[],
		      struct sudo_request *request, jit_error *error);
void request_clear(struct sudo_request *request);

/* exec.c: command_info, argv and the reset environment for an allowed
 * request. On success they replace p's previous vectors. */
jit_err exec_build(struct plugin *p, const jit_config *config,
		   const struct sudo_request *request,
		   const jit_decision *decision, int64_t now_ms,
		   jit_error *error);
void strv_free(char **vector);

/* timestamp.c: the per-user, per-terminal credential cache. */
bool timestamp_is_valid(const struct plugin *p, const jit_config *config,
			const uint8_t grant_id[JIT_GRANT_ID_LEN],
			int64_t not_after, int64_t now_ms);
jit_err timestamp_write(const struct plugin *p, const jit_config *config,
			const uint8_t grant_id[JIT_GRANT_ID_LEN],
			int64_t now_ms, jit_error *error);
jit_err timestamp_remove_all(const struct plugin *p, const jit_config *config,
			     jit_error *error);

/* auth.c: authentication of the invoking user for one grant. Sets
 * *prompted when PAM ran, so the caller knows time has passed. */
jit_err auth_for_grant(const struct plugin *p, const jit_config *config,
		       const uint8_t grant_id[JIT_GRANT_ID_LEN],
		       int64_t not_after, bool *prompted, jit_error *error);

/* session.c: the command's session record, so that revoking or ending
 * the grant ends the command and everything it started. */
jit_err sudo_session_open(struct plugin *p, const jit_config *config,
			  jit_error *error);
void sudo_session_close(struct plugin *p);

/* listing.c: "sudo -l" without a command. Returns 1 when listing worked. */
int listing_print(const struct plugin *p, const jit_config *config,
		  const char *user, bool verbose, int64_t now_ms);

#endif
