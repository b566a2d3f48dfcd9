# SPDX-License-Identifier: Apache-2.0
# Changing a host's files safely (issue 16): the web server walkthrough through a real sshd,
# the real sudo, journald and nginx, with the policy a host would have (policy/default.yaml
# and policy/examples/webserver.yaml in policy.d; the validator at a test path), and the agent
# holding nothing but its key. Checks:
# - the walkthrough: install nginx (apt, already installed: /var/lib is an overlay), read the
#   configuration, write a site that fails validation (nothing changes) and then one that
#   passes, enable it, nginx -t, reload, write the page, fetch it with curl; every write in the
#   journal with its digests and diff, listed by `versions` and put back by `restore`;
# - refusals: past max_size, a path outside the entries, a private key, bridle's own policy
#   through any entry shape, a symlink at the target and in a parent, binary content for a
#   text entry, --size that lies, a connection cut mid-upload (nothing replaced, the partial
#   upload audited), a write as the agent's own account whose version store is missing;
# - two writes of one path at once: both audited, both kept as versions, one wins.
# Guards against: writes through a shell or a program, partial or unvalidated writes, writes
# that lose the old content, symlink and .. escapes, bridle's own files being writable.
# The MCP part (tests/mcp/files.mjs) uses the official SDK from npm, installed before the
# harness enters its namespaces.
if [[ -z ${BRIDLE_IT_INSIDE:-} ]]; then
    # shellcheck source=../mcp/install.sh
    source "$(dirname "$0")/../mcp/install.sh" || exit 1
fi
# shellcheck source=../support/harness.sh
source "$(dirname "$0")/../support/harness.sh"
harness_setup

for tool in /usr/bin/sudo /usr/sbin/visudo /usr/sbin/nginx /usr/bin/curl /usr/bin/apt-get; do
    [[ -x $tool ]] || { fail setup.tools "$tool is missing (install/deps.sh)"; harness_finish; }
done
target_result() { rec_get "$1" BRIDLE_FRONT_END=sudo BRIDLE_EVENT=result; }
user_result() { rec_get "$1" BRIDLE_FRONT_END=forced BRIDLE_EVENT=result; }
sha() { sha256sum "$1" | cut -d' ' -f1; }

# ---- the host: nginx's state and bridle's on overlays and tmpfs, nginx running --------------
it_overlay_var_lib
host_dpkg_sum=$(it_host_dpkg_sum)
mount -n -t tmpfs -o mode=0755 bridle-it-www /var/www && install -d -m 0755 /var/www/html ||
    { fail setup.www "cannot mount /var/www"; harness_finish; }
echo "<p>default</p>" >/var/www/html/index.html
install -d -m 0755 /var/log/nginx
rm -f /etc/nginx/sites-enabled/blog /etc/nginx/sites-available/blog
# A private key where a careless entry would let it be read.
install -d -m 0700 /etc/nginx/ssl && echo "-----BEGIN PRIVATE KEY-----" >/etc/nginx/ssl/site.key
/usr/sbin/nginx || { fail setup.nginx "nginx did not start"; harness_finish; }
wait_until 10 curl -s -o /dev/null http://127.0.0.1/ || fail setup.nginx-answers "nginx does not answer"

# ---- the policy, as a host has it -------------------------------------------------------------
install -d -m 0755 -o root -g root /etc/bridle /etc/bridle/policy.d "$IT_ROOT/validators"
install -m 0755 -o root -g root "$BRIDLE_SOURCE_DIR/install/validators/nginx-site" "$IT_ROOT/validators/nginx-site"
install -m 0644 -o root -g root "$BRIDLE_SOURCE_DIR/policy/default.yaml" /etc/bridle/policy.yaml
sed "s#/usr/lib/bridle/validators/nginx-site#$IT_ROOT/validators/nginx-site#" \
    "$BRIDLE_SOURCE_DIR/policy/examples/webserver.yaml" >"$IT_WORK/50-webserver.yaml"
install -m 0644 -o root -g root "$IT_WORK/50-webserver.yaml" /etc/bridle/policy.d/50-webserver.yaml
# The agent's own notes: a files entry without run_as (written as the agent's account).
mount -n -t tmpfs -o mode=0755 bridle-it-srv /srv && install -d -m 0755 -o "$IT_USER" /srv/notes ||
    { fail setup.srv "cannot mount /srv"; harness_finish; }
cat >"$IT_WORK/60-notes.yaml" <<EOF
version: 1
files:
  - id: notes
    under: [/srv/notes]
    names: ['*.txt']
    access: [get, put]
    create: true
