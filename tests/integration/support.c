/*
 * See support.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <ftw.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "support.h"
#include "provision/engine.h"
#include "provision/container.h"
#include "provision/network.h"

void it_require_engine(void)
{
	const char *require = getenv("ENVUP_TEST_REQUIRE_ENGINE");

	/* the tests choose the process model: a CI runner around the suite
	 * would make every environment the job's (provision/owner.h) */
	unsetenv("GITHUB_ACTIONS");
	unsetenv("GITLAB_CI");
	unsetenv("RUNNER_TRACKING_ID");
	if (getenv("ENVUP_TEST_ENGINE"))
		return;
	if (require && strcmp(require, "1") == 0) {
		fprintf(stderr, "ENVUP_TEST_ENGINE is not set but ENVUP_TEST_REQUIRE_ENGINE=1\n");
		exit(1);
	}
	fprintf(stderr, "skipped: set ENVUP_TEST_ENGINE=1 to run against a Docker engine\n");
	exit(77);
}

static void mkdirs(const char *path)
{
	char buf[512];
	char *p;
	snprintf(buf, sizeof(buf), "%s", path);
	for (p = buf + 1; *p; p++) {
		if (*p == '/') {
			*p = '\0';
			mkdir(buf, 0755);
			*p = '/';
		}
	}
}

void it_write(it_env *t, const char *rel, const char *content)
{
	char path[512];
	FILE *f;
	snprintf(path, sizeof(path), "%s/%s", t->dir, rel);
	mkdirs(path);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
}

