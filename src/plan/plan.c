/* plan.c - see plan.h.  The throughput model (docs/planner.md) is a sum of phases: GEMMs
 * (roofline: FLOPs at the GEMM rate or weight bytes at the bandwidth, whichever is slower),
 * attention over the caches, norms and elementwise passes, the vocabulary statistics, and
 * latency + bytes / bandwidth per collective, inside or across nodes.  The measurements that
 * fill a machine file are in calibrate.c; bench/plan_accuracy.sh compares the model with
 * measured runs. */
#include "plan/plan.h"
#include "core/json.h"
#include "core/err.h"
#include "core/fileio.h"
#include "model/state.h"
#include "model/scalapack_layout.h"
#include <cJSON.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- machine file ----------------------------------------------------------------------- */

typedef struct {
    const char *key, *alias;
    size_t off;
    int is_int, required;
} mkey;
#define MD(f) offsetof(t5g_machine, f)
static const mkey machine_keys[] = {
    {"cores", NULL, MD(cores), 1, 0},
    {"threads", NULL, MD(threads), 1, 0},
    {"gemm_gflops", NULL, MD(gemm_gflops), 0, 1},
    {"skinny_gflops", NULL, MD(skinny_gflops), 0, 1},
    {"gemm_gflops_node", NULL, MD(gemm_gflops_node), 0, 0},
    {"gemm_gflops_bf16", NULL, MD(gemm_gflops_bf16), 0, 0},
    {"gemm_gflops_int8", NULL, MD(gemm_gflops_int8), 0, 0},
    {"mem_bw_gbs", NULL, MD(mem_bw_gbs), 0, 1},
    {"mem_bw_core_gbs", NULL, MD(mem_bw_core_gbs), 0, 0},
    {"intra_latency_us", "ar_latency_us", MD(ar_latency_us), 0, 1},
    {"intra_bw_gbs", "ar_bw_gbs", MD(ar_bw_gbs), 0, 1},
    {"intra_measured", "measured_allreduce", MD(measured_allreduce), 1, 0},
    {"inter_latency_us", NULL, MD(inter_latency_us), 0, 0},
    {"inter_bw_gbs", NULL, MD(inter_bw_gbs), 0, 0},
    {"node_mem_gib", NULL, MD(node_mem_gib), 0, 0},
    {"simulated_latency_us", NULL, MD(sim_latency_us), 0, 0},
    {"cores_got", NULL, MD(cores_got), 0, 0},
    {"intra_sync_us", NULL, MD(intra_sync_us), 0, 0},
    {"inter_sync_us", NULL, MD(inter_sync_us), 0, 0},
    {"oversub_sync_us", NULL, MD(oversub_sync_us), 0, 0},
    {"oversub_ranks", NULL, MD(oversub_ranks), 1, 0},
    {"oversub_latency_us", NULL, MD(oversub_latency_us), 0, 0},
    {"oversub_bw_gbs", NULL, MD(oversub_bw_gbs), 0, 0},
};
#define N_MKEYS ((int)(sizeof machine_keys / sizeof machine_keys[0]))

int t5g_machine_save(const t5g_machine *m, const char *path) {
    t5g_outfile o;
    T5G_TRY(t5g_out_open(&o, path, "w"));
    fprintf(o.f, "{\n  \"comment\": \"t5g calibrate: GEMM rates per core, bandwidths in GB/s, latencies in us "
                 "(docs/planner.md)\"");
    for (int i = 0; i < N_MKEYS; i++) {
        const char *p = (const char *)m + machine_keys[i].off;
        if (machine_keys[i].is_int) fprintf(o.f, ",\n  \"%s\": %d", machine_keys[i].key, *(const int *)p);
        else fprintf(o.f, ",\n  \"%s\": %.4g", machine_keys[i].key, *(const double *)p);
    }
    fprintf(o.f, "\n}\n");
    return t5g_out_commit(&o);
}

static const mkey *find_key(const char *name) {
    for (int i = 0; i < N_MKEYS; i++)
        if (!strcmp(name, machine_keys[i].key) || (machine_keys[i].alias && !strcmp(name, machine_keys[i].alias)))
            return &machine_keys[i];
    return NULL;
}

