/* The byte codec of the store's own records (requests, reviews, evidence):
 * big-endian integers and strings with a u16 length, written into a
 * growing buffer and read back with bounds checks. A failed write or a
 * short read is sticky, so a record is written or read straight through
 * with one check at the end. */
#include "store_internal.h"

#include <stdlib.h>
#include <string.h>

void store_put_bytes(store_writer *w, const void *bytes, size_t n)
{
	if (w->failed || n == 0)
		return;
	if (w->len + n > w->capacity) {
		size_t capacity = w->capacity == 0 ? 256 : w->capacity;
		uint8_t *data;

		while (capacity < w->len + n)
			capacity *= 2;
		data = realloc(w->data, capacity);
		if (data == NULL) {
			w->failed = true;
			return;
		}
		w->data = data;
		w->capacity = capacity;
	}
	memcpy(w->data + w->len, bytes, n);
	w->len += n;
}

void store_put_u8(store_writer *w, unsigned value)
{
	uint8_t byte = (uint8_t)value;

	store_put_bytes(w, &byte, 1);
}

void store_put_u16(store_writer *w, size_t value)
{
	uint8_t bytes[2] = { (uint8_t)(value >> 8), (uint8_t)value };

	store_put_bytes(w, bytes, 2);
}

void store_put_u64(store_writer *w, uint64_t value)
{
	uint8_t bytes[8];

	for (int i = 7; i >= 0; i--) {
		bytes[i] = (uint8_t)value;
		value >>= 8;
	}
	store_put_bytes(w, bytes, 8);
}

void store_put_string(store_writer *w, const char *text, size_t n)
{
	if (n > UINT16_MAX) {
		w->failed = true;
		return;
	}
	store_put_u16(w, n);
	store_put_bytes(w, text, n);
}

const uint8_t *store_take(store_reader *r, size_t n)
{
	const uint8_t *at;

	if (r->bad || r->len - r->offset < n) {
		r->bad = true;
		return NULL;
	}
	at = r->data + r->offset;
	r->offset += n;
	return at;
}

unsigned store_get_u8(store_reader *r)
{
	const uint8_t *at = store_take(r, 1);

	return at != NULL ? at[0] : 0;
}

size_t store_get_u16(store_reader *r)
{
	const uint8_t *at = store_take(r, 2);

	return at != NULL ? (size_t)at[0] << 8 | at[1] : 0;
}

uint64_t store_get_u64(store_reader *r)
{
	const uint8_t *at = store_take(r, 8);
	uint64_t value = 0;

	for (int i = 0; at != NULL && i < 8; i++)
		value = value << 8 | at[i];
	return value;
}

char *store_get_string(store_reader *r, size_t max)
{
	size_t n = store_get_u16(r);
	const uint8_t *at = store_take(r, n);
	char *text;

	if (at == NULL || n > max || memchr(at, '\0', n) != NULL) {
		r->bad = true;
		return NULL;
	}
	text = strndup((const char *)at, n);
	if (text == NULL)
		r->no_memory = r->bad = true;
	return text;
}
