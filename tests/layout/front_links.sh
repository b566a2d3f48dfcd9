#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# What bridle, the forced command's binary, must not link (docs/architecture.md, "Two
# binaries"): a YAML parser (it hands a policy the compiled cache does not hold to bridle-full)
# and <iostream>'s static set-up (about 0.5 ms of every start), which yaml-cpp would bring.
#
#   tests/layout/front_links.sh BRIDLE
set -uo pipefail
symbols=$(nm -C "$1") || { echo "front_links: cannot read the symbols of $1"; exit 1; }
status=0
for what in 'YAML::' 'std::ios_base::Init::Init'; do
    count=$(grep -c -F -- "$what" <<<"$symbols")
    if ((count > 0)); then
        echo "front_links: $1 links $count symbol(s) of $what"
        status=1
    fi
done
echo "front_links: $1 links no YAML parser and no <iostream> set-up: $([[ $status == 0 ]] && echo yes || echo NO)"
exit $status
