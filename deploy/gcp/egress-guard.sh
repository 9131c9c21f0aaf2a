#!/bin/bash
# deploy/gcp/egress-guard.sh: the egress guard of one deployment. Sums the VM's bytes sent this month
# (UTC) from Cloud Monitoring and, at the cap, acts: disables the firewall rule NAME-web (default: the
# VM keeps its RAM state and IP, nothing can reach it) or stops the VM. Meant to run from cron as the
# guard service account NAME-guard, whose rights cover exactly this. Also: --restore (undo, as the
# operator) and --create-key (a key for the guard account). Touches nothing else.
set -Eeuo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
GCP_PROG="egress-guard"
# shellcheck source=deploy/gcp/lib.sh
. "$HERE/lib.sh"

usage() {
    cat <<'EOF'
usage: deploy/gcp/egress-guard.sh --project ID [--name NAME] [--zone Z] [options]
  (default)          check this month's egress of VM NAME against its cap; act at the cap
  --cap-gib N        the cap (default: the VM's label egress-cap-gib, set by deploy.sh)
  --action A         firewall | stop (default: the VM's label egress-action)
  --restore          re-enable the firewall rule and start the VM (run as the operator)
  --create-key FILE  create a key for NAME-guard@ and write it to FILE (mode 600; never printed)
  --dry-run          report, change nothing
  --key-file F | --token-file F   credentials (else GOOGLE_APPLICATION_CREDENTIALS, gcloud)
Exit status: 0 under the cap (or restored), 3 at/over the cap (acted), 4 no egress data (did nothing),
1 on errors (Monitoring unreachable: did nothing).
EOF
}
PROJECT="" NAME=sealed-login ZONE="" CAP_GIB="" ACTION="" MODE=check KEY_OUT="" KEY_FILE="" TOKEN_FILE=""
while [ $# -gt 0 ]; do
    case "$1" in
        --project) PROJECT=$2; shift ;;
        --name) NAME=$2; shift ;;
        --zone) ZONE=$2; shift ;;
        --cap-gib) CAP_GIB=$2; shift ;;
        --action) ACTION=$2; shift ;;
        --restore) MODE=restore ;;
        --create-key) MODE=key; KEY_OUT=$2; shift ;;
        --dry-run) GCP_DRY_RUN=1 ;;
        --key-file) KEY_FILE=$2; shift ;;
        --token-file) TOKEN_FILE=$2; shift ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; die "unknown argument: $1" ;;
    esac
    shift
