#!/usr/bin/env bash
# Installs what the tests need from Debian's packages: LibreOffice Calc (headless) with its
# Python bridge, and hledger. Does nothing when they are there already.
set -euo pipefail
missing=()
command -v soffice >/dev/null || missing+=(libreoffice-calc-nogui)
/usr/bin/python3 -c "import uno" 2>/dev/null || missing+=(python3-uno)
command -v hledger >/dev/null || missing+=(hledger)
command -v pdftoppm >/dev/null || missing+=(poppler-utils)
((${#missing[@]})) || exit 0
echo "Installing ${missing[*]} from Debian's packages"
sudo=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "need root (or sudo) to install ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
