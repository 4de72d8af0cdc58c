/*
 * Shared plumbing for every layer of the library: the error setter, the
 * allocator wrappers, the growable buffer and two small list types.
 *
 * Ownership: envup_buf, envup_strlist and envup_kvlist own their contents;
 * empty them with the matching _dispose(). Strings handed to _push/_set
 * are copied.
 */
#ifndef ENVUP_UTIL_H
#define ENVUP_UTIL_H

#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include "envup/common.h"

#define ENVUP_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define ENVUP_WARN_UNUSED __attribute__((warn_unused_result))
#define ENVUP_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- errors (util/error.c) ---------------------------------------------- */

/**
 * Record a one-line error for this thread and return `code` (ENVUP_ERROR,
 * or the ENVUP_E* a caller can act on), so that an error is set and
 * returned in one statement: `return envup_error_set(ENVUP_ESPEC,
 * ENVUP_ERROR_SPEC, "...")`. ENVUP_ERROR_OS appends ": strerror(errno)".
 * Registered secrets are masked; control characters are replaced; a
 * message is truncated at the first newline.
 */
int envup_error_set(int code, int klass, const char *fmt, ...) ENVUP_PRINTF(3, 4);
int envup_error_vset(int code, int klass, const char *fmt, va_list ap);
/** Record out-of-memory without allocating; returns ENVUP_ERROR. */
int envup_error_set_oom(void);
/**
 * Allocation failures recorded on this thread so far. A library that
 * returns NULL both for bad input and for out of memory (cJSON_Parse) is
 * told apart by comparing the count before and after the call.
 */
unsigned long envup__oom_count(void);

/** Copy another thread's error text into this thread's error; returns `code`. */
int envup_error_set_str(int code, int klass, const char *message);

#define ENVUP_ERROR_CHECK_ALLOC(p) do { if ((p) == NULL) return envup_error_set_oom(); } while (0)

#define ENVUP_ASSERT_ARG(expr) do { \
	if (!(expr)) \
		return envup_error_set(ENVUP_ERROR, ENVUP_ERROR_INTERNAL, "invalid argument: %s", #expr); \
	} while (0)

/* ---- secrets (util/secret.c) -------------------------------------------- */

/** A set of secrets to mask (one per `up`); thread-safe. */
typedef struct envup_secrets envup_secrets;

int envup_secrets_new(envup_secrets **out);
/** Accepts NULL. Not while a thread still uses it. */
void envup_secrets_free(envup_secrets *s);
/** Add (copied) to `s` (NULL: the process-wide fallback set). */
int envup_secrets_add(envup_secrets *s, const char *secret);
/** The set this thread adds to and masks with (NULL: none); returns the previous. */
envup_secrets *envup_secrets_use(envup_secrets *s);

/**
 * Register a secret (copied) in this thread's set (the process-wide
 * fallback when it uses none): it is masked as "***" in every error
 * message and progress detail from now on (see secret.c for where). Any
 * non-empty value counts, however short.
 */
int envup_secret_add(const char *secret);
/** Mask this thread's secrets in s; returns a new string or NULL on OOM. */
char *envup_secret_mask(const char *s);
/**
 * Mask this thread's secrets in s into dst (size bytes, always
 * terminated), without allocating: for the error path, which must mask
 * even when memory is exhausted. Output is cut at size - 1 bytes, never
 * inside a secret (a secret is written "***" or not at all). With
 * `truncated` (s was cut short by its producer), a tail of s that is the
 * start of a secret is masked too, so a cut cannot reveal a secret's
 * first characters.
 */
void envup_secret_mask_into(char *dst, size_t size, const char *s, bool truncated);

/* ---- allocation (util/alloc.c) ------------------------------------------ */

void *envup__malloc(size_t n);
void *envup__calloc(size_t nmemb, size_t size);
void *envup__realloc(void *p, size_t n);
void envup__free(void *p);
char *envup__strdup(const char *s);
char *envup__strndup(const char *s, size_t n);
/** malloc'd printf; NULL (error set) on failure */
char *envup__sprintf(const char *fmt, ...) ENVUP_PRINTF(1, 2);

