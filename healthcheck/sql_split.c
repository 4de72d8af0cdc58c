/*
 * Splitting an SQL file into statements with psql's own rules: quotes,
 * E'' strings, dollar quotes, nested comments, parentheses, and its
 * heuristic for BEGIN ATOMIC bodies of CREATE [OR REPLACE]
 * FUNCTION/PROCEDURE. A psql backslash command is one "statement" to the
 * end of its line, flagged, so the caller can refuse it.
 */
#include <string.h>
#include <strings.h>
#include "util/util.h"
#include "healthcheck/sql_split.h"

static bool ident_start(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' ||
		(unsigned char)c >= 0x80;
}

static bool ident_char(char c)
{
	return ident_start(c) || (c >= '0' && c <= '9') || c == '$';
}

bool envup_sql_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Length of a dollar-quote delimiter ("$$", "$fn$") at t[i], else 0. */
static size_t dollar_tag(const char *t, size_t i)
{
	size_t k = i + 1;

	if (i > 0 && ident_char(t[i - 1]))
		return 0; /* inside an identifier such as a$b */
	if (t[k] == '$')
		return 2;
	if (!ident_start(t[k]))
		return 0;
	while (t[k] && t[k] != '$' && ident_char(t[k]))
		k++;
	return t[k] == '$' ? k - i + 1 : 0;
}

/* Index just past the comment, quote or dollar quote starting at t[i]. */
static size_t skip_comment(const char *t, size_t n, size_t i)
{
	int depth = 1;

	if (t[i] == '-') {
		while (i < n && t[i] != '\n')
			i++;
		return i;
	}
	for (i += 2; i < n && depth; ) {
		if (t[i] == '/' && t[i + 1] == '*') {
			depth++;
			i += 2;
		} else if (t[i] == '*' && t[i + 1] == '/') {
			depth--;
			i += 2;
		} else {
			i++;
		}
	}
	return i;
}

static size_t skip_quoted(const char *t, size_t n, size_t i, bool backslash)
{
	char q = t[i];

	for (i++; i < n; i++) {
		if (backslash && t[i] == '\\' && i + 1 < n)
			i++;
		else if (t[i] == q && t[i + 1] == q)
			i++;
		else if (t[i] == q)
			return i + 1;
	}
	return n;
}

static size_t skip_dollar(const char *t, size_t n, size_t i, size_t tag)
{
	size_t k;

	for (k = i + tag; k + tag <= n; k++)
		if (t[k] == '$' && memcmp(t + k, t + i, tag) == 0)
			return k + tag;
	return n;
}

/*
 * psql's heuristic: inside CREATE [OR REPLACE] {FUNCTION|PROCEDURE},
 * BEGIN ... END (and CASE ... END within) nest, and semicolons in them do
 * not end the statement.
 */
typedef struct {
	char words[4];
	size_t nwords;
	int begin_depth;
	int paren_depth;
} sql_nesting;

static void sql_word(sql_nesting *st, const char *w, size_t len)
{
	static const char *const tracked[] = {"create", "function", "procedure", "or", "replace"};
	size_t i;

	if (st->nwords < sizeof(st->words)) {
		for (i = 0; i < ENVUP_ARRAY_SIZE(tracked); i++)
			if (strlen(tracked[i]) == len && strncasecmp(w, tracked[i], len) == 0)
				st->words[st->nwords] = tracked[i][0];
	}
	st->nwords++;
	if (st->words[0] != 'c' || st->paren_depth != 0)
		return;
	if (!(st->words[1] == 'f' || st->words[1] == 'p' ||
	      (st->words[1] == 'o' && st->words[2] == 'r' &&
	       (st->words[3] == 'f' || st->words[3] == 'p'))))
		return;
	if (len == 5 && strncasecmp(w, "begin", 5) == 0)
		st->begin_depth++;
	else if (len == 4 && strncasecmp(w, "case", 4) == 0 && st->begin_depth > 0)
		st->begin_depth++;
	else if (len == 3 && strncasecmp(w, "end", 3) == 0 && st->begin_depth > 0)
		st->begin_depth--;
}

/*
 * The next statement: [*start, *end), *end just past its ';' (or the end
 * of the text). *meta is set when it is a psql backslash command (which
 * then runs to the end of its line). false when nothing is left.
 */
bool envup_sql_next(envup_sql_lexer *lx, size_t *start, size_t *end, bool *meta)
{
	const char *t = lx->text;
	size_t n = lx->len, i = lx->pos;
	sql_nesting st;
	bool started = false;

	memset(&st, 0, sizeof(st));
	*meta = false;
	while (i < n) {
		char c = t[i];
		if ((c == '-' && t[i + 1] == '-') || (c == '/' && t[i + 1] == '*')) {
			i = skip_comment(t, n, i);
			continue;
		}
		if (envup_sql_space(c)) {
			i++;
			continue;
		}
		if (c == ';' && !started) {
			i++; /* an empty statement */
			continue;
		}
		if (!started) {
			started = true;
			*start = i;
			if (c == '\\') {
				*meta = true;
				while (i < n && t[i] != '\n')
					i++;
				break;
			}
		}
		if (c == ';') {
			if (st.paren_depth == 0 && st.begin_depth == 0) {
				i++;
				break;
			}
			i++;
		} else if (c == '(') {
			st.paren_depth++;
			i++;
		} else if (c == ')') {
			if (st.paren_depth > 0)
				st.paren_depth--;
			i++;
		} else if (c == '\'' || c == '"') {
			bool e = c == '\'' && i > 0 && (t[i - 1] == 'E' || t[i - 1] == 'e') &&
				(i == 1 || !ident_char(t[i - 2]));
			i = skip_quoted(t, n, i, e);
		} else if (c == '$' && dollar_tag(t, i)) {
			i = skip_dollar(t, n, i, dollar_tag(t, i));
		} else if (ident_start(c)) {
			size_t w = i;
			while (i < n && ident_char(t[i]))
				i++;
			/* E'...' : the quote right after is handled as an E string */
			if (!(i - w == 1 && (c == 'E' || c == 'e') && t[i] == '\''))
				sql_word(&st, t + w, i - w);
		} else if (c >= '0' && c <= '9') {
			while (i < n && (ident_char(t[i]) || t[i] == '.'))
				i++;
		} else {
			i++;
		}
	}
	lx->pos = i;
	*end = i;
	return started;
}
