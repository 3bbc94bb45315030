#!/bin/bash
# eval_27b.sh - T5Gemma 27B (preset t5gemma_27b) on WMT14 EN-FR, CNN/DailyMail and SQuAD v2.
# Submit from the repository root:   sbatch jobs/eval_27b.sh
# Overrides (environment, exported to the job): MODEL, DATA, TASKS, OUT, RUN, TP, LIMIT, BATCH,
# BEAMS, LENGTH_PENALTY, MAX_NEW_TOKENS, THREADS, MEM_PER_RANK, PLAN_ONLY=1; see jobs/README.md.
# The allocation below gives 4 x 2 ranks of 32 cores and 240 GB per node; `t5g plan` picks the TP
# size for whatever allocation the job gets (sbatch --nodes/--ntasks-per-node/--mem override these).
#SBATCH --job-name=eval_27b
#SBATCH --nodes=4
#SBATCH --ntasks-per-node=2
#SBATCH --cpus-per-task=32
#SBATCH --mem=240G
#SBATCH --time=48:00:00
#SBATCH --output=results/slurm-%x-%j.out
#SBATCH --open-mode=append
#SBATCH --requeue
set -euo pipefail
source "${T5G_HOME:-${SLURM_SUBMIT_DIR:-$(dirname "$0")/..}}/jobs/common.sh" ||
    { echo "eval_27b: submit from the repository root (or set T5G_HOME)" >&2; exit 1; }
PRESET=t5gemma_27b
MODEL=${MODEL:-models/t5gemma_27b.h5}
DATA=${DATA:-data}
job_eval
