/* Requests, approvals, break-glass and reviews: who may ask for a role,
 * who may decide, and how a decision becomes a grant.
 *
 * A request asks for one role for the requester, with a reason, a duration
 * and an optional later start. It is pending until approvals distinct
 * approvers of the role have approved it (then a grant is issued and it is
 * approved), an approver denies it, the requester cancels it, or its
 * request_ttl passes (expired). Nobody approves their own request, each
 * approver counts once, and root counts as an approver of every role. The
 * grant is built by jit_grant_build, so it never exceeds the role, and its
 * clock starts when it is issued: a requested start only delays it.
 *
 * Break-glass: a member of break_glass_group gets a grant at once, without
 * approval, capped by break_glass_max_duration and flagged in its signed
 * bytes. It stays "unreviewed" until root or an approver of any role, other
 * than its user, records a review.
 *
 * The functions named *_stored open the store inside the call. Callers
 * identify people with jit_identity, built from a uid the kernel reported
 * (SO_PEERCRED or getuid), never from a name a client sent. */
#ifndef JIT_REQUEST_H
#define JIT_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "jit/config.h"
#include "jit/error.h"
#include "jit/grant.h"
#include "jit/issue.h"
#include "jit/store.h"
#include "jit/util.h"

#define JIT_REQUEST_ID_LEN 16
#define JIT_REQUEST_ID_HEX_LEN (2 * JIT_REQUEST_ID_LEN)

/* Bytes of a request's reason, a denial's or approval's note and a review
 * note. */
#define JIT_REQUEST_TEXT_MAX 1024
/* Pending requests one requester may have at once, so that nobody can
 * fill the store or the approvers' lists. */
#define JIT_REQUEST_PENDING_MAX 16
/* Approvals recorded per request; the config's approvals may not need
 * more. */
#define JIT_REQUEST_APPROVALS_MAX 32
/* Requests loaded at most for a listing or a sweep. */
#define JIT_REQUEST_LOAD_MAX 100000
/* How long a request is kept after it was decided, cancelled or expired:
 * long enough for a review of last month's access. */
#define JIT_REQUEST_RETENTION (30 * 24 * 3600)

typedef enum jit_request_state {
	JIT_REQUEST_PENDING,
	JIT_REQUEST_APPROVED,     /* its grant is issued */
	JIT_REQUEST_DENIED,
	JIT_REQUEST_CANCELLED,
	JIT_REQUEST_EXPIRED,
} jit_request_state;

typedef struct jit_approval {
	char *approver;
	int64_t at;
	char *note;               /* "" when none was given */
} jit_approval;

typedef struct jit_request jit_request;

struct jit_request {
	uint8_t id[JIT_REQUEST_ID_LEN];
	jit_request_state state;
	int64_t created_at;       /* seconds since the epoch, like every time here */
	int64_t expires_at;       /* created_at + the role's request_ttl */
	int64_t decided_at;       /* 0 while pending */
	int64_t duration;         /* seconds asked for */
	int64_t start;            /* earliest start; 0: when issued */
	char *requester;          /* also the grant's user */
	char *role;
	char *reason;
	char *decided_by;         /* who denied or cancelled; "" otherwise */
	char *note;               /* the denial's or cancellation's note */
	size_t approval_count;
	jit_approval *approvals;
	bool has_grant;
	uint8_t grant_id[JIT_GRANT_ID_LEN];
};

/* Frees what request owns and zeroes it. Accepts NULL. */
void jit_request_clear(jit_request *request);
void jit_requests_free(jit_request *requests, size_t count);

/* Copies src into dst (deep). */
jit_err jit_request_copy(jit_request *dst, const jit_request *src,
			 jit_error *error);

const char *jit_request_state_name(jit_request_state state);

/* Request ids are written like grant ids: 32 lower-case hex digits. */
void jit_request_id_format(const uint8_t id[JIT_REQUEST_ID_LEN],
			   char out[JIT_REQUEST_ID_HEX_LEN + 1]);
jit_err jit_request_id_parse(const char *text, uint8_t id[JIT_REQUEST_ID_LEN],
			     jit_error *error);

