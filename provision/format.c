/*
 * The output formats of exports (envup up --format, envup_env_format):
 * for the shell, .env files, JSON, and the two CI formats.
 *
 *   shell:  export NAME='value'      (one per line; safe for eval "$(...)")
 *   dotenv: NAME='value'             (one per line)
 *   json:   {"NAME":"value",...}     (one object on one line, in order)
 *   github: NAME<<ghadelimiter_HEX   (GitHub's $GITHUB_ENV file commands:
 *           value lines               a fresh random delimiter per value,
 *           ghadelimiter_HEX          so any value, multi-line too, survives)
 *   gitlab: NAME=value               (a dotenv report artifact, as GitLab
 *                                     parses it: no quotes, no escapes)
 *
 * shell: inside '...' a POSIX shell takes every byte literally (newlines
 * too) and a quote is written '\'' (close, escaped quote, reopen).
 *
 * dotenv must read the same in `set -a; . FILE` (sh) and in dotenv
 * libraries (python-dotenv, docker compose), which unescape \\ and \' even
 * inside single quotes and expand ${...} inside double quotes. So a value
 * is single-quoted unless it holds a ' or a \\ (or ends in \), then
 * double-quoted if it holds none of " $ ` \; a value that fits neither is
 * an error naming the variable, never a file that two readers disagree on.
 *
 * gitlab: GitLab splits each line at the first '=', strips both sides and
 * takes the rest literally (quotes too), refuses empty lines and
 * comments, and later expands $ in the value. So a value with a newline,
 * a carriage return, leading or trailing blanks, a space or a '$' cannot
 * be carried: an error names the variable.
 *
 * Every name must be a valid variable name, in every format.
 */
#include <stdio.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "envup.h"
#include "compose/spec.h"
#include "provision/format.h"

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

static int dotenv_value(envup_buf *out, const char *name, const char *v)
{
	size_t len = strlen(v);

	/* python-dotenv expands ${...} even inside single quotes */
	if (strstr(v, "${"))
		goto refuse;
	if (!strchr(v, '\'') && !strstr(v, "\\\\") && !(len && v[len - 1] == '\\'))
		return envup_buf_putc(out, '\'') < 0 || envup_buf_puts(out, v) < 0 ||
			envup_buf_putc(out, '\'') < 0 ? ENVUP_ERROR : 0;
	if (!strpbrk(v, "\"$`\\"))
		return envup_buf_putc(out, '"') < 0 || envup_buf_puts(out, v) < 0 ||
			envup_buf_putc(out, '"') < 0 ? ENVUP_ERROR : 0;
refuse:
	return envup_error_set(ENVUP_ESPEC, ENVUP_ERROR_SPEC,
		"--format dotenv: the value of %s holds '${', or a quote with a backslash or '$', "
		"which sh and dotenv libraries would read differently; use --format shell or json",
		name);
}

static int exports_dotenv(envup_buf *out, const envup_kvlist *exports)
{
	size_t i;
	int error;

	for (i = 0; i < exports->n; i++) {
		if (envup_buf_puts(out, exports->v[i].key) < 0 || envup_buf_putc(out, '=') < 0)
			return ENVUP_ERROR;
		if ((error = dotenv_value(out, exports->v[i].key, exports->v[i].value)) < 0)
			return error;
		if (envup_buf_putc(out, '\n') < 0)
			return ENVUP_ERROR;
	}
	return 0;
}

static bool gitlab_carries(const char *v, const char **why)
{
	size_t len = strlen(v);
	if (strpbrk(v, "\r\n"))
		*why = "a line break";
	else if (len && (v[0] == ' ' || v[0] == '\t' || v[len - 1] == ' ' || v[len - 1] == '\t'))
		*why = "leading or trailing blanks, which GitLab strips";
	else if (strpbrk(v, " \t"))
		*why = "a blank";
	else if (strchr(v, '$'))
		*why = "a '$', which GitLab expands in later jobs";
	else
		return true;
	return false;
}

static int exports_gitlab(envup_buf *out, const envup_kvlist *exports)
{
	size_t i;

	for (i = 0; i < exports->n; i++) {
		const char *why = NULL;
		if (strlen(exports->v[i].key) > 255) {
			return envup_error_set(ENVUP_ESPEC, ENVUP_ERROR_SPEC, "--format gitlab: the name %.40s... is longer "
				"than GitLab's 255 characters", exports->v[i].key);
		}
		if (!gitlab_carries(exports->v[i].value, &why)) {
			return envup_error_set(ENVUP_ESPEC, ENVUP_ERROR_SPEC, "--format gitlab: the value of %s holds %s: "
				"a GitLab dotenv report cannot carry it; set the value in the spec, or use "
				"--format dotenv and source the file in the job", exports->v[i].key, why);
		}
		if (envup_buf_printf(out, "%s=%s\n", exports->v[i].key, exports->v[i].value) < 0)
			return ENVUP_ERROR;
	}
	return 0;
}

/* Names GitHub refuses to take from $GITHUB_ENV. */
static bool github_reserved(const char *name)
{
	return strcmp(name, "NODE_OPTIONS") == 0 || strncmp(name, "GITHUB_", 7) == 0 ||
		strncmp(name, "RUNNER_", 7) == 0;
}

static int exports_github(envup_buf *out, const envup_kvlist *exports)
{
	size_t i;

	for (i = 0; i < exports->n; i++) {
		const char *v = exports->v[i].value;
		char delim[64];
		unsigned char raw[16];
		size_t k;

		if (github_reserved(exports->v[i].key)) {
			return envup_error_set(ENVUP_ESPEC, ENVUP_ERROR_SPEC, "--format github: GitHub does not let a step "
				"set %s; rename the export", exports->v[i].key);
		}
		/* a fresh delimiter per value, as @actions/core does; one that
		 * occurs in the value is drawn again */
		do {
			if (envup_random_bytes(raw, sizeof(raw)) < 0)
				return ENVUP_ERROR;
			memcpy(delim, "ghadelimiter_", 13);
			for (k = 0; k < sizeof(raw); k++)
				snprintf(delim + 13 + 2 * k, 3, "%02x", raw[k]);
		} while (strstr(v, delim));
		if (envup_buf_printf(out, "%s<<%s\n%s\n%s\n", exports->v[i].key, delim, v, delim) < 0)
			return ENVUP_ERROR;
	}
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
			return envup_error_set(ENVUP_ESPEC, ENVUP_ERROR_SPEC, "invalid export name \"%s\"",
				exports->v[i].key);
		}
	}
	/* build apart, so `out` is untouched when anything fails */
	switch (format) {
	case ENVUP_FORMAT_SHELL:
		error = exports_lines(&text, exports, "export ");
		break;
	case ENVUP_FORMAT_DOTENV:
		error = exports_dotenv(&text, exports);
		break;
	case ENVUP_FORMAT_GITHUB:
		error = exports_github(&text, exports);
		break;
	case ENVUP_FORMAT_GITLAB:
		error = exports_gitlab(&text, exports);
		break;
	case ENVUP_FORMAT_JSON:
		error = exports_json(&text, exports);
		break;
	default:
		envup_error_set(ENVUP_ERROR, ENVUP_ERROR_INTERNAL, "unknown export format %d", format);
		goto done;
	}
	if (error < 0)
		goto done;
	error = envup_buf_put(out, text.ptr ? text.ptr : "", text.size);
done:
	envup_buf_dispose(&text);
	return error;
}
