#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Every account lookup goes through os/accounts (user_named, user_with_uid, group_named,
# group_list, own_account_name): in the forced command's binary they read the files alone,
# and glibc must be configured for that before its first lookup, or it would load an NSS module
# into a statically linked process (os/accounts.hpp). A direct call anywhere else in src/ could
# be the first.
#
#   tests/layout/account_lookups.sh SRC_DIR
set -uo pipefail
src=${1:?usage: account_lookups.sh SRC_DIR}
calls='\b(getpw(nam|uid|ent)(_r)?|getgr(nam|gid|ent)(_r)?|getgrouplist|initgroups|fgetpwent(_r)?|fgetgrent(_r)?)[[:space:]]*\('
found=$(grep -rnE --include='*.cpp' --include='*.hpp' "$calls" "$src" | grep -v "^$src/os/accounts\.cpp:")
if [[ -n $found ]]; then
    echo "account_lookups: account lookups outside os/accounts.cpp (use os::user_named and the others):"
    echo "$found"
    exit 1
fi
echo "account_lookups: every account lookup in $src goes through os/accounts: yes"
