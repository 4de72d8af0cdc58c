/*
 * Decoding wait: conditions. Ports of tcp/http waits are checked against
 * the service's ports later (validate.c), once templates are applied.
 */
#include <regex.h>
#include <string.h>
#include "compose/wait.h"

static const char *const kind_names[] = {
	"none", "tcp", "http", "log", "healthcheck", "postgres", "redis", "mockserver",
	"exec", "exit"
};
/* the names a spec may write (exec and exit come from Compose files) */
#define WRITABLE_KINDS (ENVUP_WAIT_MOCKSERVER + 1)

/* the forms of a wait: mapping */
static const char *const wait_keys[] = {"tcp", "http", "log", "healthcheck", NULL};
static const char *const http_keys[] = {"port", "path", "status", "method", NULL};
static const char *const log_keys[] = {"pattern", "times", NULL};

const char *envup_wait__kind_name(envup_wait_kind kind)
{
	if ((size_t)kind < ENVUP_ARRAY_SIZE(kind_names))
		return kind_names[kind];
	return "?";
}

void envup_wait__dispose(envup_wait *w)
{
	if (!w)
		return;
	envup__free(w->path);
	envup__free(w->method);
	envup__free(w->pattern);
	envup_strlist_dispose(&w->exec);
	memset(w, 0, sizeof(*w));
}

static int http_defaults(envup_wait *w)
{
	w->kind = ENVUP_WAIT_HTTP;
	w->status = 200;
	if (!w->path && (w->path = envup__strdup("/")) == NULL)
		return ENVUP_ERROR;
	if (!w->method && (w->method = envup__strdup("GET")) == NULL)
		return ENVUP_ERROR;
	return 0;
}

static int decode_scalar(envup_wait *w, envup_decode *d, envup_yaml_node *n)
{
	const char *s;
	size_t i;
	int error;

	if ((error = envup_decode__string(&s, d, n, "a wait condition")) < 0)
		return error;
	for (i = 0; i < WRITABLE_KINDS; i++) {
		if (strcmp(s, kind_names[i]) != 0)
			continue;
		if (i == ENVUP_WAIT_LOG)
			break;
		w->kind = (envup_wait_kind)i;
		return i == ENVUP_WAIT_HTTP ? http_defaults(w) : 0;
	}
	if (strcmp(s, "log") == 0)
		return envup_decode__error(d, n->pos,
			"a log wait needs a pattern: {log: {pattern: REGEX}}");
	return envup_decode__error(d, n->pos,
		"unknown wait '%s' (expected none, tcp, http, healthcheck, postgres, "
		"redis, mockserver, or a mapping with tcp, http, log or healthcheck)", s);
}

/* libcurl refuses such a URL: the probe would fail only at `up` time */
static bool path_has_blank(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || *s == 0x7f)
			return true;
	return false;
}

static int decode_http(envup_wait *w, envup_decode *d, envup_yaml_node *n)
{
	size_t i, mark;
	const char *s;
	int error = 0;

	if ((error = http_defaults(w)) < 0 || n->is_null)
		return error;
	if ((error = envup_decode__mapping(d, n)) < 0)
		return error;
	for (i = 0; i + 1 < n->n && error == 0; i += 2) {
		envup_yaml_node *k = n->items[i], *v = n->items[i + 1];
		if (envup_decode__is_extension(k->text))
			continue;
		mark = envup_decode__push(d, k->text);
		if (strcmp(k->text, "port") == 0) {
			error = envup_decode__int(&w->port, d, v, 1, 65535);
		} else if (strcmp(k->text, "status") == 0) {
			error = envup_decode__int(&w->status, d, v, 100, 599);
		} else if (strcmp(k->text, "path") == 0) {
			if ((error = envup_decode__string(&s, d, v, NULL)) == 0) {
				if (s[0] != '/')
					error = envup_decode__error(d, v->pos,
						"expected a path starting with '/'");
				else if (path_has_blank(s))
					error = envup_decode__error(d, v->pos,
						"a path cannot hold blanks or control "
						"characters (percent-encode them)");
				else if (!(s = envup__strdup(s)))
					error = ENVUP_ERROR;
				else {
					envup__free(w->path);
					w->path = (char *)s;
				}
			}
		} else if (strcmp(k->text, "method") == 0) {
			if ((error = envup_decode__string(&s, d, v, NULL)) == 0) {
				size_t j, len = strlen(s);
				for (j = 0; j < len && s[j] >= 'A' && s[j] <= 'Z'; j++)
					;
				if (len == 0 || j < len || len > 16)
					error = envup_decode__error(d, v->pos,
						"expected an HTTP method such as GET or HEAD");
				else if (!(s = envup__strdup(s)))
					error = ENVUP_ERROR;
				else {
					envup__free(w->method);
					w->method = (char *)s;
				}
			}
		} else {
			error = envup_decode__unknown_key(d, k, http_keys);
		}
		envup_decode__pop(d, mark);
	}
	return error;
}

