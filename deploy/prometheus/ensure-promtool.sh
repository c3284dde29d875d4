#!/usr/bin/env bash
# Make sure `promtool` is on PATH (used by `make promtool`, hence `make test` and CI).
# On Debian as root it installs the `prometheus` package (2.42, which ships promtool) without
# letting the package start a Prometheus server: a test run must leave nothing listening.
set -euo pipefail

command -v promtool >/dev/null && exit 0

if [[ $(id -u) != 0 ]] || ! command -v apt-get >/dev/null; then
    echo "promtool is missing: install Debian's 'prometheus' package (or put promtool on PATH)" >&2
    exit 1
fi

# policy-rc.d exit 101 = "do not start services" for invoke-rc.d (postinst). Most container
# images already have one; if not, add it for the install only.
policy=/usr/sbin/policy-rc.d
if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod +x "$policy"
    trap 'rm -f "$policy"' EXIT
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
# Belt and braces: if an init system started the server anyway, stop it.
if [[ -x /etc/init.d/prometheus ]] && /etc/init.d/prometheus status >/dev/null 2>&1; then
    /etc/init.d/prometheus stop || true
fi
promtool --version | head -1
