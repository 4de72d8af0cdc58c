/*
 * Image references, checked at load so that a spec that loads can be
 * pulled: the grammar of Docker's reference package,
 *   [HOST[:PORT]/]PATH[/PATH...][:TAG][@ALGO:HEX]
 * with lower-case path components separated by '.', '_', '__' or '-'s.
 */
#ifndef ENVUP_COMPOSE_IMAGEREF_H
#define ENVUP_COMPOSE_IMAGEREF_H

/** 0 when valid; otherwise -1 and *why (static text) says what is wrong. */
int envup_imageref_check(const char *ref, const char **why);

#endif
