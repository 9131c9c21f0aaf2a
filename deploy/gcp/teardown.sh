#!/bin/bash
# deploy/gcp/teardown.sh: removes what deploy.sh made for one deployment, found by its label
# sealed-login=NAME (or, where GCP has no labels, by the name prefix NAME- and the description mark
# "sealed-login=NAME"), in dependency order: VM, addresses, firewall, network, images, Monitoring (the
# notification alert with the rest), the Pub/Sub inbox and topic (its IAM policy goes with it), secret,
# IAM bindings, custom roles, service accounts, buckets. Leaves everything else alone, and the APIs on.
# The sealed state's bucket (label sealed-login-role=state) is kept while it holds an object unless
# --delete-state is given: the state is the "once per account" promise, and deleting it starts over.
set -Eeuo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
GCP_PROG="teardown-gcp"
# shellcheck source=deploy/gcp/lib.sh
. "$HERE/lib.sh"

usage() {
    cat <<'EOF'
usage: deploy/gcp/teardown.sh --project ID [--name NAME] [--yes] [--dry-run] [--delete-state] [--key-file F | --token-file F]
  Deletes every resource of deployment NAME [sealed-login]. Asks for the name unless --yes.
  The sealed state's bucket is kept while it holds the state, unless --delete-state: deleting it
  lets every PayPal account log in once more (a new epoch).
EOF
}
PROJECT="" NAME=sealed-login YES=0 KEY_FILE="" TOKEN_FILE="" DELETE_STATE=0
while [ $# -gt 0 ]; do
    case "$1" in
        --project) PROJECT=$2; shift ;;
        --name) NAME=$2; shift ;;
        --yes) YES=1 ;;
        --dry-run) GCP_DRY_RUN=1 ;;
        --delete-state) DELETE_STATE=1 ;;
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
if [ "$GCP_DRY_RUN" != 1 ] && [ "$YES" != 1 ]; then
    [ -t 0 ] || die "refusing to delete without --yes (stdin is not a terminal)"
    read -r -p "Delete every resource of deployment '$NAME' in project $PROJECT? Type the name to confirm: " answer
    [ "$answer" = "$NAME" ] || die "not confirmed: nothing deleted"
fi

[ "$GCP_DRY_RUN" = 1 ] || gcp_lock "$PROJECT" "$NAME"
gcp_tmp_init
gcp_auth "$TOKEN_FILE" "$KEY_FILE"
say "teardown $NAME in project $PROJECT as $GCP_PRINCIPAL$([ "$GCP_DRY_RUN" = 1 ] && echo ' (dry run: nothing is deleted)')"
C=$GCP_COMPUTE/projects/$PROJECT
FILTER=$(urlenc "labels.$GCP_LABEL = \"$NAME\"")
MARK="$GCP_LABEL=$NAME"
VM_SA=$NAME-vm@$PROJECT.iam.gserviceaccount.com
GUARD_SA=$NAME-guard@$PROJECT.iam.gserviceaccount.com
ROLE_ID=sealedLoginGuard_$(printf '%s' "$NAME" | tr -- - _)
SUFFIX=$(printf '%s' "$NAME" | tr -- - _)
gone=0 kept=""

# list URL WHAT JQ: prints one line per match (from every page)
list() {
    local url=$1 what=$2 sel=$3 tok="" sep
    while :; do
        [[ $url == *\?* ]] && sep='&' || sep='?'
        gcp_req GET "$url${tok:+${sep}pageToken=$(urlenc "$tok")}"
        if ! ok2xx; then
            # An API that is off holds nothing of ours.
            if [ "$GCP_STATUS" = 403 ] && grep -q 'SERVICE_DISABLED\|has not been used\|is disabled' "$GCP_RESP"; then return 0; fi
            gcp_fail "listing $what"
        fi
        jr "$sel"
        tok=$(jr '.nextPageToken // ""')
        [ -n "$tok" ] || return 0
    done
}
# del URL WHAT KIND: deletes, waits for a Compute operation when KIND=compute; 404 counts as gone.
del() {
    if [ "$GCP_DRY_RUN" = 1 ]; then plan "delete $2"; return 0; fi
    gcp_req DELETE "$1"
    if [ "$GCP_STATUS" = 404 ]; then have "$2 already gone"; return 0; fi
    ok2xx || gcp_fail "deleting $2"
    [ "${3:-}" = compute ] && gcp_wait_compute "deleting $2"
    made "deleted $2"; gone=$((gone + 1))
}

step "instances and disks"
for link in $(list "$C/aggregated/instances?filter=$FILTER" instances '.items // {} | .[] | .instances[]? | .selfLink'); do
    del "$link" "instance $(basename "$link")" compute
done
for link in $(list "$C/aggregated/disks?filter=$FILTER" disks '.items // {} | .[] | .disks[]? | select((.users // []) == []) | .selfLink'); do
    del "$link" "disk $(basename "$link")" compute
done

step "addresses and firewall"
for link in $(list "$C/aggregated/addresses?filter=$FILTER" addresses '.items // {} | .[] | .addresses[]? | .selfLink'); do
    del "$link" "address $(basename "$link")" compute
done
for link in $(list "$C/global/firewalls" firewalls ".items[]? | select((.name | startswith(\"$NAME-\")) and ((.description // \"\") | startswith(\"$MARK:\"))) | .selfLink"); do
    del "$link" "firewall rule $(basename "$link")" compute
done