/*
 * glibc's regcomp() copies an atom once per count of a bounded repetition
 * (and twice for '+', which is {1,}), and its time and memory grow with
 * the square of the count: a{1,32767} takes 8 GB, (a{1,255}){1,255}
 * 160 MB, a+++++++++++++++++++++++ 6 GB, a spec's ten bytes. It also
 * recurses once per group: 20000 nested '(' crash it. A pattern is
 * refused when a count is over 255 (POSIX's smallest RE_DUP_MAX), when its
 * atoms, each counted as many times as the repetitions around it copy it,
 * are more than REGEX_MAX_EXPANDED, or when groups nest deeper than
 * REGEX_MAX_GROUPS.
 */
#define REGEX_MAX_COUNT 255
#define REGEX_MAX_EXPANDED ((size_t)10000)
#define REGEX_MAX_GROUPS 64

/* Digits at *s (moved past them); *any says whether there were some. */
static size_t regex_number(const char **s, bool *any)
{
	size_t v = 0;

	*any = false;
	for (; **s >= '0' && **s <= '9'; (*s)++) {
		*any = true;
		if (v <= REGEX_MAX_COUNT)
			v = v * 10 + (size_t)(**s - '0');
	}
	return v;
}

/*
 * At p ('{'): an interval {m}, {m,}, {m,n} or {,n} (a GNU extension)?
 * *copies is how often regcomp copies the atom (m + 1 when unbounded).
 * Returns 1 and moves p to its '}', 0 when it is none, -1 when a count is
 * over REGEX_MAX_COUNT.
 */
static int regex_interval(const char **p, size_t *copies)
{
	const char *s = *p + 1;
	bool has_m, has_n = false, comma = false;
	size_t m = regex_number(&s, &has_m), n = m;

	if (*s == ',') {
		comma = true;
		s++;
		n = regex_number(&s, &has_n);
		if (!has_n)
			n = m + 1;
	}
	if (*s != '}' || (!has_m && !comma))
		return 0;
	*p = s;
	if (m > REGEX_MAX_COUNT || n > REGEX_MAX_COUNT)
		return -1;
	*copies = n > m ? n : m;
	if (*copies == 0)
		*copies = 1;
	return 1;
}

/* Skip a bracket expression starting at p ('['); p ends on its ']'. */
static const char *regex_bracket(const char *p)
{
	p++;
	if (*p == '^')
		p++;
	if (*p == ']')
		p++;
	for (; *p && *p != ']'; p++) {
		if (p[0] == '[' && (p[1] == ':' || p[1] == '.' || p[1] == '=')) {
			char close = p[1];
			const char *e = p + 2;
			while (*e && !(e[0] == close && e[1] == ']'))
				e++;
			if (*e)
				p = e + 1;
		}
	}
	return *p ? p : p - 1;
}

/* Why regcomp() must not see the pattern, or NULL. */
static const char *regex_too_costly(const char *p)
{
	static const char nested[] = "groups nested deeper than 64 levels";
	static const char copies_msg[] = "its repetitions expand it too much "
		"(at most {255} each, and 10000 copies of atoms in all)";
	size_t sum[REGEX_MAX_GROUPS + 1] = {0}, last = 0, depth = 0, copies;
	int r = 0;

	for (; *p; p++) {
		size_t atom = 1;
		switch (*p) {
		case '(':
			if (depth == REGEX_MAX_GROUPS)
				return nested;
			sum[++depth] = 0;
			last = 0;
			continue;
		case ')':
			if (depth == 0)
				break;
			atom = sum[depth--];
			break;
		case '{':
		case '+':
			/* a+ is a{1,}: two copies, so a++++ doubles four times */
			copies = 2;
			if (*p == '{' && (r = regex_interval(&p, &copies)) <= 0) {
				if (r < 0)
					return copies_msg;
				break;
			}
			/* the atom is there once already: add the other copies */
			if (last > REGEX_MAX_EXPANDED / copies)
				return copies_msg;
			sum[depth] += last * (copies - 1);
			last *= copies;
			if (sum[depth] > REGEX_MAX_EXPANDED)
				return copies_msg;
			continue;
		case '|':
		case '*':
		case '?':
		case '^':
		case '$':
			continue;
		case '[':
			p = regex_bracket(p);
			break;
		case '\\':
			if (p[1])
				p++;
			break;
		default:
			break;
		}
		sum[depth] += atom;
		last = atom;
		if (sum[depth] > REGEX_MAX_EXPANDED)
			return copies_msg;
	}
	return NULL;
}

