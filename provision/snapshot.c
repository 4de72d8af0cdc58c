/*
 * Warm starts for postgres services (snapshot.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "provision/snapshot.h"
#include "provision/pgpool.h"
#include "provision/state.h"
#include "provision/watchdog.h"

#define SNAP_DIR "/envup-snapshot"
#define TAKE_SECONDS 300.0
#define INIT_FILE_MAX ((size_t)256 * 1024 * 1024)

/* ---- whether --------------------------------------------------------------- */

bool envup_snapshot_wanted(bool no_snapshot, envup_backend *b)
{
	const char *v = getenv("ENVUP_SNAPSHOTS");

	if (no_snapshot || (v && (strcmp(v, "0") == 0 || strcmp(v, "off") == 0 || strcmp(v, "no") == 0)))
		return false;
	return b && b->ops->commit && b->ops->image_info && b->ops->sees_host_files(b);
}

bool envup_snapshot_eligible(const envup_service *spec, const envup_kvlist *vars)
{
	const char *pw = envup_kvlist_get(vars, "password"), *user = envup_kvlist_get(vars, "user");

	/* the restore sets the password in single-user mode, where a line
	 * break ends a statement */
	return spec->template_name && strcmp(spec->template_name, "postgres") == 0 &&
		envup_kvlist_get(vars, "database") && spec->nports > 0 && spec->nmounts == 0 &&
		!spec->has_entrypoint && (!pw || !strpbrk(pw, "\r\n")) && (!user || !strpbrk(user, "\r\n")) &&
		spec->wait.kind != ENVUP_WAIT_EXIT;
}

/* `value` with every `secret` in it replaced by `repl` (malloc'd). */
static char *without_secret(const char *value, const char *secret, const char *repl)
{
	envup_buf b = ENVUP_BUF_INIT;
	size_t sl = secret ? strlen(secret) : 0;
	const char *p = value, *hit;

	if (sl == 0)
		return envup__strdup(value);
	while ((hit = strstr(p, secret)) != NULL) {
		if (envup_buf_put(&b, p, (size_t)(hit - p)) < 0 || envup_buf_puts(&b, repl) < 0)
			goto oom;
		p = hit + sl;
	}
	if (envup_buf_puts(&b, p) < 0)
		goto oom;
	return envup_buf_detach(&b);
oom:
	envup_buf_dispose(&b);
	return NULL;
}

/* ---- the key ----------------------------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int envup_snapshot_key(char *out, const char *image_id, const envup_service *spec,
	const envup_kvlist *env, const envup_strlist *cmd, const char *password)
{
	envup_buf text = ENVUP_BUF_INIT, file = ENVUP_BUF_INIT;
	char **lines = NULL, hex[65];
	size_t i, n = 0;
	int error = ENVUP_ERROR;

	if (envup_buf_printf(&text, "envup-snapshot %s\nimage %s\n", ENVUP_SNAPSHOT_FORMAT, image_id) < 0)
		goto done;
	/* the environment, sorted, without the password (new at every start):
	 * its variable left out, and wherever else it appears (a DSN) a
	 * placeholder instead */
	if ((lines = envup__calloc(env->n + 1, sizeof(char *))) == NULL)
		goto done;
	for (i = 0; i < env->n; i++) {
		const char *var = spec->cred[ENVUP_CRED_PASSWORD].env;
		char *v;
		if (var && strcmp(env->v[i].key, var) == 0)
			continue;
		if ((v = without_secret(env->v[i].value, password, "\x01password\x01")) == NULL)
			goto done;
		lines[n] = envup__sprintf("env %s=%s\n", env->v[i].key, v);
		envup__free(v);
		if (!lines[n++])
			goto done;
	}
	qsort(lines, n, sizeof(char *), cmp_str);
	for (i = 0; i < n; i++)
		if (envup_buf_puts(&text, lines[i]) < 0)
			goto done;
	for (i = 0; cmd && i < cmd->n; i++)
		if (envup_buf_printf(&text, "cmd %zu %s\n", strlen(cmd->v[i]), cmd->v[i]) < 0)
			goto done;
	for (i = 0; i < spec->tmpfs.n; i++)
		if (envup_buf_printf(&text, "tmpfs %s\n", spec->tmpfs.v[i]) < 0)
			goto done;
	/* the init files: their contents, in order */
	for (i = 0; i < spec->init.n; i++) {
		envup_buf_clear(&file);
		if (envup_read_file(&file, spec->init.v[i], INIT_FILE_MAX) < 0)
			goto done;
		envup_sha256_hex(hex, file.ptr ? file.ptr : "", file.size);
		if (envup_buf_printf(&text, "init %zu %s\n", i, hex) < 0)
			goto done;
	}
	envup_sha256_hex(out, text.ptr, text.size);
	error = 0;
