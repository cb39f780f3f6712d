#!/usr/bin/env bash
# GPU smoke test: run `ask` on the jfk clip with CUDA for every stage the installed packages
# allow, and print per-stage times (median of 5). Needs an NVIDIA GPU; tests never call this.
#
#   scripts/gpu_smoke.sh [CLIP]      (default tests/data/speech/jfk.flac)
#
# STT: faster-whisper on CUDA (int8_float16) when CTranslate2 sees a GPU.
# TTS: Piper on CUDA when onnxruntime has the CUDA execution provider (onnxruntime-gpu).
# LLM: vLLM in-process when the `gpu` extra is installed and VOICE_VLLM_MODEL names a local
#      model; otherwise llama.cpp with every layer offloaded when it was built with CUDA.
set -euo pipefail
cd "$(dirname "$0")/.."
clip=${1:-tests/data/speech/jfk.flac}
py=${PYTHON:-.venv/bin/python}
[ -x "$py" ] || py=python3

command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader \
  || { echo "gpu_smoke: no NVIDIA GPU here (nvidia-smi missing)" >&2; exit 1; }

probe() { "$py" - "$@" <<'PY'
import importlib.util, sys
what = sys.argv[1]
if what == "stt":
    import ctranslate2
    print("yes" if ctranslate2.get_cuda_device_count() > 0 else "no")
elif what == "tts":
    import onnxruntime
    print("yes" if "CUDAExecutionProvider" in onnxruntime.get_available_providers() else "no")
elif what == "vllm":
    print("yes" if importlib.util.find_spec("vllm") else "no")
elif what == "llamacpp":
    import llama_cpp
    print("yes" if llama_cpp.llama_supports_gpu_offload() else "no")
PY
}

if [ "$(probe stt)" = yes ]; then
  export VOICE_STT_DEVICE=cuda VOICE_STT_COMPUTE_TYPE=${VOICE_STT_COMPUTE_TYPE:-int8_float16}
  echo "stt: CUDA ($VOICE_STT_COMPUTE_TYPE)"
else echo "stt: CPU (CTranslate2 sees no CUDA device)"; fi
if [ "$(probe tts)" = yes ]; then export VOICE_TTS_DEVICE=cuda; echo "tts: CUDA (onnxruntime-gpu)"
else echo "tts: CPU (onnxruntime has no CUDA provider; install onnxruntime-gpu)"; fi
if [ "$(probe vllm)" = yes ] && [ -n "${VOICE_VLLM_MODEL:-}" ]; then
  export VOICE_LLM_BACKEND=vllm; echo "llm: vLLM ($VOICE_VLLM_MODEL)"
elif [ "$(probe llamacpp)" = yes ]; then
  export VOICE_LLM_GPU_LAYERS=-1; echo "llm: llama.cpp, all layers on the GPU"
else echo "llm: llama.cpp on the CPU (no vLLM model given, llama.cpp built without CUDA)"; fi

"$py" -m api.cli bench-chain "$clip" --runs 5
