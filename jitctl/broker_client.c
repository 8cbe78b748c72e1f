/* How jitctl reaches the request workflow: a user other than root sends
 * one message to the broker's socket and reads one response; root runs the
 * same operation in this process. Either way the caller gets the response
 * object, and a response with "ok": false is printed as the error. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "jitctl.h"

/* How long a client waits for the broker's response. The broker itself
 * gives up on a client after JIT_BROKER_TIMEOUT_MS. */
#define CLIENT_TIMEOUT_MS 30000

static int64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int connect_broker(const jitctl *ctl, int *fd)
{
	const char *path = ctl->config->broker_socket;
	struct sockaddr_un address = { .sun_family = AF_UNIX };
	int s;

	*fd = -1;
	if (strlen(path) >= sizeof(address.sun_path)) {
		ctl_error(ctl, "broker socket path %s is too long", path);
		return CTL_EXIT_FAIL;
	}
	strcpy(address.sun_path, path);

	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0) {
		ctl_error(ctl, "creating a socket failed: %s", strerror(errno));
		return CTL_EXIT_FAIL;
	}
	if (connect(s, (struct sockaddr *)&address, sizeof(address)) < 0) {
		ctl_error(ctl, "connecting to the broker at %s failed: %s; start jit-broker.socket, or run jitctl as root",
			  path, strerror(errno));
		close(s);
		return CTL_EXIT_FAIL;
	}
	*fd = s;
	return CTL_EXIT_OK;
}

/* Waits until fd is ready for events or deadline passes. */
static bool wait_ready(int fd, short events, int64_t deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int64_t left;
	int n;

	do {
		left = deadline - monotonic_ms();
		if (left <= 0)
			return false;
		n = poll(&pfd, 1, (int)left);
	} while (n < 0 && errno == EINTR);
	return n > 0;
}

static int send_all(const jitctl *ctl, int fd, const char *text,
		    int64_t deadline)
{
	size_t length = strlen(text), done = 0;

	while (done < length) {
		ssize_t n;

		if (!wait_ready(fd, POLLOUT, deadline)) {
			ctl_error(ctl, "sending to the broker timed out");
			return CTL_EXIT_FAIL;
		}
		n = send(fd, text + done, length - done, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ctl_error(ctl, "sending to the broker failed: %s", strerror(errno));
			return CTL_EXIT_FAIL;
		}
		done += (size_t)n;
	}
	shutdown(fd, SHUT_WR);
	return CTL_EXIT_OK;
}

