/*
 * Images: Docker Hub name rewriting for mirrors, and "pull if missing".
 *
 * A process pulls each image once: concurrent envup_image_ensure() calls
 * for the same name wait for the first one (single flight) and share its
 * result, error text included.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <cjson/cJSON.h>
#include "provision/image.h"
#include "provision/registry_auth.h"
#include "provision/stream.h"

#define IMAGE_PROGRESS_EVERY 0.25   /* seconds between progress lines */

/* ---- names ------------------------------------------------------------------ */

static const char *const image_hub_hosts[] = {
	"docker.io/", "index.docker.io/", "registry-1.docker.io/", "registry.hub.docker.com/"
};

/* Length of the hub host prefix ("docker.io/") at the start of image, or 0. */
static size_t image_hub_prefix_len(const char *image)
{
	size_t i;

	for (i = 0; i < ENVUP_ARRAY_SIZE(image_hub_hosts); i++) {
		size_t n = strlen(image_hub_hosts[i]);
		if (strncmp(image, image_hub_hosts[i], n) == 0)
			return n;
	}
	return 0;
}

bool envup_image_is_hub(const char *image)
{
	const char *slash;
	size_t n;

	if (!image || !*image)
		return false;
	if (image_hub_prefix_len(image))
		return true;
	if ((slash = strchr(image, '/')) == NULL)
		return true;                  /* "postgres:16", "redis@sha256:..." */
	n = (size_t)(slash - image);
	/* a registry host has a dot or a port, or is "localhost" (docker's rule) */
	if (memchr(image, '.', n) || memchr(image, ':', n) ||
	    (n == 9 && strncmp(image, "localhost", 9) == 0))
		return false;
	return true;
}

char *envup_image_rewrite(const char *image, const char *prefix)
{
	const char *rest;
	size_t plen;

	if (!image)
		return envup__strdup("");
	if (!prefix || !*prefix || !envup_image_is_hub(image))
		return envup__strdup(image);
	rest = image + image_hub_prefix_len(image);
	/* official images: "library/redis" is "redis"; keep deeper paths as they are */
	if (strncmp(rest, "library/", 8) == 0 && rest[8] && !strchr(rest + 8, '/'))
		rest += 8;
	plen = strlen(prefix);
	return envup__sprintf("%s%s%s", prefix, prefix[plen - 1] == '/' ? "" : "/", rest);
}

/*
 * Split a reference for POST /images/create: repo ("127.0.0.1:5858/postgres"),
 * and either a tag ("16-alpine", default "latest") or a digest
 * ("sha256:..."). The tag is the part after the last ':' that comes after
 * the last '/', so a registry port is never taken for a tag.
 */
int envup_image__split(char **repo, char **tag, char **digest, const char *image)
{
	const char *at = strchr(image, '@');
	const char *end = at ? at : image + strlen(image);
	const char *slash = NULL, *colon = NULL, *p;

	*repo = *tag = *digest = NULL;
	for (p = image; p < end; p++) {
		if (*p == '/')
			slash = p;
		else if (*p == ':')
			colon = p;
	}
	if (colon && slash && colon < slash)
		colon = NULL;              /* the registry's port */
	if ((*repo = envup__strndup(image, (size_t)((colon ? colon : end) - image))) == NULL)
		return ENVUP_ERROR;
	if (at) {
		if ((*digest = envup__strdup(at + 1)) == NULL)
			return ENVUP_ERROR;
	} else if ((*tag = envup__strndup(colon ? colon + 1 : "latest",
	    colon ? (size_t)(end - colon - 1) : 6)) == NULL) {
		return ENVUP_ERROR;
	}
	if (!**repo || (*tag && !**tag) || (*digest && !**digest)) {
		return envup_error_set(ENVUP_ESPEC, ENVUP_ERROR_SPEC, "invalid image name \"%s\"", image);
	}
	return 0;
}

/* ---- inspect and pull ------------------------------------------------------- */

