# shellcheck shell=bash
# jobs/common.sh - shared by the job scripts in jobs/ (sourced, not run).  See jobs/README.md.
#
# A job script sets its defaults (PRESET, MODEL, DATA, ...) and calls job_eval or job_generate.
# Both: find the allocation (SLURM, or `mpirun -np NP` on a workstation), set BLIS threads, run
# `t5g plan` for that allocation and stop with a clear message if the model does not fit, stop
# there if PLAN_ONLY=1, then launch t5g on every rank.  Output folders depend only on the job
# name and RUN, so a requeued or resubmitted job resumes where it stopped.

T5G_HOME=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
T5G=${T5G:-$T5G_HOME/build/t5g}
JOB_NAME=${SLURM_JOB_NAME:-$(basename "$0" .sh)}

job_log() { echo "[$JOB_NAME $(date +%H:%M:%S)] $*"; }
job_die() { echo "[$JOB_NAME $(date +%H:%M:%S)] error: $*" >&2; exit 1; }
# job_run CMD...: log the command, then run it
job_run() { job_log "+ $*"; "$@"; }

# job_bytes SIZE: "64G", "512M", "2T", "1073741824" -> bytes
job_bytes() {
    local n=${1%[KkMmGgTt]} mult=1
    case $1 in *[Kk]) mult=$((1 << 10)) ;; *[Mm]) mult=$((1 << 20)) ;; *[Gg]) mult=$((1 << 30)) ;; *[Tt]) mult=$((1 << 40)) ;; esac
    [[ $n =~ ^[0-9]+$ ]] || job_die "'$1' is not a size (bytes, or a number with K, M, G or T)"
    echo $((n * mult))
}

# job_gib BYTES: bytes as GiB with one decimal, for messages
job_gib() { awk -v b="$1" 'BEGIN { printf "%.1f GiB", b / 1073741824 }'; }

# job_meminfo FIELD: a /proc/meminfo field in bytes
job_meminfo() { awk -v f="$1:" '$1 == f { printf "%.0f", $2 * 1024 }' /proc/meminfo; }  # %d overflows in mawk

# job_cores: usable cores here (GNU nproc would follow OMP_NUM_THREADS)
job_cores() { env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc; }

# job_layout: sets NODES, RANKS_PER_NODE, RANKS, THREADS, MEM_PER_RANK_B for this allocation
job_layout() {
    if [ -n "${SLURM_JOB_ID:-}" ]; then
        NODES=${SLURM_JOB_NUM_NODES:-${SLURM_NNODES:-1}}
        # SLURM_TASKS_PER_NODE looks like "2(x4)" or "3,2"; t5g needs the same count on every node
        RANKS_PER_NODE=${SLURM_NTASKS_PER_NODE:-$(echo "${SLURM_TASKS_PER_NODE:-1}" | sed 's/(x[0-9]*)//g' | tr ',' '\n' | sort -n | tail -1)}
        RANKS=${SLURM_NTASKS:-$((NODES * RANKS_PER_NODE))}
        [ $((NODES * RANKS_PER_NODE)) -eq "$RANKS" ] ||
            job_die "the allocation has $RANKS tasks on $NODES nodes, unevenly (SLURM_TASKS_PER_NODE=${SLURM_TASKS_PER_NODE:-?}); submit with --ntasks-per-node"
        THREADS=${THREADS:-${SLURM_CPUS_PER_TASK:-1}}
        # memory per rank: --mem-per-cpu, else --mem (per node) shared by the node's ranks, else
        # (--mem=0 or no memory accounting) this node's whole memory
        if [ -n "${MEM_PER_RANK:-}" ]; then
            MEM_PER_RANK_B=$(job_bytes "$MEM_PER_RANK")
        elif [ "${SLURM_MEM_PER_CPU:-0}" -gt 0 ]; then
            MEM_PER_RANK_B=$((SLURM_MEM_PER_CPU * ${SLURM_CPUS_PER_TASK:-1} << 20))
        elif [ "${SLURM_MEM_PER_NODE:-0}" -gt 0 ]; then
            MEM_PER_RANK_B=$(((SLURM_MEM_PER_NODE << 20) / RANKS_PER_NODE))
        else
            MEM_PER_RANK_B=$(($(job_meminfo MemTotal) / RANKS_PER_NODE))
        fi
    else
        NODES=1
        RANKS_PER_NODE=${NP:-2}
        RANKS=$RANKS_PER_NODE
        THREADS=${THREADS:-$(($(job_cores) / RANKS > 0 ? $(job_cores) / RANKS : 1))}
        if [ -n "${MEM_PER_RANK:-}" ]; then
            MEM_PER_RANK_B=$(job_bytes "$MEM_PER_RANK")
        else
            MEM_PER_RANK_B=$(($(job_meminfo MemAvailable) / RANKS))
        fi
    fi
    [[ $RANKS =~ ^[1-9][0-9]*$ && $THREADS =~ ^[1-9][0-9]*$ ]] ||
        job_die "ranks ($RANKS) and threads per rank ($THREADS) must be positive numbers"
}