/* ---- growable buffer (util/buf.c) --------------------------------------- */

/** Always NUL-terminated once anything was put. `max` (0 = 64 MiB) caps size. */
typedef struct {
	char *ptr;
	size_t size;
	size_t asize;
	size_t max;
} envup_buf;

#define ENVUP_BUF_INIT {NULL, 0, 0, 0}

int envup_buf_put(envup_buf *b, const void *data, size_t len) ENVUP_WARN_UNUSED;
int envup_buf_puts(envup_buf *b, const char *s) ENVUP_WARN_UNUSED;
int envup_buf_putc(envup_buf *b, char c) ENVUP_WARN_UNUSED;
int envup_buf_printf(envup_buf *b, const char *fmt, ...) ENVUP_PRINTF(2, 3) ENVUP_WARN_UNUSED;
/** "" when empty, never NULL */
const char *envup_buf_cstr(const envup_buf *b);
void envup_buf_clear(envup_buf *b);
/** remove the first n bytes */
void envup_buf_consume(envup_buf *b, size_t n);
/** hand over the string (caller frees with envup__free); buffer becomes empty */
char *envup_buf_detach(envup_buf *b);
void envup_buf_dispose(envup_buf *b);

/* ---- string list (util/list.c) ------------------------------------------ */

typedef struct {
	char **v;
	size_t n;
} envup_strlist;

/**
 * Record several errors at once (every error of a spec): the message is
 * lines->v[0], and envup_error_count()/envup_error_detail() give each
 * line (masked, made printable; the first 100 that fit 16 KiB). Any later
 * error on the thread forgets them. Returns `code`.
 */
int envup_error_set_list(int code, int klass, const envup_strlist *lines);

#define ENVUP_STRLIST_INIT {NULL, 0}

int envup_strlist_push(envup_strlist *l, const char *s) ENVUP_WARN_UNUSED;
int envup_strlist_copy(envup_strlist *dst, const envup_strlist *src) ENVUP_WARN_UNUSED;
bool envup_strlist_contains(const envup_strlist *l, const char *s);
void envup_strlist_dispose(envup_strlist *l);

/* ---- ordered key/value list (util/list.c) ------------------------------- */

typedef struct {
	char *key;
	char *value;
} envup_kv;

typedef struct {
	envup_kv *v;
	size_t n;
} envup_kvlist;

#define ENVUP_KVLIST_INIT {NULL, 0}

/** set key (replacing an existing value, keeping its position) */
int envup_kvlist_set(envup_kvlist *l, const char *key, const char *value) ENVUP_WARN_UNUSED;
/** borrowed value, or NULL */
const char *envup_kvlist_get(const envup_kvlist *l, const char *key);
/** Remove `key` (and its value) when present; keeps the order of the rest. */
void envup_kvlist_unset(envup_kvlist *l, const char *key);
int envup_kvlist_copy(envup_kvlist *dst, const envup_kvlist *src) ENVUP_WARN_UNUSED;
void envup_kvlist_dispose(envup_kvlist *l);

/* ---- numbers (util/number.c) ------------------------------------------ */

/** The whole of `s` as a decimal in [min, max]: 0 and *out, else -1
 *  (*out untouched). */
int envup_parse_int(int *out, const char *s, int min, int max);

/* ---- clocks (util/clock.c) --------------------------------------------- */

/** monotonic clock in seconds */
double envup_now(void);
/** sleep for ms milliseconds (returns early never; short) */
void envup_sleep_ms(long ms);
/**
 * Parse an RFC 3339 time as the engine writes it ("2026-12-01T10:00:00Z",
 * "...00.123456789Z", "...00.5+01:00") into unix seconds and nanoseconds.
 * ENVUP_ERROR (no error set) when it is not one.
 */
int envup_time_parse(const char *s, long long *sec, long *nsec);

/* ---- randomness (util/random.c) ----------------------------------------- */

/** fill out with n random bytes from getrandom(); -1 on failure */
int envup_random_bytes(unsigned char *out, size_t n);
/** a fresh random password: 24 chars of [a-zA-Z0-9] (malloc'd) */
char *envup_random_password(void);

/* ---- files (util/file.c) ------------------------------------------------ */

