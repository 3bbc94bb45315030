/* punkt_data.c - the English punkt_tab tables (eval/punkt_english/, NLTK data, Apache-2.0)
 * linked in as NUL-terminated text.  The assembler reads the files at build time (paths are
 * relative to the repository root, where make runs); the Makefile lists them as
 * prerequisites of this object. */
#include "punkt_data.h"

#define PUNKT_INCBIN(sym, file)                                                                                        \
    __asm__(".pushsection .rodata\n"                                                                                   \
            ".global " #sym "\n"                                                                                       \
            ".hidden " #sym "\n"                                                                                       \
            ".type " #sym ", @object\n" #sym ":\n"                                                                     \
            ".incbin \"eval/punkt_english/" file "\"\n"                                                                \
            ".byte 0\n"                                                                                                \
            ".popsection\n")

PUNKT_INCBIN(t5g_punkt_abbrev_types, "abbrev_types.txt");
PUNKT_INCBIN(t5g_punkt_collocations, "collocations.tab");
PUNKT_INCBIN(t5g_punkt_sent_starters, "sent_starters.txt");
PUNKT_INCBIN(t5g_punkt_ortho_context, "ortho_context.tab");
