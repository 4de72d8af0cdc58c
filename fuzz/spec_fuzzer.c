/*
 * envup_spec_load_buffer() on arbitrary bytes: YAML parsing (anchors,
 * aliases, merge keys, limits), decoding, ${VAR} interpolation, templates,
 * validation and the dependency order.
 *
 * Hermetic: the spec lives in FUZZ_DIR, a directory that does not exist,
 * and the binary is linked with -Wl,--wrap=open,--wrap=open64 so every
 * open(2) made by the library lands in fuzz_open() below. It serves a few
 * in-memory files (memfd) under FUZZ_DIR and answers ENOENT for everything
 * else, absolute paths included: a spec naming /dev/stdin or a FIFO reads
 * nothing and blocks on nothing. ${VAR} sees only the fake environment.
 *
 * Checks beyond "no crash": a failure is ENVUP_ESPEC with one line
 * "fuzz.yaml:LINE:COL: ..." and a position inside the input; a success
 * has an image per service, ports in range, tcp/http waits on a
 * published port, an order that is a permutation with every dependency
 * first, and a valid environment name.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "compose/spec.h"

#define FUZZ_DIR "/envup-fuzz-nonexistent"
#define FUZZ_FILE "fuzz.yaml"
#define FUZZ_SPEC_MAX ((size_t)1024 * 1024)

/* ---- the fake filesystem ----------------------------------------------------- */

typedef struct {
	const char *rel;
	const char *content;
} fuzz_file;

static const fuzz_file fuzz_files[] = {
	{"files/schema.sql", "CREATE TABLE t (id int);\n"},
	{"files/expectations.json", "[{\"httpRequest\": {\"path\": \"/x\"}}]\n"},
	{"files/bad.json", "[\n  {\"a\": }\n"},
	{"files/scalar.json", "42\n"},
	{"migrations/001_schema.sql", "CREATE TABLE a (id int);\n"},
	{"testdata/seed.sql", "INSERT INTO a VALUES (1);\n"},
	{"testdata/mocks/expectations.json", "{\"httpRequest\": {\"path\": \"/\"}}\n"},
	{"schema.sql", "SELECT 1;\n"},
	{"mocks.json", "[]"},
};

int __real_open(const char *path, int flags, ...);
int __wrap_open(const char *path, int flags, ...);
int __wrap_open64(const char *path, int flags, ...);

static int fuzz_open(const char *path)
{
	static const char prefix[] = FUZZ_DIR "/";
	const char *rel;
	size_t i, len;
	int fd;

	if (strncmp(path, prefix, sizeof(prefix) - 1) != 0) {
		errno = ENOENT;
		return -1;
	}
	rel = path + sizeof(prefix) - 1;
	if (strcmp(rel, "files") == 0 || strcmp(rel, "files/") == 0)
		return __real_open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC); /* EISDIR path */
	for (i = 0; i < sizeof(fuzz_files) / sizeof(fuzz_files[0]); i++) {
		if (strcmp(rel, fuzz_files[i].rel) != 0)
			continue;
		if ((fd = memfd_create("envup-fuzz", MFD_CLOEXEC)) < 0)
			return -1;
		len = strlen(fuzz_files[i].content);
		if (write(fd, fuzz_files[i].content, len) != (ssize_t)len ||
		    lseek(fd, 0, SEEK_SET) != 0) {
			close(fd);
			errno = EIO;
			return -1;
		}
		return fd;
	}
	errno = ENOENT;
	return -1;
}

int __wrap_open(const char *path, int flags, ...)
{
	(void)flags;
	return fuzz_open(path);
}

/* -D_FILE_OFFSET_BITS=64 (from pkg-config) turns open() into open64() */
int __wrap_open64(const char *path, int flags, ...)
{
	(void)flags;
	return fuzz_open(path);
}

/* ---- the fake environment -------------------------------------------------- */

static const char *fuzz_getenv(const char *name, void *payload)
{
	static const char *const vars[][2] = {
		{"SET_VAR", "value"},
		{"EMPTY_VAR", ""},
		{"PORT", "8080"},
		{"BIG_PORT", "70000"},
		{"IMAGE", "nginx:1.27-alpine"},
		{"NESTED", "${SET_VAR}"},     /* values are never interpolated again */
		{"PLACEHOLDER", "{{url}}"},
		{"NEWLINE", "a\nb"},
		{"SPACES", "a 'b c' \"d\""},
		{"NAME", "my-env"},
	};
	size_t i;

	(void)payload;
	for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		if (strcmp(name, vars[i][0]) == 0)
			return vars[i][1];
	return NULL;
}

/* ---- checks ------------------------------------------------------------------- */

static void fuzz_fail(const char *fmt, ...)
	__attribute__((noreturn, format(printf, 1, 2)));

static void fuzz_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