/* Reads the response line, at most JIT_BROKER_RESPONSE_MAX bytes. */
static int receive_line(const jitctl *ctl, int fd, int64_t deadline,
			char **line, size_t *length)
{
	size_t used = 0, size = 4096;
	char *buffer = malloc(size);

	*line = NULL;
	while (buffer != NULL) {
		ssize_t n;

		if (memchr(buffer, '\n', used) != NULL)
			break;
		if (used == size) {
			char *bigger = size >= JIT_BROKER_RESPONSE_MAX ? NULL :
				       realloc(buffer, size * 2);

			if (bigger == NULL) {
				ctl_error(ctl, "the broker's response is larger than %d bytes",
					  JIT_BROKER_RESPONSE_MAX);
				free(buffer);
				return CTL_EXIT_FAIL;
			}
			buffer = bigger;
			size *= 2;
		}
		if (!wait_ready(fd, POLLIN, deadline)) {
			ctl_error(ctl, "the broker did not response within %d s",
				  CLIENT_TIMEOUT_MS / 1000);
			free(buffer);
			return CTL_EXIT_FAIL;
		}
		n = recv(fd, buffer + used, size - used, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		used += (size_t)n;
	}
	if (buffer == NULL || used == 0) {
		ctl_error(ctl, buffer == NULL ? "out of memory" :
			  "the broker closed the connection without a response; see its log (journalctl -u 'jit-broker@*')");
		free(buffer);
		return CTL_EXIT_FAIL;
	}

	*line = buffer;
	*length = used;
	return CTL_EXIT_OK;
}

/* Parses a response line and checks its version and "ok". */
static int read_response(const jitctl *ctl, const char *line, size_t length,
		       json_object **response)
{
	json_tokener *tokener = json_tokener_new();
	json_object *object = NULL, *value;

	*response = NULL;
	if (tokener != NULL) {
		object = json_tokener_parse_ex(tokener, line, (int)length);
		json_tokener_free(tokener);
	}
	if (object == NULL || !json_object_is_type(object, json_type_object) ||
	    !json_object_object_get_ex(object, "v", &value) ||
	    json_object_get_int(value) != JIT_BROKER_VERSION ||
	    !json_object_object_get_ex(object, "ok", &value) ||
	    !json_object_is_type(value, json_type_boolean)) {
		ctl_error(ctl, "the broker's response is not a version %d response",
			  JIT_BROKER_VERSION);
		json_object_put(object);
		return CTL_EXIT_FAIL;
	}

	if (!json_object_get_boolean(value)) {
		const char *message = NULL;

		if (json_object_object_get_ex(object, "error", &value))
			message = json_object_get_string(value);
		ctl_error(ctl, "%s", message != NULL ? message : "the broker refused");
		json_object_put(object);
		return CTL_EXIT_FAIL;
	}
	*response = object;
	return CTL_EXIT_OK;
}

static int call_broker(const jitctl *ctl, const char *text, json_object **response)
{
	int64_t deadline = monotonic_ms() + CLIENT_TIMEOUT_MS;
	char *line = NULL;
	size_t length = 0;
	int fd = -1, r;

	r = connect_broker(ctl, &fd);
	if (r == CTL_EXIT_OK)
		r = send_all(ctl, fd, text, deadline);
	if (r == CTL_EXIT_OK)
		r = receive_line(ctl, fd, deadline, &line, &length);
	if (r == CTL_EXIT_OK)
		r = read_response(ctl, line, length, response);
	if (fd >= 0)
		close(fd);
	free(line);
	return r;
}

/* Runs the operation here, as root: the same code the broker runs. */
static int call_local(const jitctl *ctl, const char *text, broker_reply *reply)
{
	jit_identity root = { 0 };
	json_object *response;
	const char *json;
	jit_error error;
	int r;

	jit_error_clear(&error);
	if (jit_identity_lookup(geteuid(), &root, &error) != JIT_OK)
		return ctl_lib_error(ctl, &error);

	response = broker_response(ctl, &root, text, strlen(text), &reply->events);
	jit_identity_clear(&root);
	json = response != NULL ? json_object_to_json_string(response) : NULL;
	if (json == NULL) {
		json_object_put(response);
		ctl_error(ctl, "out of memory");
		return CTL_EXIT_FAIL;
	}
	r = read_response(ctl, json, strlen(json), &reply->response);
	json_object_put(response);
	return r;
}

static void print_warnings(const jitctl *ctl, json_object *response)
{
	json_object *warnings;

	if (!json_object_object_get_ex(response, "warnings", &warnings))
		return;
	for (size_t i = 0; i < json_object_array_length(warnings); i++)
		ctl_warn(ctl, "%s", json_object_get_string(
			json_object_array_get_idx(warnings, i)));
}

int ctl_broker_call(const jitctl *ctl, const jit_broker_message *message,
		    broker_reply *reply)
{
	char *text = NULL;
	jit_error error;
	int r;

	memset(reply, 0, sizeof(*reply));
	jit_error_clear(&error);
	if (jit_broker_format(message, &text, &error) != JIT_OK)
		return ctl_lib_error(ctl, &error);

	if (geteuid() == 0)
		r = call_local(ctl, text, reply);
	else
		r = call_broker(ctl, text, &reply->response);
	free(text);

	if (r == CTL_EXIT_OK)
		print_warnings(ctl, reply->response);
	return r;
}

void ctl_broker_finish(const jitctl *ctl, broker_reply *reply)
{
	/* Whatever was printed goes out before a notifier is started. */
	fflush(stdout);
	notify_run(ctl->config, &reply->events, true);
	broker_events_clear(&reply->events);
	json_object_put(reply->response);
	reply->response = NULL;
}

json_object *ctl_response_get(json_object *response, const char *key)
{
	json_object *value = NULL;

	if (response == NULL || !json_object_object_get_ex(response, key, &value))
		return NULL;
	return value;
}

const char *ctl_response_string(json_object *object, const char *key)
{
	json_object *value = ctl_response_get(object, key);

	if (value == NULL || !json_object_is_type(value, json_type_string))
		return "";
	return json_object_get_string(value);
}
