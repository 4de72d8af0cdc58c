/*
 * The public headers compile on their own, as strict C99 with every
 * warning an error (CMake builds this; building it is the test).
 */
#include <envup.h>

int envup_headertest(void);

int envup_headertest(void)
{
	envup_up_options up = ENVUP_UP_OPTIONS_INIT;
	envup_target target = ENVUP_TARGET_INIT;
	return up.version + target.version;
}
