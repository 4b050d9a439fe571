#!/usr/bin/env bash
# The checks and benchmarks that need a GPU, in parts sized for a short GPU lease on
# a machine with PyTorch but no internet, which sees only the working tree:
#
#   bash benchmarks/gpu_checks.sh prepare       # here, before each lease: ganzoo as a wheel of this
#                                               # tree (.whl/) and MNIST from $GANZOO_DATA_DIR (.gpu-data/)
#   bash benchmarks/gpu_checks.sh tests speed   # ~4 min: tests/test_cuda.py, then vanilla-mnist and DCGAN
#                                               # step times (eager, amp, CUDA graphs, PyTorch-GAN's loop)
#   bash benchmarks/gpu_checks.sh ssgan         # the semi-supervised protocol (Salimans et al. 2016,
#                                               # Table 1: 93 ± 6.5 errors): 10 seeds × 300 epochs in 10
#                                               # processes for at most $SSGAN_SECONDS (default 420);
#                                               # every finished epoch of every seed is in $OUT/ssgan.jsonl
#   bash benchmarks/gpu_checks.sh levers        # ~1.5 min: benchmarks/step_levers.py on CUDA
#
# On the GPU machine the parts take .whl/ and .gpu-data/ (both in .gitignore) from the
# working tree, refuse a wheel built from other sources than the tree's, and write each
# check's output to $OUT/<check>.log (default gpu-results/). On a CPU,
# DEVICE=cpu STEPS=10 bash benchmarks/gpu_checks.sh speed levers tries the script itself.
set -uo pipefail

[ $# -gt 0 ] || { echo "say which parts: prepare, tests, speed, ssgan, levers"; exit 2; }
OUT=${OUT:-gpu-results}
DEVICE=${DEVICE:-cuda}
STEPS=${STEPS:-200}
SSGAN_SECONDS=${SSGAN_SECONDS:-420}
export PYTHONUNBUFFERED=1

fingerprint() {  # one hash of the sources the wheel is built from
    python3 -c 'import hashlib, pathlib, sys
h = hashlib.sha256()
for p in sorted(pathlib.Path(".").glob("ganzoo/**/*.py")) + sorted(pathlib.Path(".").glob("plugins/**/*.py")) + [pathlib.Path("pyproject.toml")]:
    h.update(str(p).encode() + b"\0" + p.read_bytes())
print(h.hexdigest())'
}

if [ "$1" = prepare ]; then
    : "${GANZOO_DATA_DIR:?set GANZOO_DATA_DIR to the folder that holds mnist/}"
    rm -rf .whl && python3 -m pip wheel -q --no-deps -w .whl . && fingerprint >.whl/sources.sha256 || exit 1
    rm -rf .gpu-data && mkdir -p .gpu-data && cp -r "$GANZOO_DATA_DIR/mnist" .gpu-data/ || exit 1
    echo "prepared: $(ls .whl/*.whl), MNIST in .gpu-data/ ($(du -sh .gpu-data | cut -f1)); carry .whl and .gpu-data"
    exit 0
fi

export GANZOO_DATA_DIR=${GANZOO_DATA_DIR:-$PWD/.gpu-data}
export GANZOO_CACHE_DIR=${GANZOO_CACHE_DIR:-$(mktemp -d)}
mkdir -p "$OUT"
if ls .whl/ganzoo-*.whl >/dev/null 2>&1; then
    [ "$(cat .whl/sources.sha256 2>/dev/null)" = "$(fingerprint)" ] \
        || { echo "the wheel in .whl/ was not built from these sources: run 'bash $0 prepare' again"; exit 1; }
    python3 -m pip install -q --no-deps --no-index --force-reinstall .whl/ganzoo-*.whl >"$OUT/install.log" 2>&1 \
        || { cat "$OUT/install.log"; exit 1; }
fi
# Outside the tree, so that the installed package answers, not the sources beside it.
(cd / && python3 -c "import ganzoo") || { echo "ganzoo is not installed: run 'bash $0 prepare' first"; exit 1; }

step() {  # step NAME SECONDS COMMAND...: one check, its output kept in $OUT/NAME.log, bounded in time
    local name=$1 seconds=$2
    shift 2
    echo "=== $name ($(date +%T), at most ${seconds}s): $*"
    timeout -k 20 "$seconds" "$@" 2>&1 | grep --line-buffered -v "No CUDA runtime is found" | tee "$OUT/$name.log"
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
    prepare)
        echo "prepare runs alone, before the lease"
        exit 2
        ;;
    *)
        echo "unknown part '$part': choose from prepare, tests, speed, ssgan, levers"
        exit 2
        ;;
    esac
done