void it_env_init(it_env *t, const char *spec)
{
	static int counter;
	memset(t, 0, sizeof(*t));
	snprintf(t->dir, sizeof(t->dir), "/tmp/envup-it-XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	snprintf(t->name, sizeof(t->name), "it-%d-%d", (int)getpid(), ++counter);
	t->initialized = true;
	if (spec)
		it_write(t, "envup.yaml", spec);
}

int it_setup(void **state)
{
	it_env *t = calloc(1, sizeof(*t));
	if (!t)
		return -1;
	*state = t;
	return 0;
}

int it_teardown(void **state)
{
	it_env *t = *state;
	if (t && t->initialized)
		it_env_cleanup(t);
	free(t);
	return 0;
}

static int drain(int fd, envup_buf *b)
{
	char chunk[4096];
	ssize_t n = read(fd, chunk, sizeof(chunk));
	if (n > 0 && b && envup_buf_put(b, chunk, (size_t)n) < 0)
		return -1;
	return (int)n;
}

int it_collect(pid_t pid, int out_fd, int err_fd, envup_buf *out, envup_buf *err)
{
	struct pollfd fds[2];
	int open_fds = 2, status = 0;

	fds[0].fd = out_fd;
	fds[1].fd = err_fd;
	fds[0].events = fds[1].events = POLLIN;
	while (open_fds > 0) {
		int i;
		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (i = 0; i < 2; i++) {
			if (fds[i].fd >= 0 && (fds[i].revents & (POLLIN | POLLHUP | POLLERR))) {
				if (drain(fds[i].fd, i == 0 ? out : err) <= 0) {
					close(fds[i].fd);
					fds[i].fd = -1;
					open_fds--;
				}
			}
		}
	}
	waitpid(pid, &status, 0);
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

int it_exec(const char *dir, const char *const *argv, const char *const *env,
	envup_buf *out, envup_buf *err, double *seconds)
{
	int po[2], pe[2], status;
	pid_t pid;
	double start = envup_now();

	assert_int_equal(pipe(po), 0);
	assert_int_equal(pipe(pe), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		size_t i;
		dup2(po[1], 1);
		dup2(pe[1], 2);
		close(po[0]);
		close(pe[0]);
		if (dir && chdir(dir) < 0)
			_exit(126);
		for (i = 0; env && env[i]; i++)
			putenv((char *)env[i]);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	status = it_collect(pid, po[0], pe[0], out, err);
	if (seconds)
		*seconds = envup_now() - start;
	return status;
}

int it_envupv(it_env *t, const char *const *args)
{
	const char *argv[64];
	size_t n = 0, i = 0;
	bool with_name = true;

	envup_buf_clear(&t->out);
	envup_buf_clear(&t->err);
	if (args[0] && strcmp(args[0], "--no-name") == 0) {
		with_name = false;
		i = 1;
	}
	argv[n++] = ENVUP_BIN;
	if (args[i])
		argv[n++] = args[i++];
	if (with_name) {
		argv[n++] = "-n";
		argv[n++] = t->name;
	}
	for (; args[i] && n < 62; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	t->status = it_exec(t->dir, argv, NULL, &t->out, &t->err, &t->seconds);
	if (getenv("ENVUP_TEST_VERBOSE"))
		fprintf(stderr, "--- envup %s -> %d in %.2fs\n%s", args[with_name ? 0 : 1],
			t->status, t->seconds, envup_buf_cstr(&t->err));
	return t->status;
}

int it_envup(it_env *t, ...)
{
	const char *args[64];
	size_t n = 0;
	va_list ap;
	va_start(ap, t);
	while (n < 63 && (args[n] = va_arg(ap, const char *)) != NULL)
		n++;
	va_end(ap);
	args[n] = NULL;
	return it_envupv(t, args);
}

size_t it_leftovers(const char *name)
{
	envup_engine *e = NULL;
	envup_engine_options eo = {0};
	envup_strlist labels = ENVUP_STRLIST_INIT;
	envup_strlist nets = ENVUP_STRLIST_INIT, vols = ENVUP_STRLIST_INIT;
	envup_container_summary *list = NULL;
	size_t n = 0, total;
	char label[128];

	assert_int_equal(envup_engine_open(&e, &eo), 0);
	snprintf(label, sizeof(label), "dev.envup.env=%s", name);
	assert_int_equal(envup_strlist_push(&labels, label), 0);
	assert_int_equal(envup_container_list(&list, &n, e, &labels), 0);
	assert_int_equal(envup_network_list(&nets, e, &labels), 0);
	assert_int_equal(envup_volume_list(&vols, e, &labels), 0);
	total = n + nets.n + vols.n;
	envup_container_summaries_free(list, n);
	envup_strlist_dispose(&nets);
	envup_strlist_dispose(&vols);
	envup_strlist_dispose(&labels);
	envup_engine_free(e);
	return total;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void it_env_cleanup(it_env *t)
{
	const char *argv[] = {ENVUP_BIN, "down", "-n", t->name, "-q", "--force", NULL};
	envup_buf err = ENVUP_BUF_INIT;
	int rc = it_exec(t->dir, argv, NULL, NULL, &err, NULL);
	size_t left;

	if (rc != 0)
		fprintf(stderr, "envdown failed (%d): %s\n", rc, envup_buf_cstr(&err));
	left = it_leftovers(t->name);
	envup_buf_dispose(&err);
	envup_buf_dispose(&t->out);
	envup_buf_dispose(&t->err);
	if (strncmp(t->dir, "/tmp/envup-it-", 14) == 0)
		nftw(t->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	t->initialized = false;
	assert_int_equal(rc, 0);
	assert_int_equal(left, 0);
}

void it_parse_json_exports(envup_kvlist *out, const char *json)
{
	cJSON *root = cJSON_Parse(json), *item;
	if (!root)
		fail_msg("not JSON: %s", json);
	assert_true(cJSON_IsObject(root));
	cJSON_ArrayForEach(item, root) {
		assert_true(cJSON_IsString(item));
		assert_int_equal(envup_kvlist_set(out, item->string, item->valuestring), 0);
	}
	cJSON_Delete(root);
}

void it__assert_contains(const char *h, const char *n, const char *file, int line)
{
	if (!h || !strstr(h, n))
		fail_msg("%s:%d: expected to find\n  %s\nin\n%s", file, line, n, h ? h : "(null)");
}

void it__assert_not_contains(const char *h, const char *n, const char *file, int line)
{
	if (h && n && *n && strstr(h, n))
		fail_msg("%s:%d: did not expect to find\n  %s\nin\n%s", file, line, n, h);
}