EOF
install -m 0644 -o root -g root "$IT_WORK/60-notes.yaml" /etc/bridle/policy.d/60-notes.yaml
check_out=$("$IT_BRIDLE" check 2>&1)
assert_eq check.status 0 "$?"
assert_contains check.counts "$check_out" "and 4 files entries"
"$IT_BRIDLE" sudoers --user "$IT_USER" --install >"$IT_WORK/sudoers.out" 2>&1
assert_eq sudoers.install 0 "$?"
assert_contains sudoers.files-line "$(cat /etc/sudoers.d/bridle)" "$IT_BRIDLE run-as nginx-sites,"
it_add_key agent "restrict,command=\"$IT_BRIDLE --key laptop-agent\""
export IT_KEY=agent

# ---- the walkthrough ----------------------------------------------------------------------
IT_SSH_TIMEOUT=120 bridle_ssh -- 'apt-get install -y nginx'
assert_status install.status 0
assert_contains install.already "$SSH_OUT$SSH_ERR" "nginx is already the newest version"

bridle_ssh -- 'help'
assert_contains help.put "$SSH_OUT" "put PATH:/etc/nginx/sites-available/.../{[a-z0-9]*}"
assert_contains help.get "$SSH_OUT" "get PATH:/etc/nginx/... (not *.key, *.pem, /etc/nginx/ssl/*, /etc/nginx/private/*)"

bridle_ssh -- 'get /etc/nginx/sites-enabled/default'
assert_status get.status 0
assert_eq get.content "$(sha /etc/nginx/sites-available/default)" "$(sha "$IT_WORK/ssh.out")"
bridle_records >/dev/null
assert_eq get.records "nginx-config /etc/nginx/sites-available/default root" \
    "$(rec decision BRIDLE_RULE) $(rec decision BRIDLE_FILE_PATH) $(target_result BRIDLE_RUN_AS)"
bridle_ssh -- 'get /etc/nginx/ssl/site.key'
assert_status get.private-key 77
assert_not_contains get.private-key.content "$SSH_OUT" "PRIVATE KEY"

# A site that nginx rejects: nothing is written, the agent sees why.
printf 'server {\n    listen 8080\n    root /var/www/html;\n}\n' >"$IT_WORK/bad.conf"
IT_STDIN=$IT_WORK/bad.conf bridle_ssh -- 'put /etc/nginx/sites-available/blog'
assert_status put.invalid.status 65
assert_contains put.invalid.says "$SSH_ERR" "validator nginx-site-check rejected the content"
assert_contains put.invalid.nginx-says "$SSH_ERR" 'invalid parameter "root"'
assert_absent put.invalid.nothing-written /etc/nginx/sites-available/blog
assert_eq put.invalid.no-staged-left "" "$(ls -A /etc/nginx/sites-available | grep bridle)"
bridle_records >/dev/null
assert_eq put.invalid.validator "nginx-site-check 1 refused" \
    "$(target_result BRIDLE_VALIDATOR) $(target_result BRIDLE_VALIDATOR_STATUS) $(target_result BRIDLE_FILE_STATUS)"
assert_eq put.invalid.validator-record "validator $(target_result BRIDLE_REQUEST_ID)" \
    "$(rec_get BRIDLE_FRONT_END BRIDLE_RULE=nginx-site-check BRIDLE_EVENT=result) $(rec_get BRIDLE_PARENT_REQUEST_ID BRIDLE_RULE=nginx-site-check BRIDLE_EVENT=result)"

# The fixed site: written, validated, owned and moded as the entry says.
printf 'server {\n    listen 8080;\n    root /var/www/html;\n}\n' >"$IT_WORK/blog.conf"
IT_STDIN=$IT_WORK/blog.conf bridle_ssh -- 'put /etc/nginx/sites-available/blog'
assert_status put.status 0
assert_eq put.content "$(sha "$IT_WORK/blog.conf")" "$(sha /etc/nginx/sites-available/blog)"
assert_eq put.owner-mode "root:root 644" "$(stat -c '%U:%G %a' /etc/nginx/sites-available/blog)"
assert_contains put.says "$SSH_ERR" "wrote /etc/nginx/sites-available/blog"
bridle_records >/dev/null
assert_eq put.record "put 0 1 $(sha "$IT_WORK/blog.conf")" \
    "$(target_result BRIDLE_FILE_VERB) $(target_result BRIDLE_VALIDATOR_STATUS) $(target_result BRIDLE_FILE_CREATED) $(target_result BRIDLE_FILE_NEW_SHA256)"