done:
	for (i = 0; lines && i < n; i++)
		envup__free(lines[i]);
	envup__free(lines);
	envup_buf_dispose(&text);
	envup_buf_dispose(&file);
	return error;
}

/* ---- finding and restoring -------------------------------------------------- */

static bool hex64(const char *s)
{
	size_t i;
	for (i = 0; s && s[i]; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return s && i == 64;
}

int envup_snapshot_find(char **ref, envup_strlist *entrypoint, envup_strlist *cmd, envup_backend *b,
	const char *key)
{
	envup_image_info info = ENVUP_IMAGE_INFO_INIT;
	const char *k, *f;
	int error;

	*ref = NULL;
	if (!hex64(key) || (*ref = envup__sprintf("%s:%s", ENVUP_SNAPSHOT_REPO, key)) == NULL)
		return ENVUP_ERROR;
	if ((error = b->ops->image_info(&info, b, *ref)) < 0)
		goto done;
	/* labels are input: the image must say it is this key's, in this format */
	k = envup_kvlist_get(&info.labels, ENVUP_SNAPSHOT_LABEL ".key");
	f = envup_kvlist_get(&info.labels, ENVUP_SNAPSHOT_LABEL ".format");
	if (!k || strcmp(k, key) != 0 || !f || strcmp(f, ENVUP_SNAPSHOT_FORMAT) != 0 ||
	    !envup_kvlist_get(&info.labels, ENVUP_SNAPSHOT_LABEL)) {
		error = ENVUP_ENOTFOUND;
		goto done;
	}
	if ((error = envup_strlist_copy(entrypoint, &info.entrypoint)) == 0)
		error = envup_strlist_copy(cmd, &info.cmd);
done:
	if (error < 0) {
		envup__free(*ref);
		*ref = NULL;
	}
	envup_image_info_dispose(&info);
	return error;
}

/* Run by /bin/sh as root in the new container, before the image's own
 * entrypoint ("$@"): the data into the empty data directory, owned by
 * postgres, the role's password set to this environment's (single-user
 * mode: nothing listens yet), the stale socket lock of the snapshot's
 * server gone. */
static const char restore_script[] =
	"set -e\n"
	"D=${PGDATA:-/var/lib/postgresql/data}\n"
	"if [ ! -s \"$D/PG_VERSION\" ] && [ -s " SNAP_DIR "/data/PG_VERSION ]; then\n"
	"  mkdir -p \"$D\"\n"
	"  cp -a " SNAP_DIR "/data/. \"$D\"/\n"
	"  chown postgres:postgres \"$D\"\n"
	"  [ \"$(stat -c %U \"$D/PG_VERSION\")\" = postgres ] || chown -R postgres:postgres \"$D\"\n"
	"  chmod 700 \"$D\"\n"
	"  rm -f /var/run/postgresql/.s.PGSQL.*\n"
	"  if [ -n \"${POSTGRES_PASSWORD:-}\" ]; then\n"
	"    u=$(printf %s \"${POSTGRES_USER:-postgres}\" | sed 's/\"/\"\"/g')\n"
	"    p=$(printf %s \"$POSTGRES_PASSWORD\" | sed \"s/'/''/g\")\n"
	"    printf 'ALTER ROLE \"%s\" PASSWORD '\"'\"'%s'\"'\"';\\n' \"$u\" \"$p\" |\n"
	"      su postgres -s /bin/sh -c 'exec postgres --single -D \"$0\" template1' \"$D\" >/dev/null\n"
	"  fi\n"
	"fi\n"
	"exec \"$@\"\n";

int envup_snapshot_entrypoint(envup_strlist *out, const envup_strlist *base)
{
	size_t i;

	if (envup_strlist_push(out, "/bin/sh") < 0 || envup_strlist_push(out, "-c") < 0 ||
	    envup_strlist_push(out, restore_script) < 0 || envup_strlist_push(out, "envup-restore") < 0)
		return ENVUP_ERROR;
	for (i = 0; i < base->n; i++)
		if (envup_strlist_push(out, base->v[i]) < 0)
			return ENVUP_ERROR;
	return 0;
}

int envup_snapshot_remove_key(envup_backend *b, const char *key)
{
	char *ref;
	int error;

	if (!hex64(key) || (ref = envup__sprintf("%s:%s", ENVUP_SNAPSHOT_REPO, key)) == NULL)
		return ENVUP_ERROR;
	error = b->ops->remove_image(b, ref);
	envup__free(ref);
	return error;
}

/* ---- taking one ------------------------------------------------------------------ */

static int lock_path(char **out, const char *env_name)
{
	return envup_state_path(out, env_name, ".snapshot", true);
}

static cJSON *kv_object(const envup_kvlist *kv)
{
	cJSON *o = cJSON_CreateObject();
	size_t i;

	for (i = 0; o && kv && i < kv->n; i++)
		if (!cJSON_AddStringToObject(o, kv->v[i].key, kv->v[i].value)) {
			cJSON_Delete(o);
			return NULL;
		}
	return o;
}

int envup_snapshot_lock(int *fd, const char *name)
{
	char *path = NULL;
	int error = 0;

	*fd = -1;
	if ((error = lock_path(&path, name)) < 0)
		return error;
	/* taken here, before up returns: an envdown right after waits for it */
	if ((*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0 ||
	    flock(*fd, LOCK_EX | LOCK_NB) < 0) {
		error = envup_error_set(ENVUP_ERROR, ENVUP_ERROR_OS, "cannot lock %s: %s", path, strerror(errno));
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
	}
	envup__free(path);
	return error;
}

int envup_snapshot_spawn(const envup_snapshot_job *job)
{
	cJSON *j = cJSON_CreateObject(), *env = kv_object(job->env), *labels = kv_object(job->labels);
	char *text = NULL;
	int error = ENVUP_ERROR;

	if (!j || !env || !labels || !cJSON_AddItemToObject(j, "env", env)) {
		cJSON_Delete(env);
		cJSON_Delete(labels);
		goto done;
	}
	if (!cJSON_AddItemToObject(j, "labels", labels)) {
		cJSON_Delete(labels);
		goto done;
	}
	if ((job->docker_host && !cJSON_AddStringToObject(j, "docker_host", job->docker_host)) ||
	    !cJSON_AddStringToObject(j, "container", job->container) ||
	    !cJSON_AddStringToObject(j, "key", job->key) ||
	    !cJSON_AddStringToObject(j, "env_name", job->env_name) ||
	    !cJSON_AddStringToObject(j, "service", job->service) ||
	    !cJSON_AddStringToObject(j, "password", job->password ? job->password : "") ||
	    (job->password_var && !cJSON_AddStringToObject(j, "password_var", job->password_var)) ||
	    !cJSON_AddStringToObject(j, "host", job->host) ||
	    !cJSON_AddNumberToObject(j, "port", job->port) ||
	    !cJSON_AddStringToObject(j, "user", job->user ? job->user : "postgres") ||
	    !cJSON_AddStringToObject(j, "database", job->database) ||
	    !cJSON_AddNumberToObject(j, "pool", job->pool_size) ||
	    (text = cJSON_PrintUnformatted(j)) == NULL)
		goto done;
	error = envup_watchdog__spawn_fed("--snapshot", text, job->lock_fd, false);
done:
	if (text) {
		explicit_bzero(text, strlen(text));
		cJSON_free(text);
	}
	cJSON_Delete(j);
	return error;
}

/* sh -c words: 'it''s' quoting for the values put into the script */
static int sh_quote(envup_buf *b, const char *s)
{
	if (envup_buf_putc(b, '\'') < 0)
		return ENVUP_ERROR;
	for (; *s; s++)
		if ((*s == '\'' ? envup_buf_puts(b, "'\\''") : envup_buf_putc(b, *s)) < 0)
			return ENVUP_ERROR;
	return envup_buf_putc(b, '\'');
}

/* Inside the live container, as root: the copy, put back as up left it
 * on a private server, shut down cleanly. */
static int take_script(envup_buf *b, const char *main_db, const char *key)
{
	if (envup_buf_puts(b, "set -e\nexport ENVUP_MAIN=") < 0 || sh_quote(b, main_db) < 0 ||
	    envup_buf_puts(b, " ENVUP_KEY=") < 0 || sh_quote(b, key) < 0)
		return ENVUP_ERROR;
	return envup_buf_puts(b,
		"\nS=" SNAP_DIR "\n"
		"rm -rf \"$S\"\nmkdir -p \"$S\"\nchown postgres:postgres \"$S\"\n"
		"cat > \"$S/clean.sql\" <<'ENVUP_SQL'\n"
		"\\c " ENVUP_PG_META "\n"
		"SELECT value AS initial FROM settings WHERE key = 'initial_dbs' \\gset\n"
		"SELECT value AS owner FROM settings WHERE key = 'main_owner' \\gset\n"
		"SELECT value AS digest FROM settings WHERE key = 'cluster_digest' \\gset\n"
		"\\c template1\n"
		/* what tests made after up goes: databases up did not leave */
		"SELECT format('DROP DATABASE %I', datname) FROM pg_database\n"
		"  WHERE datname NOT IN (:initial, 'template0', '" ENVUP_PG_TEMPLATE "', '" ENVUP_PG_META "') \\gexec\n"
		"DROP DATABASE IF EXISTS :\"main\";\n"
		"CREATE DATABASE :\"main\" OWNER :\"owner\" TEMPLATE " ENVUP_PG_TEMPLATE ";\n"
		/* roles a test made (or changed) after up cannot be told apart
		 * from up's: then no snapshot at all */
		/* (a division at run time: CASE ... THEN 1 / 0 is folded, and
		 * fails, when the statement is planned) */
		"SELECT 1 / (CASE WHEN (" ENVUP_PG_CLUSTER_DIGEST ") = :'digest' THEN 1 ELSE 0 END)\n"
		"  AS roles_unchanged_since_up;\n"
		"\\c " ENVUP_PG_META "\n"
		"DELETE FROM pool;\n"
		"INSERT INTO settings VALUES ('snapshot_key', :'key')\n"
		"  ON CONFLICT (key) DO UPDATE SET value = excluded.value;\n"
		"ENVUP_SQL\n"
		"chown postgres \"$S/clean.sql\"\n"
		"su postgres -s /bin/sh -c '\n"
		"  set -e\n"
		"  S=" SNAP_DIR "\n"
		"  pg_basebackup -h /var/run/postgresql -U \"${POSTGRES_USER:-postgres}\" -D \"$S/data\" "
		"-X stream -c fast --no-sync\n"
		"  rm -f \"$S/data/backup_manifest\"\n"
		"  pg_ctl -D \"$S/data\" -o \"-c listen_addresses= -k $S -p 5499\" -w -t 120 start >/dev/null\n"
		/* a failure below must not leave the private server running */
		"  trap \"pg_ctl -D $S/data -m immediate stop >/dev/null 2>&1 || :\" EXIT\n"
		"  psql -X -q -v ON_ERROR_STOP=1 -h \"$S\" -p 5499 -U \"${POSTGRES_USER:-postgres}\" -d template1 "
		"-v main=\"$ENVUP_MAIN\" -v key=\"$ENVUP_KEY\" -f \"$S/clean.sql\"\n"
		"  pg_ctl -D \"$S/data\" -m fast -w -t 120 stop >/dev/null\n"
		"  trap - EXIT\n"
		"  rm -f \"$S/data/backup_label.old\" \"$S/data/postmaster.opts\" \"$S/data/postmaster.pid\"\n"
		/* shut down cleanly, the server needs only the segment of its last
		 * checkpoint: the others (older, recycled) would be copied at
		 * every start for nothing */
		"  R=$(pg_controldata -D \"$S/data\" | sed -n \"s/^Latest checkpoint.s REDO WAL file: *//p\")\n"
		"  if [ -n \"$R\" ] && [ -f \"$S/data/pg_wal/$R\" ]; then\n"
		"    for f in \"$S/data/pg_wal\"/0*; do [ \"${f##*/}\" = \"$R\" ] || rm -f \"$f\"; done\n"
		"  fi\n"
		"'\n"
		"rm -f \"$S/clean.sql\" \"$S\"/.s.PGSQL.*\n");
}

/* The image's config: the environment without the password, the
 * environment's labels blanked (the engine keeps a container's labels
 * that the config does not name), the snapshot's own. */
static char *commit_config(const cJSON *job)
{
	const char *pw = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(job, "password"));
	const cJSON *it;
	cJSON *c = cJSON_CreateObject(), *env, *labels;
	char created[32], *text = NULL, *line;

	if (!c || (env = cJSON_AddArrayToObject(c, "Env")) == NULL ||
	    (labels = cJSON_AddObjectToObject(c, "Labels")) == NULL)
		goto done;
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(job, "env")) {
		const char *v = cJSON_IsString(it) ? it->valuestring : "";
		const char *var = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(job, "password_var"));
		char *clean;
		cJSON *s;
		/* the password's variable blank, and the password cut out of every
		 * other value: the image never holds it */
		if ((clean = (var && strcmp(it->string, var) == 0) ? envup__strdup("") :
		    without_secret(v, pw, "")) == NULL)
			goto done;
		line = envup__sprintf("%s=%s", it->string, clean);
		envup__free(clean);
		if (!line)
			goto done;
		s = cJSON_CreateString(line);
		explicit_bzero(line, strlen(line));
		envup__free(line);
		if (!s || !cJSON_AddItemToArray(env, s)) {
			cJSON_Delete(s);
			goto done;
		}
	}
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(job, "labels"))
		if (!cJSON_AddStringToObject(labels, it->string, ""))
			goto done;
	snprintf(created, sizeof(created), "%lld", (long long)time(NULL));
	if (!cJSON_AddStringToObject(labels, ENVUP_SNAPSHOT_LABEL, "1") ||
	    !cJSON_AddStringToObject(labels, ENVUP_SNAPSHOT_LABEL ".key",
		cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(job, "key"))) ||
	    !cJSON_AddStringToObject(labels, ENVUP_SNAPSHOT_LABEL ".format", ENVUP_SNAPSHOT_FORMAT) ||
	    !cJSON_AddStringToObject(labels, ENVUP_SNAPSHOT_LABEL ".env",
		cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(job, "env_name"))) ||
	    !cJSON_AddStringToObject(labels, ENVUP_SNAPSHOT_LABEL ".service",
		cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(job, "service"))) ||
	    !cJSON_AddStringToObject(labels, ENVUP_SNAPSHOT_LABEL ".created", created))
		goto done;
	text = cJSON_PrintUnformatted(c);
