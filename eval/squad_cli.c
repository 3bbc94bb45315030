/* placeholder: replaced by the real scorer */
#include "squad.h"
#include <stdio.h>
int squad_cli_main(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "t5g: error: squad scorer not built yet\n"); return 2; }
