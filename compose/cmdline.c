/*
 * Shell-like word splitting of a command string, without a shell.
 */
#include <string.h>
#include "compose/cmdline.h"

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int envup_cmdline__split(envup_strlist *out, const char **why, const char *s)
{
	envup_buf word = ENVUP_BUF_INIT;
	bool in_word = false;
	int error = 0;

	*why = NULL;
	while (*s) {
		if (is_blank(*s)) {
			if (in_word) {
				if ((error = envup_strlist_push(out, envup_buf_cstr(&word))) < 0)
					goto done;
				envup_buf_clear(&word);
				in_word = false;
			}
			s++;
			continue;
		}
		in_word = true;
		if (*s == '\'') {
			const char *end = strchr(s + 1, '\'');
			if (!end) {
				*why = "unterminated single quote";
				error = ENVUP_ESPEC;
				goto done;
			}
			if ((error = envup_buf_put(&word, s + 1, (size_t)(end - s - 1))) < 0)
				goto done;
			s = end + 1;
		} else if (*s == '"') {
			for (s++; *s && *s != '"'; s++) {
				if (*s == '\\' && s[1] && strchr("\"\\$`", s[1]))
					s++;
				if ((error = envup_buf_putc(&word, *s)) < 0)
					goto done;
			}
			if (!*s) {
				*why = "unterminated double quote";
				error = ENVUP_ESPEC;
				goto done;
			}
			s++;
		} else {
			if (*s == '\\' && s[1])
				s++;
			if ((error = envup_buf_putc(&word, *s)) < 0)
				goto done;
			s++;
		}
	}
	if (in_word)
		error = envup_strlist_push(out, envup_buf_cstr(&word));
done:
	envup_buf_dispose(&word);
	return error;
}
