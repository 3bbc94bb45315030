/* cmd_convert.c - `t5g convert --hf DIR -o model.h5 [--dtype f32|bf16|int8] [--no-checksum] [-q]`:
 * the command line of t5g_convert_hf (src/model/hf_import.c). */
#include "cli/args.h"
#include "cli/cli.h"
#include "core/err.h"
#include "model/hf_import.h"
#include <stdio.h>
#include <string.h>

int cmd_convert(int argc, char **argv) {
    t5g_convert_opts a = {.checksum = 1};
    const char *dtype = NULL;
    int no_checksum = 0;
    arg_spec specs[] = {
        {"--hf", ARG_STR, &a.hf,
         "Hugging Face directory: config.json and model.safetensors (or the index + shards); "
         "tokenizer.model, tokenizer_config.json, generation_config.json when present"},
        {"-o|--out|--output", ARG_STR, &a.out, "output HDF5 checkpoint"},
        {"--dtype", ARG_STR, &dtype,
         "f32|bf16|int8 storage (default: bf16 if every source tensor is BF16, else f32); "
         "int8: projections and embeddings as int8 + one float32 scale per row, the rest f32"},
        {"--no-checksum", ARG_FLAG, &no_checksum, "no Fletcher32 checksums on the chunks"},
        {"-q|--quiet", ARG_FLAG, &a.quiet, "no progress output"},
    };
    int rc = args_parse(argc, argv, specs, (int)(sizeof specs / sizeof specs[0]),
                        "usage: t5g convert --hf DIR -o model.h5 [--dtype f32|bf16|int8] [--no-checksum] [-q]", NULL, 0,
                        NULL);
    if (rc) {
        if (rc < 0) t5g_print_error();
        return rc < 0 ? 2 : 0;
    }
    a.checksum = !no_checksum;
    if (dtype) {
        if (!strcmp(dtype, "f32") || !strcmp(dtype, "float32")) a.dtype = "float32";
        else if (!strcmp(dtype, "bf16") || !strcmp(dtype, "bfloat16")) a.dtype = "bfloat16";
        else if (!strcmp(dtype, "int8")) a.dtype = "int8";
        else {
            fprintf(stderr, "t5g: error: --dtype must be f32, bf16 or int8, not '%s'\n", dtype);
            return 2;
        }
    }
    if (!a.hf || !a.out) {
        fprintf(stderr, "t5g: error: convert needs --hf DIR and -o OUTPUT (see --help)\n");
        return 2;
    }
    t5g_convert_result r;
    if (t5g_convert_hf(&a, &r)) {
        t5g_print_error();
        return 1;
    }
    if (r.vision_tensors)
        printf("t5g convert: note: %d vision tensors (vision_tower, multi_modal_projector) not converted: t5g runs "
               "the T5Gemma 2 text model only; image inputs are rejected\n",
               r.vision_tensors);
    printf("t5g convert: %d tensors, %lld parameters, %s%s -> %s\n", r.tensors, (long long)r.parameters, r.dtype,
           r.has_tokenizer ? ", tokenizer.model" : "", a.out);
    return 0;
}
