/* punkt_data.h - NLTK's English punkt_tab files as linked-in text (punkt_data.c): one entry
 * a line; the .tab files hold two tab-separated fields. */
#ifndef T5G_PUNKT_DATA_H
#define T5G_PUNKT_DATA_H
extern const char t5g_punkt_abbrev_types[];  /* abbreviation types, lower case, no final period */
extern const char t5g_punkt_collocations[];  /* "type1\ttype2" */
extern const char t5g_punkt_sent_starters[]; /* frequent sentence starters */
extern const char t5g_punkt_ortho_context[]; /* "type\tflags" (orthographic context bits) */
#endif