# job_env: BLIS/OpenMP threads per rank and MPI settings
job_env() {
    export BLIS_NUM_THREADS=$THREADS OMP_NUM_THREADS=$THREADS
    # Kernels: t5g itself selects BLIS's skx kernels (BLIS_ARCH_TYPE=0) on CPUs with AVX-512,
    # where BLIS 0.9 may fall back to slow generic ones (jobs/README.md, "BLIS threads and kernels"); a BLIS_ARCH_TYPE
    # you set (e.g. 6 = zen3, faster for decode-only work) is passed through untouched.
    if [ -n "${BLIS_ARCH_TYPE:-}" ]; then
        job_log "BLIS kernels: BLIS_ARCH_TYPE=$BLIS_ARCH_TYPE (set by you)"
    elif grep -qw avx512f /proc/cpuinfo; then
        job_log "BLIS kernels: skx, chosen by t5g (this CPU has AVX-512)"
    else
        job_log "BLIS kernels: BLIS's own CPU detection (no AVX-512 here)"
    fi
    if [ -z "${SLURM_JOB_ID:-}" ] && [ "$(id -u)" -eq 0 ]; then
        export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1   # mpirun refuses root otherwise
    fi
}

# job_launch CMD...: run CMD on every rank of the allocation
job_launch() {
    local opts=()
    if [ -n "${SLURM_JOB_ID:-}" ]; then
        # pmix is the srun MPI mode that works with Debian's Open MPI (pmi2/none fail);
        # srun of SLURM 22.05 does not inherit --cpus-per-task from the job, so pass it on
        [ -z "${SLURM_CPUS_PER_TASK:-}" ] || opts+=(--cpus-per-task="$SLURM_CPUS_PER_TASK")
        job_run srun --mpi=pmix --kill-on-bad-exit=1 "${opts[@]}" "$@"
    else
        [ "$THREADS" -eq 1 ] || opts+=(--bind-to none)        # let a rank's threads use several cores
        [ "$RANKS" -le "$(job_cores)" ] || opts+=(--oversubscribe)
        job_run mpirun -np "$RANKS" "${opts[@]}" "$@"
    fi
}

# job_start: common first steps of every job
job_start() {
    cd "$T5G_HOME" || exit 1
    [ -x "$T5G" ] || job_die "$T5G not found; build it first: make -j build/t5g"
    job_layout
    job_env
    job_log "job ${SLURM_JOB_ID:-(no SLURM: mpirun)} on $(hostname -s): $NODES node(s) x $RANKS_PER_NODE rank(s) x $THREADS thread(s), $(job_gib "$MEM_PER_RANK_B") per rank"
    [ "${SLURM_RESTART_COUNT:-0}" -eq 0 ] || job_log "restart $SLURM_RESTART_COUNT of this job: resuming the same output"
}