int t5g_machine_load(t5g_machine *m, const char *path) {
    memset(m, 0, sizeof *m);
    char *text = t5g_read_file(path, NULL);
    if (!text) return -1;
    int oom;
    cJSON *j = t5g_json_parse(text, strlen(text), NULL, 0, &oom, path);
    free(text);
    if (oom) return -1;
    T5G_CHECK(cJSON_IsObject(j),
              "%s is not a JSON object (write it with t5g calibrate -o, or by hand: docs/planner.md)", path);
    int rc = 0, seen[N_MKEYS] = {0};
    for (const cJSON *v = j->child; v && !rc; v = v->next) {
        if (!strcmp(v->string, "comment")) continue;
        const mkey *k = find_key(v->string);
        if (!k) {
            rc = T5G_FAIL("%s: unknown key \"%s\" (the keys are listed in docs/planner.md)", path, v->string);
            break;
        }
        if (!cJSON_IsNumber(v) || v->valuedouble < 0 || (k->required && v->valuedouble <= 0)) {
            rc = T5G_FAIL("%s: \"%s\" must be a %s number", path, v->string, k->required ? "positive" : "non-negative");
            break;
        }
        char *p = (char *)m + k->off;
        if (k->is_int) *(int *)p = v->valueint;
        else *(double *)p = v->valuedouble;
        seen[k - machine_keys] = 1;
    }
    for (int i = 0; i < N_MKEYS && !rc; i++)
        if (machine_keys[i].required && !seen[i])
            rc = T5G_FAIL("%s: \"%s\" missing (rerun t5g calibrate -o, or add it by hand: docs/planner.md)", path,
                          machine_keys[i].key);
    if (!rc && (m->inter_latency_us > 0) != (m->inter_bw_gbs > 0))
        rc = T5G_FAIL("%s: give both inter_latency_us and inter_bw_gbs, or neither", path);
    if (!rc && (m->oversub_ranks > 0) != (m->oversub_latency_us > 0 && m->oversub_bw_gbs > 0))
        rc = T5G_FAIL("%s: give oversub_ranks, oversub_latency_us and oversub_bw_gbs together, or none", path);
    if (!m->threads) m->threads = 1;
    cJSON_Delete(j);
    return rc;
}

/* ---- the plan ---------------------------------------------------------------------------- */

/* weights of a stack's layers on a rank (no embedding), elements */
static int64_t layer_elems(const t5g_stack_config *s, const t5g_shard *sh, int enc_H, int cross) {
    int64_t H = s->hidden_size, hd = s->head_dim;
    int64_t attn = (int64_t)sh->nh * hd * H * 2 + (int64_t)sh->nkv * hd * H * 2;
    int64_t cr = cross ? (int64_t)sh->nh * hd * H * 2 + (int64_t)sh->nkv * hd * enc_H * 2 : 0;
    return attn + cr + 3 * (int64_t)sh->ni * H;
}

/* nodes spanned by the widest TP group when ranks fill node after node */
static int group_nodes(int T, int world, int rpn) {
    int most = 1;
    for (int g = 0; g < world / T; g++) {
        int n = (g * T + T - 1) / rpn - (g * T) / rpn + 1;
        if (n > most) most = n;
    }
    return most;
}

