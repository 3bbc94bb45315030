#!/bin/bash
# eval_tiny.sh - the bundled demo model (models/demo) on the bundled samples (datasets/demo):
# the three tasks with 2 MPI ranks, in minutes on a laptop-sized node.
#   sbatch jobs/eval_tiny.sh          (from the repository root)
#   bash jobs/eval_tiny.sh            (no SLURM: mpirun -np ${NP:-2})
# Overrides (environment): MODEL, DATA, TASKS, OUT, RUN, TP, LIMIT, BATCH, BEAMS, LENGTH_PENALTY,
# MAX_NEW_TOKENS, THREADS, MEM_PER_RANK, NP, PLAN_ONLY=1; see jobs/README.md.
#SBATCH --job-name=eval_tiny
#SBATCH --nodes=1
#SBATCH --ntasks-per-node=2
#SBATCH --cpus-per-task=1
#SBATCH --mem=4G
#SBATCH --time=00:30:00
#SBATCH --output=results/slurm-%x-%j.out
#SBATCH --open-mode=append
#SBATCH --requeue
set -euo pipefail
source "${T5G_HOME:-${SLURM_SUBMIT_DIR:-$(dirname "$0")/..}}/jobs/common.sh" ||
    { echo "eval_tiny: submit from the repository root (or set T5G_HOME)" >&2; exit 1; }
MODEL=${MODEL:-models/demo/t5gemma-demo.h5}
DATA=${DATA:-datasets/demo}
job_eval
