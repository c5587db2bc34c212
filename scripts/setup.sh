#!/bin/sh
# Installs the Debian packages fmsp needs to build and run, when missing;
# `setup.sh test` adds what the tests need besides (chromium, which loads
# the report page headless). Safe to run again: it does nothing when
# everything is there.
set -e
PKGS="gcc make libc6-dev pkg-config curl bubblewrap libseccomp-dev libcurl4-openssl-dev libjansson-dev libsqlite3-dev"
[ "$1" = test ] && PKGS="$PKGS chromium"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "fmsp setup: installing$missing" >&2
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