/* 0 present, ENVUP_ENOTFOUND missing (no error text kept), <0 otherwise. */
static int image_inspect(envup_engine *e, const char *image)
{
	envup_buf resp = ENVUP_BUF_INIT, path = ENVUP_BUF_INIT;
	char *escaped = NULL, *what = NULL;
	long status = 0;
	int error = ENVUP_ERROR;

	if ((escaped = envup_url_escape_path(image)) == NULL ||
	    envup_buf_printf(&path, "/images/%s/json", escaped) < 0)
		goto done;
	if ((error = envup_engine_request(e, "GET", envup_buf_cstr(&path), NULL, NULL, 0,
	    &status, &resp)) < 0)
		goto done;
	if (status == 200) {
		error = 0;
	} else if (status == 404) {
		error = ENVUP_ENOTFOUND;
	} else {
		if ((what = envup__sprintf("inspect image %s", image)) == NULL) {
			error = ENVUP_ERROR;
			goto done;
		}
		error = envup_engine_api_error(status, &resp, what);
	}
done:
	envup_buf_dispose(&resp);
	envup_buf_dispose(&path);
	envup__free(escaped);
	envup__free(what);
	return error;
}

typedef struct {
	envup_pullstream ps;
	const char *image;
	envup_image_progress_cb cb;
	void *payload;
	double last_report;
	size_t reported_done, reported_seen;
	bool started;
} image_pull;

static void image_report(image_pull *p, const char *detail)
{
	char *masked;

	if (!p->cb)
		return;
	/* out of memory: no progress line rather than an unmasked one */
	if ((masked = envup_secret_mask(detail)) == NULL)
		return;
	p->cb(p->image, masked, p->payload);
	envup__free(masked);
}

static void image_on_status(const char *status, const char *id,
	long long current, long long total, void *payload)
{
	image_pull *p = payload;
	double now;
	char text[128];

	if (!p->cb)
		return;
	now = envup_now();
	if (!p->started) {
		p->started = true;
		p->last_report = now;
		image_report(p, "pulling");
		return;
	}
	if (p->ps.layers_seen == p->reported_seen && p->ps.layers_done == p->reported_done)
		return;
	/* a finished layer is always worth a line; new layers only now and then */
	if (p->ps.layers_done == p->reported_done && now - p->last_report < IMAGE_PROGRESS_EVERY)
		return;
	p->last_report = now;
	p->reported_seen = p->ps.layers_seen;
	p->reported_done = p->ps.layers_done;
	snprintf(text, sizeof(text), "pulling %zu/%zu layers", p->ps.layers_done, p->ps.layers_seen);
	image_report(p, text);
}

static int image_on_data(const char *data, size_t len, void *payload)
{
	image_pull *p = payload;
	return envup_pullstream_feed(&p->ps, data, len, image_on_status, p);
}

static pthread_mutex_t image_count_lock = PTHREAD_MUTEX_INITIALIZER;
static size_t image_pulls;

size_t envup_image__pull_count(void)
{
	size_t n;
	pthread_mutex_lock(&image_count_lock);
	n = image_pulls;
	pthread_mutex_unlock(&image_count_lock);
	return n;
}

/* A refusal by the registry says whose credentials it refused, or that
 * there were none. */
static void auth_error(const char *image, const envup_registry_login *login)
{
	const char *m = envup_error_last()->message;
	char saved[768];
	int klass = envup_error_last()->klass;

	if (!strstr(m, "unauthorized") && !strstr(m, "authentication required") &&
	    !strstr(m, "no basic auth credentials"))
		return;
	{
		/* the engine's words, without our own "pull IMAGE: " before them */
		char prefix[300];
		snprintf(prefix, sizeof(prefix), "pull %s: ", image);
		if (strncmp(m, prefix, strlen(prefix)) == 0)
			m += strlen(prefix);
	}
	snprintf(saved, sizeof(saved), "%s", m);
	if (login->header)
		envup_error_set(ENVUP_EDOCKER, klass, "pull %s: registry %s refused the login from %s "
			"(wrong user or password?): %s", image, login->registry, login->source, saved);
	else
		envup_error_set(ENVUP_EDOCKER, klass, "pull %s: registry %s needs a login, and the "
			"docker config has none for it (docker login %s): %s", image, login->registry,
			login->registry, saved);
}

