/*
 * The name claim (see claim.h).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "provision/claim.h"
#include "provision/network.h"

typedef enum { NET_MINE, NET_LIVE, NET_DEAD, NET_FOREIGN } net_kind;

static net_kind classify(const envup_network_info *n, const envup_identity *self,
	envup_identity *id, long long now)
{
	const char *managed = envup_kvlist_get(&n->labels, ENVUP_LABEL_MANAGED);

	envup_identity_read(id, &n->labels);
	if (!managed || strcmp(managed, "true") != 0 || strcmp(id->env, self->env) != 0)
		return NET_FOREIGN;
	if (strcmp(id->instance, self->instance) == 0)
		return NET_MINE;
	/* left by an envup that wrote no instance: up checked that no
	 * container of the name exists, so nothing uses it */
	if (!id->instance[0])
		return NET_DEAD;
	if (id->expires > 0 && id->expires <= now)
		return NET_DEAD;
	if (id->has_owner && envup_owner_check(&id->owner) == ENVUP_OWNER_GONE)
		return NET_DEAD;
	return NET_LIVE;
}

static bool older(const envup_network_info *a, const envup_network_info *b)
{
	if (a->created != b->created)
		return a->created < b->created;
	if (a->created_ns != b->created_ns)
		return a->created_ns < b->created_ns;
	return strcmp(a->id, b->id) < 0;
}

static int lost(long long created, const envup_identity *other,
	const envup_identity *self)
{
	char owner[128];
	long long age = (long long)time(NULL) - created;

	envup_identity_owner_text(owner, sizeof(owner), other);
	return envup_error_set(ENVUP_EEXISTS, ENVUP_ERROR_DOCKER,
		"environment '%s' is being brought up by another envup (instance %s%s%s, "
		"started %llds ago); wait for it, or choose another name with -n",
		self->env, other->instance, owner[0] ? ", owned by " : "", owner,
		age < 0 ? 0 : age);
}

static int foreign(const char *network)
{
	return envup_error_set(ENVUP_ERROR, ENVUP_ERROR_DOCKER,
		"a network named %s exists and was not created by envup; envup leaves it "
		"alone: remove or rename it, or choose another name with -n", network);
}

/* Remove our own network after losing, keeping the loss's message. */
static void give_up(envup_engine *e, const char *id)
{
	char saved[512];
	int klass = envup_error_last()->klass;
	snprintf(saved, sizeof(saved), "%s", envup_error_last()->message);
	envup_network_remove(e, id);
	envup_error_set_str(ENVUP_ERROR, klass, saved);
}

/*
 * One look at every network of the name. Returns 0 when ours is alone
 * (won), 1 to wait for younger live ones to back off (the youngest is
 * left in *blocker, created at *blocker_created), or an error (lost,
 * foreign: ours is removed by the caller).
 */
static int look(envup_engine *e, const char *network, const char *mine_id,
	const envup_identity *self, envup_identity *blocker, long long *blocker_created)
{
	envup_network_info *nets = NULL, *mine = NULL;
	envup_identity id;
	size_t n = 0, i;
	long long now = (long long)time(NULL);
	int error, waiting = 0;

	if ((error = envup_network_find(&nets, &n, e, network, NULL)) < 0)
		return error;
	for (i = 0; i < n; i++)
		if (strcmp(nets[i].id, mine_id) == 0)
			mine = &nets[i];
	if (!mine) {
		error = envup_error_set(ENVUP_ERROR, ENVUP_ERROR_DOCKER,
			"network %s disappeared while envup up was creating it", network);
		goto done;
	}
	for (i = 0; i < n; i++) {
		net_kind k;
		if (&nets[i] == mine)
			continue;
		k = classify(&nets[i], self, &id, now);
		if (k == NET_FOREIGN) {
			error = foreign(network);
			goto done;
		}
		if (k == NET_DEAD && envup_network_remove(e, nets[i].id) == 0)
			continue;
		if (older(&nets[i], mine)) {
			error = lost(nets[i].created, &id, self);
			goto done;
		}
		waiting = 1;
		*blocker = id;
		*blocker_created = nets[i].created;
	}
	error = waiting;
done:
	envup_network_infos_free(nets, n);
	return error;
}

/* After a 409: who has the name? Dead holders are removed (returns 1:
 * try again); a live one means we lost; a foreign one is an error. */
static int taken(envup_engine *e, const char *network, const envup_identity *self)
{
	envup_network_info *nets = NULL;
	envup_identity id;
	size_t n = 0, i;
	long long now = (long long)time(NULL);
	int error;

	if ((error = envup_network_find(&nets, &n, e, network, NULL)) < 0)
		return error;
	error = 1;
	for (i = 0; i < n && error == 1; i++) {
		net_kind k = classify(&nets[i], self, &id, now);
		if (k == NET_FOREIGN)
			error = foreign(network);
		else if (k == NET_LIVE || k == NET_MINE)
			error = lost(nets[i].created, &id, self);
		else if (envup_network_remove(e, nets[i].id) < 0)
			error = lost(nets[i].created, &id, self);
	}
	envup_network_infos_free(nets, n);
	return error;
}

int envup_claim_network(char **id_out, envup_engine *e, const char *network,
	const envup_identity *self, const envup_kvlist *labels)
{
	return envup_claim_network_with(id_out, e, network, NULL, self, labels);
}

int envup_claim_network_with(char **id_out, envup_engine *e, const char *network,
	const char *driver, const envup_identity *self, const envup_kvlist *labels)
{
	char *id = NULL;
	envup_identity blocker;
	long long blocker_created = 0;
	bool settled = false;
	double until;
	long pause = 10;
	int error, attempt;

	ENVUP_ASSERT_ARG(id_out && e && network && self && labels);
	*id_out = NULL;
	for (attempt = 0;; attempt++) {
		error = envup_network_create_with(&id, e, network, driver, labels);
		if (error != ENVUP_EEXISTS)
			break;
		if ((error = taken(e, network, self)) < 0)
			return error;
		if (attempt == 3)
			return envup_error_set(ENVUP_EEXISTS, ENVUP_ERROR_DOCKER,
				"network %s keeps coming back; is another envup up of '%s' running?",
				network, self->env);
	}
	if (error < 0)
		return error;
	until = envup_now() + ENVUP_CLAIM_WAIT_S;
	memset(&blocker, 0, sizeof(blocker));
	for (;;) {
		error = look(e, network, id, self, &blocker, &blocker_created);
		if (error == 0 && !settled) {
			/*
			 * Alone, once. The engine can answer a create before the
			 * network is listed: two ups may each have listed before
			 * the other's network showed, and each seen only itself.
			 * Look again a moment later; by then both see both, and
			 * the younger backs off.
			 */
			settled = true;
			envup_sleep_ms(ENVUP_CLAIM_SETTLE_MS);
			continue;
		}
		if (error != 1)
			break;
		settled = false;
		/*
		 * A younger claimant backs off within one look once it sees
		 * ours. One that stays listed and saw only itself: the engine
		 * stamped our network's creation before it could list it, so
		 * the younger one won. We lost to it.
		 */
		if (envup_now() > until) {
			error = lost(blocker_created, &blocker, self);
			break;
		}
		if ((error = envup_engine_check_interrupt(e)) < 0)
			break;
		envup_sleep_ms(pause);
		if (pause < 50)
			pause += 10;
	}
	if (error < 0) {
		give_up(e, id);
		envup__free(id);
		return error;
	}
	*id_out = id;
	return 0;
}
