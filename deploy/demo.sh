#!/usr/bin/env bash
# `make demo`: a real call through faxcore, end to end, on this machine.
#
# Starts the lab (a PBX Asterisk and a subscriber's ATA Asterisk in a Debian
# chroot, built once and cached), provisions a demo line, runs `faxcore serve`,
# makes the ATA fax its line a page, prints the call log and the
# received fax with its PDF path, then stops everything.
# Nothing is left running. Data lives in $FAXCORE_DEMO_DIR (reset each run).
set -euo pipefail
cd "$(dirname "$0")/.."

DEMO_DIR=${FAXCORE_DEMO_DIR:-/var/tmp/faxcore-demo}
LINE=${FAXCORE_DEMO_LINE:-+33972000001}
FAXCORE=$PWD/.venv/bin/faxcore

# Only the demo's own settings: a developer's FAXCORE_* must not leak in.
for var in $(env | grep -o '^FAXCORE_[A-Z0-9_]*' || true); do unset "$var"; done
export FAXCORE_DATA_DIR=$DEMO_DIR/data

step() { printf '\n== %s\n' "$*"; }

if "$FAXCORE" lab status --json | grep -q '"pbx_running": true'; then
    echo "demo: a lab is already running (faxcore lab status); stop it with 'faxcore lab down'" >&2
    exit 1
fi

SERVE_PID=""
cleanup() {
    if [ -n "$SERVE_PID" ] && kill -0 "$SERVE_PID" 2>/dev/null; then
        kill -TERM "$SERVE_PID"
        wait "$SERVE_PID" || true
    fi
    "$FAXCORE" lab down >/dev/null 2>&1 || true
}
trap cleanup EXIT

rm -rf "$DEMO_DIR"
mkdir -p "$DEMO_DIR"

step "provisioning line $LINE"
DEMO_SIP_PASSWORD="Demo-$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export DEMO_SIP_PASSWORD
"$FAXCORE" line add "$LINE" --sip-password env:DEMO_SIP_PASSWORD --station-id "faxcore demo"

step "starting the lab (PBX + ATA registered as $LINE)"
"$FAXCORE" lab up --line "$LINE"

step "starting faxcore serve"
"$FAXCORE" serve >"$DEMO_DIR/serve.log" 2>&1 &
SERVE_PID=$!
for _ in $(seq 1 100); do
    grep -q "ARI connected" "$DEMO_DIR/serve.log" && break
    kill -0 "$SERVE_PID" 2>/dev/null || { cat "$DEMO_DIR/serve.log" >&2; exit 1; }
    sleep 0.2
done
grep -q "ARI connected" "$DEMO_DIR/serve.log" || { cat "$DEMO_DIR/serve.log" >&2; exit 1; }
echo "faxcore serve is connected to Asterisk (log: $DEMO_DIR/serve.log)"

step "the ATA faxes a page to its line $LINE (T.38)"
"$FAXCORE" lab ata send-fax --to "$LINE" --mode t38 --station-id "DEMO ATA" deploy/demo-fax.txt

step "call log"
"$FAXCORE" calls list --line "$LINE"

step "received faxes"
"$FAXCORE" fax list --line "$LINE"
read -r FAX_ID PDF < <("$FAXCORE" fax list --line "$LINE" --json --limit 1 |
    "$PWD/.venv/bin/python" -c 'import json,sys; f=json.load(sys.stdin)["faxes"][0]; print(f["id"], f["pdf_path"])')
"$FAXCORE" fax show "$FAX_ID"

step "stopping"
cleanup
SERVE_PID=""
trap - EXIT
echo "demo: done (data kept in $DEMO_DIR)"
echo "received fax PDF: $PDF"
