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

/* ---- reading ------------------------------------------------------------- */

static unsigned long long from_octal(const unsigned char *f, size_t len, bool *ok)
{
	unsigned long long v = 0;
	size_t i = 0;

	while (i < len && f[i] == ' ')
		i++;
	for (; i < len && f[i] >= '0' && f[i] <= '7'; i++) {
		if (v > (~0ULL >> 3)) {
			*ok = false;
			return 0;
		}
		v = v << 3 | (unsigned)(f[i] - '0');
	}
	if (i < len && f[i] != '\0' && f[i] != ' ')
		*ok = false;
	return v;
}

static bool all_zero(const unsigned char *h)
{
	size_t i;
	for (i = 0; i < TAR_BLOCK; i++)
		if (h[i])
			return false;
	return true;
}

int envup_tar_each(const void *tar, size_t len,
	int (*cb)(const envup_tar_member *m, void *payload), void *payload)
{
	const unsigned char *p = tar;
	size_t off = 0;
	int error;

	ENVUP_ASSERT_ARG(cb && (tar || len == 0));
	while (off + TAR_BLOCK <= len) {
		const unsigned char *h = p + off;
		envup_tar_member m;
		unsigned long long size, sum;
		unsigned have = 0;
		bool ok = true;
		size_t i, nl, pl;

		if (all_zero(h))
			return 0;
		for (i = 0; i < TAR_BLOCK; i++)
			have += (i >= 148 && i < 156) ? ' ' : h[i];
		sum = from_octal(h + 148, 8, &ok);
		size = from_octal(h + 124, 12, &ok);
		memset(&m, 0, sizeof(m));
		m.mode = (unsigned)(from_octal(h + 100, 8, &ok) & 07777);
		if (!ok || sum != have)
			return envup_error_set(ENVUP_ESPEC, ENVUP_ERROR_SPEC,
				"tar archive: a bad header at offset %zu", off);
		m.type = h[156] ? (char)h[156] : '0';
		if (m.type != '0' && m.type != '5' && m.type != '2')
			return envup_error_set(ENVUP_ESPEC, ENVUP_ERROR_SPEC,
				"tar archive: member type '%c' is not supported", m.type);
		nl = strnlen((const char *)h, 100);
		pl = memcmp(h + 257, "ustar", 5) == 0 ? strnlen((const char *)h + 345, 155) : 0;
		if (pl)
			snprintf(m.name, sizeof(m.name), "%.*s/%.*s", (int)pl, h + 345, (int)nl, h);
		else
			snprintf(m.name, sizeof(m.name), "%.*s", (int)nl, h);
		snprintf(m.link, sizeof(m.link), "%.*s", (int)strnlen((const char *)h + 157, 100), h + 157);
		off += TAR_BLOCK;
		if (m.type == '0') {
			if (size > len - off)
				return envup_error_set(ENVUP_ESPEC, ENVUP_ERROR_SPEC,
					"tar archive: %s is cut short", m.name);
			m.data = (const char *)p + off;
			m.size = (size_t)size;
			off += ((size_t)size + TAR_BLOCK - 1) / TAR_BLOCK * TAR_BLOCK;
		}
		{
			/* a name is relative: no leading "./" or '/' */
			char *n = m.name;
			while (n[0] == '/' || (n[0] == '.' && n[1] == '/'))
				n += n[0] == '/' ? 1 : 2;
			memmove(m.name, n, strlen(n) + 1);
		}
		if ((error = cb(&m, payload)) < 0)
			return error;
	}
	if (off != len)
		return envup_error_set(ENVUP_ESPEC, ENVUP_ERROR_SPEC, "tar archive: cut short");
	return 0;
}
