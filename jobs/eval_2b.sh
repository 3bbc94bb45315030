#!/bin/bash
# eval_2b.sh - T5Gemma 2B (preset t5gemma_2b) on WMT14 EN-FR, CNN/DailyMail and SQuAD v2.
# Submit from the repository root:   sbatch jobs/eval_2b.sh
# Overrides (environment, exported to the job): MODEL, DATA, TASKS, OUT, RUN, TP, LIMIT, BATCH,
# BEAMS, LENGTH_PENALTY, MAX_NEW_TOKENS, THREADS, MEM_PER_RANK, PLAN_ONLY=1; see jobs/README.md.
# The allocation below gives 1 x 2 ranks of 16 cores and 120 GB; `t5g plan` picks the TP
# size for whatever allocation the job gets (sbatch --nodes/--ntasks-per-node/--mem override these).
#SBATCH --job-name=eval_2b
#SBATCH --nodes=1
#SBATCH --ntasks-per-node=2
#SBATCH --cpus-per-task=16
#SBATCH --mem=120G
#SBATCH --time=12:00:00
#SBATCH --output=results/slurm-%x-%j.out
#SBATCH --open-mode=append
#SBATCH --requeue
set -euo pipefail
source "${T5G_HOME:-${SLURM_SUBMIT_DIR:-$(dirname "$0")/..}}/jobs/common.sh" ||
    { echo "eval_2b: submit from the repository root (or set T5G_HOME)" >&2; exit 1; }
PRESET=t5gemma_2b
MODEL=${MODEL:-models/t5gemma_2b.h5}
DATA=${DATA:-data}
job_eval
