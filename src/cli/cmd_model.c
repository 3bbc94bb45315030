/* cmd_model.c - `t5g info`, `t5g init`, `t5g model sha256 / verify`. */
#include "cli/args.h"
#include "cli/cli.h"
#include "cli/common.h"
#include "core/fileio.h"
#include "io/ckpt.h"
#include <cJSON.h>
#include "text/tokenizer.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void print_stack(const char *name, const t5g_stack_config *s) {
    int nslide = 0;
    for (int l = 0; l < s->num_hidden_layers; l++) nslide += s->layer_sliding[l];
    printf("%-8s hidden %d, intermediate %d, layers %d (%d sliding, %d full), heads %d, kv heads %d, head_dim %d,\n"
           "         qpas %g, window %d, attn softcap %g, rope theta %g, eps %g%s, position encoding %s\n",
           name, s->hidden_size, s->intermediate_size, s->num_hidden_layers, nslide, s->num_hidden_layers - nslide,
           s->num_attention_heads, s->num_key_value_heads, s->head_dim, s->query_pre_attn_scalar, s->sliding_window,
           s->attn_logit_softcapping, s->rope_theta, s->rms_norm_eps, s->qk_norm ? ", qk_norm" : "",
           t5g_position_encoding_name(s->position_encoding));
}

int cmd_info(int argc, char **argv) {
    const char *preset = NULL, *config = NULL, *model = NULL;
    int json = 0;
    arg_spec specs[] = {
        {"--preset", ARG_STR, &preset, "preset name"},
        {"--config", ARG_STR, &config, "HF config.json"},
        {"-m|--model", ARG_STR, &model, "HDF5 checkpoint"},
        {"--json", ARG_FLAG, &json, "print the config as JSON"},
    };
    int rc = args_parse(argc, argv, specs, 4, "usage: t5g info (--preset NAME | --config FILE | -m MODEL.h5) [--json]",
                        NULL, 0, NULL);
    if (rc) {
        if (rc < 0) t5g_print_error();
        return rc < 0 ? 2 : 0;
    }
    t5g_config c;
    if (cli_load_config(preset, config, model, &c)) {
        t5g_print_error();
        return 1;
    }
    if (json) {
        char *s = t5g_config_to_json(&c);
        if (!s) {
            t5g_print_error();
            return 1;
        }
        printf("%s\n", s);
        free(s);
        return 0;
    }
    long long n = (long long)t5g_config_param_count(&c);
    if (n < 0) {
        t5g_print_error();
        return 1;
    }
    printf("model    %s\n", preset ? preset : model ? model : config);
    printf("vocab    %d (encoder %d)\n", c.dec.vocab_size, c.enc.vocab_size);
    print_stack("encoder", &c.enc);
    print_stack("decoder", &c.dec);
    printf("final logit softcap %g; pad %d, bos %d, decoder start %d, eos", c.dec.final_logit_softcapping,
           c.pad_token_id, c.bos_token_id, c.decoder_start_token_id);
    for (int i = 0; i < c.n_eos; i++) printf(" %d", c.eos_token_ids[i]);
    printf("\nparameters %lld (%.3f B; LM head tied to the decoder embedding)\n", n, n / 1e9);
    printf("weights  %.2f GiB in float32, %.2f GiB in bfloat16\n", n * 4.0 / (1 << 30), n * 2.0 / (1 << 30));
    return 0;
}

