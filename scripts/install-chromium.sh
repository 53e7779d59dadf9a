#!/usr/bin/env bash
# Installs Debian's chromium package when no Chromium is on the machine; the
# browser tests (web/browsertest) drive it headless. Safe to run again.
# PARLEY_CHROMIUM names another binary to use instead (nothing is installed).
set -euo pipefail
if [ -n "${PARLEY_CHROMIUM:-}" ]; then
	if [ -x "$PARLEY_CHROMIUM" ]; then exit 0; fi
	echo "install-chromium: PARLEY_CHROMIUM=$PARLEY_CHROMIUM is not an executable file" >&2
	exit 1
fi
if command -v chromium >/dev/null 2>&1; then
	exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
	if ! command -v sudo >/dev/null 2>&1; then
		echo "install-chromium: chromium is missing; run as root or install it: apt-get install chromium" >&2
		exit 1
	fi
	sudo="sudo"
fi
echo "install-chromium: installing Debian's chromium package (browser tests need it)" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
command -v chromium >/dev/null