/* A person as the kernel reported them: uid, user name and the names of
 * their primary and supplementary groups. */
typedef struct jit_identity {
	uid_t uid;
	char *user;
	jit_strlist groups;
} jit_identity;

/* Looks up uid's user name and groups through NSS. */
jit_err jit_identity_lookup(uid_t uid, jit_identity *identity,
			    jit_error *error);

/* Looks up a user by name, then as jit_identity_lookup does;
 * JIT_ERR_NOT_FOUND for an unknown user. */
jit_err jit_identity_lookup_name(const char *user, jit_identity *identity,
				 jit_error *error);
void jit_identity_clear(jit_identity *identity);

/* True when who is named in members: as a user, or through a "%group". */
bool jit_identity_in(const jit_identity *who, const jit_strlist *members);

/* True when who may approve requests of role: root, or named in its
 * approvers. */
bool jit_identity_approves(const jit_identity *who, const jit_role *role);

/* True when who approves at least one role, or is root: such a person may
 * review break-glass grants. */
bool jit_identity_approves_any(const jit_identity *who,
			       const jit_config *config);

/* Checks a free text (reason or note): not empty when required, at most
 * JIT_REQUEST_TEXT_MAX bytes, no control characters. what names it in the
 * message ("reason", "note"). */
jit_err jit_request_check_text(const char *text, const char *what,
			       bool required, jit_error *error);

/* What a requester asks for. */
typedef struct jit_request_spec {
	const char *role;
	const char *duration;     /* NULL: the role's default_duration */
	const char *reason;
	const char *start;        /* NULL: when issued */
} jit_request_spec;

/* Builds a new pending request of who. It checks that who may request the
 * role (root, or named in its requesters) and that pending, the number of
 * who's pending requests, is below JIT_REQUEST_PENDING_MAX. It also checks
 * everything jit_grant_build would check at now (reason pattern, duration
 * caps, start), so that the request can be issued once approved. */
jit_err jit_request_new(const jit_config *config, const jit_identity *who,
			const jit_request_spec *spec, size_t pending,
			int64_t now, jit_request *request, jit_error *error);

/* Adds who's approval to a pending request. Refused when the request is
 * not pending, has expired (now >= expires_at), its role is gone, who
 * does not approve the role, who is the requester, or who approved it
 * already. *complete is set when the role's approvals are reached. */
jit_err jit_request_approve(const jit_config *config, jit_request *request,
			    const jit_identity *who, const char *note,
			    int64_t now, bool *complete, jit_error *error);

/* Builds the grant of a fully approved request, issued at now. The grant
 * names the requester as user and requester, every approver, the request
 * id and the reason. Its not_before is the requested start, or now when
 * that has passed. */
jit_err jit_request_build_grant(const jit_config *config,
				const jit_request *request, int64_t now,
				jit_grant **grant, jit_error *error);

/* Denies a pending request: who must approve the role and not be the
 * requester, and the note is required. */
jit_err jit_request_deny(const jit_config *config, jit_request *request,
			 const jit_identity *who, const char *note,
			 int64_t now, jit_error *error);

/* Cancels a pending request: only its requester or root may. */
jit_err jit_request_cancel(jit_request *request, const jit_identity *who,
			   const char *note, int64_t now, jit_error *error);

/* True when who may see request: its requester, an approver of its role,
 * or root. */
bool jit_request_visible(const jit_config *config, const jit_request *request,
			 const jit_identity *who);

/* The approvals request's role needs now, or 0 when the role is gone. */
unsigned jit_request_approvals_needed(const jit_config *config,
				      const jit_request *request);

/* What a break-glass user asks for. role may be NULL: then the grant
 * allows every command as root on this host. */
typedef struct jit_break_glass_spec {
	const char *role;
	const char *duration;     /* required, at most break_glass_max_duration */
	const char *reason;       /* required */
} jit_break_glass_spec;

/* Builds a break-glass grant for who, a member of break_glass_group. */
jit_err jit_break_glass_build(const jit_config *config, const jit_identity *who,
			      const jit_break_glass_spec *spec, int64_t now,
			      jit_grant **grant, jit_error *error);

