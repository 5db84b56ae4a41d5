#!/bin/sh
# Install the Debian packages lask needs that are missing; safe to run twice.
PKGS="gcc make pkg-config lua5.4 liblua5.4-dev luajit lua-busted lua-cjson
libopenblas-dev libcsv-dev libreadline-dev graphviz libzstd-dev libsnappy-dev
liblz4-dev zlib1g-dev clang libclang-rt-14-dev libbrotli-dev g++ libsimdjson-dev libmimalloc2.0"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps: installing$missing"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
