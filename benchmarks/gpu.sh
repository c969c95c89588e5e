#!/usr/bin/env bash
# The GPU checks of seqclass in one script, for a CUDA machine with PyTorch, transformers,
# pyarrow, pandas and scikit-learn installed (no network, no install of seqclass needed):
#
#   benchmarks/gpu.sh OUTDIR [STAGE...]      # from the repository root; stages: tests train predict
#
#   tests    pytest tests/test_cuda.py: bf16/fp16 training, the fp16 gradient scaler, resume after
#            a kill, GPU-trained models scored on the CPU, hf on the GPU (about 2 min)
#   train    benchmarks/train.py --device cuda, every family plus the NT-v2-100M-sized hf model,
#            with the naive baseline (about 3 min)
#   predict  benchmarks/predict.py --device cuda, likewise (about 3 min)
#
# Each stage writes its log (and the benchmarks their JSON) into OUTDIR, six files in all, and
# the script goes on to the next stage when one fails; it exits non-zero if any did. The
# figures go into benchmarks/README.md ("On a GPU").
set -uo pipefail

out=${1:?usage: benchmarks/gpu.sh OUTDIR [tests] [train] [predict]}
shift
stages=${*:-tests train predict}
mkdir -p "$out"
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 \
    TOKENIZERS_PARALLELISM=false
python=${PYTHON:-python3}
if ! "$python" -c 'import sys, torch; sys.exit(not torch.cuda.is_available())' 2> /dev/null; then
    echo "benchmarks/gpu.sh: PyTorch ($python) sees no CUDA device; nothing to check here" >&2
    exit 2
fi

{
    date -u
    "$python" -c 'import torch, transformers; print("torch", torch.__version__, "transformers",
transformers.__version__, "GPU", torch.cuda.get_device_name(), "bf16",
torch.cuda.is_bf16_supported())'
    nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv
} > "$out/machine.txt" 2>&1
cat "$out/machine.txt"

failed=0
stage() {  # stage NAME LOG COMMAND...: run, log, note a failure, go on
    local name=$1 log=$2
    shift 2
    echo "== $name: $*"
    local t0=$SECONDS
    "$@" > "$log" 2>&1
    local rc=$?
    tail -n 40 "$log"
    echo "== $name: exit $rc after $((SECONDS - t0)) s"
    [ "$rc" -eq 0 ] || failed=1
}

for s in $stages; do
    case $s in
        tests) stage tests "$out/test_cuda.log" "$python" -m pytest tests/test_cuda.py -q -rs \
                   -p no:cacheprovider ;;
        train) stage train "$out/train-cuda.txt" "$python" benchmarks/train.py --device cuda \
                   --nt-v2-100m --genes 1000 --json "$out/train-cuda.json" ;;
        predict) stage predict "$out/predict-cuda.txt" "$python" benchmarks/predict.py --device cuda \
                     --nt-v2-100m --json "$out/predict-cuda.json" ;;
        *) echo "unknown stage: $s (tests, train, predict)" >&2; exit 2 ;;
    esac
done
exit $failed
