/*
 * envup: ephemeral test environments on a Docker Engine.
 *
 * The umbrella header. A C test suite includes this one file and links
 * -lenvup (pkg-config envup).
 */
#ifndef ENVUP_H
#define ENVUP_H

#include "envup/common.h"
#include "envup/progress.h"
#include "envup/spec.h"
#include "envup/env.h"
#include "envup/up.h"
#include "envup/target.h"
#include "envup/db.h"
#include "envup/snapshot.h"

#endif
