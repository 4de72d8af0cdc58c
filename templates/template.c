/*
 * Lookup of the templates embedded at build time.
 */
#include <string.h>
#include "templates/template.h"

const envup_template_source *envup_template_find(const char *name)
{
	const envup_template_source *t;
	for (t = envup_template__sources; t->name; t++)
		if (strcmp(t->name, name) == 0)
			return t;
	return NULL;
}
