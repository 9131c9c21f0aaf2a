# deploy/gcp/lib.sh: what deploy.sh, teardown.sh and egress-guard.sh share: output, credentials (one
# OAuth access token), one REST call wrapper that decodes Google's error bodies and retries what may
# be retried, operation waiting, name checks, CRC32C. Sourced, never run.
# Never prints, logs or puts on a command line a token, a private key or a secret: they live in files
# under a private directory (mode 700, removed at exit) and reach curl as `-H @file`/`--data-binary @file`.

# shellcheck shell=bash disable=SC2034  # (the variables are for the scripts that source this)
set -Eeuo pipefail
umask 077

GCP_COMPUTE=https://compute.googleapis.com/compute/v1
GCP_STORAGE=https://storage.googleapis.com/storage/v1
GCP_UPLOAD=https://storage.googleapis.com/upload/storage/v1
GCP_SECRETS=https://secretmanager.googleapis.com/v1
GCP_IAM=https://iam.googleapis.com/v1
GCP_CRM=https://cloudresourcemanager.googleapis.com/v1
GCP_MONITORING=https://monitoring.googleapis.com/v3
GCP_PUBSUB=https://pubsub.googleapis.com/v1
GCP_SERVICEUSAGE=https://serviceusage.googleapis.com/v1
GCP_TOKEN_URI=https://oauth2.googleapis.com/token
GCP_SCOPE=https://www.googleapis.com/auth/cloud-platform
GCP_LABEL=sealed-login            # label key on everything we create; its value is the deployment name

# Testing only: send every request to one local server (the fake) that presents a certificate from CA.
# Production URLs stay unchanged in the requests (Host, paths, operation selfLinks).
GCP_CURL=(curl -sS --proto "=https" --connect-timeout 15)
if [ -n "${SEALED_GCP_CONNECT_TO:-}" ]; then GCP_CURL+=(--connect-to "::$SEALED_GCP_CONNECT_TO"); fi
if [ -n "${SEALED_GCP_CA_FILE:-}" ]; then GCP_CURL+=(--cacert "$SEALED_GCP_CA_FILE"); fi
GCP_RETRIES=${SEALED_GCP_RETRIES:-4}          # extra attempts on 429/5xx/transport errors
GCP_RETRY_DELAY=${SEALED_GCP_RETRY_DELAY:-2}  # seconds, doubled each time
GCP_OP_TIMEOUT=${SEALED_GCP_OP_TIMEOUT:-1200} # seconds to wait for one operation

GCP_PROG=${GCP_PROG:-$(basename "$0" .sh)}
GCP_EXTRA=() GCP_TMP="" GCP_RESP="" GCP_HDRS="" GCP_STATUS="" GCP_PRINCIPAL="" GCP_DRY_RUN=${GCP_DRY_RUN:-0}

say()  { printf '%s\n' "$*"; }
step() { printf '\n== %s\n' "$*"; }
GCP_MADE=0 GCP_PLANNED=0
have() { printf '  = %s\n' "$*"; }                                   # exists, unchanged
made() { printf '  + %s\n' "$*"; GCP_MADE=$((GCP_MADE + 1)); }      # created or changed
plan() { printf '  ~ would %s\n' "$*"; GCP_PLANNED=$((GCP_PLANNED + 1)); }  # dry run
warn() { printf '  ! %s\n' "$*" >&2; }
die()  { printf '%s: error: %s\n' "$GCP_PROG" "$*" >&2; exit 1; }

gcp_tmp_init() {
    GCP_TMP=$(mktemp -d "${TMPDIR:-/tmp}/sealed-gcp.XXXXXXXX")
    GCP_RESP=$GCP_TMP/resp GCP_HDRS=$GCP_TMP/resp.hdr
    trap 'rm -rf "$GCP_TMP"' EXIT
    trap 'die "interrupted"' INT TERM
}

# One deploy or teardown of a deployment at a time on this machine (flock on a file named after it).
gcp_lock() {   # $1 = project, $2 = deployment name
    local f=${SEALED_GCP_LOCK_DIR:-${XDG_RUNTIME_DIR:-/tmp}}/sealed-gcp-$1-$2.lock
    exec 9>>"$f" || die "cannot open the lock file $f"
    flock -n 9 || die "another deploy or teardown of $2 in $1 is running (lock $f): wait for it, or remove the file if none is"
}

