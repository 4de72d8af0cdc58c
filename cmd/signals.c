/*
 * Signals during up and run: the first SIGINT/SIGTERM/SIGHUP raises the
 * cancel flag the library polls; envup then removes what it created and
 * exits 128+N.
 */
#include <string.h>
#include "cli.h"

volatile int cli_cancel;
volatile sig_atomic_t cli_signal;

static void on_signal(int sig)
{
	if (!cli_signal)
		cli_signal = sig;
	cli_cancel = 1;
}

void cli_signals_install(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

void cli_signals_ignore(void)
{
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
}
