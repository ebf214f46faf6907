#!/bin/sh
# Installs Debian's Chromium for the dashboard's end-to-end test (test/server/dashboard.e2e.test.ts),
# when it is not there yet. Needs root (CI images run as root) or passwordless sudo.
set -e
if [ -x /usr/bin/chromium ]; then exit 0; fi
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
$SUDO apt-get update
$SUDO apt-get install -y chromium