# ---- JSON and names ------------------------------------------------------------------------------

jr() { jq -r "$@" <"$GCP_RESP"; }             # read the last answer
rfc1035() { [[ $1 =~ ^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$ ]]; }
check_name() { rfc1035 "$2" || die "$1 '$2' is not a valid name: lowercase letters, digits and '-', starting with a letter, not ending with '-', at most 63 characters (RFC 1035)"; }
ip2int() { local IFS=.; set -- $1; echo $(( ($1 << 24) | ($2 << 16) | ($3 << 8) | $4 )); }
int2ip() { echo "$(( ($1 >> 24) & 255 )).$(( ($1 >> 16) & 255 )).$(( ($1 >> 8) & 255 )).$(( $1 & 255 ))"; }
ipv4() { [[ $1 =~ ^(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])){3}$ ]]; }
urlenc() { jq -rn --arg s "$1" '$s|@uri'; }

# CRC32C (Castagnoli) of a file, decimal, as Secret Manager's dataCrc32c. Secrets are small.
crc32c_file() {
    local -a t; local i j c b crc=$((0xFFFFFFFF))
    for ((i = 0; i < 256; i++)); do
        c=$i
        for ((j = 0; j < 8; j++)); do
            if ((c & 1)); then c=$(((c >> 1) ^ 0x82F63B78)); else c=$((c >> 1)); fi
        done
        t[i]=$c
    done
    for b in $(od -An -v -tu1 "$1"); do crc=$(((crc >> 8) ^ t[(crc ^ b) & 255])); done
    echo $((crc ^ 0xFFFFFFFF))
}

# ---- errors --------------------------------------------------------------------------------------

