/* common.c - see common.h */
#include "cli/common.h"
#include "model/scalapack_layout.h"
#include "core/fileio.h"
#include "io/ckpt.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cli_mpi_begin(int *argc, char ***argv, int tp, int threads, t5g_comm *comm) {
    int inited = 0;
    MPI_Initialized(&inited);
    if (!inited) MPI_Init(argc, argv);
    MPI_Comm node; /* ranks on this node share its cores */
    int local = 1;
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node);
    MPI_Comm_size(node, &local);
    MPI_Comm_free(&node);
    t5g_cpu_setup_ranks(threads, local);
    return t5g_comm_init(comm, tp);
}

int cli_mpi_end(t5g_comm *comm, int failed) {
    /* every rank learns whether anyone failed, so all exit non-zero together and nobody hangs;
       the lowest failing rank prints its message (so a layout error shows once, from rank 0) */
    int rank = 0, size = 1, first = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    int mine = failed ? rank : size;
    MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    if (failed && rank == first) {
        if (size > 1 && rank != 0) fprintf(stderr, "t5g: error (rank %d): %s\n", rank, t5g_last_error());
        else t5g_print_error();
    }
    if (comm) t5g_comm_free(comm);
    MPI_Finalize();
    return first < size ? 1 : 0;
}

int cli_load_config(const char *preset, const char *config_file, const char *model_file, t5g_config *cfg) {
    int n = !!preset + !!config_file + !!model_file;
    T5G_CHECK(n == 1, "give exactly one of --preset NAME, --config FILE or -m MODEL.h5");
    if (preset) return t5g_config_preset(preset, cfg);
    if (config_file) {
        char *json = t5g_read_file(config_file, NULL);
        if (!json) return -1;
        int rc = t5g_config_from_json(json, cfg);
        free(json);
        return rc;
    }
    t5g_ckpt *ck = t5g_ckpt_open(model_file, MPI_COMM_SELF);
    if (!ck) return -1;
    int rc = t5g_config_from_json(t5g_ckpt_config_json(ck), cfg);
    t5g_ckpt_close(ck);
    return rc;
}

static const char *g_compute_type;  /* --compute-type, taken out of argv by cli_take_compute_type */
static t5g_enc_layout g_enc_layout; /* --encoder-layout (default 1d) */

/* Take `name VALUE` / `name=VALUE` out of argv (before any --); *value stays NULL when absent.
 * Returns 0, or -1 after printing one error line (no value, given twice). */
static int take_option(int *argc, char **argv, const char *name, const char *values, const char **value) {
    int out = 1, options_done = 0;
    size_t len = strlen(name);
    *value = NULL;
    for (int i = 1; i < *argc; i++) {
        const char *v = NULL;
        if (options_done || !strcmp(argv[i], "--")) { /* after --: positional, left for args_parse */
            options_done = 1;
            argv[out++] = argv[i];
            continue;
        }
        if (!strcmp(argv[i], name)) {
            if (i + 1 >= *argc) {
                fprintf(stderr, "t5g: error: %s needs a value: %s\n", name, values);
                return -1;
            }
            v = argv[++i];
        } else if (!strncmp(argv[i], name, len) && argv[i][len] == '=') {
            v = argv[i] + len + 1;
        } else {
            argv[out++] = argv[i];
            continue;
        }
        if (*value) {
            fprintf(stderr, "t5g: error: option %s is given twice; give it once\n", name);
            return -1;
        }
        *value = v;
    }
    *argc = out;
    argv[out] = NULL;
    return 0;
}

int cli_take_compute_type(int *argc, char **argv) {
    const char *v;
    T5G_TRY(take_option(argc, argv, "--compute-type", "f32, bf16, bf16-act or int8", &v));
    t5g_dtype dt;
    int act;
    if (v && t5g_compute_type_parse(v, &dt, &act)) {
        t5g_print_error();
        return -1;
    }
    g_compute_type = v;
    return 0;
}

int cli_take_encoder_layout(int *argc, char **argv) {
    const char *v;
    T5G_TRY(take_option(argc, argv, "--encoder-layout", "1d, 2d, 2d:RxC or 2d:RxC:NB", &v));
    if (v && t5g_enc_layout_parse(v, &g_enc_layout)) {
        t5g_print_error();
        return -1;
    }
    if (g_enc_layout.two_d && !t5g_enc2d_built_in()) {
        fprintf(stderr,
                "t5g: error: --encoder-layout %s needs ScaLAPACK, which this build does not have: install "
                "libscalapack-openmpi-dev (make deps) and rebuild\n",
                v);
        return -1;
    }
    return 0;
}

t5g_model *cli_load_model(const char *path, const char *device, t5g_comm *comm, int progress) {
    t5g_ckpt_show_load_progress(progress && comm->world_rank == 0);
    const char *lr = getenv("OMPI_COMM_WORLD_LOCAL_RANK");
    if (!lr) lr = getenv("SLURM_LOCALID");
    const t5g_backend *be = t5g_backend_by_name(device, lr ? atoi(lr) : comm->world_rank);
    t5g_model *m = be ? t5g_model_load_as(path, comm, be, g_compute_type) : NULL;
    if (m && t5g_enc2d_attach(m, &g_enc_layout)) {
        t5g_model_free(m);
        return NULL;
    }
    if (m && m->enc2d && progress && comm->world_rank == 0) {
        char d[96];
        fprintf(stderr, "t5g: encoder layout %s\n", t5g_enc2d_describe(m, d, sizeof d));
    }
    return m;
}