static int check_regex(envup_decode *d, envup_yaml_node *n, const char *pattern)
{
	regex_t re;
	char why[256];
	const char *costly = regex_too_costly(pattern);
	int rc;

	if (costly)
		return envup_decode__error(d, n->pos, "invalid regular expression: %s", costly);
	rc = regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB);
	if (rc == 0) {
		regfree(&re);
		return 0;
	}
	regerror(rc, &re, why, sizeof(why));
	return envup_decode__error(d, n->pos, "invalid regular expression: %s", why);
}

static int decode_log(envup_wait *w, envup_decode *d, envup_yaml_node *n)
{
	envup_yaml_node *pattern_node = NULL;
	const char *s;
	size_t i, mark;
	int error = 0;

	w->kind = ENVUP_WAIT_LOG;
	w->times = 1;
	if (n->kind == ENVUP_YAML_SCALAR && !n->is_null) {
		pattern_node = n;
	} else {
		if ((error = envup_decode__mapping(d, n)) < 0)
			return error;
		for (i = 0; i + 1 < n->n && error == 0; i += 2) {
			envup_yaml_node *k = n->items[i], *v = n->items[i + 1];
			if (envup_decode__is_extension(k->text))
				continue;
			if (strcmp(k->text, "pattern") == 0) {
				pattern_node = v;
				continue;
			}
			mark = envup_decode__push(d, k->text);
			if (strcmp(k->text, "times") == 0)
				error = envup_decode__int(&w->times, d, v, 1, 1000000);
			else
				error = envup_decode__unknown_key(d, k, log_keys);
			envup_decode__pop(d, mark);
		}
		if (error < 0)
			return error;
		if (!pattern_node)
			return envup_decode__error(d, n->pos, "a log wait needs a pattern");
	}
	mark = n == pattern_node ? d->plen : envup_decode__push(d, "pattern");
	if ((error = envup_decode__string(&s, d, pattern_node, "a regular expression")) == 0 &&
	    (error = check_regex(d, pattern_node, s)) == 0 &&
	    (w->pattern = envup__strdup(s)) == NULL)
		error = ENVUP_ERROR;
	envup_decode__pop(d, mark);
	return error;
}

static bool is_wait_key(const char *key)
{
	size_t i;
	for (i = 0; wait_keys[i]; i++)
		if (strcmp(key, wait_keys[i]) == 0)
			return true;
	return false;
}

static int decode_mapping(envup_wait *w, envup_decode *d, envup_yaml_node *n)
{
	envup_yaml_node *which = NULL, *value = NULL;
	size_t i, mark;
	bool yes;
	int error;

	for (i = 0; i + 1 < n->n; i += 2) {
		envup_yaml_node *k = n->items[i];
		if (envup_decode__is_extension(k->text))
			continue;
		if (!is_wait_key(k->text)) {
			mark = envup_decode__push(d, k->text);
			error = envup_decode__unknown_key(d, k, wait_keys);
			envup_decode__pop(d, mark);
			return error;
		}
		if (which) {
			mark = envup_decode__push(d, k->text);
			error = envup_decode__error(d, k->pos,
				"one wait condition only (already '%s')", which->text);
			envup_decode__pop(d, mark);
			return error;
		}
		which = k;
		value = n->items[i + 1];
	}
	if (!which)
		return envup_decode__error(d, n->pos,
			"expected one of tcp, http, log or healthcheck");

	mark = envup_decode__push(d, which->text);
	if (strcmp(which->text, "tcp") == 0) {
		w->kind = ENVUP_WAIT_TCP;
		error = value->is_null ? 0 : envup_decode__int(&w->port, d, value, 1, 65535);
	} else if (strcmp(which->text, "http") == 0) {
		error = decode_http(w, d, value);
	} else if (strcmp(which->text, "log") == 0) {
		error = decode_log(w, d, value);
	} else {
		w->kind = ENVUP_WAIT_HEALTHCHECK;
		if ((error = envup_decode__bool(&yes, d, value)) == 0 && !yes)
			error = envup_decode__error(d, value->pos,
				"healthcheck: false is not a wait condition (use 'wait: none')");
	}
	envup_decode__pop(d, mark);
	return error;
}

int envup_wait__decode(envup_wait *out, envup_decode *d, envup_yaml_node *n)
{
	envup_wait w;
	int error;

	memset(&w, 0, sizeof(w));
	if (n->kind == ENVUP_YAML_SCALAR)
		error = decode_scalar(&w, d, n);
	else if (n->kind == ENVUP_YAML_MAP)
		error = decode_mapping(&w, d, n);
	else
		error = envup_decode__error(d, n->pos,
			"expected a wait condition (a name or a mapping), found a sequence");
	if (error < 0) {
		envup_wait__dispose(&w);
		return error;
	}
	envup_wait__dispose(out);
	*out = w;
	return 0;
}
