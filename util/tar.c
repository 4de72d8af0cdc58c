/*
 * A ustar writer (POSIX.1-1988), for the one use envup has: copying a
 * Compose file's bind mounts into a container through the Engine API's
 * archive endpoint when the engine cannot see this machine's files.
 * Regular files, directories and symbolic links; names up to 255 bytes
 * (prefix + name); the whole archive capped (out->max).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "util/util.h"

#define TAR_BLOCK 512

static void octal(char *field, size_t len, unsigned long long v)
{
	snprintf(field, len, "%0*llo", (int)len - 1, v);
}

static int header(envup_buf *out, const char *name, const struct stat *st, char type,
	const char *link)
{
	unsigned char h[TAR_BLOCK];
	size_t nl = strlen(name), i;
	unsigned sum = 0;

	memset(h, 0, sizeof(h));
	if (nl <= 100) {
		memcpy(h, name, nl);
	} else {
		/* split at a '/' so that prefix <= 155 and name <= 100 */
		const char *cut = name + nl - 101;
		while (*cut && *cut != '/')
			cut++;
		if (!*cut || (size_t)(cut - name) > 155 || strlen(cut + 1) > 100)
			return envup_error_set(ENVUP_ESPEC, ENVUP_ERROR_SPEC,
				"%s: the path is too long to copy into a container", name);
		memcpy(h, cut + 1, strlen(cut + 1));
		memcpy(h + 345, name, (size_t)(cut - name));
	}
	octal((char *)h + 100, 8, st->st_mode & 07777);
	octal((char *)h + 108, 8, 0);
	octal((char *)h + 116, 8, 0);
	octal((char *)h + 124, 12, type == '0' ? (unsigned long long)st->st_size : 0);
	octal((char *)h + 136, 12, (unsigned long long)st->st_mtime);
	memset(h + 148, ' ', 8);
	h[156] = (unsigned char)type;
	if (link)
		memcpy(h + 157, link, strlen(link) < 100 ? strlen(link) : 100);
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	for (i = 0; i < sizeof(h); i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
	return envup_buf_put(out, h, sizeof(h));
}

static int pad(envup_buf *out, size_t n)
{
	static const char zeros[TAR_BLOCK];
	size_t r = n % TAR_BLOCK;
	return r ? envup_buf_put(out, zeros, TAR_BLOCK - r) : 0;
}

static int add(envup_buf *out, const char *path, const char *name, int depth)
{
	struct stat st;
	int error;

	if (depth > 64)
		return envup_error_set(ENVUP_ESPEC, ENVUP_ERROR_SPEC, "%s: directories nested too deep", path);
	/* the bind source itself is followed, as the engine would; links
	 * inside it are copied as links */
	if ((depth == 0 ? stat(path, &st) : lstat(path, &st)) < 0)
		return envup_error_set(ENVUP_ESPEC, ENVUP_ERROR_OS, "%s", path);
	if (S_ISLNK(st.st_mode)) {
		char link[101];
		ssize_t n = readlink(path, link, sizeof(link) - 1);
		if (n < 0 || n >= 100)
			return envup_error_set(ENVUP_ESPEC, ENVUP_ERROR_SPEC,
				"%s: a symbolic link envup cannot copy", path);
		link[n] = '\0';
		return header(out, name, &st, '2', link);
	}
	if (S_ISREG(st.st_mode)) {
		envup_buf data = ENVUP_BUF_INIT;
		int fd, err = 0;
		if ((fd = open(path, O_RDONLY | O_CLOEXEC | (depth ? O_NOFOLLOW : 0))) < 0)
			return envup_error_set(ENVUP_ESPEC, ENVUP_ERROR_OS, "%s", path);
		data.max = out->max ? out->max : 0;
		error = envup_fd_read_all(&data, fd, out->max ? out->max : 0, &err);
		close(fd);
		if (error < 0) {
			envup_buf_dispose(&data);
			return err ? envup_error_set(ENVUP_ESPEC, ENVUP_ERROR_SPEC, "%s: %s", path,
				err == EFBIG ? "too large to copy into a container" : strerror(err)) : error;
		}
		st.st_size = (off_t)data.size;
		if ((error = header(out, name, &st, '0', NULL)) == 0 &&
		    (error = envup_buf_put(out, data.ptr ? data.ptr : "", data.size)) == 0)
			error = pad(out, data.size);
		envup_buf_dispose(&data);
		return error;
	}
	if (S_ISDIR(st.st_mode)) {
		DIR *d;
		struct dirent *e;
		char *dname = envup__sprintf("%s/", name);
		if (!dname)
			return ENVUP_ERROR;
		error = header(out, dname, &st, '5', NULL);
		envup__free(dname);
		if (error < 0)
			return error;
		if ((d = opendir(path)) == NULL)
			return envup_error_set(ENVUP_ESPEC, ENVUP_ERROR_OS, "%s", path);
		while (error == 0 && (e = readdir(d)) != NULL) {
			char *p, *n;
			if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
				continue;
			p = envup__sprintf("%s/%s", path, e->d_name);
			n = envup__sprintf("%s/%s", name, e->d_name);
			error = p && n ? add(out, p, n, depth + 1) : ENVUP_ERROR;
			envup__free(p);
			envup__free(n);
		}
		closedir(d);
		return error;
	}
	return envup_error_set(ENVUP_ESPEC, ENVUP_ERROR_SPEC,
		"%s: not a file, directory or link: envup cannot copy it into a container", path);
}

int envup_tar_add(envup_buf *out, const char *path, const char *name)
{
	while (*name == '/')
		name++;
	return add(out, path, name, 0);
}

int envup_tar_finish(envup_buf *out)
{
	static const char zeros[2 * TAR_BLOCK];
	return envup_buf_put(out, zeros, sizeof(zeros));
}