# job_plan SHAPE_ARGS...: TP size for this allocation from `t5g plan` (sets TP); prints the plan;
# stops the job if the model does not fit, and after the plan when PLAN_ONLY=1
job_plan() {
    local model=(-m "$MODEL") tp
    if [ ! -f "$MODEL" ]; then
        [ "${PLAN_ONLY:-0}" = 1 ] || job_die "MODEL=$MODEL not found (convert a checkpoint with t5g convert; see README.md)"
        [ -n "${PRESET:-}" ] || job_die "MODEL=$MODEL not found"
        job_log "MODEL=$MODEL not found; planning from the preset $PRESET (${DTYPE:-bf16})"
        model=(--preset "$PRESET" --dtype "${DTYPE:-bf16}")
    fi
    local args=("${model[@]}" --nodes "$NODES" --ranks-per-node "$RANKS_PER_NODE" --mem-per-rank "$MEM_PER_RANK_B" "$@")
    # MACHINE: the cluster's numbers (t5g calibrate -o, or by hand; docs/planner.md): the layout
    # search then picks the fastest predicted TP that fits; without it, the smallest that fits
    if [ -n "${MACHINE:-}" ]; then
        [ -f "$MACHINE" ] || job_die "MACHINE=$MACHINE not found (write it with t5g calibrate -o FILE; docs/planner.md)"
        args+=(--machine "$MACHINE" --threads "$THREADS")
    fi
    local extra want=()
    read -r -a extra <<< "${PLAN_ARGS:-}"
    args+=("${extra[@]}")
    [ -z "${TP:-}" ] || want=(--tp "$TP")
    local where
    where="$NODES node(s) x $RANKS_PER_NODE rank(s), $(job_gib "$MEM_PER_RANK_B") per rank"
    job_log "+ $T5G plan ${args[*]} ${want[*]} --print-layout"
    local out layout
    out=$("$T5G" plan "${args[@]}" "${want[@]}" --print-layout) && read -r tp layout <<< "$out"
    if [ -z "${tp:-}" ] || ! [[ $tp =~ ^[1-9][0-9]*$ ]] || ! [[ ${layout:-} =~ ^[12]d$ ]]; then
        [ -z "${TP:-}" ] || job_die "stopping: TP=$TP is not a valid layout that fits this allocation ($where), see the t5g error above; unset TP to let t5g plan choose"
        job_die "stopping: the model does not fit this allocation ($where), see the t5g error above; ask for more nodes or more memory per node (sbatch --nodes, --mem)"
    fi
    TP=$tp
    # the encoder's projections in the 2-D ScaLAPACK layout only where the plan predicts a win
    # (docs/planner.md); ENCODER_LAYOUT=1d|2d[:RxC[:NB]] overrides the plan's choice
    ENCODER_LAYOUT=${ENCODER_LAYOUT:-$layout}
    job_run "$T5G" plan "${args[@]}" --tp "$TP" || job_die "t5g plan failed for TP=$TP"
    job_log "plan: TP=$TP x DP=$((RANKS / TP)), encoder layout $ENCODER_LAYOUT (planner: $layout)"
    if [ "${PLAN_ONLY:-0}" = 1 ]; then
        job_log "PLAN_ONLY=1: stopping after the plan"
        exit 0
    fi
}

# job_opts EXTRA: sets the caller's `opts` array to the options t5g eval and t5g generate share:
# layout, threads, the decoding settings that are set, then the words of EXTRA
job_opts() {
    local extra
    opts=(--tp "$TP" --threads "$THREADS")
    [ "${ENCODER_LAYOUT:-1d}" = 1d ] || opts+=(--encoder-layout "$ENCODER_LAYOUT")
    [ -z "${BATCH:-}" ] || opts+=(--batch-size "$BATCH")
    [ -z "${BEAMS:-}" ] || opts+=(--beams "$BEAMS")
    [ -z "${LENGTH_PENALTY:-}" ] || opts+=(--length-penalty "$LENGTH_PENALTY")
    [ -z "${MAX_NEW_TOKENS:-}" ] || opts+=(--max-new-tokens "$MAX_NEW_TOKENS")
    read -r -a extra <<< "$1"
    opts+=("${extra[@]}")
}

