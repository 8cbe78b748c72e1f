/* jitctl broker: serve one connection, as jit-broker@.service runs it.
 *
 * systemd accepts the connection on jit-broker.socket and starts one
 * broker per connection with the socket as standard input and output. The
 * broker learns the caller from SO_PEERCRED, never from the message,
 * reads one message of at most JIT_BROKER_MESSAGE_MAX bytes within
 * JIT_BROKER_TIMEOUT_MS, writes one response, closes the connection, runs
 * the notify command for the events of the operation, and exits. A bad
 * message gets an error response and ends only this process, so the socket
 * keeps serving. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "jitctl.h"

/* A backstop for the whole exchange, beyond the read deadline: a broker
 * stuck for any reason is ended by SIGALRM. */
#define BROKER_HARD_LIMIT_S 60

static int64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads the message: up to and including its newline, or up to the end
 * of input. Returns JIT_OK with *length 0 when the client sent nothing,
 * JIT_ERR_TOO_LARGE past the limit, JIT_ERR_IO on a timeout. */
static jit_err read_message(char *buffer, size_t *length, jit_error *error)
{
	int64_t deadline = monotonic_ms() + JIT_BROKER_TIMEOUT_MS;
	size_t used = 0;

	*length = 0;
	while (used == 0 || memchr(buffer, '\n', used) == NULL) {
		struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
		int64_t left = deadline - monotonic_ms();
		ssize_t n;

		if (used > JIT_BROKER_MESSAGE_MAX)
			return jit_error_set(error, JIT_ERR_TOO_LARGE,
					     "the message is longer than %d bytes",
					     JIT_BROKER_MESSAGE_MAX);
		if (left <= 0 || poll(&pfd, 1, (int)left) == 0)
			return jit_error_set(error, JIT_ERR_IO,
					     "no complete message within %d s",
					     JIT_BROKER_TIMEOUT_MS / 1000);
		n = read(STDIN_FILENO, buffer + used, JIT_BROKER_MESSAGE_MAX + 1 - used);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return jit_error_set(error, JIT_ERR_IO,
					     "reading the message failed: %s",
					     strerror(errno));
		if (n == 0)
			break;
		used += (size_t)n;
	}

	/* Only the first line counts: a second message is never read. */
	if (used > 0 && memchr(buffer, '\n', used) != NULL)
		used = (size_t)((char *)memchr(buffer, '\n', used) - buffer) + 1;
	if (used > JIT_BROKER_MESSAGE_MAX)
		return jit_error_set(error, JIT_ERR_TOO_LARGE,
				     "the message is longer than %d bytes",
				     JIT_BROKER_MESSAGE_MAX);
	*length = used;
	return JIT_OK;
}

static void write_response(json_object *response)
{
	static const char fallback[] =
		"{\"v\":1,\"ok\":false,\"error\":\"out of memory\",\"code\":\"out-of-memory\"}\n";
	const char *json = response != NULL ? json_object_to_json_string_ext(response,
			JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE) : NULL;
	char *line = NULL;
	size_t length, done = 0;

	if (json == NULL || asprintf(&line, "%s\n", json) < 0)
		line = NULL;
	length = strlen(line != NULL ? line : fallback);
	while (done < length) {
		ssize_t n = write(STDOUT_FILENO, (line != NULL ? line : fallback) + done,
				  length - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	free(line);
}

/* Ends the connection, so the client has its response before any notify
 * command runs, and points the standard descriptors at /dev/null. */
static void hang_up(void)
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);

	shutdown(STDIN_FILENO, SHUT_RDWR);
	shutdown(STDOUT_FILENO, SHUT_RDWR);
	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		close(null);
	}
}

/* Logs refusals: successes are events already, and a refused approval or
 * a malformed message is worth a trace too. */
static void log_refusal(const struct ucred *peer, const char *user,
			json_object *response)
{
	const char *message = ctl_response_string(response, "error");

	if (response != NULL && json_object_get_boolean(ctl_response_get(response, "ok")))
		return;
	syslog(LOG_AUTHPRIV | LOG_NOTICE,
	       "refused a request from %s (uid %lu, pid %ld): %.300s",
	       user != NULL ? user : "an unknown user", (unsigned long)peer->uid,
	       (long)peer->pid, message[0] != '\0' ? message : "out of memory");
}

static json_object *serve(jitctl *ctl, const struct ucred *peer,
			  jit_identity *caller, broker_events *events)
{
	char *buffer = malloc(JIT_BROKER_MESSAGE_MAX + 1);
	json_object *response = NULL;
	size_t length = 0;
	jit_error error;

	jit_error_clear(&error);
	if (buffer == NULL)
		return broker_error_response(JIT_ERR_NOMEM, "out of memory");

	if (jit_identity_lookup(peer->uid, caller, &error) != JIT_OK)
		response = broker_error_response(error.code, error.message);
	else if (read_message(buffer, &length, &error) != JIT_OK)
		response = broker_error_response(error.code, error.message);
	else if (length == 0)
		response = broker_error_response(JIT_ERR_MALFORMED, "the message is empty");

	if (response == NULL) {
		/* The clock is read when the message is complete. */
		ctl->now_ms = jit_clock_now_ms();
		response = broker_response(ctl, caller, buffer, length, events);
	}

	free(buffer);
	return response;
}

static int run_broker(jitctl *ctl)
{
	struct ucred peer;
	socklen_t size = sizeof(peer);
	jit_identity caller = { 0 };
	broker_events events = { 0 };
	json_object *response;

	if (getsockopt(STDIN_FILENO, SOL_SOCKET, SO_PEERCRED, &peer, &size) < 0 ||
	    size != sizeof(peer)) {
		ctl_error(ctl, "standard input is not a Unix socket connection (%s); jit-broker.socket starts the broker",
			  strerror(errno));
		return CTL_EXIT_FAIL;
	}

	signal(SIGPIPE, SIG_IGN);
	alarm(BROKER_HARD_LIMIT_S);
	response = serve(ctl, &peer, &caller, &events);
	write_response(response);
	hang_up();
	log_refusal(&peer, caller.user, response);
	json_object_put(response);
	alarm(0);

	notify_run(ctl->config, &events, false);
	broker_events_clear(&events);
	jit_identity_clear(&caller);
	return CTL_EXIT_OK;
}

int cmd_broker(jitctl *ctl, int argc, char **argv)
{
	static const struct option options[] = {
		CTL_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	int opt, r;

	while ((opt = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
		r = ctl_common_option(ctl, opt, argv);
		if (r != CTL_CONTINUE)
			return r;
	}
	if (optind < argc)
		return ctl_usage_error(ctl, "unexpected argument '%s'", argv[optind]);

	openlog("jit-broker", LOG_PID, LOG_AUTHPRIV);
	r = ctl_prepare(ctl);
	if (r != CTL_EXIT_OK) {
		/* The client still learns why, instead of a closed socket. */
		json_object *response = broker_error_response(JIT_ERR_CONFIG,
			"the broker cannot load its configuration; see its log");

		write_response(response);
		json_object_put(response);
		return r;
	}
	return run_broker(ctl);
}