double t5g_allreduce_cost(const t5g_machine *m, int T, int nodes, int rpn, double bytes) {
    if (T <= 1) return 0;
    int per_node = (T + nodes - 1) / nodes;
    double steps_in = per_node > 1 ? ceil(log2(per_node)) : 0, steps_x = nodes > 1 ? ceil(log2(nodes)) : 0;
    double lat_in = m->ar_latency_us, bw_in = m->ar_bw_gbs;
    int cores = m->cores > 0 ? m->cores : m->threads;
    int oversub = rpn > cores && per_node > 1 && m->oversub_ranks > 0;
    if (oversub) {
        /* more ranks than cores: each step waits for a descheduled rank, as measured over
         * oversub_ranks ranks (per step of their recursive doubling) */
        lat_in = m->oversub_latency_us / fmax(1, ceil(log2(m->oversub_ranks)));
        bw_in = m->oversub_bw_gbs * 2.0 * (m->oversub_ranks - 1) / m->oversub_ranks; /* back to 2-rank terms */
    }
    double bw = (nodes > 1 ? m->inter_bw_gbs : bw_in) * 1e9;
    double lat = steps_in * lat_in * 1e-6 + steps_x * m->inter_latency_us * 1e-6;
    /* between computing ranks a collective also waits for the slowest rank to be scheduled
     * (measure_sync; ~0 on a dedicated node) */
    double sync = nodes > 1 ? m->inter_sync_us : oversub ? m->oversub_sync_us : m->intra_sync_us;
    /* the calibration moved 1x the buffer between 2 ranks; a T-rank ring moves 2(T-1)/T x */
    return fmax(lat, sync * 1e-6) + bytes * 2.0 * (T - 1) / T / bw;
}

typedef struct {
    double rate, rate_f32, skinny, bw, cores;
} rank_speed;

static rank_speed speed_of(const t5g_machine *m, int rpn, int wdtype) {
    rank_speed r;
    int cores = m->cores > 0 ? m->cores : m->threads;
    r.cores = m->threads > 0 ? m->threads : 1;
    if (r.cores * rpn > cores) r.cores = (double)cores / rpn; /* oversubscribed: a share of the cores */
    double g = wdtype == T5G_DT_BF16 && m->gemm_gflops_bf16 > 0   ? m->gemm_gflops_bf16
               : wdtype == T5G_DT_INT8 && m->gemm_gflops_int8 > 0 ? m->gemm_gflops_int8
                                                                  : m->gemm_gflops;
    /* a rank computes at its cores' speed, at most its share of what the node's cores do together */
    double node_share = m->gemm_gflops_node > 0 ? m->gemm_gflops_node / rpn / (m->gemm_gflops * r.cores) : 1;
    if (node_share > 1) node_share = 1;
    r.rate = g * 1e9 * r.cores * node_share;
    r.rate_f32 = m->gemm_gflops * 1e9 * r.cores * node_share;
    r.skinny = m->skinny_gflops * 1e9 * r.cores;
    /* a rank streams at its cores' speed, at most its share of the node's bandwidth */
    double core_bw = m->mem_bw_core_gbs > 0 ? m->mem_bw_core_gbs : m->mem_bw_gbs / cores;
    r.bw = fmin(core_bw * r.cores, m->mem_bw_gbs / rpn) * 1e9;
    return r;
}

double t5g_enc_proj_2d_seconds(const t5g_config *c, const t5g_machine *m, const t5g_plan *p) {
    /* the cost model lives with the layout (src/model/scalapack_layout.c); float32 weights only */
    if (!t5g_enc2d_built_in() || p->tp < 2 || p->wdtype != T5G_DT_F32) return -1;
    const t5g_stack_config *s = &c->enc;
    rank_speed v = speed_of(m, p->ranks_per_node, T5G_DT_F32);
    t5g_enc2d_cost_in in = {.tokens = (int64_t)p->batch * p->src_len,
                            .hidden = s->hidden_size,
                            .q_width = s->num_attention_heads * s->head_dim,
                            .kv_width = s->num_key_value_heads * s->head_dim,
                            .ffn = s->intermediate_size,
                            .layers = s->num_hidden_layers,
                            .p = p->tp,
                            .ranks_per_node = p->ranks_per_node,
                            .gemm_gflops = v.rate / 1e9,
                            .intra_lat_us = m->ar_latency_us,
                            .intra_bw_gbs = m->ar_bw_gbs,
                            .inter_lat_us = m->inter_latency_us,
                            .inter_bw_gbs = m->inter_bw_gbs};
    t5g_enc2d_cost k;
    t5g_enc2d_predict(&in, &k);
    /* + the embedding's all-reduce, which stays 1-D */
    return k.s_2d +
           t5g_allreduce_cost(m, p->tp, p->tp_nodes, p->ranks_per_node, (double)in.tokens * s->hidden_size * 4);
}