assert_contains put.diff "$(target_result BRIDLE_FILE_DIFF)" "+    listen 8080;"
assert_eq put.user-side "nginx-sites ok $(stat -c %s "$IT_WORK/blog.conf") 1" \
    "$(user_result BRIDLE_RULE) $(user_result BRIDLE_FILE_STATUS) $(user_result BRIDLE_UPLOAD_BYTES) $(user_result BRIDLE_UPLOAD_COMPLETE)"

bridle_ssh -- 'ln -s /etc/nginx/sites-available/blog /etc/nginx/sites-enabled/'
assert_status enable.status 0
assert_eq enable.link "/etc/nginx/sites-available/blog" "$(readlink /etc/nginx/sites-enabled/blog)"
bridle_ssh -- 'nginx -t'
assert_status nginx-test.status 0
echo "<p>the blog</p>" >"$IT_WORK/index.html"
IT_STDIN=$IT_WORK/index.html bridle_ssh -- 'put /var/www/html/index.html'
assert_status page.status 0
bridle_ssh -- 'nginx -s reload'
assert_status reload.status 0
wait_until 10 curl -sf http://127.0.0.1:8080/ -o /dev/null || fail reload.listens "nginx does not serve :8080"
bridle_ssh -- 'curl -sS -I http://localhost:8080/index.html'
assert_status curl.status 0
assert_contains curl.ok "$SSH_OUT" "HTTP/1.1 200 OK"
assert_eq curl.page "<p>the blog</p>" "$(curl -s http://127.0.0.1:8080/index.html)"

# Written, then nginx reloaded by the entry's `then` rule: port 8082 answers.
sed 's/8080/8082/' "$IT_WORK/blog.conf" >"$IT_WORK/blog8082.conf"
IT_STDIN=$IT_WORK/blog8082.conf bridle_ssh -- 'put /etc/nginx/sites-available/blog --then nginx-reload'
assert_status then.status 0
wait_until 10 curl -sf http://127.0.0.1:8082/index.html -o /dev/null && pass then.reloaded ||
    fail then.reloaded "nginx does not serve :8082 after put --then nginx-reload"
bridle_records >/dev/null
assert_eq then.record "nginx-reload 0" "$(target_result BRIDLE_THEN) $(target_result BRIDLE_THEN_STATUS)"
assert_eq then.own-record "then $(target_result BRIDLE_REQUEST_ID)" \
    "$(rec_get BRIDLE_FRONT_END BRIDLE_RULE=nginx-reload BRIDLE_EVENT=result) $(rec_get BRIDLE_PARENT_REQUEST_ID BRIDLE_RULE=nginx-reload BRIDLE_EVENT=result)"
IT_STDIN=$IT_WORK/blog.conf bridle_ssh -- 'put /etc/nginx/sites-available/blog --then nginx-test'
assert_status then.not-listed 77
assert_contains then.not-listed.says "$SSH_ERR" "runs no rule \"nginx-test\" after a write (it may run: nginx-reload)"
IT_STDIN=$IT_WORK/blog.conf bridle_ssh -- 'put /etc/nginx/sites-available/blog --then nginx-reload'
assert_status then.back-to-8080 0

# A change, listed, and put back.
printf 'server {\n    listen 8080;\n    root /var/www/html;\n    autoindex on;\n}\n' >"$IT_WORK/blog2.conf"
IT_STDIN=$IT_WORK/blog2.conf bridle_ssh -- 'put /etc/nginx/sites-available/blog'
assert_status change.status 0
bridle_ssh -- 'versions /etc/nginx/sites-available/blog'
assert_status versions.status 0
assert_match versions.newest "$(sed -n 2p "$IT_WORK/ssh.out")" "^4	.*	$(stat -c %s "$IT_WORK/blog.conf") bytes	$(sha "$IT_WORK/blog.conf")$"
assert_match versions.absent "$(sed -n 5p "$IT_WORK/ssh.out")" "^1	.*	absent$"
bridle_ssh -- 'restore /etc/nginx/sites-available/blog --version 4'
assert_status restore.status 0
assert_eq restore.content "$(sha "$IT_WORK/blog.conf")" "$(sha /etc/nginx/sites-available/blog)"
bridle_records >/dev/null
assert_eq restore.record "restore 5 $(sha "$IT_WORK/blog2.conf") $(sha "$IT_WORK/blog.conf")" \
    "$(target_result BRIDLE_FILE_VERB) $(target_result BRIDLE_FILE_KEPT_VERSION) $(target_result BRIDLE_FILE_OLD_SHA256) $(target_result BRIDLE_FILE_NEW_SHA256)"