static int image_pull_once(envup_engine *e, const char *image,
	envup_image_progress_cb cb, void *payload)
{
	envup_registry_login login = {NULL, NULL, NULL};
	image_pull p;
	envup_buf path = ENVUP_BUF_INIT, errbody = ENVUP_BUF_INIT;
	char *repo = NULL, *tag = NULL, *digest = NULL, *from = NULL, *etag = NULL, *what = NULL;
	long status = 0;
	int error;

	memset(&p, 0, sizeof(p));
	p.ps = (envup_pullstream)ENVUP_PULLSTREAM_INIT;
	p.image = image;
	p.cb = cb;
	p.payload = payload;
	errbody.max = 64 * 1024;

	if ((error = envup_image__split(&repo, &tag, &digest, image)) < 0)
		goto done;
	error = ENVUP_ERROR;
	if (digest) {
		char *ref = envup__sprintf("%s@%s", repo, digest);
		from = ref ? envup_url_escape(ref) : NULL;
		envup__free(ref);
		if (!from || envup_buf_printf(&path, "/images/create?fromImage=%s", from) < 0)
			goto done;
	} else {
		if ((from = envup_url_escape(repo)) == NULL || (etag = envup_url_escape(tag)) == NULL ||
		    envup_buf_printf(&path, "/images/create?fromImage=%s&tag=%s", from, etag) < 0)
			goto done;
	}
	pthread_mutex_lock(&image_count_lock);
	image_pulls++;
	pthread_mutex_unlock(&image_count_lock);

	/* the login the docker CLI would use for this registry */
	if ((error = envup_registry_login_find(&login, image)) < 0) {
		envup_error_set(ENVUP_EDOCKER, ENVUP_ERROR_DOCKER, "pull %s: %s", image,
			envup_error_last()->message);
		goto done;
	}
	error = envup_engine_stream_header(e, "POST", envup_buf_cstr(&path), login.header,
		image_on_data, &p, &status, &errbody);
	if (error < 0) {
		/* an in-stream error names the image; transport errors say enough */
		if (p.ps.error)
			envup_error_set(ENVUP_ERROR, ENVUP_ERROR_DOCKER, "pull %s: %s", image, p.ps.error);
		auth_error(image, &login);
		goto done;
	}
	if (status < 200 || status >= 300) {
		if ((what = envup__sprintf("pull %s", image)) == NULL) {
			error = ENVUP_ERROR;
			goto done;
		}
		error = envup_engine_api_error(status, &errbody, what);
		auth_error(image, &login);
		goto done;
	}
	if ((error = envup_pullstream_finish(&p.ps, image_on_status, &p)) < 0) {
		envup_error_set(ENVUP_ERROR, ENVUP_ERROR_DOCKER, "pull %s: %s", image,
			p.ps.error ? p.ps.error : envup_error_last()->message);
		goto done;
	}
	/* the stream said nothing wrong; the image must be there now */
	error = image_inspect(e, image);
	if (error == ENVUP_ENOTFOUND) {
		error = envup_error_set(ENVUP_ERROR, ENVUP_ERROR_DOCKER,
			"pull %s: the engine reported no error but the image is not there (last status: %s)",
			image, p.ps.last_status ? p.ps.last_status : "none");
	}
	if (error == 0 && cb) {
		char text[64];
		snprintf(text, sizeof(text), "pulled (%zu layers)", p.ps.layers_seen);
		image_report(&p, text);
	}
done:
	envup_registry_login_dispose(&login);
	envup_pullstream_dispose(&p.ps);
	envup_buf_dispose(&path);
	envup_buf_dispose(&errbody);
	envup__free(repo);
	envup__free(tag);
	envup__free(digest);
	envup__free(from);
	envup__free(etag);
	envup__free(what);
	return error;
}

