/*
 * Rendering exports for the shell, for .env files and as JSON.
 *
 *   shell:  export NAME='value'      (one per line; safe for eval "$(...)")
 *   dotenv: NAME='value'             (one per line)
 *   json:   {"NAME":"value",...}     (one object on one line, in order)
 *
 * Values are single-quoted in both line formats: inside '...' a POSIX
 * shell takes every byte literally (newlines too) and a quote is written
 * '\'' (close, escaped quote, reopen). So a dotenv file is exact when
 * sourced by sh (set -a; . ./.env); dotenv libraries and docker compose
 * read it exactly as long as the value has no single quote or newline.
 * Every name must be a valid variable name, in every format.
 */
#include <string.h>
#include <cjson/cJSON.h>
#include "envup/env.h"
#include "templates/template.h"

bool envup_export_name_valid(const char *s)
{
	const char *p;

	if (!s || !((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_'))
		return false;
	for (p = s + 1; *p; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		      (*p >= '0' && *p <= '9') || *p == '_'))
			return false;
	return true;
}

int envup_shell_quote(envup_buf *out, const char *s)
{
	const char *p, *q;

	ENVUP_ASSERT_ARG(out && s);
	if (envup_buf_putc(out, '\'') < 0)
		return ENVUP_ERROR;
	for (p = s; (q = strchr(p, '\'')) != NULL; p = q + 1)
		if (envup_buf_put(out, p, (size_t)(q - p)) < 0 ||
		    envup_buf_puts(out, "'\\''") < 0)
			return ENVUP_ERROR;
	if (envup_buf_puts(out, p) < 0 || envup_buf_putc(out, '\'') < 0)
		return ENVUP_ERROR;
	return 0;
}

static int exports_lines(envup_buf *out, const envup_kvlist *exports, const char *prefix)
{
	size_t i;

	for (i = 0; i < exports->n; i++) {
		if (envup_buf_puts(out, prefix) < 0 ||
		    envup_buf_puts(out, exports->v[i].key) < 0 ||
		    envup_buf_putc(out, '=') < 0 ||
		    envup_shell_quote(out, exports->v[i].value) < 0 ||
		    envup_buf_putc(out, '\n') < 0)
			return ENVUP_ERROR;
	}
	return 0;
}

static int exports_json(envup_buf *out, const envup_kvlist *exports)
{
	cJSON *root = cJSON_CreateObject();
	char *text = NULL;
	size_t i;
	int error = ENVUP_ERROR;

	if (!root)
		return envup_error_set_oom();
	for (i = 0; i < exports->n; i++) {
		cJSON *v = cJSON_CreateString(exports->v[i].value);
		/* adding copies the key, which can fail too: then v is still ours */
		if (!v || !cJSON_AddItemToObject(root, exports->v[i].key, v)) {
			cJSON_Delete(v);
			envup_error_set_oom();
			goto done;
		}
	}
	if ((text = cJSON_PrintUnformatted(root)) == NULL) {
		envup_error_set_oom();
		goto done;
	}
	if (envup_buf_puts(out, text) < 0 || envup_buf_putc(out, '\n') < 0)
		goto done;
	error = 0;
done:
	if (text)
		cJSON_free(text);
	cJSON_Delete(root);
	return error;
}

int envup_exports_format(envup_buf *out, const envup_kvlist *exports, int format)
{
	envup_buf text = ENVUP_BUF_INIT;
	size_t i;
	int error = ENVUP_ERROR;

	ENVUP_ASSERT_ARG(out && exports);
	for (i = 0; i < exports->n; i++) {
		if (!envup_export_name_valid(exports->v[i].key)) {
			envup_error_set(ENVUP_ERROR_SPEC, "invalid export name \"%s\"",
				exports->v[i].key);
			return ENVUP_ESPEC;
		}
	}
	/* build apart, so `out` is untouched when anything fails */
	switch (format) {
	case ENVUP_FORMAT_SHELL:
		error = exports_lines(&text, exports, "export ");
		break;
	case ENVUP_FORMAT_DOTENV:
		error = exports_lines(&text, exports, "");
		break;
	case ENVUP_FORMAT_JSON:
		error = exports_json(&text, exports);
		break;
	default:
		envup_error_set(ENVUP_ERROR_INTERNAL, "unknown export format %d", format);
		goto done;
	}
	if (error < 0)
		goto done;
	error = envup_buf_put(out, text.ptr ? text.ptr : "", text.size);
done:
	envup_buf_dispose(&text);
	return error;
}
