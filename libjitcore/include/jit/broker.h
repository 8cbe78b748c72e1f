/* The broker's message format: what an unprivileged jitctl sends to the
 * socket-activated broker, parsed strictly and within fixed bounds.
 *
 * A message is one JSON object on one line, at most JIT_BROKER_MESSAGE_MAX
 * bytes with its newline: "v" (the number 1), "op" (a name from
 * jit_broker_op_name) and the fields of that operation. Unknown operations,
 * unknown or missing fields, values of the wrong type, strings with
 * control characters and anything after the object are rejected. The
 * caller's identity is never part of a message: the broker takes it from
 * the socket (SO_PEERCRED).
 *
 * The response is one JSON object on one line: {"v":1,"ok":true,...} or
 * {"v":1,"ok":false,"error":"what failed","code":"permission-denied"},
 * where code is a jit_err_name(). docs/broker-protocol.md lists every
 * operation with its fields and its response. */
#ifndef JIT_BROKER_H
#define JIT_BROKER_H

#include <stdbool.h>
#include <stddef.h>

#include "jit/error.h"
#include "jit/util.h"

#define JIT_BROKER_VERSION 1
/* A message's bytes, newline included. */
#define JIT_BROKER_MESSAGE_MAX (64 * 1024)
/* A response's bytes: listings of grants and requests are bigger than any
 * message, but still bounded for the client that reads them. */
#define JIT_BROKER_RESPONSE_MAX (8 * 1024 * 1024)
/* How long the broker waits for a client's message. */
#define JIT_BROKER_TIMEOUT_MS 10000
/* Bytes of one string field; free texts are bounded more tightly by the
 * request rules. */
#define JIT_BROKER_STRING_MAX 4096
/* Items of one array field. */
#define JIT_BROKER_ARRAY_MAX 64
/* Nesting as json-c counts it: the message object and the arrays of
 * strings inside it need 3 (json-c 0.16 rejects {"a":["b"]} at depth 2);
 * an array inside an array is rejected. */
#define JIT_BROKER_DEPTH_MAX 3

typedef enum jit_broker_op {
	JIT_BROKER_REQUEST,      /* ask for a role */
	JIT_BROKER_REQUESTS,     /* list requests the caller may see */
	JIT_BROKER_APPROVE,
	JIT_BROKER_DENY,
	JIT_BROKER_CANCEL,
	JIT_BROKER_BREAK_GLASS,
	JIT_BROKER_GRANT,        /* issue a grant as an approver of its role */
	JIT_BROKER_LIST,         /* the caller's own grants */
	JIT_BROKER_CHECK,        /* a decision for the caller's own access */
	JIT_BROKER_REVIEW,       /* review a break-glass grant */
	JIT_BROKER_OP_COUNT,
} jit_broker_op;

/* A parsed message. Strings not given are NULL, lists not given empty. */
typedef struct jit_broker_message {
	jit_broker_op op;
	char *role;
	char *duration;          /* "for" */
	char *reason;
	char *start;
	char *id;                /* a request id, or a grant id for review */
	char *user;              /* grant: who gets it */
	char *service;           /* check */
	char *group;             /* check: sudo -g */
	char *runas_user;        /* check: sudo -u */
	char *note;              /* review */
	bool all;
	bool shell;              /* check: sudo -s or -i */
	jit_strlist runas;       /* grant */
	jit_strlist commands;    /* grant */
	jit_strlist services;    /* grant */
	jit_strlist hosts;       /* grant */
	jit_strlist command;     /* check: the command and its arguments */
} jit_broker_message;

void jit_broker_message_clear(jit_broker_message *message);

/* Returns the operation's wire name ("request", "break-glass", ...), or
 * NULL for a value out of range. */
const char *jit_broker_op_name(jit_broker_op op);

/* Parses one message of len bytes (a final newline is allowed). Returns
 * JIT_ERR_TOO_LARGE over JIT_BROKER_MESSAGE_MAX and JIT_ERR_MALFORMED for
 * anything that breaks the rules above, with a message that names the
 * field and never echoes the input's control bytes. */
jit_err jit_broker_parse(const char *data, size_t len,
			 jit_broker_message *message, jit_error *error);

/* Writes message as one line of JSON with its newline, the form
 * jit_broker_parse reads back; *text is malloc'd. */
jit_err jit_broker_format(const jit_broker_message *message, char **text,
			  jit_error *error);

#endif