/* Checks that who may review grant with note: the grant is break-glass,
 * who is root or approves a role, who is not its user, and the note is
 * given. */
jit_err jit_review_check(const jit_config *config, const jit_identity *who,
			 const jit_grant *grant, const char *note,
			 jit_error *error);

/* ------------------------------------------------------------------------
 * The workflow against the store. Each call opens the store named by config
 * and closes it before returning.
 */

/* Checks spec with jit_request_new and stores the new request. */
jit_err jit_request_submit_stored(const jit_config *config,
				  const jit_identity *who,
				  const jit_request_spec *spec, int64_t now,
				  jit_request *request, jit_error *error);

/* A decision's result: the request as stored afterwards, and the grant the
 * final approval issued (NULL otherwise), which the caller frees. */
typedef struct jit_request_outcome {
	jit_request request;
	jit_grant *grant;
	unsigned approvals_needed;
} jit_request_outcome;

void jit_request_outcome_clear(jit_request_outcome *outcome);

/* Approves request id as who. When this is the last approval needed, the
 * grant is built, signed with the issuer key and stored together with the
 * request's new state in one store transaction. */
jit_err jit_request_approve_stored(const jit_config *config,
				   const jit_identity *who,
				   const uint8_t id[JIT_REQUEST_ID_LEN],
				   const char *note, int64_t now,
				   jit_request_outcome *outcome,
				   jit_error *error);

jit_err jit_request_deny_stored(const jit_config *config,
				const jit_identity *who,
				const uint8_t id[JIT_REQUEST_ID_LEN],
				const char *note, int64_t now,
				jit_request_outcome *outcome, jit_error *error);

jit_err jit_request_cancel_stored(const jit_config *config,
				  const jit_identity *who,
				  const uint8_t id[JIT_REQUEST_ID_LEN],
				  const char *note, int64_t now,
				  jit_request_outcome *outcome,
				  jit_error *error);

/* Loads the requests who may see, newest first: the pending ones only
 * unless all is set. */
jit_err jit_requests_list_stored(const jit_config *config,
				 const jit_identity *who, bool all,
				 jit_request **requests, size_t *count,
				 jit_error *error);

/* Marks pending requests whose request_ttl has passed as expired and
 * removes requests closed more than JIT_REQUEST_RETENTION ago. *expired
 * receives the requests that expired now, for their events. */
jit_err jit_requests_sweep_stored(const jit_config *config, int64_t now,
				  jit_request **expired, size_t *count,
				  jit_error *error);

/* Checks that who may issue spec directly: root may issue any grant; an
 * approver of spec's role may issue a grant of that role to someone else
 * (never to themselves, which would approve their own access). */
jit_err jit_grant_check_issuer(const jit_config *config,
			       const jit_identity *who,
			       const jit_grant_spec *spec, jit_error *error);

/* Checks who with jit_grant_check_issuer, then builds spec with who as
 * requester and approver, signs and stores the grant. */
jit_err jit_grant_issue_stored(const jit_config *config,
			       const jit_identity *who,
			       const jit_grant_spec *spec, int64_t now,
			       jit_grant **grant, jit_error *error);

/* Builds, signs and stores a break-glass grant. */
jit_err jit_break_glass_stored(const jit_config *config, const jit_identity *who,
			       const jit_break_glass_spec *spec, int64_t now,
			       jit_grant **grant, jit_error *error);

/* Records who's review of break-glass grant id. JIT_ERR_EXISTS when it
 * was reviewed already. *grant receives the reviewed grant. */
jit_err jit_review_stored(const jit_config *config, const jit_identity *who,
			  const uint8_t id[JIT_GRANT_ID_LEN], const char *note,
			  int64_t now, jit_grant **grant, jit_error *error);

/* Sets *reviewed for a stored grant: true when a review is recorded. */
jit_err jit_grant_reviewed_stored(const jit_config *config,
				  const uint8_t id[JIT_GRANT_ID_LEN],
				  bool *reviewed, jit_error *error);

#endif