# One line per failure: what failed, on which resource, Google's status and message, what to do.
gcp_explain() {   # $1 = what was being done (names the resource)
    local code status msg reason hint
    code=$GCP_STATUS
    if jq -e . "$GCP_RESP" >/dev/null 2>&1; then
        status=$(jr 'if (.error|type)=="object" then (.error.status // "") else (.error // "") end')
        msg=$(jr 'if (.error|type)=="object" then (.error.message // "") else (.error_description // "") end')
        reason=$(jr '[.error.errors[]?.reason, .error.details[]?.reason] | map(select(.)) | join(",")' 2>/dev/null || true)
    else
        status="" msg=$(head -c 300 "$GCP_RESP" 2>/dev/null | tr -d '\r' | tr '\n' ' ')
    fi
    case "$code/$status/$reason" in
        000/*) hint="no answer (network, DNS or TLS): check connectivity to *.googleapis.com" ;;
        401/*|*/invalid_grant/*) hint="the credentials were refused: renew them (gcloud auth login, a valid key file, a fresh token)" ;;
        403/*SERVICE_DISABLED*|403/*accessNotConfigured*) hint="the API is disabled in the project: rerun deploy.sh (it enables the APIs) or enable it in the console" ;;
        403/*) hint="$GCP_PRINCIPAL lacks the permission named above: grant it a role that has it (docs/deploy-gcp.md, Prerequisites)" ;;
        404/*) hint="check --project and the names; the resource or the project does not exist or is not visible to $GCP_PRINCIPAL" ;;
        409/ABORTED*) hint="a concurrent change: rerun" ;;
        409/*) hint="the name is taken (maybe by something this tool did not create): pick another --name" ;;
        429/*) hint="quota or rate limit: wait and rerun, or raise the quota" ;;
        400/*) hint="the request was refused as invalid: see the message" ;;
        5*) hint="Google-side failure: rerun (everything already made is kept)" ;;
        *) hint="see the message" ;;
    esac
    printf '%s: error: %s: HTTP %s %s: %s\n  -> %s\n' "$GCP_PROG" "$1" "$code" "${status:-${reason:-?}}" "${msg:-(no message)}" "$hint" >&2
}
gcp_fail() { gcp_explain "$1"; exit 1; }

# ---- credentials ---------------------------------------------------------------------------------

gcp_set_token() {   # reads the token from stdin into the header file curl reads; never echoes it
    local tok
    IFS= read -r tok || true
    tok=${tok%$'\r'}
    [[ $tok =~ ^[A-Za-z0-9._~+/=-]{16,4096}$ ]] || die "the access token from $1 is empty or malformed"
    printf 'Authorization: Bearer %s\n' "$tok" >"$GCP_TMP/auth.hdr"
    tok=""
}

b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }

# A service-account key (JSON): sign a JWT assertion (RS256) and exchange it for an access token.
gcp_token_from_key() {
    local key=$1 email kid uri now hdr claims sig
    [ -r "$key" ] || die "cannot read the key file $key"
    jq -e '.type == "service_account" and (.client_email|type)=="string" and (.private_key|type)=="string"' "$key" >/dev/null 2>&1 ||
        die "$key is not a service-account key (JSON with type service_account, client_email, private_key)"
    email=$(jq -r .client_email "$key") kid=$(jq -r '.private_key_id // ""' "$key")
    uri=$(jq -r --arg d "$GCP_TOKEN_URI" '.token_uri // $d' "$key")
    [[ $uri == https://* ]] || die "$key: token_uri must be https"
    jq -r .private_key "$key" >"$GCP_TMP/sa.pem"
    now=$(date +%s)
    hdr=$(jq -cn --arg kid "$kid" '{alg:"RS256",typ:"JWT",kid:$kid}' | b64url)
    claims=$(jq -cn --arg iss "$email" --arg aud "$uri" --arg scope "$GCP_SCOPE" --argjson iat "$now" \
        '{iss:$iss,scope:$scope,aud:$aud,iat:$iat,exp:($iat+3600)}' | b64url)
    sig=$(printf '%s.%s' "$hdr" "$claims" | openssl dgst -sha256 -sign "$GCP_TMP/sa.pem" -binary | b64url) ||
        die "$key: openssl could not sign with its private_key"
    rm -f "$GCP_TMP/sa.pem"
    printf 'grant_type=urn%%3Aietf%%3Aparams%%3Aoauth%%3Agrant-type%%3Ajwt-bearer&assertion=%s.%s.%s' "$hdr" "$claims" "$sig" >"$GCP_TMP/assert"
    sig=""
    GCP_STATUS=$("${GCP_CURL[@]}" -X POST -H 'Content-Type: application/x-www-form-urlencoded' \
        --data-binary @"$GCP_TMP/assert" -o "$GCP_RESP" -w '%{http_code}' --max-time 60 "$uri") || GCP_STATUS=000
    rm -f "$GCP_TMP/assert"
    [ "$GCP_STATUS" = 200 ] || gcp_fail "exchanging the key's JWT for a token at $uri ($email)"
    jq -r '.access_token // ""' "$GCP_RESP" | gcp_set_token "the token endpoint"
    : >"$GCP_RESP"
    GCP_PRINCIPAL="serviceAccount:$email"
}

# Credentials, first found wins: --token-file / SEALED_GCP_ACCESS_TOKEN_FILE, SEALED_GCP_ACCESS_TOKEN
# (env), --key-file / GOOGLE_APPLICATION_CREDENTIALS, `gcloud auth print-access-token`.
gcp_auth() {   # $1 = token file, $2 = key file (either may be empty)
    local tf=${1:-${SEALED_GCP_ACCESS_TOKEN_FILE:-}} kf=${2:-${GOOGLE_APPLICATION_CREDENTIALS:-}}
    if [ -n "$tf" ]; then
        [ -r "$tf" ] || die "cannot read the token file $tf"
        gcp_set_token "$tf" <"$tf"; GCP_PRINCIPAL="the token in $tf"
    elif [ -n "${SEALED_GCP_ACCESS_TOKEN:-}" ]; then
        printf '%s\n' "$SEALED_GCP_ACCESS_TOKEN" | gcp_set_token SEALED_GCP_ACCESS_TOKEN
        GCP_PRINCIPAL="the token in SEALED_GCP_ACCESS_TOKEN"
    elif [ -n "$kf" ]; then
        gcp_token_from_key "$kf"
    elif command -v gcloud >/dev/null 2>&1; then
        gcloud auth print-access-token 2>"$GCP_TMP/gcloud.err" | gcp_set_token "gcloud auth print-access-token" ||
            die "gcloud gave no token: $(head -c 300 "$GCP_TMP/gcloud.err")"
        GCP_PRINCIPAL="the gcloud account ($(gcloud config get-value account 2>/dev/null || echo '?'))"
    else
        die "no credentials: give --key-file (service-account key JSON) or --token-file, set GOOGLE_APPLICATION_CREDENTIALS, or install gcloud and log in"
    fi
    unset SEALED_GCP_ACCESS_TOKEN   # children (curl, jq) never see it
}

# ---- requests ------------------------------------------------------------------------------------

# gcp_req METHOD URL [BODY_FILE [CONTENT_TYPE]]: the answer's body in $GCP_RESP, headers in $GCP_HDRS,
# status in $GCP_STATUS (000: no answer). Retries 429, 5xx and transport errors unless GCP_NO_RETRY=1
# (creations that are not keyed by a name, where a retry could make a duplicate).
gcp_req() {
    local method=$1 url=$2 body=${3:-} ctype=${4:-application/json} n=0 delay=$GCP_RETRY_DELAY
    local -a a=("${GCP_EXTRA[@]}" -X "$method" -H @"$GCP_TMP/auth.hdr" -o "$GCP_RESP" -D "$GCP_HDRS" -w '%{http_code}' --max-time "${GCP_MAX_TIME:-120}")
    if [ -n "$body" ]; then a+=(-H "Content-Type: $ctype" --data-binary @"$body")
    elif [ "$method" != GET ] && [ "$method" != DELETE ]; then a+=(-H 'Content-Length: 0'); fi
    while :; do
        GCP_STATUS=$("${GCP_CURL[@]}" "${a[@]}" "$url" 2>"$GCP_TMP/curl.err") || true
        [ -n "$GCP_STATUS" ] || GCP_STATUS=000
        [ "$GCP_STATUS" = 000 ] && { : >"$GCP_RESP"; cat "$GCP_TMP/curl.err" >"$GCP_RESP"; }
        case $GCP_STATUS in
            429|500|502|503|504|000)
                if [ "${GCP_NO_RETRY:-0}" != 1 ] && [ $n -lt "$GCP_RETRIES" ]; then
                    n=$((n + 1)); warn "HTTP $GCP_STATUS from $method ${url%%\?*}: retry $n in ${delay}s"
                    sleep "$delay"; delay=$((delay * 2)); continue
                fi ;;
        esac
        return 0
    done
}
ok2xx() { [[ $GCP_STATUS == 2?? ]]; }

# gcp_json METHOD URL JSON WHAT: sends a JSON document (given as a string: no secrets here), fails on non-2xx.
gcp_json() {
    jq -e 'type == "object"' >/dev/null 2>&1 <<<"$3" || die "internal error: no JSON body for $4"
    printf '%s' "$3" >"$GCP_TMP/body.json"
    gcp_req "$1" "$2" "$GCP_TMP/body.json"
    ok2xx || gcp_fail "$4"
}

# gcp_exists URL WHAT: 0 and the resource in $GCP_RESP when it exists, 1 on 404; fails otherwise.
# In a dry run, a disabled API (403 SERVICE_DISABLED) counts as "not there yet".
gcp_exists() {
    gcp_req GET "$1"
    ok2xx && return 0
    [ "$GCP_STATUS" = 404 ] && return 1
    if [ "$GCP_DRY_RUN" = 1 ] && [ "$GCP_STATUS" = 403 ] && grep -q 'SERVICE_DISABLED\|has not been used\|is disabled' "$GCP_RESP"; then
        return 1
    fi
    gcp_fail "$2"
}

# ---- operations ----------------------------------------------------------------------------------

# A Compute Engine operation (zonal, regional or global): waits with its selfLink's /wait until DONE,
# then fails with the operation's errors, if any. The operation is in $GCP_RESP on entry.
gcp_wait_compute() {   # $1 = what (for messages)
    local link start=$SECONDS
    link=$(jr '.selfLink // ""')
    [ -n "$link" ] || gcp_fail "$1 (no operation in the answer)"
    while [ "$(jr '.status // ""')" != DONE ]; do
        [ $((SECONDS - start)) -lt "$GCP_OP_TIMEOUT" ] || die "$1: operation $(basename "$link") not DONE after ${GCP_OP_TIMEOUT}s (it may still finish: rerun later)"
        gcp_req POST "$link/wait"
        ok2xx || gcp_fail "$1: waiting for operation $(basename "$link")"
    done
    if jq -e '.error.errors | length > 0' "$GCP_RESP" >/dev/null 2>&1; then
        printf '%s: error: %s: operation %s failed on %s:\n' "$GCP_PROG" "$1" "$(jr .name)" "$(jr '.targetLink // "?"' | sed 's#.*/projects/#projects/#')" >&2
        jr '.error.errors[] | "  \(.code // "?"): \(.message // "")"' >&2
        printf '  -> nothing after this step was done; fix the cause above and rerun (what exists is kept)\n' >&2
        exit 1
    fi
}