/* Upper bound of the lines libyaml counts (it also breaks on \r, NEL, LS, PS). */
static long line_bound(const uint8_t *data, size_t size)
{
	long lines = 1;
	size_t i;

	for (i = 0; i < size; i++)
		lines += data[i] == '\n' || data[i] == '\r' || data[i] == 0x85 || data[i] == 0xE2;
	return lines;
}

static void check_failure(int rc, const uint8_t *data, size_t size)
{
	const char *msg = envup_error_last()->message;
	static const char prefix[] = FUZZ_FILE ":";
	long line, col;
	char *end;

	if (rc != ENVUP_ESPEC)
		fuzz_fail("expected ENVUP_ESPEC, got %d: %s", rc, msg);
	if (strchr(msg, '\n'))
		fuzz_fail("message is more than one line: %s", msg);
	if (strncmp(msg, prefix, sizeof(prefix) - 1) != 0)
		fuzz_fail("message does not start with the file name: %s", msg);
	if (size > FUZZ_SPEC_MAX) {
		/* the one error about the file as a whole: no position */
		if (!strstr(msg, ": the spec is larger than 1 MiB ("))
			fuzz_fail("a spec over 1 MiB: %s", msg);
		return;
	}
	line = strtol(msg + sizeof(prefix) - 1, &end, 10);
	if (*end != ':')
		fuzz_fail("message has no line: %s", msg);
	col = strtol(end + 1, &end, 10);
	if (*end != ':' || end[1] != ' ')
		fuzz_fail("message has no column: %s", msg);
	if (line < 1 || line > line_bound(data, size) || col < 1 || (size_t)col > size + 1)
		fuzz_fail("position %ld:%ld outside the input (%zu bytes): %s",
			line, col, size, msg);
}

static void check_success(const envup_spec *spec)
{
	size_t *rank, i, j, k;
	char *name = NULL;

	/* the environment's name derives from a loaded spec without failing */
	if (envup_name_resolve(&name, NULL, spec->name, spec->dir) != 0 || !name ||
	    !envup_name_valid(name))
		fuzz_fail("no valid environment name for a loaded spec: %s",
			envup_error_last()->message);
	envup_free(name);

	if (spec->nservices == 0 || !spec->order)
		fuzz_fail("a spec loaded without services");
	if ((rank = calloc(spec->nservices, sizeof(*rank))) == NULL)
		abort();
	for (i = 0; i < spec->nservices; i++) {
		if (spec->order[i] >= spec->nservices || rank[spec->order[i]])
			fuzz_fail("order is not a permutation");
		rank[spec->order[i]] = i + 1;
	}
	for (i = 0; i < spec->nservices; i++) {
		const envup_service *svc = &spec->services[i];
		bool published = false;

		if (!svc->name || !svc->image || !svc->image[0])
			fuzz_fail("service %zu has no name or image", i);
		if (envup_spec_find(spec, svc->name) != (int)i)
			fuzz_fail("service '%s' is not found at its index", svc->name);
		for (j = 0; j < svc->nports; j++) {
			if (svc->ports[j] < 1 || svc->ports[j] > 65535)
				fuzz_fail("service '%s': port %d", svc->name, svc->ports[j]);
			published |= svc->ports[j] == svc->wait.port;
		}
		if ((svc->wait.kind == ENVUP_WAIT_TCP || svc->wait.kind == ENVUP_WAIT_HTTP) &&
		    !published)
			fuzz_fail("service '%s' waits on unpublished port %d", svc->name,
				svc->wait.port);
		for (j = 0; j < svc->depends_on.n; j++) {
			int dep = envup_spec_find(spec, svc->depends_on.v[j]);
			if (dep < 0 || dep == (int)i)
				fuzz_fail("service '%s' depends on '%s'", svc->name,
					svc->depends_on.v[j]);
			if (rank[dep] >= rank[i])
				fuzz_fail("'%s' starts before its dependency '%s'", svc->name,
					svc->depends_on.v[j]);
		}
		for (k = 0; k < svc->init.n; k++)
			if (svc->init.v[k][0] != '/')
				fuzz_fail("init path not absolute: %s", svc->init.v[k]);
		if (svc->expectations && svc->expectations[0] != '/')
			fuzz_fail("expectations path not absolute: %s", svc->expectations);
	}
	free(rank);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	envup_spec *spec = NULL;
	int rc;

	rc = envup_spec_load_buffer(&spec, FUZZ_FILE, FUZZ_DIR, (const char *)data, size,
		fuzz_getenv, NULL);
	if (rc == 0) {
		if (!spec)
			fuzz_fail("success without a spec");
		check_success(spec);
	} else {
		if (spec)
			fuzz_fail("failure with a spec");
		check_failure(rc, data, size);
	}
	envup_spec_free(spec);
	return 0;
}