done:
	cJSON_Delete(c);
	return text;
}

static FILE *take_log;

static void take_say(const char *fmt, ...) ENVUP_PRINTF(1, 2);
static void take_say(const char *fmt, ...)
{
	va_list ap;
	if (!take_log)
		return;
	fprintf(take_log, "%lld snapshot: ", (long long)time(NULL));
	va_start(ap, fmt);
	vfprintf(take_log, fmt, ap);
	va_end(ap);
	fputc('\n', take_log);
	fflush(take_log);
}

static const char *jstr(const cJSON *j, const char *k)
{
	const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, k));
	return v ? v : "";
}

/* Whether a valid snapshot of `key` is there. */
static bool snapshot_exists(envup_backend *b, const char *key)
{
	envup_strlist ep = ENVUP_STRLIST_INIT, cmd = ENVUP_STRLIST_INIT;
	char *ref = NULL;
	int found = envup_snapshot_find(&ref, &ep, &cmd, b, key);

	envup__free(ref);
	envup_strlist_dispose(&ep);
	envup_strlist_dispose(&cmd);
	return found == 0;
}

static int take(const cJSON *job)
{
	envup_backend *b = NULL;
	envup_exec_result r = ENVUP_EXEC_RESULT_INIT;
	envup_strlist argv = ENVUP_STRLIST_INIT;
	envup_buf script = ENVUP_BUF_INIT;
	const char *key = jstr(job, "key"), *container = jstr(job, "container");
	char *config = NULL, *id = NULL;
	double t0 = envup_now();
	int error;

	if (!hex64(key) || !*container)
		return ENVUP_ERROR;
	if ((error = envup_backend_open_for(&b, cJSON_IsString(cJSON_GetObjectItemCaseSensitive(job,
	    "docker_host")) ? jstr(job, "docker_host") : NULL, TAKE_SECONDS)) < 0)
		goto done;
	/* another up of the same key may have made it meanwhile */
	if (snapshot_exists(b, key)) {
		take_say("%s/%s: %s:%.12s is there already", jstr(job, "env_name"), jstr(job, "service"),
			ENVUP_SNAPSHOT_REPO, key);
		goto done;
	}
	if ((error = take_script(&script, jstr(job, "database"), key)) < 0 ||
	    (error = envup_strlist_push(&argv, "/bin/sh")) < 0 || (error = envup_strlist_push(&argv, "-c")) < 0 ||
	    (error = envup_strlist_push(&argv, envup_buf_cstr(&script))) < 0)
		goto done;
	if ((error = b->ops->exec(&r, b, container, &argv)) < 0)
		goto done;
	if (r.exit_code != 0) {
		error = envup_error_set(ENVUP_ERROR, ENVUP_ERROR_DOCKER, "the copy failed (exit code %d): %.*s",
			r.exit_code, (int)(r.output.size > 2000 ? 2000 : r.output.size),
			r.output.ptr ? r.output.ptr : "");
		goto done;
	}
	if ((config = commit_config(job)) == NULL) {
		error = envup_error_set_oom();
		goto done;
	}
	/* untagged first, named only if no other up of the key named one
	 * meanwhile: a tag moved away would leave an image nobody lists */
	if ((error = b->ops->commit(&id, b, container, NULL, NULL, config)) < 0)
		goto done;
	if (snapshot_exists(b, key)) {
		b->ops->remove_image(b, id);
		take_say("%s/%s: %s:%.12s was made meanwhile", jstr(job, "env_name"), jstr(job, "service"),
			ENVUP_SNAPSHOT_REPO, key);
		goto done;
	}
	if ((error = b->ops->tag_image(b, id, ENVUP_SNAPSHOT_REPO, key)) < 0) {
		b->ops->remove_image(b, id);
		goto done;
	}
	take_say("%s/%s: made %s:%.12s in %.2fs", jstr(job, "env_name"), jstr(job, "service"),
		ENVUP_SNAPSHOT_REPO, key, envup_now() - t0);
done:
	if (error < 0)
		take_say("%s/%s: no snapshot: %s", jstr(job, "env_name"), jstr(job, "service"),
			envup_error_last()->message);
	/* the live container keeps running: its copy is not needed any more */
	if (b && *container) {
		envup_strlist rm = ENVUP_STRLIST_INIT;
		envup_exec_result rr = ENVUP_EXEC_RESULT_INIT;
		if (envup_strlist_push(&rm, "rm") == 0 && envup_strlist_push(&rm, "-rf") == 0 &&
		    envup_strlist_push(&rm, SNAP_DIR) == 0)
			b->ops->exec(&rr, b, container, &rm);
		envup_exec_result_dispose(&rr);
		envup_strlist_dispose(&rm);
	}
	envup_exec_result_dispose(&r);
	envup_strlist_dispose(&argv);
	envup_buf_dispose(&script);
	envup_backend_free(b);
	if (config) {
		explicit_bzero(config, strlen(config));
		cJSON_free(config);
	}
	envup__free(id);
	return error;
}

