#!/usr/bin/env bash
# System packages the test suite needs that npm cannot provide: a real redis-server (Debian 12).
set -euo pipefail
if ! command -v redis-server >/dev/null 2>&1; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq redis-server redis-tools >/dev/null
  # The Debian package starts a system-wide server on :6379; tests start their own on free ports.
  ($SUDO systemctl stop redis-server 2>/dev/null || $SUDO service redis-server stop 2>/dev/null || true)
fi
redis-server --version
