#!/usr/bin/env bash
# Install Debian packages the project needs (chromium for browser tests), as root or with sudo.
set -euo pipefail
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get install -y --no-install-recommends "$@" || { $SUDO apt-get update -q && $SUDO apt-get install -y --no-install-recommends "$@"; }
