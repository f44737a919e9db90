#!/usr/bin/env bash
# One-command install of mmsamrs and its pinned OpenMMLab stack (see README "Install").
#
# mmcv 2.0.1 has no wheel for torch 2.13, so it is built from the sdist with ops
# (with -std=c++17, which torch 2.13's headers require). The built wheel is cached in
# $MMSAMRS_WHEEL_CACHE (default ~/.cache/mmsamrs/wheels) and reused by later installs.
set -euo pipefail

PYTHON=${PYTHON:-python}
CACHE=${MMSAMRS_WHEEL_CACHE:-$HOME/.cache/mmsamrs/wheels}
MMCV_VERSION=2.0.1
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
pip_install() { "$PYTHON" -m pip install --no-input "$@"; }

echo "[mmsamrs] build prerequisites and torch"
pip_install "torch==2.13.0" "torchvision==0.28.0" "setuptools<81" wheel ninja

mkdir -p "$CACHE"
wheel=$(ls "$CACHE"/mmcv-"$MMCV_VERSION"-*.whl 2>/dev/null | head -n1 || true)
if [ -z "$wheel" ]; then
  echo "[mmsamrs] building mmcv $MMCV_VERSION with ops from source (about 15 min on 2 cores)"
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  "$PYTHON" -m pip download --no-deps --no-binary :all: -d "$work" "mmcv==$MMCV_VERSION"
  tar -xzf "$work"/mmcv-"$MMCV_VERSION".tar.gz -C "$work"
  sed -i 's/-std=c++14/-std=c++17/g' "$work/mmcv-$MMCV_VERSION/setup.py"
  MMCV_WITH_OPS=1 MAX_JOBS=${MAX_JOBS:-2} "$PYTHON" -m pip wheel --no-build-isolation --no-deps \
    -w "$work/dist" "$work/mmcv-$MMCV_VERSION"
  cp "$work"/dist/mmcv-"$MMCV_VERSION"-*.whl "$CACHE"/
  wheel=$(ls "$CACHE"/mmcv-"$MMCV_VERSION"-*.whl | head -n1)
else
  echo "[mmsamrs] reusing cached $wheel"
fi
pip_install --no-deps "$wheel"

echo "[mmsamrs] SAM 2.1 (sam2) and HQ-SAM (segment-anything-hq)"
# sam2 is an sdist whose setup.py builds an optional CUDA extension (SAM 2's video
# post-processing, unused for images): built only where torch is a CUDA build and nvcc
# exists (SAM2_BUILD_CUDA=0 elsewhere). Its build requires torch: --no-build-isolation builds against the torch
# installed above instead of downloading another one. Its and HQ-SAM's pins (torch>=2.5.1,
# numpy>=1.24.4, hydra-core, iopath; torch>=1.7) agree with the stack; HQ-SAM imports
# timm without declaring it.
if [ -z "${SAM2_BUILD_CUDA:-}" ]; then
  if command -v nvcc >/dev/null 2>&1 && "$PYTHON" -c 'import sys, torch; sys.exit(torch.version.cuda is None)'; then
    export SAM2_BUILD_CUDA=1
  else
    export SAM2_BUILD_CUDA=0
  fi
fi
pip_install --no-build-isolation "sam2==1.1.0" "torch==2.13.0" "torchvision==0.28.0" "setuptools<81"
pip_install "segment-anything-hq==0.3" timm "torch==2.13.0" "torchvision==0.28.0"

echo "[mmsamrs] mmsamrs and the rest of the stack"
pip_install --pre -e "$REPO[tests]" "torch==2.13.0" "torchvision==0.28.0" "setuptools<81"
"$PYTHON" -c "import mmsamrs, mmcv.ops; print('mmsamrs', mmsamrs.__version__, 'installed with mmcv', mmcv.__version__)"
