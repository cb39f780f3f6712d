#!/usr/bin/env bash
# The fine-tune on a GPU: Whisper medium.en (a local Hugging Face folder, nothing downloaded)
# with LoRA on the encoder's and decoder's q/v projections, on CUDA, then evaluated with the
# champion on CUDA. The same code as the CPU path; only settings change (docs/LEARNING.md).
#
#   scripts/finetune_gpu.sh DATASET OUT [BASE]
#
# DATASET  a `voice-service dataset export` folder (train/dev/test splits)
# OUT      a new folder; the CTranslate2 model lands in OUT/ct2
# BASE     a local HF Whisper folder (default $VOICE_FINETUNE_BASE_PATH; unset: bundled tiny.en)
# Needs the `train` extra with a CUDA build of torch, and an NVIDIA GPU.
set -euo pipefail
cd "$(dirname "$0")/.."
dataset=${1:?usage: scripts/finetune_gpu.sh DATASET OUT [BASE]}
out=${2:?usage: scripts/finetune_gpu.sh DATASET OUT [BASE]}
base=${3:-${VOICE_FINETUNE_BASE_PATH:-}}
cli=${VOICE_SERVICE:-.venv/bin/voice-service}
py=${PYTHON:-.venv/bin/python}
[ -x "$cli" ] || cli=voice-service
[ -x "$py" ] || py=python3

"$py" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' \
  || { echo "finetune_gpu: torch sees no CUDA device (install a CUDA torch build)" >&2; exit 1; }
"$py" -c 'import torch; print("gpu:", torch.cuda.get_device_name(0))'

args=(--dataset "$dataset" --out "$out" --device cuda --scope all
      --rank "${RANK:-32}" --epochs "${EPOCHS:-3}" --batch-size "${BATCH:-16}" --lr "${LR:-1e-4}")
[ -n "$base" ] && args+=(--base "$base")
start=$(date +%s)
"$cli" finetune stt "${args[@]}" | tee "$out.log"
echo "fine-tune took $(( $(date +%s) - start )) s"
model=$(grep -o '^registered [^ ]*' "$out.log" | cut -d' ' -f2 || true)
if [ -n "$model" ]; then
  VOICE_STT_DEVICE=cuda VOICE_STT_COMPUTE_TYPE=${VOICE_STT_COMPUTE_TYPE:-int8_float16} \
    "$cli" models evaluate "$model" --dataset "$dataset"
fi
