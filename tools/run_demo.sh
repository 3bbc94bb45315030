#!/usr/bin/env bash
# The main job (README command one, `make run`): evaluate the bundled demo model on the
# bundled WMT14 / CNN-DailyMail / SQuAD v2 samples with 2 MPI ranks (TP = 2), then print the
# score table.  Rerunning resumes (finished shards are skipped).  RUN=name overrides the
# results folder; RANKS=N and TP=T the layout.
set -euo pipefail
cd "$(dirname "$0")/.."
export OMPI_ALLOW_RUN_AS_ROOT=${OMPI_ALLOW_RUN_AS_ROOT:-1} OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=${OMPI_ALLOW_RUN_AS_ROOT_CONFIRM:-1}
export OMPI_MCA_mpi_yield_when_idle=${OMPI_MCA_mpi_yield_when_idle:-1}  # ranks yield while waiting (2-core machines)
MODEL=${MODEL:-models/demo/t5gemma-demo.h5}
DATA=${DATA:-datasets/demo}
RUN=${RUN:-demo}
RANKS=${RANKS:-2}
TP=${TP:-2}
[ -f "$MODEL" ] || { echo "run_demo: $MODEL is missing (it is committed with the repository; see tools/README.md)" >&2; exit 1; }
# one BLIS thread per rank: the ranks already fill the cores
export BLIS_NUM_THREADS=${BLIS_NUM_THREADS:-1}
MPIRUN=(mpirun -np "$RANKS" --bind-to none)
[ "$RANKS" -le "$(nproc)" ] || MPIRUN+=(--oversubscribe)
dirs=()
for task in wmt14-en-fr cnn-dailymail squad-v2; do
    out=results/$RUN-$task
    echo "== $task -> $out"
    "${MPIRUN[@]}" build/t5g eval --task "$task" -m "$MODEL" --data "$DATA" --out "$out" --tp "$TP" \
        --beams "${BEAMS:-4}" --max-new-tokens "${MAX_NEW:-64}" --batch-size 16
    dirs+=("$out")
done
echo
build/t5g report "${dirs[@]}" --png "results/$RUN-report.png"
