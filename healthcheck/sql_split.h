/*
 * Splitting SQL text into statements as psql does (sql_split.c).
 */
#ifndef ENVUP_HEALTHCHECK_SQL_SPLIT_H
#define ENVUP_HEALTHCHECK_SQL_SPLIT_H

#include <stdbool.h>
#include <stddef.h>

/** A position in SQL text; start with pos 0. The text is borrowed. */
typedef struct {
	const char *text;
	size_t len;
	size_t pos;
} envup_sql_lexer;

/**
 * The next statement: [*start, *end), *end just past its ';' (or the end
 * of the text). *meta is set when it is a psql backslash command (which
 * then runs to the end of its line). false when nothing is left.
 */
bool envup_sql_next(envup_sql_lexer *lx, size_t *start, size_t *end, bool *meta);

/** SQL white space (what separates words). */
bool envup_sql_space(char c);

#endif
