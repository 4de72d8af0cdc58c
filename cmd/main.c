#include <stdio.h>
#include "envup.h"
int main(void) { printf("envup %s\n", envup_version()); return 0; }
