#!/usr/bin/env bash
# Installs the EDA tools ITX needs from Debian packages (only the missing ones), then checks that
# the main binaries run. Fast when everything is already installed (no apt-get call at all).
#
# Usage: scripts/setup.sh        (root, or a user with sudo)
set -euo pipefail

PACKAGES=(yosys verilator iverilog nextpnr-ice40 fpga-icestorm gtkwave)

missing=()
for pkg in "${PACKAGES[@]}"; do
    status="$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)"
    if [[ "$status" != "install ok installed" ]]; then
        missing+=("$pkg")
    fi
done

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
else
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