# A google.longrunning.Operation (Service Usage, ...): polls BASE/NAME until done, fails with .error.
gcp_wait_lro() {   # $1 = API base holding the operation, $2 = what
    local name start=$SECONDS d=1
    name=$(jr '.name // ""')
    while [ "$(jr '.done // false')" != true ]; do
        [ -n "$name" ] || gcp_fail "$2 (no operation in the answer)"
        [ $((SECONDS - start)) -lt "$GCP_OP_TIMEOUT" ] || die "$2: operation $name not done after ${GCP_OP_TIMEOUT}s"
        sleep "$d"; [ $d -lt 8 ] && d=$((d * 2))
        gcp_req GET "$1/$name"
        ok2xx || gcp_fail "$2: polling $name"
    done
    if jq -e '.error' "$GCP_RESP" >/dev/null 2>&1; then
        printf '%s: error: %s: operation %s failed: %s %s\n' "$GCP_PROG" "$2" "$name" "$(jr '.error.code // ""')" "$(jr '.error.message // ""')" >&2
        exit 1
    fi
}

# ---- IAM policies (read, change, write with the etag; retried on a concurrent change) -------------

# gcp_policy_edit "GET|POST URL" SET_URL JQ_FILTER WHAT [VERSION]: applies the jq filter to .bindings
# of the current policy and writes it back with the same etag when it changed (409 ABORTED: read
# again and retry). Returns 0 when it changed (or would, in a dry run), 1 when nothing was to do.
gcp_policy_edit() {
    local get=$1 set=$2 filter=$3 what=$4 ver=${5:-1} tries=0
    while :; do
        if [ "${get%% *}" = GET ]; then
            gcp_req GET "${get#GET }?${GCP_POLICY_VERSION_PARAM:-options.requestedPolicyVersion}=$ver"
            ok2xx || gcp_fail "reading the IAM policy of $what"
        else
            gcp_json POST "${get#POST }" "{\"options\":{\"requestedPolicyVersion\":$ver}}" "reading the IAM policy of $what"
        fi
        jq --argjson v "$ver" "{policy: (. + {version: ([.version // 1, \$v] | max), bindings: ((.bindings // []) | $filter)})}" "$GCP_RESP" >"$GCP_TMP/policy.json"
        if jq -en --slurpfile n "$GCP_TMP/policy.json" --slurpfile o "$GCP_RESP" \
            '($n[0].policy.bindings // []) == ($o[0].bindings // [])' >/dev/null; then
            return 1
        fi
        [ "$GCP_DRY_RUN" = 1 ] && return 0
        gcp_req POST "$set" "$GCP_TMP/policy.json"
        ok2xx && return 0
        if [ "$GCP_STATUS" = 409 ] && [ $tries -lt 5 ]; then   # ABORTED: the etag moved under us
            tries=$((tries + 1)); warn "IAM policy of $what changed concurrently: reading it again ($tries)"; continue
        fi
        # A service account made seconds ago is not yet known to every IAM policy (eventual consistency).
        if [ "$GCP_STATUS" = 400 ] && grep -q 'does not exist' "$GCP_RESP" && [ $tries -lt 8 ]; then
            tries=$((tries + 1)); warn "IAM does not know the new service account yet: retry in 5s ($tries)"
            sleep "${SEALED_GCP_IAM_DELAY:-5}"; continue
        fi
        gcp_fail "writing the IAM policy of $what"
    done
}
