#include "jit/util.h"

#include <stdlib.h>
#include <string.h>

jit_err jit_strlist_append(jit_strlist *list, const char *item)
{
	char **items;
	char *copy;

	copy = strdup(item);
	if (copy == NULL)
		return JIT_ERR_NOMEM;

	items = reallocarray(list->items, list->count + 1, sizeof(*items));
	if (items == NULL) {
		free(copy);
		return JIT_ERR_NOMEM;
	}

	items[list->count++] = copy;
	list->items = items;
	return JIT_OK;
}

bool jit_strlist_contains(const jit_strlist *list, const char *item)
{
	for (size_t i = 0; i < list->count; i++)
		if (strcmp(list->items[i], item) == 0)
			return true;
	return false;
}

void jit_strlist_clear(jit_strlist *list)
{
	if (list == NULL)
		return;
	for (size_t i = 0; i < list->count; i++)
		free(list->items[i]);
	free(list->items);
	list->items = NULL;
	list->count = 0;
}

/* ASCII white space only, whatever the locale. */
static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' ||
	       c == '\v' || c == '\f';
}

jit_err jit_strlist_split(jit_strlist *list, const char *text)
{
	const char *p = text;

	while (*p != '\0') {
		const char *start, *end;
		const char *comma = strchr(p, ',');

		end = comma != NULL ? comma : p + strlen(p);
		start = p;
		while (start < end && is_blank(*start))
			start++;
		while (end > start && is_blank(end[-1]))
			end--;

		if (end > start) {
			char *item = strndup(start, (size_t)(end - start));
			jit_err r;

			if (item == NULL)
				return JIT_ERR_NOMEM;
			r = jit_strlist_append(list, item);
			free(item);
			if (r != JIT_OK)
				return r;
		}

		if (comma == NULL)
			break;
		p = comma + 1;
	}
	return JIT_OK;
}

/* ASCII only: isalnum() depends on the locale, and sudo runs its plugins
 * under the invoking user's locale, where a byte such as 0xE4 may count
 * as a letter. */
static bool is_name_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
}

bool jit_valid_name(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > 32 || name[0] == '-')
		return false;

	/* "." and ".." would name a folder wherever a name becomes a path. */
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return false;

	for (size_t i = 0; i < len; i++)
		if (!is_name_char((unsigned char)name[i]))
			return false;
	return true;
}

bool jit_is_base64url(const char *text, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		char c = text[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return false;
	}
	return true;
}
