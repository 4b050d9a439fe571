#!/usr/bin/env bash
# The GPU checks of the distributed/speed work (issue 23), prepared for a lent GPU with
# a 15-minute budget (machine start included). Each part's output goes to $OUT/<check>.log.
#
#   bash benchmarks/gpu_checks.sh tests speed   # ~4 min: tests/test_cuda.py, then vanilla-mnist and
#                                               # DCGAN step times (eager, amp, CUDA graphs, PyTorch-GAN's loop)
#   bash benchmarks/gpu_checks.sh ssgan         # the semi-supervised protocol (Salimans et al. 2016,
#                                               # Table 1: 93 ± 6.5 errors): 10 seeds × 300 epochs in 10
#                                               # processes for at most $SSGAN_SECONDS (default 480);
#                                               # every finished epoch of every seed is in $OUT/ssgan.jsonl
#   bash benchmarks/gpu_checks.sh levers        # ~1.5 min: benchmarks/step_levers.py on CUDA
#
# The device machine has PyTorch but no internet and no hatchling, and it sees only the
# working tree, so ganzoo travels as a wheel and MNIST as a copy. Here, once:
#
#   pip wheel --no-deps -w .whl . && mkdir -p .gpu-data && cp -r ../shared/data/mnist .gpu-data/
#
# then, through the device tool, two calls back to back (the machine stays warm 30 s):
# run(command="bash benchmarks/gpu_checks.sh tests speed", carry=[".whl", ".gpu-data"], timeout_s=300)
# and run(command="bash benchmarks/gpu_checks.sh ssgan", carry=[".whl", ".gpu-data"], timeout_s=540).
# Both folders are in .gitignore. On a CPU, DEVICE=cpu STEPS=10 tries the script itself.
set -uo pipefail

[ $# -gt 0 ] || { echo "say which parts: tests, speed, ssgan, levers"; exit 2; }
OUT=${OUT:-gpu-results}
DEVICE=${DEVICE:-cuda}
STEPS=${STEPS:-200}
SSGAN_SECONDS=${SSGAN_SECONDS:-480}
export GANZOO_DATA_DIR=${GANZOO_DATA_DIR:-$PWD/.gpu-data} PYTHONUNBUFFERED=1
mkdir -p "$OUT"
export GANZOO_CACHE_DIR=${GANZOO_CACHE_DIR:-$(mktemp -d)}

if [ -d .whl ] && ls .whl/ganzoo-*.whl >/dev/null 2>&1; then
    python3 -m pip install -q --no-deps --no-index --force-reinstall .whl/ganzoo-*.whl >"$OUT/install.log" 2>&1 \
        || { cat "$OUT/install.log"; exit 1; }
fi
python3 -c "import ganzoo" || { echo "ganzoo is not installed: build .whl here (see the top of this script)"; exit 1; }

step() {  # step NAME SECONDS COMMAND...: one check, its output kept in $OUT/NAME.log, bounded in time
    local name=$1 seconds=$2
    shift 2
    echo "=== $name ($(date +%T), at most ${seconds}s): $*"
    timeout "$seconds" "$@" 2>&1 | grep -v "No CUDA runtime is found" | tee "$OUT/$name.log"
    echo "=== $name: exit ${PIPESTATUS[0]}"
}

{ nvidia-smi -L 2>/dev/null || true; python3 -c "import torch; print('torch', torch.__version__)"; lscpu | grep 'Model name'; } \
    | tee "$OUT/machine.log"
for part in "$@"; do
    case "$part" in
    tests)
        step cuda-tests 120 python3 -m pytest -q tests/test_cuda.py
        ;;
    speed)
        step vanilla-speed 60 python3 benchmarks/vanilla_mnist_speed.py --device "$DEVICE" --compile reduce-overhead \
            --steps "$STEPS" --rounds 2
        step dcgan-speed 60 python3 benchmarks/dcgan_mnist_speed.py --device "$DEVICE" --compile reduce-overhead \
            --steps "$((STEPS / 2))" --rounds 2
        ;;
    levers)
        step step-levers 90 python3 benchmarks/step_levers.py --device "$DEVICE" --mode reduce-overhead \
            --steps "$STEPS" --rounds 2
        ;;
    ssgan)
        step ssgan "$SSGAN_SECONDS" python3 benchmarks/semi_supervised.py --runs ssgan --seeds 10 --epochs 300 \
            --jobs 10 --device "$DEVICE" --compile reduce-overhead --out "$OUT/ssgan.json"
        [ -s "$OUT/ssgan.jsonl" ] && python3 benchmarks/semi_supervised.py --plot "$OUT/ssgan.png" "$OUT/ssgan.jsonl"
        ;;
    *)
        echo "unknown part '$part': choose from tests, speed, ssgan, levers"
        exit 2
        ;;
    esac
done
