/*
 * envup-watchdog: the helper the library starts for every environment
 * (provision/watchdog.h). A process of its own, exec'd fresh, so that
 * envup_up() never forks without exec and is safe to call from a test
 * runner's threads. Installed in LIBEXECDIR/envup/; not for people.
 */
#include "provision/watchdog.h"

int main(int argc, char **argv)
{
	return envup_watchdog__main(argc, argv);
}