# job_tag WORDS: 8 hex digits over what the results depend on (the model file's size and time,
# the decoding settings, WORDS), so two different runs never share a default folder; t5g also
# refuses to resume into a folder whose run.json records other settings.
job_tag() {
    local key
    key="$(stat -Lc '%s %Y' "$MODEL" 2>/dev/null) beams=${BEAMS:-} lp=${LENGTH_PENALTY:-} new=${MAX_NEW_TOKENS:-} limit=${LIMIT:-} $*"
    printf '%08x' "$(printf '%s' "$key" | cksum | cut -d' ' -f1)"
}

# job_eval: `t5g eval` for each task of TASKS (comma list) into OUT/<task>
job_eval() {
    job_start
    : "${TASKS:=wmt14-en-fr,cnn-dailymail,squad-v2}"
    : "${RUN:=$(basename "$MODEL" .h5)${LIMIT:+-limit$LIMIT}-$(job_tag "${EVAL_ARGS:-}" "$DATA")}"
    : "${OUT:=results/$JOB_NAME-$RUN}"
    # the plan's shape follows t5g eval's defaults (batch 16, beam 4, 128 new tokens) unless set
    job_plan --batch "${BATCH:-16}" --beams "${BEAMS:-4}" --tgt-len "${MAX_NEW_TOKENS:-128}"
    [ -d "$DATA" ] || job_die "DATA=$DATA is not a folder of prepared datasets (datasets/prepare.py; see datasets/README.md)"
    local opts task
    job_opts "${EVAL_ARGS:-}"
    [ -z "${LIMIT:-}" ] || opts+=(--limit "$LIMIT")
    mkdir -p "$OUT"
    IFS=, read -r -a tasks <<< "$TASKS"
    for task in "${tasks[@]}"; do
        job_log "task $task -> $OUT/$task"
        job_launch "$T5G" eval --task "$task" -m "$MODEL" --data "$DATA" --out "$OUT/$task" "${opts[@]}" ||
            job_die "t5g eval failed on $task; rerun or requeue the job to resume (OUT=$OUT)"
    done
    # one table over the tasks (and a chart when gnuplot is there)
    job_run "$T5G" report "${tasks[@]/#/$OUT/}" --png "$OUT/report.png" --markdown "$OUT/report.md" ||
        job_log "warning: t5g report failed; the results are in $OUT/<task>/"
    job_log "done: $OUT"
}

# job_generate: `t5g generate` over IN (JSONL) into OUT (JSONL), resumable
job_generate() {
    job_start
    [ -n "${IN:-}" ] || job_die "set IN=requests.jsonl (lines {\"id\",\"text\"} or {\"id\",\"input_ids\"})"
    [ -f "$IN" ] || job_die "IN=$IN not found"
    : "${RUN:=$(basename "$IN" .jsonl)-$(basename "$MODEL" .h5)-$(job_tag "${GEN_ARGS:-}" "$(stat -Lc '%s %Y' "$IN")")}"
    : "${OUT:=results/$JOB_NAME-$RUN/generations.jsonl}"
    # the plan's shape follows t5g generate's defaults (batch 32, greedy, 128 new tokens)
    job_plan --batch "${BATCH:-32}" --beams "${BEAMS:-1}" --tgt-len "${MAX_NEW_TOKENS:-128}"
    local opts
    job_opts "${GEN_ARGS:-}"
    opts+=(--resume)
    mkdir -p "$(dirname "$OUT")"
    job_launch "$T5G" generate -m "$MODEL" -i "$IN" -o "$OUT" "${opts[@]}" ||
        job_die "t5g generate failed; rerun or requeue the job to resume (OUT=$OUT)"
    job_log "done: $OUT ($(wc -l < "$OUT") lines)"
}
