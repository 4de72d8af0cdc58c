/*
 * Reading whole files: one reader from an open descriptor, bounded, used
 * by every caller that opens a file its own way (O_NOFOLLOW for state
 * files, O_NONBLOCK for files a spec names), and envup_read_file() for
 * the plain case.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include "util/util.h"

#define FILE_DEFAULT_MAX ((size_t)16 * 1024 * 1024)

int envup_fd_read_all(envup_buf *out, int fd, size_t max, int *err)
{
	char chunk[8192];
	ssize_t n;

	*err = 0;
	if (!max)
		max = FILE_DEFAULT_MAX;
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			*err = errno;
			return ENVUP_ERROR;
		}
		if (n == 0)
			break;
		if (out->size + (size_t)n > max) {
			*err = EFBIG;
			return ENVUP_ERROR;
		}
		if (envup_buf_put(out, chunk, (size_t)n) < 0)
			return ENVUP_ERROR;
	}
	/* an empty file is "" (ptr set), not NULL */
	return !out->ptr && envup_buf_put(out, "", 0) < 0 ? ENVUP_ERROR : 0;
}

int envup_read_file(envup_buf *out, const char *path, size_t max)
{
	struct stat st;
	int fd, err = 0, error = ENVUP_ERROR;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return envup_error_set(ENVUP_ERROR, ENVUP_ERROR_OS, "%s: cannot open", path);
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		errno = EISDIR;
		envup_error_set(ENVUP_ERROR, ENVUP_ERROR_OS, "%s: cannot read", path);
		goto done;
	}
	if ((error = envup_fd_read_all(out, fd, max, &err)) < 0 && err) {
		if (err == EFBIG) {
			error = envup_error_set(ENVUP_ESPEC, ENVUP_ERROR_SPEC, "%s: larger than %zu bytes",
				path, max ? max : FILE_DEFAULT_MAX);
		} else {
			errno = err;
			error = envup_error_set(ENVUP_ERROR, ENVUP_ERROR_OS, "%s: read", path);
		}
	}
done:
	close(fd);
	return error;
}