int envup_snapshot__take_main(void)
{
	envup_buf in = ENVUP_BUF_INIT;
	cJSON *job = NULL;
	char buf[4096];
	ssize_t n;
	int rc = 2, pool = 0, fd;

	while ((n = read(0, buf, sizeof(buf))) > 0)
		if (in.size > 65536 || envup_buf_put(&in, buf, (size_t)n) < 0)
			goto done;
	if ((job = cJSON_Parse(envup_buf_cstr(&in))) == NULL)
		goto done;
	if ((fd = envup_state_open_log(jstr(job, "env_name"))) >= 0)
		take_log = fdopen(fd, "a");
	rc = take(job) < 0 ? 1 : 0;
	/* done: envdown may go on */
	close(3);
	if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(job, "pool")))
		pool = (int)cJSON_GetObjectItemCaseSensitive(job, "pool")->valuedouble;
	if (pool > 0) {
		envup_pg_where w;
		w.host = jstr(job, "host");
		w.port = (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(job, "port"));
		w.user = jstr(job, "user");
		w.password = *jstr(job, "password") ? jstr(job, "password") : NULL;
		w.database = jstr(job, "database");
		envup_pgpool_fill(&w);
	}
done:
	if (in.ptr)
		explicit_bzero(in.ptr, in.size);
	envup_buf_dispose(&in);
	cJSON_Delete(job);
	if (take_log)
		fclose(take_log);
	return rc;
}

