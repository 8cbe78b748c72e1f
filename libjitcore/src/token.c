/* Text forms of grants and grant ids, for copying between hosts and for
 * command lines. */
#include "jit/grant.h"
#include "jit/util.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#define TOKEN_PREFIX_LEN (sizeof(JIT_TOKEN_PREFIX) - 1)
#define TOKEN_B64_VARIANT sodium_base64_VARIANT_URLSAFE_NO_PADDING

jit_err jit_token_encode(const uint8_t *blob, size_t blob_len, char **text,
			 jit_error *error)
{
	size_t b64_size;
	char *t;

	*text = NULL;

	if (blob == NULL || blob_len == 0)
		return jit_error_set(error, JIT_ERR_INVALID,
				     "cannot encode an empty grant as a token");
	if (blob_len > JIT_GRANT_MAX_BLOB)
		return jit_error_set(error, JIT_ERR_TOO_LARGE,
				     "grant of %zu bytes is over the limit of %d",
				     blob_len, JIT_GRANT_MAX_BLOB);

	b64_size = sodium_base64_ENCODED_LEN(blob_len, TOKEN_B64_VARIANT);
	t = malloc(TOKEN_PREFIX_LEN + b64_size);
	if (t == NULL)
		return jit_error_set(error, JIT_ERR_NOMEM,
				     "out of memory encoding a token");

	memcpy(t, JIT_TOKEN_PREFIX, TOKEN_PREFIX_LEN);
	sodium_bin2base64(t + TOKEN_PREFIX_LEN, b64_size, blob, blob_len,
			  TOKEN_B64_VARIANT);
	*text = t;
	return JIT_OK;
}

/* Decodes b64 strictly. The alphabet is checked first, because libsodium
 * 1.0.18 reads bytes 0x80-0xff as '_' and one grant would then have many
 * texts. libsodium fails on non-zero spare bits or a dangling sextet, and
 * requiring b64_end to be the end of the input rejects an early stop. */
static jit_err token_payload_decode(const char *b64, size_t b64_len,
				    uint8_t **blob, size_t *blob_len,
				    jit_error *error)
{
	size_t max = b64_len / 4 * 3 + 2;
	const char *b64_end = NULL;
	size_t len = 0;
	uint8_t *bin;

	bin = malloc(max);
	if (bin == NULL)
		return jit_error_set(error, JIT_ERR_NOMEM,
				     "out of memory decoding a token");

	if (!jit_is_base64url(b64, b64_len) ||
	    sodium_base642bin(bin, max, b64, b64_len, NULL, &len, &b64_end,
			      TOKEN_B64_VARIANT) != 0 ||
	    b64_end != b64 + b64_len || len == 0) {
		free(bin);
		return jit_error_set(error, JIT_ERR_MALFORMED,
				     "invalid token: the text after \"%s\" is not unpadded base64url (it may be cut or damaged; '=', '+', '/' and blanks are not allowed)",
				     JIT_TOKEN_PREFIX);
	}

	*blob = bin;
	*blob_len = len;
	return JIT_OK;
}

jit_err jit_token_decode(const char *text, uint8_t **blob, size_t *blob_len,
			 jit_error *error)
{
	size_t len;

	*blob = NULL;
	*blob_len = 0;

	if (text == NULL || text[0] == '\0')
		return jit_error_set(error, JIT_ERR_MALFORMED,
				     "invalid token: it is empty");

	len = strnlen(text, JIT_TOKEN_MAX_LEN + 1);
	if (len > JIT_TOKEN_MAX_LEN)
		return jit_error_set(error, JIT_ERR_TOO_LARGE,
				     "invalid token: longer than %zu characters",
				     (size_t)JIT_TOKEN_MAX_LEN);
	if (len < TOKEN_PREFIX_LEN ||
	    memcmp(text, JIT_TOKEN_PREFIX, TOKEN_PREFIX_LEN) != 0)
		return jit_error_set(error, JIT_ERR_MALFORMED,
				     "invalid token: it does not start with \"%s\"",
				     JIT_TOKEN_PREFIX);
	if (len == TOKEN_PREFIX_LEN)
		return jit_error_set(error, JIT_ERR_MALFORMED,
				     "invalid token: nothing follows \"%s\"",
				     JIT_TOKEN_PREFIX);

	return token_payload_decode(text + TOKEN_PREFIX_LEN,
				    len - TOKEN_PREFIX_LEN, blob, blob_len,
				    error);
}

void jit_grant_id_format(const uint8_t id[JIT_GRANT_ID_LEN],
			 char out[JIT_GRANT_ID_HEX_LEN + 1])
{
	sodium_bin2hex(out, JIT_GRANT_ID_HEX_LEN + 1, id, JIT_GRANT_ID_LEN);
}

static bool text_is_printable(const char *text, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!isprint((unsigned char)text[i]))
			return false;
	return true;
}

jit_err jit_grant_id_parse(const char *text, uint8_t id[JIT_GRANT_ID_LEN],
			   jit_error *error)
{
	size_t len;
	bool hex;

	if (text == NULL)
		return jit_error_set(error, JIT_ERR_INVALID,
				     "missing grant id: expected %d hex digits",
				     JIT_GRANT_ID_HEX_LEN);

	/* Reading one character past the id detects a longer string. */
	len = strnlen(text, JIT_GRANT_ID_HEX_LEN + 1);
	hex = len == JIT_GRANT_ID_HEX_LEN;
	for (size_t i = 0; hex && i < len; i++)
		hex = isxdigit((unsigned char)text[i]) != 0;

	if (hex && sodium_hex2bin(id, JIT_GRANT_ID_LEN, text, len, NULL, NULL,
				  NULL) == 0)
		return JIT_OK;

	if (!text_is_printable(text, len))
		return jit_error_set(error, JIT_ERR_INVALID,
				     "invalid grant id: expected %d hex digits",
				     JIT_GRANT_ID_HEX_LEN);
	return jit_error_set(error, JIT_ERR_INVALID,
			     "invalid grant id \"%.*s%s\": expected %d hex digits",
			     (int)len, text,
			     len > JIT_GRANT_ID_HEX_LEN ? "..." : "",
			     JIT_GRANT_ID_HEX_LEN);
}
