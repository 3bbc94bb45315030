#!/bin/bash
# generate.sh - offline generation over a JSONL file with any checkpoint (t5g generate).
#   IN=requests.jsonl MODEL=models/x.h5 sbatch jobs/generate.sh      (from the repository root)
#   IN=requests.jsonl bash jobs/generate.sh                           (no SLURM: mpirun -np ${NP:-2})
# IN lines: {"id": ..., "prompt": ...} or {"id": ..., "input_ids": [...]}.  OUT (default
# results/generate-<IN>-<MODEL>/generations.jsonl) is resumed: ids already there are skipped.
# Overrides: MODEL, IN, OUT, RUN, TP, BATCH, BEAMS, MAX_NEW_TOKENS, GEN_ARGS (more t5g generate
# options, e.g. "--sample --top-p 0.9 --seed 1"), THREADS, MEM_PER_RANK, NP, PLAN_ONLY=1.
#SBATCH --job-name=generate
#SBATCH --nodes=1
#SBATCH --ntasks-per-node=2
#SBATCH --cpus-per-task=16
#SBATCH --mem=64G
#SBATCH --time=12:00:00
#SBATCH --output=results/slurm-%x-%j.out
#SBATCH --open-mode=append
#SBATCH --requeue
set -euo pipefail
source "${T5G_HOME:-${SLURM_SUBMIT_DIR:-$(dirname "$0")/..}}/jobs/common.sh" ||
    { echo "generate: submit from the repository root (or set T5G_HOME)" >&2; exit 1; }
MODEL=${MODEL:-models/demo/t5gemma-demo.h5}
job_generate