void envup_snapshot_wait(const char *name, double max_s, void (*say)(const char *msg, void *payload),
	void *payload)
{
	char *path = NULL;
	double until = envup_now() + max_s;
	bool said = false;
	int fd;

	if (envup_state_path(&path, name, ".snapshot", false) < 0)
		return;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) >= 0) {
		while (flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK && envup_now() < until) {
			if (!said && say) {
				say("waiting for the snapshot being taken", payload);
				said = true;
			}
			envup_sleep_ms(20);
		}
		close(fd);
	}
	envup__free(path);
}

/* ---- listing and pruning --------------------------------------------------------- */

int envup_snapshot__list(envup_snapshot_entry **out, size_t *count, envup_backend *b)
{
	envup_image_summary *imgs = NULL;
	envup_snapshot_entry *v = NULL;
	size_t n = 0, i, j, k = 0;
	int error;

	*out = NULL;
	*count = 0;
	if (!b->ops->images)
		return 0;
	if ((error = b->ops->images(&imgs, &n, b, ENVUP_SNAPSHOT_LABEL "=1")) < 0)
		return error;
	if ((v = envup__calloc(n + 1, sizeof(*v))) == NULL) {
		error = envup_error_set_oom();
		goto done;
	}
	for (i = 0; i < n; i++) {
		const char *key = envup_kvlist_get(&imgs[i].labels, ENVUP_SNAPSHOT_LABEL ".key");
		const char *env = envup_kvlist_get(&imgs[i].labels, ENVUP_SNAPSHOT_LABEL ".env");
		const char *svc = envup_kvlist_get(&imgs[i].labels, ENVUP_SNAPSHOT_LABEL ".service");
		char *tag;
		bool ours = false;
		/* proof it is envup's: tagged envup-snapshot:KEY with its own key */
		if (!hex64(key) || (tag = envup__sprintf("%s:%s", ENVUP_SNAPSHOT_REPO, key)) == NULL)
			continue;
		for (j = 0; j < imgs[i].tags.n; j++)
			ours |= strcmp(imgs[i].tags.v[j], tag) == 0;
		envup__free(tag);
		if (!ours)
			continue;
		if ((v[k].id = envup__strdup(imgs[i].id)) == NULL || (v[k].key = envup__strdup(key)) == NULL ||
		    (v[k].env_name = envup_printable(env ? env : "")) == NULL ||
		    (v[k].service = envup_printable(svc ? svc : "")) == NULL) {
			k++;
			error = ENVUP_ERROR;
			goto done;
		}
		v[k].created = imgs[i].created;
		v[k].size = imgs[i].size;
		k++;
	}
	/* newest first */
	for (i = 1; i < k; i++)
		for (j = i; j > 0 && v[j].created > v[j - 1].created; j--) {
			envup_snapshot_entry t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	*out = v;
	*count = k;
	v = NULL;
	error = 0;
done:
	envup_snapshot__list_free(v, k);
	envup_image_list_free(imgs, n);
	return error;
}

void envup_snapshot__list_free(envup_snapshot_entry *v, size_t n)
{
	size_t i;

	if (!v)
		return;
	for (i = 0; i < n; i++) {
		envup__free(v[i].id);
		envup__free(v[i].key);
		envup__free(v[i].env_name);
		envup__free(v[i].service);
	}
	envup__free(v);
}

int envup_snapshot__prune(size_t *removed, envup_backend *b)
{
	envup_snapshot_entry *v = NULL;
	size_t n = 0, i, j, newer;
	int error;

	*removed = 0;
	if ((error = envup_snapshot__list(&v, &n, b)) < 0)
		return error;
	for (i = 0; i < n; i++) {
		for (j = 0, newer = 0; j < i; j++)
			if (strcmp(v[j].env_name, v[i].env_name) == 0 && strcmp(v[j].service, v[i].service) == 0)
				newer++;
		if (newer < ENVUP_SNAPSHOT_KEEP)
			continue;
		if (envup_snapshot_remove_key(b, v[i].key) == 0)
			(*removed)++;
	}
	envup_snapshot__list_free(v, n);
	return 0;
}