int cmd_init(int argc, char **argv) {
    const char *preset = NULL, *config = NULL, *out = NULL, *dtype = "f32", *spm = NULL;
    int seed = 0;
    arg_spec specs[] = {
        {"--preset", ARG_STR, &preset, "preset name"},
        {"--config", ARG_STR, &config, "HF config.json"},
        {"--seed", ARG_INT, &seed, "random seed (default 0)"},
        {"-o|--out", ARG_STR, &out, "output HDF5 file"},
        {"--dtype", ARG_STR, &dtype, "f32 (default), bf16 or int8 (+ row scales) storage"},
        {"--tokenizer", ARG_STR, &spm, "SentencePiece .model to embed"},
    };
    int rc =
        args_parse(argc, argv, specs, 6,
                   "usage: t5g init (--preset NAME | --config FILE) [--seed N] -o MODEL.h5 [--dtype f32|bf16|int8]",
                   NULL, 0, NULL);
    if (rc) {
        if (rc < 0) t5g_print_error();
        return rc < 0 ? 2 : 0;
    }
    t5g_config c;
    if (!out) {
        fprintf(stderr, "t5g: error: -o MODEL.h5 is required\n");
        return 2;
    }
    if (strcmp(dtype, "f32") && strcmp(dtype, "bf16") && strcmp(dtype, "int8")) {
        fprintf(stderr, "t5g: error: --dtype must be f32, bf16 or int8\n");
        return 2;
    }
    long long params = cli_load_config(preset, config, NULL, &c) ? -1 : (long long)t5g_config_param_count(&c);
    if (params < 0) {
        t5g_print_error();
        return 1;
    }
    MPI_Init(&argc, &argv);
    t5g_cpu_setup(0);
    t5g_comm comm;
    t5g_comm_self(&comm);
    t5g_model *m = t5g_model_random(&c, (uint64_t)seed, &comm);
    int fail = !m;
    if (m && spm) {
        m->spm_model = (unsigned char *)t5g_read_file(spm, &m->spm_model_len);
        fail = !m->spm_model;
        t5g_tokenizer *tok = fail ? NULL : t5g_tokenizer_from_bytes(m->spm_model, m->spm_model_len); /* not junk */
        if (!fail && !tok) fail = T5G_FAIL("--tokenizer %s is not a SentencePiece model", spm) != 0;
        t5g_tokenizer_free(tok);
    }
    const char *stored = !strcmp(dtype, "bf16") ? "bfloat16" : !strcmp(dtype, "int8") ? "int8" : "float32";
    if (!fail) fail = t5g_model_save(m, out, stored) != 0;
    if (fail) t5g_print_error();
    else printf("wrote %s (%lld parameters, %s)\n", out, params, dtype);
    t5g_model_free(m);
    MPI_Finalize();
    return fail;
}

/* `t5g model sha256|verify -m MODEL.h5`: the checkpoint's content sha256 (docs/checkpoint.md). */
int cmd_model(int argc, char **argv) {
    const char *sub = argc > 1 ? argv[1] : "";
    int verify = !strcmp(sub, "verify");
    if (!verify && strcmp(sub, "sha256")) {
        int help = !strcmp(sub, "-h") || !strcmp(sub, "--help");
        fprintf(
            help ? stdout : stderr,
            "%susage: t5g model sha256 -m MODEL.h5   the content sha256 stored in the checkpoint (computed, with a "
            "note, if it has none)\n       t5g model verify -m MODEL.h5   read every tensor, recompute the hash and "
            "compare it with the stored one\n",
            help ? "" : "t5g: error: t5g model needs sha256 or verify\n");
        return help ? 0 : 2;
    }
    const char *model = NULL;
    int quiet = 0;
    arg_spec specs[] = {
        {"-m|--model", ARG_STR, &model, "HDF5 checkpoint"},
        {"-q|--quiet", ARG_FLAG, &quiet, "no progress output"},
    };
    int rc =
        args_parse(argc - 1, argv + 1, specs, 2,
                   verify ? "usage: t5g model verify -m MODEL.h5 [-q]" : "usage: t5g model sha256 -m MODEL.h5 [-q]",
                   NULL, 0, NULL);
    if (rc) {
        if (rc < 0) t5g_print_error();
        return rc < 0 ? 2 : 0;
    }
    if (!model) {
        fprintf(stderr, "t5g: error: -m MODEL.h5 is required\n");
        return 2;
    }
    t5g_ckpt *c = t5g_ckpt_open(model, MPI_COMM_SELF);
    if (!c) {
        t5g_print_error();
        return 1;
    }
    char stored[65] = "", now[65] = "";
    int has = t5g_ckpt_stored_sha256(c, stored);
    rc = has < 0;
    if (!rc && (verify || has == 1)) {
        if (has == 1)
            fprintf(stderr,
                    "t5g: note: %s has no stored content sha256 (written before t5g stored one); computing it\n",
                    model);
        rc = t5g_ckpt_compute_sha256(c, now, !quiet) != 0;
    }
    if (!rc && verify && has == 0 && strcmp(now, stored))
        rc = T5G_FAIL("%s: the content sha256 of its tensors and attributes is %s, but the file stores %s: something "
                      "changed after it was written; re-convert or re-copy it",
                      model, now, stored) != 0;
    t5g_ckpt_close(c);
    if (rc) {
        t5g_print_error();
        return 1;
    }
    if (!verify) printf("%s  %s\n", has == 0 ? stored : now, model);
    else if (has == 0) printf("ok: %s: content sha256 %s matches the stored one (every chunk read)\n", model, now);
    else printf("%s: every chunk read; content sha256 %s (nothing stored to compare with)\n", model, now);
    return 0;
}
