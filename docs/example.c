/* example.c - the README's library example (tests/shell/test_cli.sh builds it in the tree,
 * tests/shell/test_install.sh against an installed copy).  Against the source tree:
 *   mpicc -Isrc docs/example.c build/libt5g.a $(make -s print-ldlibs)
 * against `make install PREFIX=P` (PKG_CONFIG_PATH=P/lib/pkgconfig; run with LD_LIBRARY_PATH=P/lib):
 *   mpicc example.c $(pkg-config --cflags --libs t5g)
 *   mpicc example.c $(pkg-config --cflags --libs --static t5g | sed 's/-lt5g\b/-l:libt5g.a/') */
#include "t5g.h"
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    t5g_cpu_setup(0);
    t5g_comm comm; t5g_comm_self(&comm);                 /* or t5g_comm_init(&comm, tp) under mpirun */
    t5g_model *m = t5g_model_load(argc > 1 ? argv[1] : "models/demo/t5gemma-demo.h5", &comm);
    if (!m) { t5g_print_error(); MPI_Finalize(); return 1; }
    int V = m->cfg.dec.vocab_size;
    int32_t enc[4] = {2, 651, 1230, 17}, dec[2] = {2, 88};
    float *logits = malloc(sizeof(float) * 2 * V);
    t5g_backbone_in in = {.B = 1, .Le = 4, .Ld = 2, .encoder_token_ids = enc, .decoder_token_ids = dec};
    t5g_backbone_out out = {.logits = logits};           /* encoder/decoder sequence outputs optional */
    int rc = t5g_backbone(m, &in, &out);
    if (rc) t5g_print_error();
    for (int t = 0; t < 2 && !rc; t++) {                 /* each position's most likely next token */
        int best = 0;
        for (int v = 1; v < V; v++) if (logits[t * V + v] > logits[t * V + best]) best = v;
        printf("logits position %d: argmax %d (%.4f)\n", t, best, logits[t * V + best]);
    }
    free(logits);
    t5g_model_free(m);
    MPI_Finalize();
    return rc ? 1 : 0;
}
