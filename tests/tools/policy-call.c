/* policy-call: runs one sudo request through sudo_jit.so's entry points in
 * this process, the way the sudo front end calls them. The fault tests use
 * it to put the plugin inside a process they control, because sudo is
 * setuid and LD_PRELOAD does not reach it.
 *
 *   policy-call PLUGIN_SO CONFIG USER UID COMMAND [ARGS...]
 *
 * Calls open, check_policy for COMMAND with -n semantics (the conversation
 * refuses every prompt), init_session when check_policy allowed, and close.
 * Nothing is executed. The plugin's messages go to stderr.
 *
 * Output: one line, "check=C init=I", where C is check_policy's result and
 * I is init_session's, or "-" when it was not called. Exit status: 0 when
 * the line was printed, 2 on usage errors or when the plugin could not be
 * loaded or opened (then the line is "open=R"). */

#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sudo_plugin.h>

static int print_message(int msg_type, const char *format, ...)
	__attribute__((format(printf, 2, 3)));

static int print_message(int msg_type, const char *format, ...)
{
	va_list ap;
	int n;

	(void)msg_type;
	va_start(ap, format);
	n = vfprintf(stderr, format, ap);
	va_end(ap);
	return n;
}

static int refuse_prompts(int count, const struct sudo_conv_message msgs[],
			  struct sudo_conv_reply replies[],
			  struct sudo_conv_callback *callback)
{
	(void)count;
	(void)msgs;
	(void)replies;
	(void)callback;
	return -1;
}

int main(int argc, char **argv)
{
	char config[1024], user[128], uid[32], gid[32];
	char *settings[] = { "progname=sudo", "noninteractive=true", NULL };
	char *user_info[] = { user, uid, gid, "euid=0", "tty=", "host=localhost",
			      "cwd=/", "umask=022", NULL };
	char *user_env[] = { "PATH=/usr/bin:/bin", "LANG=C.UTF-8", NULL };
	char *options[] = { config, NULL };
	char *env_add[] = { NULL };
	char **info = NULL, **argv_out = NULL, **env_out = NULL;
	const struct policy_plugin *policy;
	const char *errstr = NULL;
	int checked, initialised = 0;
	void *handle;

	if (argc < 6) {
		fprintf(stderr, "usage: policy-call PLUGIN_SO CONFIG USER UID COMMAND [ARGS...]\n");
		return 2;
	}

	handle = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
	policy = handle != NULL ? dlsym(handle, "jit_policy") : NULL;
	if (policy == NULL) {
		fprintf(stderr, "policy-call: loading %s failed: %s\n", argv[1],
			dlerror());
		return 2;
	}

	snprintf(config, sizeof(config), "config=%s", argv[2]);
	snprintf(user, sizeof(user), "user=%s", argv[3]);
	snprintf(uid, sizeof(uid), "uid=%s", argv[4]);
	snprintf(gid, sizeof(gid), "gid=%s", argv[4]);

	checked = policy->open(SUDO_API_VERSION, refuse_prompts, print_message,
			       settings, user_info, user_env, options, &errstr);
	if (checked != 1) {
		printf("open=%d\n", checked);
		return 2;
	}

	checked = policy->check_policy(argc - 5, argv + 5, env_add, &info,
				       &argv_out, &env_out, &errstr);
	if (checked == 1)
		initialised = policy->init_session(NULL, &env_out, &errstr);

	if (checked == 1)
		printf("check=%d init=%d\n", checked, initialised);
	else
		printf("check=%d init=-\n", checked);
	fflush(stdout);

	policy->close(0, 0);
	return 0;
}