static int image_ensure_once(envup_engine *e, const char *image,
	envup_image_progress_cb cb, void *payload)
{
	int error = image_inspect(e, image);

	if (error != ENVUP_ENOTFOUND)
		return error;
	return image_pull_once(e, image, cb, payload);
}

/* ---- single flight ---------------------------------------------------------- */

typedef struct image_flight {
	struct image_flight *next;
	char *name;
	pthread_cond_t cond;
	bool done;
	int result;
	int klass;
	char *message;       /* the leader's error text (when result < 0) */
	size_t waiters;
} image_flight;

static pthread_mutex_t flight_lock = PTHREAD_MUTEX_INITIALIZER;
static image_flight *flights;

static void image_flight_free(image_flight *f)
{
	if (!f)
		return;
	pthread_cond_destroy(&f->cond);
	envup__free(f->name);
	envup__free(f->message);
	envup__free(f);
}

static void image_flight_unlink(image_flight *f)
{
	image_flight **pp;
	for (pp = &flights; *pp; pp = &(*pp)->next) {
		if (*pp == f) {
			*pp = f->next;
			return;
		}
	}
}

/* Follower: wait for the leader, checking our own cancel flag/deadline. */
static int image_flight_wait(envup_engine *e, image_flight *f)
{
	int error = 0;

	while (!f->done) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += 200 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&f->cond, &flight_lock, &ts);
		if (!f->done && (error = envup_engine_check_interrupt(e)) < 0)
			break;
	}
	if (f->done) {
		error = f->result;
		if (error < 0)
			envup_error_set_str(ENVUP_ERROR, f->klass, f->message ? f->message : "pull failed");
	}
	if (--f->waiters == 0 && f->done)
		image_flight_free(f);
	return error;
}

int envup_image_ensure(envup_engine *e, const char *image,
	envup_image_progress_cb cb, void *payload)
{
	image_flight *f;
	pthread_condattr_t attr;
	char *key;
	int error;

	ENVUP_ASSERT_ARG(e && image);
	if (!*image)
		return envup_error_set(ENVUP_ESPEC, ENVUP_ERROR_SPEC, "empty image name");
	/* one pull per engine and image: the same name on two engines is two
	 * images, and one engine's failure is not another's */
	if ((key = envup__sprintf("%s %s", envup_engine_address(e), image)) == NULL)
		return ENVUP_ERROR;

	pthread_mutex_lock(&flight_lock);
	for (f = flights; f; f = f->next) {
		if (strcmp(f->name, key) == 0) {
			f->waiters++;
			error = image_flight_wait(e, f);
			pthread_mutex_unlock(&flight_lock);
			envup__free(key);
			return error;
		}
	}
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	if ((f = envup__calloc(1, sizeof(*f))) == NULL || pthread_cond_init(&f->cond, &attr) != 0) {
		pthread_condattr_destroy(&attr);
		envup__free(f);
		envup__free(key);
		pthread_mutex_unlock(&flight_lock);
		return envup_error_set_oom();
	}
	pthread_condattr_destroy(&attr);
	f->name = key;
	f->next = flights;
	flights = f;
	pthread_mutex_unlock(&flight_lock);

	error = image_ensure_once(e, image, cb, payload);

	pthread_mutex_lock(&flight_lock);
	image_flight_unlink(f);
	f->done = true;
	f->result = error;
	if (error < 0) {
		f->klass = envup_error_last()->klass;
		f->message = envup__strdup(envup_error_last()->message);
	}
	pthread_cond_broadcast(&f->cond);
	if (f->waiters == 0)
		image_flight_free(f);
	pthread_mutex_unlock(&flight_lock);
	return error;
}