assert_contains restore.diff "$(target_result BRIDLE_FILE_DIFF)" "-    autoindex on;"
audit_out=$("$IT_BRIDLE" audit --rule nginx-sites 2>&1)
assert_contains audit.lists-writes "$audit_out" "put /etc/nginx/sites-available/blog"
"$IT_BRIDLE" audit --rule nginx-sites -o json >"$IT_WORK/audit.json" 2>&1
assert_eq audit.json.restore "restore ok 5" "$(python3 -c '
import json, sys
last = [json.loads(l) for l in open(sys.argv[1])][-1]["file"]
print(last["verb"], last["status"], last["kept_version"])' "$IT_WORK/audit.json" 2>&1)"
assert_contains audit.json.diff "$(cat "$IT_WORK/audit.json")" "-    autoindex on;"

# ---- refusals -----------------------------------------------------------------------------
before=$(sha /etc/nginx/sites-available/blog)
head -c 70000 /dev/zero | tr '\0' 'x' >"$IT_WORK/big.conf"
IT_STDIN=$IT_WORK/big.conf bridle_ssh -- 'put /etc/nginx/sites-available/blog'
assert_status too-large.status 65
assert_contains too-large.says "$SSH_ERR" "more than 65536 bytes"
printf 'server {}\n\001\n' >"$IT_WORK/binary.conf"
IT_STDIN=$IT_WORK/binary.conf bridle_ssh -- 'put /etc/nginx/sites-available/blog'
assert_status binary.status 65
assert_contains binary.says "$SSH_ERR" "control character U+0001 at line 2, column 1"
IT_STDIN=$IT_WORK/blog2.conf bridle_ssh -- 'put /etc/nginx/sites-available/blog --size 3'
assert_status size-lie.status 74
assert_eq refusals.unchanged "$before" "$(sha /etc/nginx/sites-available/blog)"
bridle_records >/dev/null
assert_eq refusals.no-target-side "0" "$(rec_count BRIDLE_FRONT_END=sudo)"

for request in 'put /etc/nginx/nginx.conf' 'put /etc/passwd' 'put /etc/nginx/sites-available/../nginx.conf' \
    'put /etc/nginx/sites-available/.hidden' 'put /etc/bridle/policy.yaml' 'get /var/lib/bridle/versions' \
    'put /etc/bridle/policy.d/50-webserver.yaml' 'put /var/www/html/index.php'; do
    bridle_ssh -- "$request"
    assert_status "outside.status:$request" 77
done
assert_eq outside.policy-intact "$(cat "$IT_WORK/50-webserver.yaml")" "$(cat /etc/bridle/policy.d/50-webserver.yaml)"
bridle_ssh -- 'put /etc/bridle/policy.yaml'
assert_contains outside.own-says "$SSH_ERR" "is bridle's own (/etc/bridle)"

# Symlinks: at the target (a link in sites-available to the policy), and as a parent.
ln -s /etc/bridle/policy.yaml /etc/nginx/sites-available/evil
IT_STDIN=$IT_WORK/blog.conf bridle_ssh -- 'put /etc/nginx/sites-available/evil'
assert_status symlink.target.status 77
assert_contains symlink.target.says "$SSH_ERR" "is a symbolic link"
assert_eq symlink.target.policy-intact "$(sha "$BRIDLE_SOURCE_DIR/policy/default.yaml")" "$(sha /etc/bridle/policy.yaml)"
rm /etc/nginx/sites-available/evil
ln -s /etc/bridle /var/www/html/escape
IT_STDIN=$IT_WORK/index.html bridle_ssh -- 'put /var/www/html/escape/index.html'
assert_status symlink.parent.status 77
assert_absent symlink.parent.nothing /etc/bridle/index.html
rm /var/www/html/escape

# A connection cut mid-upload: the client sends part of the content, then dies.
mkfifo "$IT_WORK/slow"
(printf 'server {\n    listen 8080;\n'; sleep 20) >"$IT_WORK/slow" &
slow_writer=$!
journal_mark
# (ssh itself is killed, not a wrapper: a surviving client would send a clean EOF.)
ssh -F "$IT_WORK/ssh_config" agent 'put /etc/nginx/sites-available/blog' <"$IT_WORK/slow" >/dev/null 2>&1 &
client=$!
# Killed once bridle has decided the put: its decision record goes out before it reads the
# content, which the client sent as soon as the session opened (a fixed pause raced a slow
# connection on a loaded machine).
for _ in $(seq 120); do
    bridle_records >/dev/null
    (($(rec_count BRIDLE_FRONT_END=forced BRIDLE_EVENT=decision) > 0)) && break
    sleep 0.25
