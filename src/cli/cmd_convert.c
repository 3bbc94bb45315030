/* placeholder: replaced by the HF converter */
#include "cli/cli.h"
#include <stdio.h>
int cmd_convert(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "t5g: error: convert not built yet\n"); return 2; }
