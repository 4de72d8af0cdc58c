/*
 * What each service of an `up` will be, decided before anything exists on
 * the engine: its image (after the hub prefix rewrite), its container's
 * name, its environment and command with {{user}}, {{password}} and
 * {{database}} filled in, its credentials (the spec's, else the
 * template's defaults, "random" a fresh password) and the secrets to mask;
 * and who owns the environment, when it expires, and the watchdog that
 * enforces both (up.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "provision/up.h"
#include "provision/owner.h"
#include "provision/state.h"
#include "templates/template.h"
#include "provision/image.h"

static const char *cred_names[ENVUP_CRED_COUNT] = {"user", "password", "database"};

/* Expand {{user}}/{{password}}/{{database}} in one value, if it has any. */
static int expand_creds(char **out, const char *value, const envup_kvlist *vars)
{
	if (!strstr(value, "{{")) {
		*out = envup__strdup(value);
		return *out ? 0 : ENVUP_ERROR;
	}
	return envup_placeholder_expand(out, value, vars, false);
}

/* The spec was validated (compose/validate.c): every placeholder is known
 * and terminated, so what fails here is memory, and the error is that. */
static int expand_list(envup_strlist *out, const envup_strlist *in, const envup_kvlist *vars)
{
	size_t i;
	for (i = 0; i < in->n; i++) {
		char *v = NULL;
		int error;
		if ((error = expand_creds(&v, in->v[i], vars)) < 0)
			return error;
		error = envup_strlist_push(out, v);
		envup__free(v);
		if (error < 0)
			return error;
	}
	return 0;
}

/* A password: masked on stderr from now on, and listed for the formats
 * that mask secrets themselves (--format github), with its URL form. */
static int add_secret(envup_up_ctx *ctx, const char *value)
{
	envup_kvlist vars = ENVUP_KVLIST_INIT;
	char *encoded = NULL;
	int error;

	if (!*value || envup_strlist_contains(&ctx->secrets, value))
		return 0;
	if ((error = envup_secret_add(value)) < 0 ||
	    (error = envup_strlist_push(&ctx->secrets, value)) < 0 ||
	    (error = envup_kvlist_set(&vars, "v", value)) < 0 ||
	    (error = envup_placeholder_expand(&encoded, "{{v}}", &vars, true)) < 0)
		goto done;
	if (strcmp(encoded, value) != 0 && !envup_strlist_contains(&ctx->secrets, encoded) &&
	    ((error = envup_secret_add(encoded)) < 0 ||
	     (error = envup_strlist_push(&ctx->secrets, encoded)) < 0))
		goto done;
done:
	envup__free(encoded);
	envup_kvlist_dispose(&vars);
	return error;
}

int envup_up__plan_service(envup_up_service *s, envup_up_ctx *ctx, const envup_service *spec)
{
	const char *prefix = ctx->opts->image_prefix;
	size_t i;
	int error;

	s->ctx = ctx;
	s->spec = spec;
	if (!prefix)
		prefix = getenv("ENVUP_HUB_IMAGE_PREFIX");
	if ((s->image = envup_image_rewrite(spec->image, prefix)) == NULL)
		return ENVUP_ERROR;
	if ((s->container_name = envup__sprintf("envup-%s-%s", ctx->name, spec->name)) == NULL)
		return ENVUP_ERROR;
	if (envup_kvlist_copy(&s->env, &spec->env) < 0)
		return ENVUP_ERROR;

	/* credentials: the spec's env wins, else the template's default */
	for (i = 0; i < ENVUP_CRED_COUNT; i++) {
		const envup_cred *c = &spec->cred[i];
		const char *given = c->env ? envup_kvlist_get(&s->env, c->env) : NULL;
		char *value = NULL;

		if (!c->def)
			continue;
		if (given)
			value = envup__strdup(given);
		else if (strcmp(c->def, "random") == 0)
			value = envup_random_password();
		else
			value = envup__strdup(c->def);
		if (!value)
			return ENVUP_ERROR;
		error = envup_kvlist_set(&s->vars, cred_names[i], value);
		if (!error && c->env && !given)
			error = envup_kvlist_set(&s->env, c->env, value);
		if (!error && i == ENVUP_CRED_PASSWORD)
			error = add_secret(ctx, value);
		envup__free(value);
		if (error < 0)
			return error;
	}

	/* placeholders in the env values and the command (a Compose file's
	 * values are literal) */
	for (i = 0; !spec->compose && i < s->env.n; i++) {
		char *v = NULL;
		if (!strstr(s->env.v[i].value, "{{"))
			continue;
		if ((error = expand_creds(&v, s->env.v[i].value, &s->vars)) < 0)
			return error;
		envup__free(s->env.v[i].value);
		s->env.v[i].value = v;
	}
	if (spec->compose) {
		if ((spec->has_command && envup_strlist_copy(&s->cmd, &spec->command) < 0) ||
		    (spec->has_entrypoint && envup_strlist_copy(&s->entrypoint, &spec->entrypoint) < 0))
			return ENVUP_ERROR;
	} else {
		if (spec->has_command && expand_list(&s->cmd, &spec->command, &s->vars) < 0)
			return ENVUP_ERROR;
		if (spec->has_entrypoint &&
		    expand_list(&s->entrypoint, &spec->entrypoint, &s->vars) < 0)
			return ENVUP_ERROR;
	}

	if (spec->wait.kind == ENVUP_WAIT_LOG) {
		if (regcomp(&s->log_re, spec->wait.pattern, REG_EXTENDED | REG_NOSUB | REG_NEWLINE) != 0)
			return envup_error_set(ENVUP_ESPEC, ENVUP_ERROR_SPEC, "services.%s.wait.log.pattern: invalid regex",
				spec->name);
		s->log_re_compiled = true;
	}
	return 0;
}