done
sleep 0.5
kill -9 "$client"
wait "$client" 2>/dev/null
kill "$slow_writer" 2>/dev/null
# bridle sees the cut when sshd closes the channel; its result record follows.
for _ in $(seq 40); do
    bridle_records >/dev/null
    [[ -n $(user_result BRIDLE_EXIT_STATUS) ]] && break
    sleep 0.5
done
assert_eq cut.recorded "0 failed 74 0" \
    "$(user_result BRIDLE_UPLOAD_COMPLETE) $(user_result BRIDLE_FILE_STATUS) $(user_result BRIDLE_EXIT_STATUS) $(rec_count BRIDLE_FRONT_END=sudo)"
assert_eq cut.partial-bytes "$(printf 'server {\n    listen 8080;\n' | wc -c)" "$(user_result BRIDLE_UPLOAD_BYTES)"
assert_eq cut.unchanged "$before" "$(sha /etc/nginx/sites-available/blog)"

# Two writes of one path at once: they take turns; both are audited and kept.
bridle_ssh -- 'versions /etc/nginx/sites-available/blog'
kept_before=$(grep -c '^[0-9]' "$IT_WORK/ssh.out")
for n in 1 2; do
    printf 'server {\n    listen 8080;\n    root /var/www/html;\n    # writer %s\n}\n' "$n" >"$IT_WORK/w$n.conf"
done
journal_mark
ssh -F "$IT_WORK/ssh_config" agent 'put /etc/nginx/sites-available/blog' <"$IT_WORK/w1.conf" >/dev/null 2>&1 &
w1=$!
ssh -F "$IT_WORK/ssh_config" agent 'put /etc/nginx/sites-available/blog' <"$IT_WORK/w2.conf" >/dev/null 2>&1 &
w2=$!
wait "$w1"; rc1=$?
wait "$w2"; rc2=$?
assert_eq concurrent.both-ok "0 0" "$rc1 $rc2"
now=$(sha /etc/nginx/sites-available/blog)
[[ $now == "$(sha "$IT_WORK/w1.conf")" || $now == "$(sha "$IT_WORK/w2.conf")" ]] &&
    pass concurrent.one-wins || fail concurrent.one-wins "the file is neither write: $now"
journal_sync
bridle_records >/dev/null
assert_eq concurrent.audited "2" "$(rec_count BRIDLE_FRONT_END=sudo BRIDLE_EVENT=result BRIDLE_FILE_VERB=put)"
bridle_ssh -- 'versions /etc/nginx/sites-available/blog'
assert_eq concurrent.kept "$((kept_before + 2))" "$(grep -c '^[0-9]' "$IT_WORK/ssh.out")"

# The agent's own account: no version store for it yet (fail closed), then one made for it.
echo "first" >"$IT_WORK/note.txt"
IT_STDIN=$IT_WORK/note.txt bridle_ssh -- 'put /srv/notes/todo.txt'
assert_status notes.no-store.status 74
assert_contains notes.no-store.says "$SSH_ERR" "install -d -o $IT_USER -m 0700 /var/lib/bridle/versions/$IT_USER"
assert_absent notes.no-store.nothing /srv/notes/todo.txt
install -d -o "$IT_USER" -m 0700 "/var/lib/bridle/versions/$IT_USER"
IT_STDIN=$IT_WORK/note.txt bridle_ssh -- 'put /srv/notes/todo.txt'
assert_status notes.status 0
assert_eq notes.owner "$IT_USER" "$(stat -c %U /srv/notes/todo.txt)"
bridle_records >/dev/null
assert_eq notes.no-sudo "$IT_USER 0" "$(rec result BRIDLE_RUN_AS) $(rec_count BRIDLE_FRONT_END=sudo)"
bridle_ssh -- 'get /srv/notes/todo.txt'
assert_eq notes.get $'first\n' "$SSH_OUT"

# ---- the same through MCP: the official SDK client, read_file, write_file, run_command ------
(cd "$BRIDLE_MCP_DIR" && timeout -k 5 180 node files.mjs -- -F "$IT_WORK/ssh_config" agent) \
    >"$IT_WORK/client.out" 2>"$IT_WORK/client.err"
assert_eq mcp.exit 0 "$?"
grep -q '^PASS ' "$IT_WORK/client.out" || fail mcp.ran "no checks ran: $(tail -c 1500 "$IT_WORK/client.err")"
while IFS= read -r line; do
    case $line in
        "PASS "*) pass "mcp.${line#PASS }" ;;
        "FAIL "*) line=${line#FAIL }; fail "mcp.${line%%:*}" "${line#*: }" ;;
    esac
done <"$IT_WORK/client.out"

assert_eq host.dpkg-untouched "$host_dpkg_sum" "$(it_host_dpkg_sum)"
harness_finish
