#include "plugin.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Every user-visible line goes through the front end's printf callback,
 * because the plugin runs inside sudo, which owns the descriptors. */
static void plugin_vprint(const struct plugin *p, int msg_type,
			  const char *format, va_list ap)
{
	char line[2048];

	if (p->print == NULL)
		return;

	vsnprintf(line, sizeof(line), format, ap);
	p->print(msg_type, "jit: %s\n", line);
}

void plugin_error(const struct plugin *p, const char *format, ...)
{
	va_list ap;

	va_start(ap, format);
	plugin_vprint(p, SUDO_CONV_ERROR_MSG, format, ap);
	va_end(ap);
}

void plugin_info(const struct plugin *p, const char *format, ...)
{
	va_list ap;

	va_start(ap, format);
	plugin_vprint(p, SUDO_CONV_INFO_MSG, format, ap);
	va_end(ap);
}

void text_escape(const char *text, char *out, size_t out_len)
{
	size_t used = 0;

	if (out_len < 4) {
		if (out_len > 0)
			out[0] = '\0';
		return;
	}

	for (const unsigned char *c = (const unsigned char *)text; *c != '\0'; c++) {
		char piece[5];
		size_t len = 1;

		if (*c < 0x20 || *c == 0x7f)
			len = (size_t)snprintf(piece, sizeof(piece), "\\x%02x", *c);
		else
			piece[0] = (char)*c;

		/* Room stays for "..." and the NUL, so a cut is always marked. */
		if (used + len > out_len - 4) {
			memcpy(out + used, "...", 3);
			used += 3;
			break;
		}
		memcpy(out + used, piece, len);
		used += len;
	}
	out[used] = '\0';
}

char *argv_join(const char *first, int argc, char *const argv[])
{
	size_t len = first != NULL ? strlen(first) + 1 : 0;
	char *line, *end;

	for (int i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;

	line = malloc(len + 1);
	if (line == NULL)
		return NULL;

	end = line;
	if (first != NULL)
		end = stpcpy(end, first);
	for (int i = 0; i < argc; i++) {
		if (end != line)
			*end++ = ' ';
		end = stpcpy(end, argv[i]);
	}
	*end = '\0';
	return line;
}