/* one encoder pass of batch x src_len tokens on one TP group */
static double predict_encoder(const t5g_config *c, const t5g_machine *m, const t5g_shard *E, const t5g_shard *D,
                              t5g_plan *p) {
    rank_speed v = speed_of(m, p->ranks_per_node, p->wdtype);
    const t5g_stack_config *s = &c->enc;
    double N = (double)p->batch * p->src_len, S = p->src_len, H = s->hidden_size, hd = s->head_dim,
           L = s->num_hidden_layers;
    /* the encoder's layers, and the cross-attention K/V of every decoder layer (t5g_encode
     * projects them once per source) */
    double cross_kv = 2.0 * D->nkv * c->dec.head_dim * H * c->dec.num_hidden_layers;
    double w = (double)layer_elems(s, E, 0, 0) * L + cross_kv, wbytes = w * (p->wdtype == T5G_DT_INT8   ? 1
                                                                             : p->wdtype == T5G_DT_BF16 ? 2
                                                                                                        : 4);
    double gemm = fmax(2.0 * N * w / v.rate, wbytes / v.bw);
    double attn = 4.0 * N * S * E->nh * hd * L / v.rate_f32;
    /* per layer: 4 RMSNorms (read + write), 2 residual adds (2 reads + write), the gated
     * activation over the FFN width, RoPE on q and k, softmax over the scores (write, read, write) */
    double bytes =
        4.0 * L * (N * H * (4 * 2 + 2 * 3) + N * E->ni * 3 + N * (E->nh + E->nkv) * hd * 2 + N * S * E->nh * 3);
    double norm = bytes / v.bw;
    double comm =
        p->tp > 1 ? (2.0 * L + 1) * t5g_allreduce_cost(m, p->tp, p->tp_nodes, p->ranks_per_node, N * H * 4) : 0;
    /* the 2-D layout replaces the projections and their all-reduces where it predicts a win */
    double two_d = t5g_enc_proj_2d_seconds(c, m, p);
    p->enc_proj = T5G_ENC_PROJ_1D;
    p->enc_proj_1d_ms = (gemm + comm) * 1e3;
    p->enc_proj_2d_ms = two_d < 0 ? -1 : two_d * 1e3;
    if (two_d >= 0 && two_d < gemm + comm) {
        p->enc_proj = T5G_ENC_PROJ_2D;
        gemm = two_d;
        comm = 0;
    }
    p->enc_gemm_ms = gemm * 1e3;
    p->enc_attn_ms = attn * 1e3;
    p->enc_norm_ms = norm * 1e3;
    p->enc_comm_ms = comm * 1e3;
    return gemm + attn + norm + comm;
}

