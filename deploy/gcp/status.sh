#!/bin/bash
# deploy/gcp/status.sh: read-only view of one deployment: the VM (status, machine, image, IPs, Shielded
# VM / SEV-SNP settings), the firewall rule, the secret's versions (never their data), who may publish
# to the notification topic, and with
# --serial the VM's serial console (sealed-init and sealed-login log there; there is no other way in).
set -Eeuo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
GCP_PROG="status-gcp"
# shellcheck source=deploy/gcp/lib.sh
. "$HERE/lib.sh"

PROJECT="" NAME=sealed-login ZONE="" SERIAL=0 KEY_FILE="" TOKEN_FILE=""
while [ $# -gt 0 ]; do
    case "$1" in
        --project) PROJECT=$2; shift ;;
        --name) NAME=$2; shift ;;
        --zone) ZONE=$2; shift ;;
        --serial) SERIAL=1 ;;
        --key-file) KEY_FILE=$2; shift ;;
        --token-file) TOKEN_FILE=$2; shift ;;
        -h|--help) echo "usage: deploy/gcp/status.sh --project ID [--name NAME] [--zone Z] [--serial] [--key-file F | --token-file F]"; exit 0 ;;
        *) die "unknown argument: $1" ;;
    esac
    shift
done
[[ $PROJECT =~ ^[a-z][-a-z0-9]{4,28}[a-z0-9]$ ]] || die "--project ID is required"
check_name --name "$NAME"
gcp_tmp_init
gcp_auth "$TOKEN_FILE" "$KEY_FILE"
C=$GCP_COMPUTE/projects/$PROJECT
if [ -z "$ZONE" ]; then
    gcp_req GET "$C/aggregated/instances?filter=$(urlenc "labels.$GCP_LABEL = \"$NAME\"")"
    ok2xx || gcp_fail "finding instance $NAME"
    ZONE=$(jr '[.items // {} | .[] | .instances[]?] | first | .zone // "" | split("/") | last')
    [ -n "$ZONE" ] || die "no instance labelled $GCP_LABEL=$NAME in $PROJECT"
fi
gcp_req GET "$C/zones/$ZONE/instances/$NAME"; ok2xx || gcp_fail "reading instance $NAME"
jr '"instance:   \(.name) \(.status) \(.machineType | split("/") | last) in \(.zone | split("/") | last)",
    "addresses:  internal \(.networkInterfaces[0].networkIP), external \(.networkInterfaces[0].accessConfigs[0].natIP // "none") (\(.networkInterfaces[0].accessConfigs[0].networkTier // "-"))",
    "identity:   \(.serviceAccounts[0].email // "none") scopes \(.serviceAccounts[0].scopes // [] | join(","))",
    "shielded:   vTPM \(.shieldedInstanceConfig.enableVtpm) integrity monitoring \(.shieldedInstanceConfig.enableIntegrityMonitoring) secure boot \(.shieldedInstanceConfig.enableSecureBoot)",
    "confidential: \(.confidentialInstanceConfig.confidentialInstanceType // "no")",
    "metadata:   \([.metadata.items[]? | "\(.key)=\(.value)"] | join(" "))",
    "egress cap: \(.labels["egress-cap-gib"] // "-" | gsub("-"; ".")) GiB, action \(.labels["egress-action"] // "-")"'
gcp_req GET "$C/global/firewalls/$NAME-web"
if ok2xx; then jr '"firewall:   \(.name) \(if .disabled then "DISABLED" else "enabled" end) \([.allowed[] | .IPProtocol + ":" + (.ports | join(","))] | join(" ")) -> \(.targetTags | join(","))"'
else say "firewall:   $NAME-web missing (HTTP $GCP_STATUS)"; fi
gcp_req GET "$GCP_SECRETS/projects/$PROJECT/secrets/$NAME-paypal-secret/versions"
if ok2xx; then jr '"secret:     \(.versions // [] | map((.name | split("/") | last) + " " + .state) | join(", "))"'
else say "secret:     $NAME-paypal-secret not readable (HTTP $GCP_STATUS)"; fi
gcp_req GET "$GCP_PUBSUB/projects/$PROJECT/topics/$NAME-notify:getIamPolicy"
if ok2xx; then jr --arg t "projects/$PROJECT/topics/$NAME-notify" '"notify:     \($t) publishers \([.bindings[]? | select(.role == "roles/pubsub.publisher") | .members[]] | join(",") | if . == "" then "none" else . end)"'
else say "notify:     topic $NAME-notify not readable (HTTP $GCP_STATUS)"; fi
if [ "$SERIAL" = 1 ]; then
    gcp_req GET "$C/zones/$ZONE/instances/$NAME/serialPort?port=1"
    ok2xx || gcp_fail "reading the serial console of $NAME"
    say "--- serial console (port 1) ---"
    jr -j '.contents'
fi
