/* example.c - the README's library example (compiled and run by tests/shell/test_cli.sh). */
#include "t5g.h"   /* mpicc -fopenmp -Isrc -Ieval docs/example.c build/libt5g.a $(make -s print-ldlibs) */
#include <stdlib.h>
int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    t5g_cpu_setup(0);
    t5g_comm comm; t5g_comm_self(&comm);                 /* or t5g_comm_init(&comm, tp) under mpirun */
    t5g_model *m = t5g_model_load("models/demo/t5gemma-demo.h5", &comm);
    if (!m) { t5g_print_error(); return 1; }
    int32_t enc[4] = {2, 651, 1230, 17}, dec[2] = {2, 88};
    float *logits = malloc(sizeof(float) * 2 * m->cfg.dec.vocab_size);
    t5g_backbone_in in = {.B = 1, .Le = 4, .Ld = 2, .encoder_token_ids = enc, .decoder_token_ids = dec};
    t5g_backbone_out out = {.logits = logits};           /* encoder/decoder sequence outputs optional */
    if (t5g_backbone(m, &in, &out)) t5g_print_error();
    t5g_model_free(m);
    MPI_Finalize();
    return 0;
}