void envup_up__service_dispose(envup_up_service *s)
{
	envup__free(s->image);
	envup__free(s->container_name);
	envup__free(s->id);
	envup_kvlist_dispose(&s->env);
	envup_strlist_dispose(&s->cmd);
	envup_strlist_dispose(&s->entrypoint);
	envup_kvlist_dispose(&s->vars);
	envup_kvlist_dispose(&s->host_ports);
	envup__free(s->ip);
	envup__free(s->host);
	envup__free(s->node);
	if (s->log_re_compiled)
		regfree(&s->log_re);
}


int envup_up__labels(envup_kvlist *labels, const envup_up_ctx *ctx, const char *service)
{
	envup_identity id = ctx->id;
	snprintf(id.service, sizeof(id.service), "%s", service ? service : "");
	return envup_identity_labels(labels, &id);
}

/* Who owns this environment, when it expires, and the watchdog that
 * enforces both. Spawned before anything exists on the engine. */
int envup_up__plan_ownership(envup_up_ctx *ctx)
{
	const envup_up_options *opts = ctx->opts;
	envup_watchdog_options wo = {0};
	envup_identity *id = &ctx->id;
	unsigned char raw[ENVUP_INSTANCE_LEN / 2];
	double ttl = opts->ttl > 0 ? opts->ttl : ENVUP_DEFAULT_TTL;
	envup_owner_scope scope = opts->owner;
	char *state_dir = NULL;
	size_t i;
	int error;

	snprintf(id->env, sizeof(id->env), "%s", ctx->name);
	if (envup_random_bytes(raw, sizeof(raw)) < 0)
		return ENVUP_ERROR;
	for (i = 0; i < sizeof(raw); i++)
		snprintf(id->instance + 2 * i, 3, "%02x", raw[i]);
	id->expires = (long long)time(NULL) + (long long)ttl;
	snprintf(id->expires_raw, sizeof(id->expires_raw), "%lld", id->expires);

	if (opts->keep)
		scope = ENVUP_OWNER_NONE;
	else if (opts->owner_pid > 0)
		scope = ENVUP_OWNER_PID;
	if (scope == ENVUP_OWNER_SESSION) {
		if ((error = envup_owner_resolve(&id->owner, &id->owner_kind, id->owner_comm,
		    getpid())) < 0)
			return error == ENVUP_ENOTFOUND ? ENVUP_ERROR : error;
		id->has_owner = true;
	} else if (scope != ENVUP_OWNER_NONE) {
		pid_t pid = scope == ENVUP_OWNER_PID && opts->owner_pid > 0 ?
			(pid_t)opts->owner_pid : getpid();
		envup_proc proc;
		error = envup_owner_of(&id->owner, pid);
		if (error == ENVUP_ENOTFOUND)
			return envup_error_set(ENVUP_ESPEC, ENVUP_ERROR_SPEC, "owner process %ld does not exist",
				(long)pid);
		if (error < 0)
			return error;
		id->has_owner = true;
		id->owner_kind = ENVUP_OWNER_KIND_PROCESS;
		if (envup_proc_read(&proc, pid) == 0)
			snprintf(id->owner_comm, sizeof(id->owner_comm), "%s", proc.comm);
	}
	if (id->has_owner) {
		envup_owner_format(id->owner_raw, sizeof(id->owner_raw), &id->owner);
		envup_identity_owner_text(ctx->owner_text, sizeof(ctx->owner_text), id);
	}
	wo.env_name = ctx->name;
	wo.instance = id->instance;
	wo.docker_host = opts->docker_host;
	wo.owner = id->has_owner ? id->owner_raw : NULL;
	wo.owner_text = id->has_owner ? ctx->owner_text : NULL;
	wo.expires = id->expires;
	wo.exe = opts->watchdog_exe;
	if ((error = envup_state_dir(&state_dir, true)) < 0)
		return error;
	wo.state_dir = state_dir;
	error = envup_watchdog_spawn(&ctx->watchdog, &wo);
	envup__free(state_dir);
	return error;
}
