/* hf_import.h - import a Hugging Face checkpoint directory (config.json, model.safetensors or the
 * index + shards, tokenizer.model / tokenizer_config.json / generation_config.json when present)
 * into a t5g HDF5 checkpoint: what `t5g convert` runs, callable from a program. */
#ifndef T5G_HF_IMPORT_H
#define T5G_HF_IMPORT_H
#include <stdint.h>

typedef struct {
    const char *hf;  /* the Hugging Face directory */
    const char *out; /* the HDF5 file to write (temp file + rename: never half-written) */
    const char
        *dtype;   /* "float32" | "bfloat16" | "int8"; NULL = bfloat16 if every source tensor is BF16, else float32 */
    int checksum; /* Fletcher32 checksums on the chunks */
    int quiet;    /* no progress lines */
} t5g_convert_opts;

typedef struct {
    int tensors;        /* tensors written */
    int64_t parameters; /* the model's parameter count */
    const char *dtype;  /* the storage dtype chosen */
    int has_tokenizer;  /* tokenizer.model embedded */
    int vision_tensors; /* T5Gemma 2 vision tensors left out (the text model only is converted) */
} t5g_convert_result;

/* 0 on success (res filled when not NULL); -1 with t5g_last_error() set. */
int t5g_convert_hf(const t5g_convert_opts *o, t5g_convert_result *res);
#endif