step "network"
for link in $(list "$C/aggregated/subnetworks" subnetworks ".items // {} | .[] | .subnetworks[]? | select((.name | startswith(\"$NAME-\")) and ((.description // \"\") | startswith(\"$MARK:\"))) | .selfLink"); do
    del "$link" "subnetwork $(basename "$link")" compute
done
for link in $(list "$C/global/networks" networks ".items[]? | select((.name | startswith(\"$NAME-\")) and ((.description // \"\") | startswith(\"$MARK:\"))) | .selfLink"); do
    del "$link" "network $(basename "$link")" compute
done

step "images"
for link in $(list "$C/global/images?filter=$FILTER" images '.items[]? | .selfLink'); do
    del "$link" "image $(basename "$link")" compute
done

step "monitoring"
M=$GCP_MONITORING/projects/$PROJECT
sel=".[keys_unsorted[] | select(. != \"nextPageToken\" and . != \"totalSize\")][]? | select(.userLabels[\"$GCP_LABEL\"] == \"$NAME\") | .name"
for n in $(list "$M/alertPolicies" "alert policies" "$sel"); do del "$GCP_MONITORING/$n" "alert policy ${n##*/}"; done
for n in $(list "$M/uptimeCheckConfigs" "uptime checks" "$sel"); do del "$GCP_MONITORING/$n" "uptime check ${n##*/}"; done
for n in $(list "$M/notificationChannels" "notification channels" "$sel"); do del "$GCP_MONITORING/$n?force=true" "notification channel ${n##*/}"; done

step "notifications"
# The inbox first, then the topic (a subscription outlives its topic, detached). They hold no state:
# only copies of notifications already mailed.
PS=$GCP_PUBSUB/projects/$PROJECT
for n in $(list "$PS/subscriptions" "Pub/Sub subscriptions" ".subscriptions[]? | select(.labels[\"$GCP_LABEL\"] == \"$NAME\") | .name"); do
    del "$GCP_PUBSUB/$n" "Pub/Sub subscription ${n##*/}"
done
for n in $(list "$PS/topics" "Pub/Sub topics" ".topics[]? | select(.labels[\"$GCP_LABEL\"] == \"$NAME\") | .name"); do
    del "$GCP_PUBSUB/$n" "Pub/Sub topic ${n##*/} (and its IAM policy)"
done

step "secret"
for n in $(list "$GCP_SECRETS/projects/$PROJECT/secrets?filter=$(urlenc "labels.$GCP_LABEL=$NAME")" secrets '.secrets[]? | .name'); do
    del "$GCP_SECRETS/$n" "secret ${n##*/} (every version)"
done

step "identities"
# Project bindings naming our accounts go first: a deleted account would linger in them as deleted:...
P=$GCP_CRM/projects/$PROJECT
drop=$(jq -cn --arg a "serviceAccount:$VM_SA" --arg b "serviceAccount:$GUARD_SA" '[$a, $b]')
if gcp_policy_edit "POST $P:getIamPolicy" "$P:setIamPolicy" "map(.members -= $drop) | map(select(.members | length > 0))" "project $PROJECT" 3; then
    [ "$GCP_DRY_RUN" = 1 ] && plan "remove $NAME's accounts from the project IAM policy" || { made "removed $NAME's accounts from the project IAM policy"; gone=$((gone + 1)); }
else have "no project IAM binding names $NAME's accounts"; fi
for rid in "$ROLE_ID" "sealedLoginState_$SUFFIX" "sealedLoginSelfStop_$SUFFIX"; do
    R=$GCP_IAM/projects/$PROJECT/roles/$rid
    if gcp_exists "$R" "reading custom role $rid" && [ "$(jr '.deleted // false')" != true ]; then
        del "$R" "custom role $rid (GCP keeps it deleted for 7 days; a redeploy undeletes it)"
    fi
done
for e in $(list "$GCP_IAM/projects/$PROJECT/serviceAccounts" "service accounts" ".accounts[]? | select((.description // \"\") | startswith(\"$MARK:\")) | .email"); do
    del "$GCP_IAM/projects/$PROJECT/serviceAccounts/$e" "service account $e"
done

step "bucket"
for b in $(list "$GCP_STORAGE/b?project=$PROJECT" buckets ".items[]? | select(.labels[\"$GCP_LABEL\"] == \"$NAME\") | \"\\(.name)#\\(.labels[\"sealed-login-role\"] // \"\")\""); do
    role=${b##*#} b=${b%#*}
    if [ "$role" = state ] && [ "$DELETE_STATE" != 1 ]; then
        n=$(list "$GCP_STORAGE/b/$b/o" "objects of gs://$b" '.items[]? | .name' | wc -l)
        if [ "$n" -gt 0 ]; then
            warn "kept gs://$b: it holds the sealed state ($n object(s)), the record of which PayPal accounts already got their result; --delete-state deletes it (every account can then log in once more)"
            kept="$kept gs://$b"
            continue
        fi
    fi
    for o in $(list "$GCP_STORAGE/b/$b/o?versions=true" "objects of gs://$b" '.items[]? | "\(.name)#\(.generation)"'); do
        del "$GCP_STORAGE/b/$b/o/$(urlenc "${o%#*}")?generation=${o##*#}" "gs://$b/${o%#*}"
    done
    del "$GCP_STORAGE/b/$b" "bucket gs://$b"
done

step "done"
if [ "$GCP_DRY_RUN" = 1 ]; then say "dry run: $GCP_PLANNED deletion(s) planned, nothing was deleted"
else say "deleted $gone resources of $NAME; the APIs stay enabled (other things may use them; they cost nothing)"; fi
[ -z "$kept" ] || say "kept:$kept (the sealed state; teardown.sh --delete-state removes it)"