/**
 * Append everything left to read from `fd` to out, at most `max` bytes
 * (0: 16 MiB). 0; or ENVUP_ERROR with *err the errno (EFBIG: larger than
 * max) and no error set, so the caller names the file its own way; or
 * ENVUP_ERROR with *err 0 when out of memory (error set).
 */
int envup_fd_read_all(envup_buf *out, int fd, size_t max, int *err);
/** URL-safe base64 with padding (malloc'd; NULL when out of memory). */
char *envup_base64url_encode(const void *data, size_t len);
/** Standard base64 with padding (malloc'd; NULL when out of memory). */
char *envup_base64_encode(const void *data, size_t len);
/** Decode base64 (either alphabet) into out (NUL-terminated); ENVUP_ESPEC
 *  for a character outside it (util/base64.c). */
int envup_base64_decode(envup_buf *out, const char *s);

/**
 * A tar archive (ustar; util/tar.c): add the file, directory (recursively)
 * or symbolic link at `path` under the archive name `name` (a leading '/'
 * dropped), then finish. out->max caps the archive. ENVUP_ESPEC names the
 * path that cannot be copied.
 */
int envup_tar_add(envup_buf *out, const char *path, const char *name);
int envup_tar_finish(envup_buf *out);

/** One member of an archive read by envup_tar_each(): type '0' (a file),
 *  '5' (a directory) or '2' (a symbolic link to `link`). */
typedef struct {
	char name[257];     /* prefix/name, without a leading "./" or '/' */
	char link[101];
	char type;
	unsigned mode;      /* permission bits */
	const char *data;   /* a file's contents (borrowed from the archive) */
	size_t size;
} envup_tar_member;

/**
 * Read a ustar archive (as envup_tar_add() writes them) and call `cb` with
 * each member until the end blocks; cb returning < 0 stops with that.
 * ENVUP_ESPEC for an archive that is cut short, has a bad checksum or a
 * member type other than the three above.
 */
int envup_tar_each(const void *tar, size_t len,
	int (*cb)(const envup_tar_member *m, void *payload), void *payload);

/** The SHA-256 of data as 64 lower-case hex digits (util/sha256.c). */
void envup_sha256_hex(char out[65], const void *data, size_t len);

/** read a whole file (max bytes, 0 = 16 MiB); error names the path */
int envup_read_file(envup_buf *out, const char *path, size_t max);

/* ---- libcurl, once (util/curlx.c) -------------------------------------- */

/** curl_global_init, once per process; 0 or ENVUP_ERROR (error set). */
int envup_curl_init(void);
/** Percent-encode everything but unreserved characters (malloc'd). */
char *envup_url_escape(const char *s);
/** The same, appended to out. */
int envup_url_escape_into(envup_buf *out, const char *s);
/** A URL path: each '/'-separated segment encoded, the slashes kept (malloc'd). */
char *envup_url_escape_path(const char *s);

/* ---- SIGPIPE (util/sigpipe.c) ------------------------------------------- */

/**
 * Around a write to a peer that may have gone (a socket or pipe written
 * without MSG_NOSIGNAL, by us or by a library): SIGPIPE is blocked in the
 * calling thread, and one the writes raised is consumed before the old
 * mask returns, so the host program never dies of it (libpq's technique).
 */
typedef struct {
	sigset_t old;
	bool was_pending;
} envup_sigpipe_guard;
void envup_sigpipe_block(envup_sigpipe_guard *g);
void envup_sigpipe_restore(envup_sigpipe_guard *g);

/* ---- printable text (util/printable.c) ---------------------------------- */

/**
 * Text from outside (engine labels, names, messages) made safe to print:
 * every control character (C0, DEL, C1) becomes '?', so nothing read from
 * the engine can move the cursor or recolour a terminal. Malloc'd.
 */
char *envup_printable(const char *s);
/** Same into a caller's buffer (always terminated, cut at size - 1). */
void envup_printable_into(char *dst, size_t size, const char *s);
/** In place: like envup_printable, keeping newlines and tabs. */
void envup_printable_lines(char *s);
/** True when s holds no control character. */
bool envup_is_printable(const char *s);

#endif