/* one decoder step of batch x beams rows on one TP group */
static double predict_step(const t5g_config *c, const t5g_machine *m, const t5g_shard *D, t5g_plan *p) {
    rank_speed v = speed_of(m, p->ranks_per_node, p->wdtype);
    const t5g_stack_config *s = &c->dec;
    double R = (double)p->batch * p->beams, Hd = s->hidden_size, hd = s->head_dim, L = s->num_hidden_layers;
    double He = c->enc.hidden_size;
    /* a step reads the decoder's matrices and the LM head in their in-memory dtype */
    /* the cross-attention K/V projections ran at encode time: not read by a step */
    double cross_kv = 2.0 * D->nkv * hd * He;
    double welems = ((double)layer_elems(s, D, (int)He, 1) - cross_kv) * L + (double)D->nv * Hd;
    double wbytes = welems * (p->wdtype == T5G_DT_INT8 ? 1 : p->wdtype == T5G_DT_BF16 ? 2 : 4);
    double frac = R >= 64 ? 1.0 : R / 64.0; /* the GEMM rate grows from skinny (M=8) to large */
    double rate = v.skinny + (v.rate - v.skinny) * frac;
    double t_mem = wbytes / v.bw, t_w = fmax(t_mem, 2.0 * R * welems / rate);
    /* attention over the caches: self (half the output on average) + cross, f32 K and V */
    double keys = p->tgt_len / 2.0 + p->src_len;
    double t_attn = fmax(R * keys * D->nkv * hd * 2 * 4 * L / v.bw, 4.0 * R * keys * D->nh * hd * L / v.rate_f32);
    double t_norm = 4.0 * L * R * (Hd * (6 * 2 + 3 * 3) + D->ni * 3) / v.bw;
    /* vocabulary statistics over this rank's logits: argmax (1 read), or log-softmax and top-k
     * (3 reads + one exp per logit, ~0.5 ns per core) */
    double t_vocab = p->beams > 1 ? R * D->nv * (12.0 / v.bw + 0.5e-9 / v.cores) : R * D->nv * 4.0 / v.bw;
    double t_comm = 0;
    if (p->tp > 1) {
        t_comm = (3.0 * L + 1) * t5g_allreduce_cost(m, p->tp, p->tp_nodes, p->ranks_per_node, R * Hd * 4);
        t_comm += (p->beams > 1 ? 3 : 1) *
                  t5g_allreduce_cost(m, p->tp, p->tp_nodes, p->ranks_per_node, R * 8.0 * (p->beams > 1 ? p->beams : 1));
    }
    p->step_mem_ms = t_w * 1e3;
    p->step_attn_ms = t_attn * 1e3;
    p->step_norm_ms = t_norm * 1e3;
    p->step_vocab_ms = t_vocab * 1e3;
    p->step_comm_ms = t_comm * 1e3;
    return t_w + t_attn + t_norm + t_vocab + t_comm;
}

static int plan_memory(const t5g_config *c, t5g_plan *p, t5g_shard *E, t5g_shard *D) {
    int T = p->tp;
    /* the busiest rank: the first one gets the largest uneven FFN / vocab share */
    p->weights = p->weights_replicated = 0;
    int64_t best = -1;
    for (int r = 0; r < T; r++) {
        int64_t e, rep, bytes, stored;
        T5G_TRY(t5g_weight_share(c, r, T, &e, &rep));
        T5G_TRY(t5g_weight_bytes(c, r, T, (t5g_dtype)p->wdtype, &bytes)); /* the arena's own size */
        T5G_TRY(t5g_weight_bytes(c, r, T, T5G_DT_INT8, &stored));
        if (e > best) {
            best = e;
            p->weights = bytes;
            p->weights_replicated = 4 * rep; /* norms and biases: float32 in every dtype */
            p->checkpoint_read = p->dtype_bytes == 1 ? stored : (int64_t)p->dtype_bytes * e;
            t5g_shard_plan(&c->enc, r, T, E);
            t5g_shard_plan(&c->dec, r, T, D);
        }
    }
    int rows = p->batch * p->beams;
    t5g_state_mem sm;
    t5g_state_memory(c, E, D, p->batch, p->src_len, rows, p->tgt_len + 1, &sm);
    p->cross_kv = sm.cross_kv;
    p->self_kv = sm.self_kv;
    p->activations = sm.activations;
    p->logits = 4LL * rows * D->nv * 2; /* step logits + search scratch */
    p->overhead = 256LL << 20;          /* MPI buffers, code, allocator slack */
    p->total = p->weights + sm.total + p->logits + p->overhead;
    p->node_total = p->total * p->ranks_per_node; /* every rank counted as the busiest */
    return 0;
}

