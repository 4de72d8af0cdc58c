/*
 * Replays fuzz corpora without libFuzzer, so any compiler (gcc included)
 * runs every corpus file through a target's LLVMFuzzerTestOneInput as an
 * ordinary ctest test. A crash, a sanitizer report or an abort() from a
 * target's own checks fails the test.
 *
 *   NAME_replay DIR|FILE...
 *
 * Directories are read one level deep; files starting with '.' (and
 * README files) are skipped. Exits 1 when no input was found, so a
 * corpus that disappears fails loudly.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

#define REPLAY_MAX_INPUT ((size_t)16 * 1024 * 1024)

/* Read a whole file; returns 0 or -1 (message printed). */
static int replay_read(unsigned char **out, size_t *len, const char *path)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	size_t cap = 0, n = 0, got;
	int error = -1;

	*out = NULL;
	*len = 0;
	if (!f) {
		perror(path);
		return -1;
	}
	for (;;) {
		if (n == cap) {
			unsigned char *grown;
			if (cap >= REPLAY_MAX_INPUT) {
				fprintf(stderr, "%s: larger than %zu bytes\n", path, REPLAY_MAX_INPUT);
				goto done;
			}
			cap = cap ? cap * 2 : 4096;
			if ((grown = realloc(buf, cap)) == NULL) {
				perror("realloc");
				goto done;
			}
			buf = grown;
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		perror(path);
		goto done;
	}
	/* hand the target an exactly sized copy, so ASan sees overreads */
	if ((*out = malloc(n ? n : 1)) == NULL) {
		perror("malloc");
		goto done;
	}
	if (n)
		memcpy(*out, buf, n);
	*len = n;
	error = 0;
done:
	free(buf);
	fclose(f);
	return error;
}

static int replay_file(const char *path, size_t *count)
{
	unsigned char *data;
	size_t len;

	if (replay_read(&data, &len, path) < 0)
		return -1;
	fprintf(stderr, "replay %s (%zu bytes)\n", path, len);
	LLVMFuzzerTestOneInput(data, len);
	free(data);
	(*count)++;
	return 0;
}

static int replay_skip(const char *name)
{
	return name[0] == '.' || strncmp(name, "README", 6) == 0;
}

static int replay_dir(const char *dir, size_t *count)
{
	struct dirent **entries = NULL;
	char path[4096];
	int n, i, error = 0;

	if ((n = scandir(dir, &entries, NULL, alphasort)) < 0) {
		perror(dir);
		return -1;
	}
	for (i = 0; i < n; i++) {
		struct stat st;

		if (error == 0 && !replay_skip(entries[i]->d_name)) {
			snprintf(path, sizeof(path), "%s/%s", dir, entries[i]->d_name);
			if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
				error = replay_file(path, count);
		}
		free(entries[i]);
	}
	free(entries);
	return error;
}

int main(int argc, char **argv)
{
	size_t count = 0;
	int i;

	if (argc < 2) {
		fprintf(stderr, "usage: %s DIR|FILE...\n", argv[0]);
		return 2;
	}
	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	for (i = 1; i < argc; i++) {
		struct stat st;

		if (stat(argv[i], &st) < 0) {
			perror(argv[i]);
			return 1;
		}
		if ((S_ISDIR(st.st_mode) ? replay_dir(argv[i], &count) :
		     replay_file(argv[i], &count)) < 0)
			return 1;
	}
	if (count == 0) {
		fprintf(stderr, "%s: no inputs found\n", argv[0]);
		return 1;
	}
	fprintf(stderr, "%s: %zu inputs replayed\n", argv[0], count);
	return 0;
}
