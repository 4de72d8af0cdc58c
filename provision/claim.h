/*
 * The name claim: at most one `envup up` of a name at a time.
 *
 * Two ups of one name can start at the same moment (two CI jobs in
 * checkouts of the same name, a retried job). Container names are unique
 * on an engine, but an environment's containers are created late and in
 * parallel; its network is created first, and so the network is the lock.
 * Engines before API 1.44 check network names racily, so two networks of
 * one name can exist; the claim does not rely on that check:
 *
 *   1. create the network envup-NAME, labelled with this instance;
 *   2. list every network of exactly that name:
 *        - only ours: the claim is won;
 *        - another live instance's network, created before ours: we lost;
 *          remove ours (by id) and fail;
 *        - only live ones created after ours: they will see ours and back
 *          off; wait (at most CLAIM_WAIT_S) until they are gone, else lose
 *          (the engine stamps a network's creation before it is listed, so
 *          a younger one may have listed first, seen only itself and won);
 *        - a dead instance's network (expired, owner gone, or left by an
 *          envup without instance labels): remove it by id;
 *        - a network of that name envup did not make: fail, touch nothing.
 *
 * An up wins when it saw only its own network twice, ENVUP_CLAIM_SETTLE_MS
 * apart: the engine may answer a create before the network is listed, so
 * two ups can each list before the other's shows; a moment later each
 * sees both, and the younger backs off. So two ups never both win, and when both list after both
 * created, exactly one (the older) wins. Everything is removed by id:
 * removal by a shared name is refused by the engine as ambiguous.
 */
#ifndef ENVUP_PROVISION_CLAIM_H
#define ENVUP_PROVISION_CLAIM_H

#include "provision/engine.h"
#include "provision/identity.h"

#define ENVUP_CLAIM_WAIT_S 5.0
/* an up that saw only its own network looks once more this much later */
#define ENVUP_CLAIM_SETTLE_MS 100

/**
 * Create network `network` with `labels` for the instance `self` and win
 * the claim on its name.
 * @param[out] id_out the network's id (malloc'd)
 * @return 0; ENVUP_EEXISTS when another up of the name holds it (nothing
 *         of ours is left); ENVUP_ERROR when a foreign network has the
 *         name; an engine error
 */
int envup_claim_network(char **id_out, envup_engine *e, const char *network,
	const envup_identity *self, const envup_kvlist *labels);

/** The same with a network driver (NULL: bridge; "overlay" on a swarm). */
int envup_claim_network_with(char **id_out, envup_engine *e, const char *network,
	const char *driver, const envup_identity *self, const envup_kvlist *labels);

#endif