int t5g_plan_compute(const t5g_config *c, const t5g_machine *mach, t5g_plan *p) {
    T5G_CHECK(c && p, "t5g_plan_compute: NULL argument");
    int T = p->tp, world = p->nodes * p->ranks_per_node;
    T5G_CHECK(p->nodes >= 1 && p->ranks_per_node >= 1, "--nodes and --ranks-per-node must be >= 1");
    T5G_CHECK(T >= 1 && world % T == 0, "TP size %d does not divide the %d ranks (%d nodes x %d)", T, world, p->nodes,
              p->ranks_per_node);
    T5G_CHECK(p->batch >= 1 && p->src_len >= 1 && p->tgt_len >= 1 && p->beams >= 1,
              "batch, lengths and beams must be >= 1");
    p->tp_nodes = group_nodes(T, world, p->ranks_per_node);
    t5g_shard E, D;
    T5G_TRY(plan_memory(c, p, &E, &D));
    /* communication: 2 all-reduces per encoder layer + embedding; 3 per decoder layer + embedding + LM-head stats */
    int Le = c->enc.num_hidden_layers, Ld = c->dec.num_hidden_layers;
    int64_t He = c->enc.hidden_size, Hd = c->dec.hidden_size;
    p->allreduces_per_enc_pass = T > 1 ? 2.0 * Le + 1 : 0;
    p->bytes_per_enc_token = T > 1 ? (2.0 * Le + 1) * He * 4 : 0;
    p->allreduces_per_step = T > 1 ? 3.0 * Ld + 1 + 3 : 0;
    p->bytes_per_gen_token = T > 1 ? ((3.0 * Ld + 1) * Hd * 4 + 24.0) * p->beams : 0;
    p->predicted = 0;
    if (!mach) return 0;
    T5G_CHECK(p->tp_nodes == 1 || mach->inter_latency_us > 0,
              "TP %d spans %d nodes but the machine file has no inter-node numbers (inter_latency_us, inter_bw_gbs): "
              "run t5g calibrate on 2 nodes or add the site's numbers (docs/planner.md)",
              T, p->tp_nodes);
    double enc = predict_encoder(c, mach, &E, &D, p), step = predict_step(c, mach, &D, p);
    p->enc_tokens_per_s = (double)p->batch * p->src_len / enc;
    p->step_ms = step * 1e3;
    p->gen_tokens_per_s = p->batch / step;
    p->requests_per_s = (double)(world / T) * p->batch / (enc + p->tgt_len * step);
    p->predicted = 1;
    return 0;
}

int t5g_plan_search(const t5g_config *c, const t5g_machine *mach, const t5g_plan *p, int64_t mem_per_rank,
                    t5g_plan *best, t5g_plan *cand, int *ncand) {
    int world = p->nodes * p->ranks_per_node, rpn = p->ranks_per_node, found = 0, n = 0;
    double node_mem = mach && mach->node_mem_gib > 0 ? mach->node_mem_gib * 1073741824.0 : 0;
    for (int T = 1; T <= world; T++) {
        if (world % T || (rpn % T && T % rpn)) continue; /* TP groups whole inside nodes, or whole nodes */
        t5g_plan q = *p;
        q.tp = T;
        if (t5g_plan_compute(c, mach, &q)) continue; /* heads that do not split T ways, no inter-node numbers */
        if (cand && n < 32) cand[n] = q;
        n++;
        int fits = (!mem_per_rank || q.total <= mem_per_rank) && (!node_mem || q.node_total <= node_mem);
        if (!fits) continue;
        if (!found || (mach && q.requests_per_s > best->requests_per_s * 1.0001)) *best = q;
        found = 1;
        if (!mach) break; /* memory only: the smallest TP that fits */
    }
    if (ncand) *ncand = n < 32 ? n : 32;
    t5g_clear_error();
    if (found) return 0;
    if (!mem_per_rank && !node_mem)
        return T5G_FAIL(
            "no valid layout for %d nodes x %d ranks: no TP size splits the model with its groups inside nodes or "
            "over whole nodes%s; give --tp, or other --ranks-per-node",
            p->nodes, rpn,
            mach && mach->inter_latency_us <= 0 ? " (TP across nodes needs inter-node numbers in the machine file)"
                                                : "");
    char lim[128] = "";
    if (mem_per_rank) snprintf(lim, sizeof lim, "%.2f GiB per rank", mem_per_rank / 1073741824.0);
    if (node_mem)
        snprintf(lim + strlen(lim), sizeof lim - strlen(lim), "%s%.1f GiB per node", mem_per_rank ? " and " : "",
                 node_mem / 1073741824.0);
    return T5G_FAIL("the model does not fit in %s with any TP size up to %d ranks (%d nodes x %d); "
                    "use more nodes or ranks per node, or a smaller --batch",
                    lim, world, p->nodes, rpn);
}