done
[ -n "$PROJECT" ] || { usage >&2; die "--project is required"; }
[[ $PROJECT =~ ^[a-z][-a-z0-9]{4,28}[a-z0-9]$ ]] || die "--project '$PROJECT' is not a project id"
check_name --name "$NAME"
[ -z "$ACTION" ] || [ "$ACTION" = firewall ] || [ "$ACTION" = stop ] || die "--action must be firewall or stop"
[ -z "$CAP_GIB" ] || [[ $CAP_GIB =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "--cap-gib must be a number"
gcp_tmp_init
gcp_auth "$TOKEN_FILE" "$KEY_FILE"
C=$GCP_COMPUTE/projects/$PROJECT
FW=$NAME-web
GUARD_SA=$NAME-guard@$PROJECT.iam.gserviceaccount.com
now() { date -u +%Y-%m-%dT%H:%M:%SZ; }

if [ "$MODE" = key ]; then
    [ ! -e "$KEY_OUT" ] || die "$KEY_OUT exists: not overwriting a key"
    [ "$GCP_DRY_RUN" = 1 ] && { plan "create a key for $GUARD_SA into $KEY_OUT"; exit 0; }
    GCP_NO_RETRY=1 gcp_json POST "$GCP_IAM/projects/$PROJECT/serviceAccounts/$GUARD_SA/keys" \
        '{"privateKeyType":"TYPE_GOOGLE_CREDENTIALS_FILE","keyAlgorithm":"KEY_ALG_RSA_2048"}' "creating a key for $GUARD_SA"
    (umask 077; jr -j .privateKeyData | openssl base64 -d -A >"$KEY_OUT")
    : >"$GCP_RESP"
    jq -e '.type == "service_account"' "$KEY_OUT" >/dev/null || { rm -f "$KEY_OUT"; die "the key answer was not a credentials file"; }
    made "key $(jq -r .private_key_id "$KEY_OUT" | cut -c1-8)... for $GUARD_SA in $KEY_OUT (mode 600: keep it only where the guard runs)"
    exit 0
fi

# The VM: by zone when given, else found by its label.
if [ -n "$ZONE" ]; then
    gcp_req GET "$C/zones/$ZONE/instances/$NAME"
    ok2xx || gcp_fail "reading instance $NAME in $ZONE"
else
    gcp_req GET "$C/aggregated/instances?filter=$(urlenc "labels.$GCP_LABEL = \"$NAME\"")"
    ok2xx || gcp_fail "finding instance $NAME (give --zone to skip the search)"
    jq '[.items // {} | .[] | .instances[]?] | first // empty' "$GCP_RESP" >"$GCP_TMP/i.json"
    [ -s "$GCP_TMP/i.json" ] || die "no instance labelled $GCP_LABEL=$NAME in project $PROJECT"
    cp "$GCP_TMP/i.json" "$GCP_RESP"
fi
cp "$GCP_RESP" "$GCP_TMP/instance.json"
I=$(jq -r .selfLink "$GCP_TMP/instance.json")
ID=$(jq -r .id "$GCP_TMP/instance.json")
STATUS=$(jq -r .status "$GCP_TMP/instance.json")
CAP_GIB=${CAP_GIB:-$(jq -r '.labels["egress-cap-gib"] // "" | gsub("-"; ".")' "$GCP_TMP/instance.json")}
ACTION=${ACTION:-$(jq -r '.labels["egress-action"] // "firewall"' "$GCP_TMP/instance.json")}
[[ $CAP_GIB =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "instance $NAME has no egress-cap-gib label: give --cap-gib"

if [ "$MODE" = restore ]; then
    gcp_req GET "$C/global/firewalls/$FW"; ok2xx || gcp_fail "reading firewall rule $FW"
    if [ "$(jr '.disabled // false')" = true ]; then
        if [ "$GCP_DRY_RUN" = 1 ]; then plan "enable firewall rule $FW"; else
            gcp_json PATCH "$C/global/firewalls/$FW" '{"disabled":false}' "enabling firewall rule $FW"
            gcp_wait_compute "enabling firewall rule $FW"; made "firewall rule $FW enabled"
        fi
    else have "firewall rule $FW is enabled"; fi
    if [ "$STATUS" = TERMINATED ] || [ "$STATUS" = STOPPED ]; then
        if [ "$GCP_DRY_RUN" = 1 ]; then plan "start instance $NAME"; else
            gcp_req POST "$I/start"; ok2xx || gcp_fail "starting instance $NAME"
            gcp_wait_compute "starting instance $NAME"; made "instance $NAME started (a new boot: new RAM state)"
        fi
    else have "instance $NAME is $STATUS"; fi
    warn "the guard acts again at its next run while this month's egress is over the cap: raise it with --cap-gib (or the VM's label) first"
    exit 0
fi

# This month's bytes sent, summed over the month in one alignment period (UTC month start to now).
START=$(date -u +%Y-%m-01T00:00:00Z) END=$(now)
PERIOD=$(( $(date -u +%s) - $(date -u -d "$START" +%s) ))
[ "$PERIOD" -ge 60 ] || PERIOD=60
F=$(urlenc "metric.type = \"compute.googleapis.com/instance/network/sent_bytes_count\" AND resource.labels.instance_id = \"$ID\"")
url="$GCP_MONITORING/projects/$PROJECT/timeSeries?filter=$F&interval.startTime=$START&interval.endTime=$END&aggregation.alignmentPeriod=${PERIOD}s&aggregation.perSeriesAligner=ALIGN_SUM&aggregation.crossSeriesReducer=REDUCE_SUM"
SENT=0 tok="" SERIES=0
while :; do
    gcp_req GET "$url${tok:+&pageToken=$(urlenc "$tok")}"
    ok2xx || gcp_fail "reading this month's egress of $NAME from Cloud Monitoring (the guard did nothing: it never acts on missing data)"
    SERIES=$((SERIES + $(jr '[.timeSeries[]? | select((.points // []) | length > 0)] | length')))
    SENT=$(jq -r --argjson s "$SENT" '$s + ([.timeSeries[]?.points[]?.value | (.int64Value // .doubleValue // 0) | tonumber] | add // 0) | floor' "$GCP_RESP")
    tok=$(jr '.nextPageToken // ""'); [ -n "$tok" ] || break
done
# No series is not zero bytes: a new VM has no points yet, and an outage or a wrong filter gives none.
if [ "$SERIES" = 0 ]; then
    say "$(now) $NAME: no egress data from Cloud Monitoring for instance $ID since $START (a VM younger than a few minutes, or Monitoring has no points): the guard cannot tell and did nothing"
    exit 4
fi
CAP_BYTES=$(awk -v g="$CAP_GIB" 'BEGIN { printf "%.0f", g * 1073741824 }')
pct=$(awk -v s="$SENT" -v c="$CAP_BYTES" 'BEGIN { printf "%.1f", 100 * s / c }')
gib=$(awk -v s="$SENT" 'BEGIN { printf "%.3f", s / 1073741824 }')
if [ "$SENT" -lt "$CAP_BYTES" ]; then
    say "$(now) $NAME: egress since $START: $gib GiB of $CAP_GIB GiB ($pct %): under the cap, nothing to do"
    exit 0
fi
say "$(now) $NAME: egress since $START: $gib GiB >= cap $CAP_GIB GiB ($pct %): action $ACTION"
if [ "$ACTION" = stop ]; then
    if [ "$STATUS" = TERMINATED ] || [ "$STATUS" = STOPPING ]; then have "instance $NAME already $STATUS"
    elif [ "$GCP_DRY_RUN" = 1 ]; then plan "stop instance $NAME"
    else
        gcp_req POST "$I/stop"; ok2xx || gcp_fail "stopping instance $NAME"
        gcp_wait_compute "stopping instance $NAME"; made "instance $NAME stopped"
    fi
else
    gcp_req GET "$C/global/firewalls/$FW"; ok2xx || gcp_fail "reading firewall rule $FW"
    if [ "$(jr '.disabled // false')" = true ]; then have "firewall rule $FW already disabled"
    elif [ "$GCP_DRY_RUN" = 1 ]; then plan "disable firewall rule $FW"
    else
        gcp_json PATCH "$C/global/firewalls/$FW" '{"disabled":true}' "disabling firewall rule $FW"
        gcp_wait_compute "disabling firewall rule $FW"; made "firewall rule $FW disabled: the site is unreachable until --restore"
    fi
fi
exit 3
