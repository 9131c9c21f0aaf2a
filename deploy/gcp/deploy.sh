#!/bin/bash
# deploy/gcp/deploy.sh: deploys sealed-login on Google Cloud with the REST APIs (curl, jq, openssl; no
# gcloud needed): APIs, image bucket and upload, image, secret, service accounts and their IAM, static
# IPs, firewall, the Shielded (or SEV-SNP Confidential) VM, Monitoring alerts, the egress guard's
# identity, the VM's notification topic (Pub/Sub; only the VM may publish, an alert mails each message). Idempotent: a rerun creates nothing twice and finishes what a failed run left.
# Owns only resources labelled sealed-login=NAME (or, where GCP has no labels, named NAME-... and
# described "sealed-login=NAME"); never touches others. Never prints or passes on argv a secret or token.
set -Eeuo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
GCP_PROG="deploy-gcp"
# shellcheck source=deploy/gcp/lib.sh
. "$HERE/lib.sh"

usage() {
    cat <<'EOF'
usage: deploy/gcp/deploy.sh [plan|deploy] [--settings FILE] [options]
       (plan = --dry-run: read everything, change nothing, print what each mode proves and costs)

Every option can also be a line KEY=VALUE of the settings file (KEY is the option without "--", with
'_' for '-': paypal_client_id=..., secure_boot=true); options on the command line win. See
deploy/gcp/settings.example.

required:
  --mode M                   standard | shielded | confidential: what the VM is, and so what each
                             result proves (plan prints it, with the cost):
                               standard     no vTPM: results carry evidence "none"
                               shielded     Shielded VM with a vTPM: gce-vtpm-google-rooted
                               confidential SEV-SNP Confidential VM (N2D/C3D, not free tier):
                                            gce-snp-firmware + gce-vtpm-google-rooted
  --project ID               GCP project id
  --domain HOST              the site's host name (its DNS A record must point at the static IP)
  --paypal-client-id ID      PayPal REST app client id (instance metadata paypal_client_id)
  --paypal-secret-file F|-   PayPal secret from file F or stdin (-); never as an argument.
                             Needed on the first run; later runs keep the stored one unless given.
options:
  --signing-key-file F|-     optional: the P-256 key (PEM) that signs results, kept in Secret Manager
                             (metadata signing_key_secret_ocid); else the VM makes one per boot
  --image FILE               GCE image archive (disk.raw in a tar.gz)   [build/image/sealed-login-gcp.tar.gz]
  --internal-ip A[/P]        the VM's internal IPv4, reserved as NAME-internal-ip   [an unused address
                             GCE picks in the subnet, kept by later runs]. The release's image (ip=dhcp
                             in disk.txt next to it) gets it from GCE's DHCP, so any address of the
                             subnet works; an image built with sealed.ip=A/P needs exactly A (the
                             default then). /P sets the range of NAME-net.
  --name NAME                deployment name, prefix of every resource      [sealed-login]
  --region R / --zone Z      [us-central1 / REGION-b] (free tier: us-central1, us-west1, us-east1)
  --machine-type T           [e2-micro; n2d-standard-2 in mode confidential (or c3d-standard-4)]
  --confidential             the same as --mode confidential
  --disk-gb N                boot disk size (pd-standard; pd-balanced on C3D) [10; free tier: total <= 30]
  --network-tier T           STANDARD or PREMIUM for the external IP     [STANDARD]
  --network NET --subnet S   VPC network and subnet in REGION   [NAME-net, NAME-subnet: made here, MTU
                             1500, range 10.0.1.0/24, or --internal-ip A/P's, or an image's
                             sealed.ip=A/P's; or e.g. default, default]
  --alert-email ADDR         Monitoring email channel: site-down and egress alerts
  --egress-cap-gib N         monthly egress cap the guard enforces      [180 STANDARD, 0.9 PREMIUM]
  --guard-action A           what the guard does at the cap: firewall (disable the web rule) or stop
  --secure-boot              enable Shielded VM Secure Boot (only for a signed UKI: see docs) [--no-secure-boot]
  --gvnic                    declare GVNIC and use it (our kernel has gve built in; always in confidential)
  --no-uptime-check          no uptime check on https://DOMAIN/healthz     [--uptime-check]
  --replace-instance         recreate the VM when it differs from the settings (machine type, mode,
                             image, NIC, disk interface): GCE cannot change those in place. Its RAM
                             state (the used-id set, a per-boot key) is lost. Without it such a
                             difference stops the deploy before anything is changed.
  --settings FILE            KEY=VALUE settings (deploy/gcp/settings.example); options win
  --bucket B                 image bucket                                [PROJECT-NAME-images]
  --state-bucket B           the sealed state's bucket (issue 12): uniform access, no public access,
                             no versioning, no soft delete; the VM may only get, create and delete
                             objects in it                               [PROJECT-NAME-state]
  --key-file F               service-account key JSON (else GOOGLE_APPLICATION_CREDENTIALS, gcloud)
  --token-file F             a file holding an OAuth access token
  --dry-run                  read everything, change nothing, print the plan (the same as "plan")
EOF
}

# What each mode's results prove: the trust statements a result carries (src/common/trust.c,
# docs/evidence.md), and how sealed-verify treats them. plan prints this so the choice is knowing.
mode_proves() {
    case $1 in
        standard) printf '%s' "trust statement 'none': nothing about the image (no vTPM); results carry evidence {type: none} and say so (sealed-verify needs --allow-unattested)" ;;
        shielded) printf '%s' "trust statement 'gce-vtpm-google-rooted': a vTPM quote whose attestation key Google's vTPM CA certified; the image's boot chain as Google's host vTPM saw it (trusts Google's host, not a TEE)" ;;
        confidential) printf '%s' "trust statements 'gce-snp-firmware' + 'gce-vtpm-google-rooted': an AMD-rooted SEV-SNP report (memory encrypted and integrity-protected; it measures Google's firmware, not our image) plus the Google-rooted vTPM quote that covers the image" ;;
    esac
}
print_modes() {   # $1 = the chosen mode (may be empty)
    local m mark
    say "modes (what a result proves):"
    for m in standard shielded confidential; do
        mark=" "; [ "$m" = "${1:-}" ] && mark="*"
        say " $mark $(printf '%-13s' "$m")$(mode_proves "$m")"
    done
}

# List prices (USD, on demand, us-central1) for plan's estimate. Not fetched by this program: recalled
# on PRICES_AS_OF from Google's price pages and secondary sources (docs/deploy-gcp.md, Costs); they
# change, so check them before relying on the estimate.
PRICES_AS_OF=2026-12-07
PRICES_SOURCE="from memory of cloud.google.com/compute/vm-instance-pricing, /compute/disks-image-pricing, /vpc/network-pricing and cloud.google.com/free (not fetched; secondary sources in docs/deploy-gcp.md)"
declare -A PRICE_H=([e2-micro]=0.00838 [e2-small]=0.01675 [e2-medium]=0.03350 [e2-standard-2]=0.06701
    [n2-standard-2]=0.09712 [n2d-standard-2]=0.08449 [n2d-standard-4]=0.16898 [c3d-standard-4]=0.18100)
declare -A DISK_GB_MONTH=([pd-standard]=0.04 [pd-balanced]=0.10 [pd-ssd]=0.17)
IPV4_H=0.005                 # a static external IPv4 address in use by a VM, per hour
EGRESS_GB_STANDARD=0.085     # Standard Tier internet egress beyond the free 200 GB, per GB (North America)
EGRESS_GB_PREMIUM=0.12       # Premium Tier internet egress, per GB (first band, most destinations)
print_cost() {   # the chosen machine, disk, address and egress up to the cap, a month of 730 hours
    local free=0 p=${PRICE_H[$MACHINE]:-} d=${DISK_GB_MONTH[$DISK_TYPE]:-0} allow rate
    if [ "$MACHINE" = e2-micro ]; then case $REGION in us-central1|us-west1|us-east1) free=1 ;; esac; fi
    if [ "$TIER" = STANDARD ]; then allow=200 rate=$EGRESS_GB_STANDARD; else allow=1 rate=$EGRESS_GB_PREMIUM; fi
    say "estimated monthly cost of this deployment (USD, 730 h; prices as of $PRICES_AS_OF, $PRICES_SOURCE):"
    if [ -z "$p" ]; then say "  machine   $MACHINE: no price on file (see the price list)"; p=0
    elif [ "$free" = 1 ]; then say "  machine   e2-micro in $REGION: \$0 within the free tier (one e2-micro's hours per billing account a month, in us-west1, us-central1 or us-east1; else $(awk -v p="$p" 'BEGIN{printf "$%.2f", p*730}'))"; p=0
    else say "  machine   $MACHINE: \$$p/h = $(awk -v p="$p" 'BEGIN{printf "$%.2f", p*730}')$([ "$CONFIDENTIAL" = 1 ] && echo ' + the Confidential VM (SEV-SNP) surcharge per vCPU and GB-hour, not on file: see cloud.google.com/confidential-computing/confidential-vm/pricing')"; fi
    say "  disk      $DISK_TYPE $DISK_GB GB at \$$d/GB-month = $(awk -v g="$DISK_GB" -v d="$d" -v f="$free" 'BEGIN{b=g*d; if (f) { b = (g > 30 ? (g-30)*d : 0) } printf "$%.2f", b}')$([ "$free" = 1 ] && echo ' (free tier: 30 GB-months of pd-standard)')"
    say "  address   static external IPv4 in use: \$$IPV4_H/h = $(awk -v p="$IPV4_H" 'BEGIN{printf "$%.2f", p*730}') (charged since 2024 also beside a free-tier VM, as far as recalled)"
    say "  egress    $TIER tier: $allow GB/month free ($([ "$TIER" = STANDARD ] && echo 'Standard Tier internet egress allowance, per billing account' || echo 'the free tier: 1 GB from North America to all destinations except China and Australia')), then ~\$$rate/GB; the guard's cap $CAP_GIB GiB costs $(awk -v c="$CAP_GIB" -v a="$allow" -v r="$rate" 'BEGIN{g=c*1.073741824-a; printf "$%.2f", (g>0?g*r:0)}') at most"
    say "  total     ~$(awk -v p="$p" -v g="$DISK_GB" -v d="$d" -v f="$free" -v ip="$IPV4_H" -v c="$CAP_GIB" -v a="$allow" -v r="$rate" 'BEGIN{b=g*d; if (f) b=(g>30?(g-30)*d:0); e=c*1.073741824-a; if (e<0) e=0; printf "$%.2f", p*730 + b + ip*730 + e*r}')/month at the cap$([ "$CONFIDENTIAL" = 1 ] && echo ', plus the Confidential VM surcharge')"
}

# Settings file: KEY=VALUE lines become options placed before the command line's, so those win.
SETTINGS_KEYS=" project domain paypal_client_id paypal_secret_file signing_key_file image internal_ip name region zone machine_type mode disk_gb network_tier network subnet alert_email egress_cap_gib guard_action secure_boot gvnic uptime_check bucket state_bucket key_file token_file "
settings_args() {   # $1 = file: fills SARGS
    local n=0 line k v
    [ -r "$1" ] || die "cannot read the settings file $1"
    while IFS= read -r line || [ -n "$line" ]; do
        n=$((n + 1))
        line=${line%$'\r'}
        [[ $line =~ ^[[:space:]]*(#|$) ]] && continue
        [[ $line == *=* ]] || die "$1:$n: not KEY=VALUE: '$line'"
        k=${line%%=*} v=${line#*=}
        k=${k//[[:space:]]/} k=${k//-/_}
        v=${v#"${v%%[![:space:]]*}"} v=${v%"${v##*[![:space:]]}"}
        case $k in paypal_secret|secret) die "$1:$n: the PayPal secret is never a setting (the file would hold it in clear): use paypal_secret_file=FILE (mode 600) or - (stdin)" ;; esac
        [[ $SETTINGS_KEYS == *" $k "* ]] || die "$1:$n: unknown setting '$k' (known:${SETTINGS_KEYS% })"
        [ -n "$v" ] || continue
        case $k in
            secure_boot|gvnic|uptime_check)
                case $v in true) SARGS+=("--${k//_/-}") ;; false) SARGS+=("--no-${k//_/-}") ;;
                    *) die "$1:$n: $k must be true or false, not '$v'" ;; esac ;;
            *) SARGS+=("--${k//_/-}" "$v") ;;
        esac
    done <"$1"
}
SARGS=() REST=()
[ "${1:-}" = plan ] && { GCP_DRY_RUN=1; shift; }
[ "${1:-}" = deploy ] && shift
while [ $# -gt 0 ]; do
    if [ "$1" = --settings ]; then [ $# -ge 2 ] || die "--settings needs a file"; settings_args "$2"; shift 2
    else REST+=("$1"); shift; fi
done
set -- "${SARGS[@]}" "${REST[@]}"

PROJECT="" DOMAIN="" CLIENT_ID="" SECRET_FILE="" IMAGE_FILE="" INTERNAL_IP="" NAME=sealed-login
MODE="" CONF_FLAG=0 REGION="" ZONE="" MACHINE="" CONFIDENTIAL=0 DISK_GB=10 TIER=STANDARD NETWORK="" SUBNET=""
EMAIL="" CAP_GIB="" GUARD_ACTION=firewall SECURE_BOOT=0 GVNIC=0 UPTIME=1 REPLACE=0 BUCKET="" STATE_BUCKET=""
KEY_FILE="" TOKEN_FILE="" SIGNKEY_FILE=""
while [ $# -gt 0 ]; do
    case "$1" in
        --project) PROJECT=$2; shift ;;
        --domain) DOMAIN=$2; shift ;;
        --paypal-client-id) CLIENT_ID=$2; shift ;;
        --paypal-secret-file) SECRET_FILE=$2; shift ;;
        --signing-key-file) SIGNKEY_FILE=$2; shift ;;
        --paypal-secret|--secret) die "$1: the secret is never taken as an argument (it would show in ps and shell history): use --paypal-secret-file FILE or - (stdin)" ;;
        --image) IMAGE_FILE=$2; shift ;;
        --internal-ip) INTERNAL_IP=$2; shift ;;
        --name) NAME=$2; shift ;;
        --region) REGION=$2; shift ;;
        --zone) ZONE=$2; shift ;;
        --machine-type) MACHINE=$2; shift ;;
        --mode) MODE=$2; shift ;;
        --confidential) CONF_FLAG=1 ;;
        --disk-gb) DISK_GB=$2; shift ;;
        --network-tier) TIER=$2; shift ;;
        --network) NETWORK=$2; shift ;;
        --subnet) SUBNET=$2; shift ;;
        --alert-email) EMAIL=$2; shift ;;
        --egress-cap-gib) CAP_GIB=$2; shift ;;
        --guard-action) GUARD_ACTION=$2; shift ;;
        --secure-boot) SECURE_BOOT=1 ;;
        --no-secure-boot) SECURE_BOOT=0 ;;
        --gvnic) GVNIC=1 ;;
        --no-gvnic) GVNIC=0 ;;
        --no-uptime-check) UPTIME=0 ;;
        --uptime-check) UPTIME=1 ;;
        --replace-instance) REPLACE=1 ;;
        --bucket) BUCKET=$2; shift ;;
        --state-bucket) STATE_BUCKET=$2; shift ;;
        --key-file) KEY_FILE=$2; shift ;;
        --token-file) TOKEN_FILE=$2; shift ;;
        --dry-run) GCP_DRY_RUN=1 ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; die "unknown argument: $1" ;;
    esac
    shift
done

# ---- checks before anything is asked of Google ----------------------------------------------------

if [ "$CONF_FLAG" = 1 ]; then
    [ -z "$MODE" ] || [ "$MODE" = confidential ] || die "--confidential contradicts mode $MODE"
    MODE=confidential
fi
case $MODE in
    standard|shielded|confidential) ;;
    "") print_modes "" >&2; die "mode is required (--mode or mode= in the settings): standard, shielded or confidential; \"plan\" prints what each proves and costs" ;;
    *) die "mode must be standard, shielded or confidential, not '$MODE'" ;;
esac
[ "$MODE" = confidential ] && CONFIDENTIAL=1
[ "$MODE" != standard ] || [ "$SECURE_BOOT" = 0 ] || die "secure_boot is a Shielded VM feature: mode standard has none (use mode shielded or confidential); nothing was created"

[ -n "$PROJECT" ] && [ -n "$DOMAIN" ] && [ -n "$CLIENT_ID" ] || { usage >&2; die "--project, --domain and --paypal-client-id are required"; }
[[ $PROJECT =~ ^[a-z][-a-z0-9]{4,28}[a-z0-9]$ ]] || die "--project '$PROJECT' is not a project id (6-30 lowercase letters, digits, '-')"
check_name --name "$NAME"
[ ${#NAME} -le 24 ] || die "--name '$NAME' is longer than 24 characters (service-account ids are at most 30: NAME-guard)"
[[ $DOMAIN =~ ^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$ ]] || die "--domain '$DOMAIN' is not a lowercase DNS host name"
[[ $CLIENT_ID =~ ^[A-Za-z0-9_-]{1,255}$ ]] || die "--paypal-client-id must be the client id (letters, digits, '-', '_')"
[[ $DISK_GB =~ ^[0-9]+$ ]] && [ "$DISK_GB" -ge 10 ] && [ "$DISK_GB" -le 2048 ] || die "--disk-gb must be 10..2048 (pd-standard's minimum is 10)"
case $TIER in STANDARD|PREMIUM) ;; *) die "--network-tier must be STANDARD or PREMIUM" ;; esac
case $GUARD_ACTION in firewall|stop) ;; *) die "--guard-action must be firewall or stop" ;; esac
[ -z "$EMAIL" ] || [[ $EMAIL =~ ^[^@[:space:]]+@[^@[:space:]]+\.[a-z]+$ ]] || die "--alert-email '$EMAIL' is not an address"
if [ -z "$ZONE" ]; then REGION=${REGION:-us-central1}; ZONE=$REGION-b; fi
[[ $ZONE =~ ^[a-z]+-[a-z]+[0-9]+-[a-z]$ ]] || die "--zone '$ZONE' is not a zone name (like us-central1-b)"
[ -z "$REGION" ] || [ "${ZONE%-*}" = "$REGION" ] || die "--zone $ZONE is not in --region $REGION"
REGION=${ZONE%-*}
if [ "$CONFIDENTIAL" = 1 ]; then MACHINE=${MACHINE:-n2d-standard-2}; else MACHINE=${MACHINE:-e2-micro}; fi
check_name --machine-type "$MACHINE"
# Confidential VM with AMD SEV-SNP: N2D (AMD Milan) or C3D (AMD Genoa) only, onHostMaintenance
# TERMINATE, the NVMe disk interface, and an image declaring SEV_SNP_CAPABLE (docs/deploy-gcp.md).
SERIES=${MACHINE%%-*} DISK_TYPE=pd-standard DISK_IF=SCSI MIN_CPU=""
if [ "$CONFIDENTIAL" = 1 ]; then
    case $SERIES in
        n2d) MIN_CPU="AMD Milan" ;;
        c3d) MIN_CPU="AMD Genoa" DISK_TYPE=pd-balanced ;;   # C3D has no pd-standard
        *) die "mode confidential (AMD SEV-SNP) runs only on N2D (AMD Milan) or C3D (AMD Genoa) machine types; $MACHINE cannot$([ "$SERIES" = e2 ] && echo ' (E2, the free tier, has no Confidential VM)'): use --machine-type n2d-standard-2, or another mode. Nothing was created" ;;
    esac
    DISK_IF=NVME GVNIC=1   # Confidential VMs need NVMe disks; gVNIC (our kernel has gve) is what C3D offers
fi
[ -n "$CAP_GIB" ] || { [ "$TIER" = STANDARD ] && CAP_GIB=180 || CAP_GIB=0.9; }
[[ $CAP_GIB =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "--egress-cap-gib must be a number of GiB"
CAP_BYTES=$(awk -v g="$CAP_GIB" 'BEGIN { printf "%.0f", g * 1073741824 }')
[ "$CAP_BYTES" -gt 0 ] || die "--egress-cap-gib must be more than 0"
BUCKET=${BUCKET:-$PROJECT-$NAME-images}
[[ $BUCKET =~ ^[a-z0-9][-a-z0-9_.]{1,61}[a-z0-9]$ ]] && [[ $BUCKET != goog* ]] || die "bucket name '$BUCKET' is not valid: give --bucket"
STATE_BUCKET=${STATE_BUCKET:-$PROJECT-$NAME-state}
# the service takes [A-Za-z0-9._-] in gcs:BUCKET/OBJECT (src/login/state_remote.c); GCS takes lowercase
[[ $STATE_BUCKET =~ ^[a-z0-9][-a-z0-9_]{1,61}[a-z0-9]$ ]] && [[ $STATE_BUCKET != goog* ]] || die "state bucket name '$STATE_BUCKET' is not valid (3-63 lowercase letters, digits, '-', '_'): give --state-bucket"
[ "$STATE_BUCKET" != "$BUCKET" ] || die "the state bucket must not be the image bucket (the VM may write to it)"

[ "$SERIES" != c3d ] || [ "$CONFIDENTIAL" = 1 ] || die "C3D has no pd-standard disk and needs gVNIC: use it only with mode confidential, or another machine type"
if [ "$MACHINE" = e2-micro ]; then
    case $REGION in us-central1|us-west1|us-east1) ;; *) warn "e2-micro is free tier only in us-central1, us-west1 and us-east1: $REGION is billed" ;; esac
    [ "$DISK_GB" -le 30 ] || warn "pd-standard is free up to 30 GB per month in total: $DISK_GB GB is partly billed"
else
    warn "$MACHINE is not free tier: billed per hour (see docs/deploy-gcp.md, Costs)"
fi

# The image archive: GCE imports a gzip'd tar holding exactly one file, disk.raw, a whole number of GiB.
IMAGE_FILE=${IMAGE_FILE:-build/image/sealed-login-gcp.tar.gz}
[ -r "$IMAGE_FILE" ] || die "no image archive at $IMAGE_FILE: build it (make image: the release's image, docs/deploy-gcp.md) or give --image"
listing=$(tar -tvzf "$IMAGE_FILE" 2>/dev/null) || die "$IMAGE_FILE is not a gzip'd tar"
[ "$(printf '%s\n' "$listing" | wc -l)" = 1 ] && [ "$(printf '%s\n' "$listing" | awk '{print $6}')" = disk.raw ] ||
    die "$IMAGE_FILE must hold exactly one file, disk.raw (GCE's import format); it holds: $(printf '%s\n' "$listing" | awk '{print $6}' | tr '\n' ' ')"
raw_size=$(printf '%s\n' "$listing" | awk '{print $3}')
[ $((raw_size % 1073741824)) = 0 ] && [ "$raw_size" -gt 0 ] || die "$IMAGE_FILE: disk.raw is $raw_size bytes; GCE needs a whole number of GiB"
[ $((raw_size / 1073741824)) -le "$DISK_GB" ] || die "--disk-gb $DISK_GB is smaller than the image's disk ($((raw_size / 1073741824)) GiB)"
IMAGE_SHA=$(sha256sum "$IMAGE_FILE" | cut -c1-64)
# The build lists every artifact's sha256 (SHA256SUMS next to it): a stale or damaged copy stops here.
SUMS=$(dirname "$IMAGE_FILE")/SHA256SUMS
if [ -r "$SUMS" ]; then
    want=$(awk -v f="$(basename "$IMAGE_FILE")" '$2 == f || $2 == "*" f { print $1 }' "$SUMS" | head -1)
    [ -z "$want" ] || [ "$want" = "$IMAGE_SHA" ] ||
        die "$IMAGE_FILE has sha256 $IMAGE_SHA but $SUMS says $want: rebuild it (make image) or give the right --image"
fi
IMAGE_MD5=$(openssl md5 -binary "$IMAGE_FILE" | openssl base64 -A)
IMAGE_NAME=$NAME-${IMAGE_SHA:0:12}
[ "$CONFIDENTIAL" = 1 ] && IMAGE_NAME=$IMAGE_NAME-snp
[ "$GVNIC" = 1 ] && IMAGE_NAME=$IMAGE_NAME-gvnic
OBJECT=$NAME-${IMAGE_SHA:0:12}.tar.gz

# The network: the image's (measured) kernel command line, repeated in disk.txt next to the archive
# (scripts/build-disk.sh), says how the VM gets its address (docs/image.md). ip=dhcp, the release's
# image (plain make image): GCE's DHCP hands the VM the internal address reserved for it here, so one
# image serves every deployment. sealed.ip=A/P sealed.gw=G, a build for one deployment: the VM must
# get exactly A, in a subnet whose gateway is G (sealed-init applies it; it wins over ip=). Neither:
# the VM would boot without a network, so nothing is deployed.
DISK_TXT=$(dirname "$IMAGE_FILE")/disk.txt IMG_NET=unchecked IMG_IP="" IMG_PREFIX="" IMG_GW="" CMDLINE=""
DHCP_HINT="an image with ip=dhcp (plain make image, the release's image) gets its address from GCE's DHCP and needs no build per deployment"
no_network() {   # $1 = why
    die "$DISK_TXT: the image's kernel command line ($CMDLINE) configures no network: $1, so the VM would boot unreachable. Deploy the release's image, whose command line has ip=dhcp (plain make image, docs/image.md). Nothing was created"
}
if [ -r "$DISK_TXT" ]; then
    CMDLINE=$(sed -n 's/^cmdline=//p' "$DISK_TXT")
    img_sip="" img_kip="" img_has_kip=0
    read -ra words <<<"$CMDLINE"
    for w in "${words[@]}"; do   # the last of a repeated parameter counts
        case $w in sealed.ip=*) img_sip=${w#sealed.ip=} ;; sealed.gw=*) IMG_GW=${w#sealed.gw=} ;; ip=*) img_kip=${w#ip=} img_has_kip=1 ;; esac
    done
    if [ -n "$img_sip" ]; then
        [[ $img_sip =~ ^([0-9]{1,3}(\.[0-9]{1,3}){3})/([0-9]{1,2})$ ]] ||
            no_network "sealed.ip=$img_sip is not ADDRESS/PREFIX (sealed-init leaves the network down)"
        IMG_NET=static IMG_IP=${BASH_REMATCH[1]} IMG_PREFIX=${BASH_REMATCH[3]}
    elif [ "$img_kip" = dhcp ]; then IMG_NET=dhcp IMG_GW=""
    elif [ "$img_has_kip" = 1 ]; then no_network "ip=$img_kip is not ip=dhcp"
    else no_network "neither ip=dhcp nor sealed.ip="; fi
else
    warn "no disk.txt next to $IMAGE_FILE: cannot check how the image configures its network; deploying it as the release's ip=dhcp image (an image built with sealed.ip=A/P needs --internal-ip A/P)"
fi
PREFIX=$IMG_PREFIX   # of the subnet deploy.sh makes
if [[ $INTERNAL_IP == */* ]]; then
    [ -z "$IMG_PREFIX" ] || [ "$IMG_PREFIX" = "${INTERNAL_IP#*/}" ] || die "--internal-ip prefix /${INTERNAL_IP#*/} differs from the image's sealed.ip=$IMG_IP/$IMG_PREFIX ($DISK_TXT)"
    PREFIX=${INTERNAL_IP#*/} INTERNAL_IP=${INTERNAL_IP%/*}
fi
if [ "$IMG_NET" = static ]; then
    [ -z "$INTERNAL_IP" ] || [ "$INTERNAL_IP" = "$IMG_IP" ] ||
        die "--internal-ip $INTERNAL_IP differs from the image's sealed.ip=$IMG_IP ($DISK_TXT): the VM would be unreachable. $DHCP_HINT"
    INTERNAL_IP=$IMG_IP
fi
[ -z "$INTERNAL_IP" ] || ipv4 "$INTERNAL_IP" || die "--internal-ip '$INTERNAL_IP' is not an IPv4 address"
[ -z "$PREFIX" ] || { [[ $PREFIX =~ ^[0-9]+$ ]] && [ "$PREFIX" -ge 8 ] && [ "$PREFIX" -le 29 ]; } ||
    die "the prefix /$PREFIX cannot be a GCE subnet (/8 to /29)"
[ -z "$IMG_GW" ] || ipv4 "$IMG_GW" || die "the image's sealed.gw=$IMG_GW is not an IPv4 address"

# The network: by default our own (NAME-net, custom mode, MTU 1500 as the image's interface, only our
# firewall rule) with one subnet: 10.0.1.0/24 (outside 10.128.0.0/9, GCE's auto-mode ranges, so it can
# be peered with a default VPC), or the range of --internal-ip A/P (A/24 without /P), or that of an
# image built with sealed.ip=A/P. Or an existing network (--network, --subnet).
DEFAULT_RANGE=10.0.1.0/24
NETWORK=${NETWORK:-$NAME-net}
OWN_NET=0 RANGE="" RANGE_FROM=""
if [ "$NETWORK" = "$NAME-net" ]; then OWN_NET=1; SUBNET=${SUBNET:-$NAME-subnet}; else SUBNET=${SUBNET:-default}; fi
check_name --network "$NETWORK"
check_name --subnet "$SUBNET"
if [ "$OWN_NET" = 1 ]; then
    if [ -z "$INTERNAL_IP" ]; then RANGE=$DEFAULT_RANGE RANGE_FROM=default
    else
        [ "$IMG_NET" = static ] && RANGE_FROM="the image's sealed.ip=$IMG_IP/$IMG_PREFIX" || RANGE_FROM="--internal-ip $INTERNAL_IP/${PREFIX:-24}"
        PREFIX=${PREFIX:-24}
        mask=$(( (0xFFFFFFFF << (32 - PREFIX)) & 0xFFFFFFFF ))
        RANGE=$(int2ip $(( $(ip2int "$INTERNAL_IP") & mask )))/$PREFIX
    fi
    net_int=$(ip2int "${RANGE%/*}")
    GW_WANT=$(int2ip $((net_int + 1)))
    case ${RANGE%/*} in 10.*|192.168.*|172.1[6-9].*|172.2[0-9].*|172.3[01].*) ;; *) die "$RANGE_FROM is not in a private (RFC 1918) range: GCE subnets must be" ;; esac
    [ -z "$IMG_GW" ] || [ "$IMG_GW" = "$GW_WANT" ] ||
        die "the image's sealed.gw=$IMG_GW: a GCE subnet's gateway is always its first address, $GW_WANT; build the image with sealed.ip=$INTERNAL_IP/$PREFIX sealed.gw=$GW_WANT sealed.dns=169.254.169.254, or: $DHCP_HINT"
    [ -z "$INTERNAL_IP" ] || { [ "$INTERNAL_IP" != "$GW_WANT" ] && [ "$INTERNAL_IP" != "${RANGE%/*}" ]; } || die "$INTERNAL_IP is the subnet's network or gateway address"
fi

# The secret: from a file or stdin, into our private directory; never on argv, never echoed.
gcp_tmp_init
if [ -n "$SECRET_FILE" ]; then
    if [ "$SECRET_FILE" = - ]; then cat >"$GCP_TMP/paypal.secret"; else
        [ -r "$SECRET_FILE" ] || die "cannot read --paypal-secret-file $SECRET_FILE"
        cat <"$SECRET_FILE" >"$GCP_TMP/paypal.secret"
    fi
    [ -s "$GCP_TMP/paypal.secret" ] || die "the PayPal secret is empty"
    [ "$(wc -c <"$GCP_TMP/paypal.secret")" -le 65536 ] || die "the PayPal secret is larger than 64 KiB (Secret Manager's cap)"
    openssl base64 -A <"$GCP_TMP/paypal.secret" >"$GCP_TMP/paypal.secret.b64"
fi
# The result signing key (optional): a P-256 private key in PEM, kept in Secret Manager so results stay
# verifiable against one pinned public key across reboots (else the service makes a key per boot).
SIGNER_PUB=""
if [ -n "$SIGNKEY_FILE" ]; then
    [ "$SIGNKEY_FILE" != - ] || [ "$SECRET_FILE" != - ] || die "only one of --paypal-secret-file and --signing-key-file can be - (stdin)"
    if [ "$SIGNKEY_FILE" = - ]; then cat >"$GCP_TMP/signkey.secret"; else
        [ -r "$SIGNKEY_FILE" ] || die "cannot read --signing-key-file $SIGNKEY_FILE"
        cat <"$SIGNKEY_FILE" >"$GCP_TMP/signkey.secret"
    fi
    SIGNER_PUB=$(openssl pkey -in "$GCP_TMP/signkey.secret" -pubout 2>/dev/null) ||
        die "--signing-key-file is not a private key in PEM (make one: openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256)"
    openssl pkey -pubin -noout -text <<<"$SIGNER_PUB" 2>/dev/null | grep -q 'prime256v1\|P-256' ||
        die "--signing-key-file must be an EC P-256 key (results are ES256)"
    openssl base64 -A <"$GCP_TMP/signkey.secret" >"$GCP_TMP/signkey.secret.b64"
fi

VM_SA=$NAME-vm@$PROJECT.iam.gserviceaccount.com
GUARD_SA=$NAME-guard@$PROJECT.iam.gserviceaccount.com
SECRET_ID=$NAME-paypal-secret
SIGNKEY_ID=$NAME-signing-key
ROLE_ID=sealedLoginGuard_$(printf '%s' "$NAME" | tr -- - _)
STATE_ROLE_ID=sealedLoginState_$(printf '%s' "$NAME" | tr -- - _)
STOP_ROLE_ID=sealedLoginSelfStop_$(printf '%s' "$NAME" | tr -- - _)
STATE_OBJECT=state.v1
# The VM's notifications (src/login/cloud/cloud.c, cloud_notify): a Pub/Sub topic it alone may publish
# to, and an inbox subscription that keeps the messages' text for the operator (a topic keeps nothing).
TOPIC_ID=$NAME-notify INBOX_ID=$NAME-notify-inbox
TOPIC=projects/$PROJECT/topics/$TOPIC_ID INBOX=projects/$PROJECT/subscriptions/$INBOX_ID
PS=$GCP_PUBSUB/projects/$PROJECT
FW=$NAME-web EXT_ADDR=$NAME-ip INT_ADDR=$NAME-internal-ip
C=$GCP_COMPUTE/projects/$PROJECT
LABELS=$(jq -cn --arg n "$NAME" --arg k "$GCP_LABEL" '{($k): $n}')
MARK="$GCP_LABEL=$NAME"   # in descriptions, where GCP has no labels
q() { jq -cn --arg v "$1" '$v'; }

[ "$GCP_DRY_RUN" = 1 ] || gcp_lock "$PROJECT" "$NAME"
gcp_auth "$TOKEN_FILE" "$KEY_FILE"
say "deploy $NAME to project $PROJECT, zone $ZONE, as $GCP_PRINCIPAL$([ "$GCP_DRY_RUN" = 1 ] && echo ' (dry run: nothing is changed)')"
say "mode $MODE on $MACHINE"
print_modes "$MODE"
print_cost

# ---- 1. APIs -------------------------------------------------------------------------------------
step "APIs"
APIS="compute.googleapis.com secretmanager.googleapis.com storage.googleapis.com monitoring.googleapis.com iam.googleapis.com cloudresourcemanager.googleapis.com pubsub.googleapis.com"
qs=""; for a in $APIS; do qs="$qs&names=projects/$PROJECT/services/$a"; done
gcp_req GET "$GCP_SERVICEUSAGE/projects/$PROJECT/services:batchGet?${qs#&}"
ok2xx || gcp_fail "checking the enabled APIs of project $PROJECT (serviceusage.googleapis.com itself must be enabled: console, APIs & Services)"
missing=$(jr '[.services[] | select(.state != "ENABLED") | .config.name // (.name | split("/") | last)] | join(" ")')
for a in $APIS; do [[ " $missing " == *" $a "* ]] || have "$a enabled"; done
if [ -n "$missing" ]; then
    if [ "$GCP_DRY_RUN" = 1 ]; then plan "enable $missing"; else
        gcp_json POST "$GCP_SERVICEUSAGE/projects/$PROJECT/services:batchEnable" \
            "$(jq -cn --arg s "$missing" '{serviceIds: ($s | split(" "))}')" "enabling $missing"
        gcp_wait_lro "$GCP_SERVICEUSAGE" "enabling $missing"
        made "enabled $missing"
    fi
fi

# ---- 1b. preflight: the zone and machine type, and what exists, read back against the settings ----
# Every impossible combination stops here, before anything but the APIs is touched.
step "preflight"
IMG_FEATS_WANT="UEFI_COMPATIBLE"   # the disk is GPT with only an EFI system partition (no BIOS boot code)
[ "$CONFIDENTIAL" = 1 ] && IMG_FEATS_WANT="$IMG_FEATS_WANT SEV_CAPABLE SEV_SNP_CAPABLE"
[ "$GVNIC" = 1 ] && IMG_FEATS_WANT="$IMG_FEATS_WANT GVNIC"
mode_of() {   # an instance (JSON on stdin) -> the mode it really runs in
    jq -r '(.confidentialInstanceConfig // {}) as $c | ($c.confidentialInstanceType // "") as $t
        | if $t == "SEV_SNP" then "confidential"
          elif $t != "" or $c.enableConfidentialCompute == true then "confidential-" + (($t | select(. != "")) // "SEV" | ascii_downcase)
          elif (.shieldedInstanceConfig // {}).enableVtpm == true then "shielded" else "standard" end'
}
if gcp_exists "$C/zones/$ZONE" "reading zone $ZONE"; then
    if [ -n "$MIN_CPU" ] && ! jr -e --arg p "$MIN_CPU" '.availableCpuPlatforms // [] | index([$p])' >/dev/null; then
        die "zone $ZONE offers no $MIN_CPU CPUs (availableCpuPlatforms: $(jr '.availableCpuPlatforms // [] | join(", ")')): SEV-SNP on $SERIES needs them; pick a zone from Google's Confidential VM supported configurations (docs/deploy-gcp.md). Nothing was created"
    fi
    gcp_exists "$C/zones/$ZONE/machineTypes/$MACHINE" "reading machine type $MACHINE in $ZONE" ||
        die "machine type $MACHINE does not exist in zone $ZONE (machineTypes.get: 404): pick another --machine-type or --zone. Nothing was created"
    have "zone $ZONE offers $MACHINE ($(jr '.description // ""'))${MIN_CPU:+ on $MIN_CPU}"
elif [ "$GCP_DRY_RUN" = 1 ]; then plan "check zone $ZONE and machine type $MACHINE once the Compute API is on"
else die "zone $ZONE does not exist (zones.get: 404)"; fi
if gcp_exists "$C/global/images/$IMAGE_NAME" "reading image $IMAGE_NAME"; then
    have_f=$(jr '[.guestOsFeatures[]?.type] | join(" ")') missing=""
    for f in $IMG_FEATS_WANT; do [[ " $have_f " == *" $f "* ]] || missing="$missing $f"; done
    [ -z "$missing" ] || die "image $IMAGE_NAME exists but its guestOsFeatures lack$missing (it has: ${have_f:-none}), which mode $MODE needs; an image's features cannot be changed: delete it (DELETE .../global/images/$IMAGE_NAME, or teardown.sh) and rerun. Nothing was created"
    have "image $IMAGE_NAME declares ${have_f// /, }"
fi
I=$C/zones/$ZONE/instances/$NAME
REPLACE_WHY=() INSTANCE_EXISTS=0
if gcp_exists "$I" "reading instance $NAME"; then
    INSTANCE_EXISTS=1
    cp "$GCP_RESP" "$GCP_TMP/instance.json"
    cur_mt=$(jq -r '.machineType | split("/") | last' "$GCP_TMP/instance.json")
    cur_mode=$(mode_of <"$GCP_TMP/instance.json")
    cur_if=$(jq -r '[.disks[] | select(.boot) | .interface // "SCSI"] | first // "SCSI"' "$GCP_TMP/instance.json")
    cur_nic=$(jq -r '.networkInterfaces[0].nicType // "VIRTIO_NET"' "$GCP_TMP/instance.json")
    cur_sb=$(jq -r '.shieldedInstanceConfig.enableSecureBoot // false' "$GCP_TMP/instance.json")
    gcp_req GET "$(jq -r '.disks[] | select(.boot) | .source' "$GCP_TMP/instance.json")"
    cur_img=$(ok2xx && jr '.sourceImage // "" | split("/") | last' || echo "?")
    want_nic=VIRTIO_NET; [ "$GVNIC" = 1 ] && want_nic=GVNIC
    want_sb=false; [ "$SECURE_BOOT" = 1 ] && want_sb=true
    [ "$cur_mt" = "$MACHINE" ] || REPLACE_WHY+=("machine type $cur_mt -> $MACHINE")
    [ "$cur_mode" = "$MODE" ] || REPLACE_WHY+=("mode $cur_mode -> $MODE (confidentialInstanceConfig $(jq -c '.confidentialInstanceConfig // {}' "$GCP_TMP/instance.json"), vTPM $(jq -r '.shieldedInstanceConfig.enableVtpm // false' "$GCP_TMP/instance.json"))")
    [ "$cur_img" = "$IMAGE_NAME" ] || REPLACE_WHY+=("image $cur_img -> $IMAGE_NAME")
    [ "$cur_if" = "$DISK_IF" ] || REPLACE_WHY+=("boot disk interface $cur_if -> $DISK_IF")
    [ "$cur_nic" = "$want_nic" ] || REPLACE_WHY+=("NIC $cur_nic -> $want_nic")
    [ "$cur_sb" = "$want_sb" ] || REPLACE_WHY+=("Secure Boot $cur_sb -> $want_sb")
    if [ ${#REPLACE_WHY[@]} -gt 0 ]; then
        WHY=$(printf '%s; ' "${REPLACE_WHY[@]}") WHY=${WHY%; }
        if [ "$GCP_DRY_RUN" = 1 ]; then plan "replace instance $NAME: $WHY$([ "$REPLACE" = 1 ] || echo ' (deploy needs --replace-instance)')"
        elif [ "$REPLACE" != 1 ]; then
            die "instance $NAME is not what the settings describe: $WHY. GCE cannot change that in place: rerun with --replace-instance to delete it and create a new one at the same addresses (its RAM state, the used-id set and a per-boot key, is lost). Nothing was changed"
        fi
    else have "instance $NAME is what the settings describe ($MACHINE, mode $MODE, image $IMAGE_NAME)"; fi
fi

# ---- 2. the subnet, and the address in it -------------------------------------------------------
step "network"
if [ "$OWN_NET" = 1 ]; then
    if gcp_exists "$C/global/networks/$NETWORK" "reading network $NETWORK"; then
        [ "$(jr '.mtu // 1460')" = 1500 ] || warn "network $NETWORK has MTU $(jr '.mtu // 1460'), the image's interface uses 1500"
        have "network $NETWORK (MTU $(jr '.mtu // 1460'))"
    elif [ "$GCP_DRY_RUN" = 1 ]; then plan "create network $NETWORK (custom mode, MTU 1500)"
    else
        gcp_json POST "$C/global/networks" "$(jq -cn --arg n "$NETWORK" --arg m "$MARK" \
            '{name:$n, autoCreateSubnetworks:false, mtu:1500, routingConfig:{routingMode:"REGIONAL"}, description:($m + ": the network of the sealed VM")}')" \
            "creating network $NETWORK"
        gcp_wait_compute "creating network $NETWORK"
        made "network $NETWORK (custom mode, MTU 1500)"
    fi
    if gcp_exists "$C/regions/$REGION/subnetworks/$SUBNET" "reading subnetwork $SUBNET"; then
        # an ip=dhcp image takes any range: without --internal-ip the subnet keeps the one it has
        [ "$(jr .ipCidrRange)" = "$RANGE" ] || [ "$RANGE_FROM" = default ] ||
            die "subnetwork $SUBNET has range $(jr .ipCidrRange), $RANGE_FROM needs $RANGE: teardown.sh first"
    elif [ "$GCP_DRY_RUN" = 1 ]; then plan "create subnetwork $SUBNET $RANGE in $REGION"
    else
        gcp_json POST "$C/regions/$REGION/subnetworks" "$(jq -cn --arg n "$SUBNET" --arg net "global/networks/$NETWORK" --arg r "$RANGE" --arg m "$MARK" \
            '{name:$n, network:$net, ipCidrRange:$r, privateIpGoogleAccess:false, description:($m + ": the subnet of the sealed VM")}')" \
            "creating subnetwork $SUBNET"
        gcp_wait_compute "creating subnetwork $SUBNET ($RANGE)"
        made "subnetwork $SUBNET $RANGE in $REGION"
    fi
fi
if gcp_exists "$C/regions/$REGION/subnetworks/$SUBNET" "reading subnetwork $SUBNET in $REGION"; then
    CIDR=$(jr .ipCidrRange) GW=$(jr .gatewayAddress)
    if [ -z "$INTERNAL_IP" ]; then
        have "subnet $SUBNET $CIDR, gateway $GW: the VM's address is the one reserved in it as $INT_ADDR"
    else
        in_cidr=$(awk -v ip="$INTERNAL_IP" -v cidr="$CIDR" 'function n(a, p) { split(a, p, "."); return ((p[1]*256+p[2])*256+p[3])*256+p[4] }
            BEGIN { split(cidr, c, "/"); m = 2^(32-c[2]); print (int(n(ip)/m) == int(n(c[1])/m)) ? 1 : 0 }')
        if [ "$IMG_NET" = static ]; then
            want="sealed.ip=$INTERNAL_IP/${CIDR#*/} sealed.gw=$GW sealed.dns=169.254.169.254"
            [ "$in_cidr" = 1 ] || die "internal IP $INTERNAL_IP is outside subnet $SUBNET ($CIDR): pick an address in it and build the image with: $want; or: $DHCP_HINT"
            [ -z "$IMG_GW" ] || [ "$IMG_GW" = "$GW" ] || die "the image's sealed.gw=$IMG_GW is not the subnet's gateway $GW: build the image with: $want; or: $DHCP_HINT"
            [ "$IMG_PREFIX" = "${CIDR#*/}" ] || die "the image's prefix /$IMG_PREFIX is not the subnet's ${CIDR#*/}: build the image with: $want; or: $DHCP_HINT"
        else
            [ "$in_cidr" = 1 ] || die "--internal-ip $INTERNAL_IP is outside subnet $SUBNET ($CIDR): give an address in it, or none (GCE then picks one and it is reserved)"
        fi
        have "subnet $SUBNET $CIDR, gateway $GW: $INTERNAL_IP fits"
    fi
else
    [ "$GCP_DRY_RUN" = 1 ] || die "subnetwork $SUBNET does not exist in $REGION (network $NETWORK): create it or give --network/--subnet"
    plan "check ${INTERNAL_IP:-the address} against subnet $SUBNET once the Compute API is on"
fi

# ---- 3. image: bucket, upload, images.insert -----------------------------------------------------
step "image"
if gcp_exists "$C/global/images/$IMAGE_NAME" "reading image $IMAGE_NAME"; then
    [ "$(jr .status)" = READY ] || die "image $IMAGE_NAME exists with status $(jr .status): delete it (teardown.sh) and rerun"
    have "image $IMAGE_NAME (READY)"
else
    if gcp_exists "$GCP_STORAGE/b/$BUCKET" "reading bucket gs://$BUCKET"; then
        have "bucket gs://$BUCKET"
    elif [ "$GCP_DRY_RUN" = 1 ]; then plan "create bucket gs://$BUCKET ($REGION, uniform access, public access prevented)"
    else
        gcp_json POST "$GCP_STORAGE/b?project=$PROJECT" "$(jq -cn --arg b "$BUCKET" --arg l "$REGION" --argjson lab "$LABELS" \
            '{name:$b, location:$l, storageClass:"STANDARD", labels:$lab,
              iamConfiguration:{uniformBucketLevelAccess:{enabled:true}, publicAccessPrevention:"enforced"}}')" "creating bucket gs://$BUCKET"
        made "bucket gs://$BUCKET"
    fi
    obj_ok=0
    if gcp_exists "$GCP_STORAGE/b/$BUCKET/o/$(urlenc "$OBJECT")" "reading gs://$BUCKET/$OBJECT"; then
        [ "$(jr .md5Hash)" = "$IMAGE_MD5" ] && obj_ok=1 || warn "gs://$BUCKET/$OBJECT differs from $IMAGE_FILE (MD5): uploading again"
    fi
    if [ "$obj_ok" = 1 ]; then
        have "gs://$BUCKET/$OBJECT"
    elif [ "$GCP_DRY_RUN" = 1 ]; then plan "upload $IMAGE_FILE to gs://$BUCKET/$OBJECT"
    else
        jq -cn --arg n "$OBJECT" --arg s "$IMAGE_SHA" '{name:$n, contentType:"application/gzip", metadata:{sha256:$s}}' >"$GCP_TMP/obj.json"
        size=$(wc -c <"$IMAGE_FILE")
        GCP_EXTRA=(-H "X-Upload-Content-Type: application/gzip" -H "X-Upload-Content-Length: $size")
        gcp_req POST "$GCP_UPLOAD/b/$BUCKET/o?uploadType=resumable&name=$(urlenc "$OBJECT")" "$GCP_TMP/obj.json" "application/json; charset=UTF-8"
        GCP_EXTRA=()
        ok2xx || gcp_fail "starting the upload of gs://$BUCKET/$OBJECT"
        session=$(tr -d '\r' <"$GCP_HDRS" | sed -n 's/^[Ll]ocation: //p' | tail -1)
        [ -n "$session" ] || die "the upload of gs://$BUCKET/$OBJECT got no session URL"
        GCP_MAX_TIME=3600 gcp_req PUT "$session" "$IMAGE_FILE" application/gzip
        ok2xx || gcp_fail "uploading $IMAGE_FILE to gs://$BUCKET/$OBJECT"
        [ "$(jr .md5Hash)" = "$IMAGE_MD5" ] || die "gs://$BUCKET/$OBJECT: the stored MD5 $(jr .md5Hash) is not the file's $IMAGE_MD5: rerun"
        made "uploaded gs://$BUCKET/$OBJECT ($size bytes, MD5 checked)"
    fi
    features=$(jq -cn --arg f "$IMG_FEATS_WANT" '$f | split(" ") | map({type: .})')
    if [ "$GCP_DRY_RUN" = 1 ]; then plan "create image $IMAGE_NAME (family $NAME) from gs://$BUCKET/$OBJECT with $(jq -cn "$features | map(.type) | join(\",\")")"
    else
        gcp_json POST "$C/global/images" "$(jq -cn --arg n "$IMAGE_NAME" --arg f "$NAME" --argjson lab "$LABELS" \
            --arg src "https://storage.googleapis.com/$BUCKET/$OBJECT" --arg sha "$IMAGE_SHA" --argjson feat "$features" \
            '{name:$n, family:$f, labels:$lab, description:("sealed-login image, archive sha256 " + $sha),
              rawDisk:{source:$src, containerType:"TAR"}, guestOsFeatures:$feat, architecture:"X86_64"}')" "creating image $IMAGE_NAME"
        gcp_wait_compute "creating image $IMAGE_NAME from gs://$BUCKET/$OBJECT"
        made "image $IMAGE_NAME"
    fi
fi

# ---- 4. the PayPal secret ------------------------------------------------------------------------
step "secrets"
# ensure_secret ID VALUE_FILE WHAT OPTION: the secret, and a latest version holding VALUE_FILE's bytes
# (when given). Sets SECRET_STATE[ID] to new, exists or absent (dry run).
declare -A SECRET_STATE
ensure_secret() {
    local id=$1 val=$2 what=$3 opt=$4 S=$GCP_SECRETS/projects/$PROJECT/secrets/$1 latest=none crc ver v
    SECRET_STATE[$id]=exists
    if gcp_exists "$S" "reading secret $id"; then have "secret $id ($what)"
    elif [ ! -s "$val" ] && [ "$opt" = --signing-key-file ]; then SECRET_STATE[$id]=absent; return 0
    elif [ ! -s "$val" ]; then die "secret $id does not exist yet: give the $what with $opt FILE (or - for stdin)"
    elif [ "$GCP_DRY_RUN" = 1 ]; then plan "create secret $id ($what, automatic replication)"; SECRET_STATE[$id]=absent
    else
        gcp_json POST "$GCP_SECRETS/projects/$PROJECT/secrets?secretId=$id" \
            "$(jq -cn --argjson lab "$LABELS" '{replication:{automatic:{}}, labels:$lab}')" "creating secret $id"
        made "secret $id ($what)"; SECRET_STATE[$id]=new
    fi
    if [ "${SECRET_STATE[$id]}" = exists ]; then
        gcp_req GET "$S/versions/latest:access"
        if ok2xx; then
            latest=$(jr '.name | split("/") | last')
            if [ -s "$val" ]; then
                jr -j '.payload.data' >"$GCP_TMP/stored.b64"
                cmp -s "$GCP_TMP/stored.b64" "$val.b64" && latest=same
            fi
            rm -f "$GCP_TMP/stored.b64"; : >"$GCP_RESP"
        elif [ "$GCP_STATUS" != 404 ] && [ "$GCP_STATUS" != 400 ] && [ "$GCP_STATUS" != 412 ]; then
            : >"$GCP_RESP"; gcp_fail "reading the latest version of secret $id"
        fi
    fi
    if [ "$latest" = same ]; then have "secret $id holds the given value (latest version)"
    elif [ ! -s "$val" ]; then
        [ "$latest" != none ] || [ "${SECRET_STATE[$id]}" = absent ] || die "secret $id has no enabled version: give the $what with $opt FILE (or - for stdin)"
        [ "$latest" = none ] || have "secret $id version $latest (no new value given)"
    elif [ "$GCP_DRY_RUN" = 1 ]; then plan "add a version to secret $id (value not shown)"
    else
        crc=$(crc32c_file "$val")
        { printf '{"payload":{"data":"'; cat "$val.b64"; printf '","dataCrc32c":"%s"}}' "$crc"; } >"$GCP_TMP/version.json"
        gcp_req POST "$S:addVersion" "$GCP_TMP/version.json"
        rm -f "$GCP_TMP/version.json"
        ok2xx || gcp_fail "adding a version to secret $id"
        ver=$(jr '.name | split("/") | last')
        made "secret $id version $ver (CRC32C checked by Secret Manager)"
        # Older enabled versions are disabled: the VM reads "latest", and the free tier counts active versions.
        gcp_req GET "$S/versions?filter=state:ENABLED"
        ok2xx || gcp_fail "listing the versions of secret $id"
        for v in $(jr --arg v "$ver" '.versions[]? | .name | select(split("/") | last != $v)'); do
            gcp_req POST "$GCP_SECRETS/$v:disable"; ok2xx || gcp_fail "disabling the old version $v of $id"
            made "disabled old version ${v##*/} of $id"
        done
    fi
}
ensure_secret "$SECRET_ID" "$GCP_TMP/paypal.secret" "PayPal secret" --paypal-secret-file
ensure_secret "$SIGNKEY_ID" "$GCP_TMP/signkey.secret" "result signing key" --signing-key-file
SIGNING=0
[ "${SECRET_STATE[$SIGNKEY_ID]}" = absent ] && [ ! -s "$GCP_TMP/signkey.secret" ] || SIGNING=1

# ---- 4b. the sealed state's bucket (issue 12) ----------------------------------------------------
# One object, gs://STATE_BUCKET/state.v1, written by the VM with generation preconditions. Versioning
# and soft delete stay off: either keeps older copies of the state that whoever controls the project
# could restore while the VM is down (a TPM NV counter refuses them, an SNP key cannot), and soft
# delete would also keep (and bill) one copy per save for 7 days.
step "sealed state bucket"
want_state='{"versioning":false,"soft":"0","ubla":true,"pap":"enforced"}'
if gcp_exists "$GCP_STORAGE/b/$STATE_BUCKET" "reading bucket gs://$STATE_BUCKET"; then
    [ "$(jr --arg k "$GCP_LABEL" '.labels[$k] // ""')" = "$NAME" ] || die "bucket gs://$STATE_BUCKET exists but is not labelled $GCP_LABEL=$NAME: it is not this deployment's; give --state-bucket"
    got=$(jr -c '{versioning: (.versioning.enabled // false), soft: (.softDeletePolicy.retentionDurationSeconds // "604800" | tostring),
                  ubla: (.iamConfiguration.uniformBucketLevelAccess.enabled // false), pap: (.iamConfiguration.publicAccessPrevention // "inherited")}')
    [ "$got" = "$want_state" ] || warn "bucket gs://$STATE_BUCKET is $got, not $want_state: older copies of the state may be restorable (docs/deploy-gcp.md)"
    have "state bucket gs://$STATE_BUCKET"
elif [ "$GCP_DRY_RUN" = 1 ]; then plan "create state bucket gs://$STATE_BUCKET ($REGION, uniform access, public access prevented, no versioning, no soft delete)"
else
    gcp_json POST "$GCP_STORAGE/b?project=$PROJECT" "$(jq -cn --arg b "$STATE_BUCKET" --arg l "$REGION" --arg k "$GCP_LABEL" --arg n "$NAME" \
        '{name:$b, location:$l, storageClass:"STANDARD", labels:{($k): $n, "sealed-login-role": "state"},
          iamConfiguration:{uniformBucketLevelAccess:{enabled:true}, publicAccessPrevention:"enforced"},
          versioning:{enabled:false}, softDeletePolicy:{retentionDurationSeconds:"0"}}')" "creating bucket gs://$STATE_BUCKET"
    made "state bucket gs://$STATE_BUCKET (no versioning, no soft delete)"
fi

# ---- 5. service accounts and their rights --------------------------------------------------------
step "identities"
ensure_sa() {   # $1 = account id, $2 = email, $3 = what it is for
    if gcp_exists "$GCP_IAM/projects/$PROJECT/serviceAccounts/$2" "reading service account $2"; then have "service account $2"
    elif [ "$GCP_DRY_RUN" = 1 ]; then plan "create service account $2"
    else
        gcp_json POST "$GCP_IAM/projects/$PROJECT/serviceAccounts" "$(jq -cn --arg id "$1" --arg d "$3" --arg m "$MARK" \
            '{accountId:$id, serviceAccount:{displayName:$d, description:($m + ": " + $d)}}')" "creating service account $2"
        made "service account $2"
    fi
}
add_member() {   # jq filter adding member $2 to role $1 (unconditional binding)
    printf 'if any(.[]; .role == %s and (.condition == null)) then map(if .role == %s and (.condition == null) then .members = ((.members + [%s]) | unique) else . end) else . + [{role: %s, members: [%s]}] end' \
        "$(q "$1")" "$(q "$1")" "$(q "$2")" "$(q "$1")" "$(q "$2")"
}
ensure_sa "$NAME-vm" "$VM_SA" "sealed-login VM $NAME: reads its own secrets, nothing else"
grant_secret() {   # $1 = secret id: the VM's account may read it (secretAccessor on that secret only)
    local S=$GCP_SECRETS/projects/$PROJECT/secrets/$1
    if [ "${SECRET_STATE[$1]}" = absent ]; then plan "grant roles/secretmanager.secretAccessor on secret $1 (only) to $VM_SA"
    elif gcp_policy_edit "GET $S:getIamPolicy" "$S:setIamPolicy" "$(add_member roles/secretmanager.secretAccessor "serviceAccount:$VM_SA")" "secret $1"; then
        [ "$GCP_DRY_RUN" = 1 ] && plan "grant roles/secretmanager.secretAccessor on secret $1 (only) to $VM_SA" ||
            made "roles/secretmanager.secretAccessor on secret $1 (only) for $VM_SA"
    else have "$VM_SA may read secret $1"; fi
}
grant_secret "$SECRET_ID"
[ "$SIGNING" = 0 ] || grant_secret "$SIGNKEY_ID"

# ensure_role ID TITLE PERMS_JSON: a custom role holding exactly PERMS (undeleted, or updated, if needed)
ensure_role() {
    local R=$GCP_IAM/projects/$PROJECT/roles/$1
    if gcp_exists "$R" "reading custom role $1"; then
        if [ "$(jr '.deleted // false')" = true ]; then
            if [ "$GCP_DRY_RUN" = 1 ]; then plan "undelete custom role $1"; else
                gcp_req POST "$R:undelete"; ok2xx || gcp_fail "undeleting custom role $1"; made "custom role $1 (undeleted)"
            fi
        elif [ "$(jr -c '.includedPermissions | sort')" != "$(jq -cn "$3 | sort")" ]; then
            if [ "$GCP_DRY_RUN" = 1 ]; then plan "set the permissions of custom role $1 to $3"; else
                gcp_json PATCH "$R?updateMask=includedPermissions" "$(jq -cn --argjson p "$3" --arg e "$(jr .etag)" '{includedPermissions:$p, etag:$e}')" \
                    "updating custom role $1"
                made "custom role $1: permissions updated"
            fi
        else have "custom role $1 ($3)"; fi
    elif [ "$GCP_DRY_RUN" = 1 ]; then plan "create custom role $1 with $3"
    else
        gcp_json POST "$GCP_IAM/projects/$PROJECT/roles" "$(jq -cn --arg id "$1" --arg t "$2" --arg m "$MARK" --argjson p "$3" \
            '{roleId:$id, role:{title:$t, description:($m + ": " + $t), includedPermissions:$p, stage:"GA"}}')" "creating custom role $1"
        made "custom role $1 ($3)"
    fi
}

# The VM's own rights for the sealed state: object get/create/delete on its bucket only (GCS needs
# delete to overwrite an object, even with x-goog-if-generation-match; no list, no bucket rights).
STATE_PERMS='["storage.objects.create","storage.objects.delete","storage.objects.get"]'
ensure_role "$STATE_ROLE_ID" "sealed-login VM: the sealed state object" "$STATE_PERMS"
SB=$GCP_STORAGE/b/$STATE_BUCKET/iam
if [ "$GCP_DRY_RUN" = 1 ] && ! gcp_exists "$GCP_STORAGE/b/$STATE_BUCKET" "reading bucket gs://$STATE_BUCKET"; then
    plan "grant $VM_SA role $STATE_ROLE_ID on bucket gs://$STATE_BUCKET (only)"
else
    # the bucket's policy is GET/PUT of the policy itself (JSON API), unlike the :setIamPolicy methods
    member="serviceAccount:$VM_SA" role="projects/$PROJECT/roles/$STATE_ROLE_ID"
    gcp_req GET "$SB"; ok2xx || gcp_fail "reading the IAM policy of gs://$STATE_BUCKET"
    if jr -e --arg r "$role" --arg m "$member" 'any(.bindings[]?; .role == $r and (.members | index([$m])))' >/dev/null; then
        have "$VM_SA may read and write objects in gs://$STATE_BUCKET (only)"
    elif [ "$GCP_DRY_RUN" = 1 ]; then plan "grant $VM_SA role $STATE_ROLE_ID on bucket gs://$STATE_BUCKET (only)"
    else
        jq -c --arg r "$role" --arg m "$member" '{bindings: ((.bindings // []) + [{role: $r, members: [$m]}]), etag}' "$GCP_RESP" >"$GCP_TMP/bpolicy.json"
        gcp_req PUT "$SB" "$GCP_TMP/bpolicy.json"; ok2xx || gcp_fail "granting $VM_SA role $STATE_ROLE_ID on gs://$STATE_BUCKET"
        made "$VM_SA: role $STATE_ROLE_ID on gs://$STATE_BUCKET only (objects get, create, delete)"
    fi
fi
# The VM's own egress guard (src/login/cloud/egress_guard.c): reads its month's sent_bytes_count
# (roles/monitoring.viewer: Monitoring's read rights exist per project only) and may stop itself
# (a custom role holding compute.instances.stop, bound on its own instance below, step 7).
ensure_role "$STOP_ROLE_ID" "sealed-login VM: stop itself at the egress cap" '["compute.instances.stop"]'

# The egress guard: its own account, a custom role with exactly what it needs, bound with a condition
# naming this deployment's instance and firewall rule; reading metrics is roles/monitoring.viewer.
ensure_sa "$NAME-guard" "$GUARD_SA" "sealed-login egress guard $NAME: reads egress metrics, may stop VM $NAME or disable firewall rule $FW"
GUARD_PERMS='["compute.instances.get","compute.instances.stop","compute.firewalls.get","compute.firewalls.update","compute.networks.updatePolicy","compute.zoneOperations.get","compute.globalOperations.get"]'
R=$GCP_IAM/projects/$PROJECT/roles/$ROLE_ID
if gcp_exists "$R" "reading custom role $ROLE_ID"; then
    if [ "$(jr '.deleted // false')" = true ]; then
        if [ "$GCP_DRY_RUN" = 1 ]; then plan "undelete custom role $ROLE_ID"; else
            gcp_req POST "$R:undelete"; ok2xx || gcp_fail "undeleting custom role $ROLE_ID"; made "custom role $ROLE_ID (undeleted)"
        fi
    elif [ "$(jr -c '.includedPermissions | sort')" != "$(jq -cn "$GUARD_PERMS | sort")" ]; then
        if [ "$GCP_DRY_RUN" = 1 ]; then plan "set the permissions of custom role $ROLE_ID to $GUARD_PERMS"; else
            gcp_json PATCH "$R?updateMask=includedPermissions" "$(jq -cn --argjson p "$GUARD_PERMS" --arg e "$(jr .etag)" '{includedPermissions:$p, etag:$e}')" \
                "updating custom role $ROLE_ID"
            made "custom role $ROLE_ID: permissions updated"
        fi
    else have "custom role $ROLE_ID"; fi
elif [ "$GCP_DRY_RUN" = 1 ]; then plan "create custom role $ROLE_ID with $GUARD_PERMS"
else
    gcp_json POST "$GCP_IAM/projects/$PROJECT/roles" "$(jq -cn --arg id "$ROLE_ID" --arg m "$MARK" --argjson p "$GUARD_PERMS" \
        '{roleId:$id, role:{title:"sealed-login egress guard", description:($m + ": stop the VM or disable its web firewall rule"), includedPermissions:$p, stage:"GA"}}')" \
        "creating custom role $ROLE_ID"
    made "custom role $ROLE_ID"
fi
COND_EXPR="resource.name == \"projects/$PROJECT/zones/$ZONE/instances/$NAME\" || resource.name == \"projects/$PROJECT/global/firewalls/$FW\" || resource.name == \"projects/$PROJECT/global/networks/$NETWORK\" || resource.name.startsWith(\"projects/$PROJECT/zones/$ZONE/operations/\") || resource.name.startsWith(\"projects/$PROJECT/global/operations/\")"
guard_filter=$(printf '(if any(.[]; .role == %s and .condition.expression == %s and (.members | index([%s]))) then . else . + [{role: %s, members: [%s], condition: {title: %s, expression: %s}}] end) | %s' \
    "$(q "projects/$PROJECT/roles/$ROLE_ID")" "$(q "$COND_EXPR")" "$(q "serviceAccount:$GUARD_SA")" \
    "$(q "projects/$PROJECT/roles/$ROLE_ID")" "$(q "serviceAccount:$GUARD_SA")" "$(q "$NAME egress guard")" "$(q "$COND_EXPR")" \
    "$(add_member roles/monitoring.viewer "serviceAccount:$GUARD_SA") | $(add_member roles/monitoring.viewer "serviceAccount:$VM_SA")")
P=$GCP_CRM/projects/$PROJECT
if [ "$GCP_DRY_RUN" = 1 ] && ! gcp_exists "$GCP_IAM/projects/$PROJECT/serviceAccounts/$GUARD_SA" "reading $GUARD_SA"; then
    plan "grant $GUARD_SA role $ROLE_ID (only on VM $NAME, rule $FW, network $NETWORK) and roles/monitoring.viewer in $PROJECT; roles/monitoring.viewer to $VM_SA"
elif gcp_policy_edit "POST $P:getIamPolicy" "$P:setIamPolicy" "$guard_filter" "project $PROJECT" 3; then
    [ "$GCP_DRY_RUN" = 1 ] && plan "grant $GUARD_SA role $ROLE_ID (only on VM $NAME, rule $FW, network $NETWORK) and roles/monitoring.viewer" ||
        made "$GUARD_SA: role $ROLE_ID on VM $NAME, rule $FW, network $NETWORK only; roles/monitoring.viewer; $VM_SA: roles/monitoring.viewer"
else have "$GUARD_SA has its guard rights"; fi

# ---- 5b. the VM's notifications: its own Pub/Sub topic --------------------------------------------
# The service publishes every notification (started, secret fetch failing, daily counts, the egress
# guard's "cap reached") to the topic named by the metadata key notification_topic_id. Only the VM's
# account may publish to it (roles/pubsub.publisher in the topic's own IAM policy, nothing project-wide);
# an inbox subscription keeps each message 7 days (a topic without a subscription drops them), and the
# alert policy of step 8 mails the operator when a message is published.
step "notifications"
TOPIC_STATE=exists
if gcp_exists "$PS/topics/$TOPIC_ID" "reading Pub/Sub topic $TOPIC"; then
    [ "$(jr --arg k "$GCP_LABEL" '.labels[$k] // ""')" = "$NAME" ] ||
        die "Pub/Sub topic $TOPIC exists but is not labelled $GCP_LABEL=$NAME: it is not this deployment's; delete it or pick another --name"
    have "Pub/Sub topic $TOPIC"
elif [ "$GCP_DRY_RUN" = 1 ]; then plan "create Pub/Sub topic $TOPIC"; TOPIC_STATE=absent
else
    gcp_json PUT "$PS/topics/$TOPIC_ID" "$(jq -cn --argjson lab "$LABELS" '{labels:$lab}')" "creating Pub/Sub topic $TOPIC"
    made "Pub/Sub topic $TOPIC"
fi
if [ "$TOPIC_STATE" = absent ] || { [ "$GCP_DRY_RUN" = 1 ] && ! gcp_exists "$GCP_IAM/projects/$PROJECT/serviceAccounts/$VM_SA" "reading $VM_SA"; }; then
    plan "grant $VM_SA roles/pubsub.publisher on topic $TOPIC_ID (only)"
elif gcp_policy_edit "GET $PS/topics/$TOPIC_ID:getIamPolicy" "$PS/topics/$TOPIC_ID:setIamPolicy" \
        "$(add_member roles/pubsub.publisher "serviceAccount:$VM_SA")" "topic $TOPIC_ID"; then
    [ "$GCP_DRY_RUN" = 1 ] && plan "grant $VM_SA roles/pubsub.publisher on topic $TOPIC_ID (only)" ||
        made "$VM_SA: roles/pubsub.publisher on topic $TOPIC_ID only (the VM's notifications)"
else have "$VM_SA may publish to topic $TOPIC_ID (only)"; fi
if gcp_exists "$PS/subscriptions/$INBOX_ID" "reading Pub/Sub subscription $INBOX"; then
    [ "$(jr .topic)" = "$TOPIC" ] ||
        die "Pub/Sub subscription $INBOX is attached to $(jr .topic), not $TOPIC (its topic was deleted?): delete it (teardown.sh) and rerun"
    have "inbox subscription $INBOX (keeps $(jr .messageRetentionDuration))"
elif [ "$GCP_DRY_RUN" = 1 ]; then plan "create inbox subscription $INBOX on $TOPIC_ID (pull, keeps messages 7 days, never expires)"
else
    # expirationPolicy {} (no ttl): never expires; messageRetentionDuration 7 days (the default, said aloud)
    gcp_json PUT "$PS/subscriptions/$INBOX_ID" "$(jq -cn --arg t "$TOPIC" --argjson lab "$LABELS" \
        '{topic:$t, ackDeadlineSeconds:60, messageRetentionDuration:"604800s", expirationPolicy:{}, labels:$lab}')" \
        "creating Pub/Sub subscription $INBOX"
    made "inbox subscription $INBOX (pull, keeps messages 7 days)"
fi

# ---- 6. addresses and firewall -------------------------------------------------------------------
step "addresses and firewall"
EXT_IP=""
if gcp_exists "$C/regions/$REGION/addresses/$EXT_ADDR" "reading address $EXT_ADDR"; then
    EXT_IP=$(jr .address)
    [ "$(jr .networkTier)" = "$TIER" ] || die "address $EXT_ADDR is $(jr .networkTier) tier, not $TIER: teardown it or use --network-tier $(jr .networkTier)"
    have "static external IP $EXT_ADDR $EXT_IP ($TIER)"
elif [ "$GCP_DRY_RUN" = 1 ]; then plan "reserve static external IP $EXT_ADDR ($TIER tier) in $REGION"
else
    gcp_json POST "$C/regions/$REGION/addresses" "$(jq -cn --arg n "$EXT_ADDR" --arg t "$TIER" --argjson lab "$LABELS" --arg m "$MARK" \
        '{name:$n, addressType:"EXTERNAL", networkTier:$t, labels:$lab, description:$m}')" "reserving address $EXT_ADDR"
    gcp_wait_compute "reserving address $EXT_ADDR"
    gcp_req GET "$C/regions/$REGION/addresses/$EXT_ADDR"; ok2xx || gcp_fail "reading address $EXT_ADDR"
    EXT_IP=$(jr .address)
    made "static external IP $EXT_ADDR $EXT_IP ($TIER)"
fi
# The VM's internal address is reserved, so no other VM takes it and a replaced VM gets it again. Without
# --internal-ip (and with an ip=dhcp image) GCE picks an unused one in the subnet; later runs keep it.
INT_PICKED=0
if gcp_exists "$C/regions/$REGION/addresses/$INT_ADDR" "reading address $INT_ADDR"; then
    got=$(jr .address)
    if [ -n "$INTERNAL_IP" ] && [ "$got" != "$INTERNAL_IP" ]; then
        [ "$IMG_NET" = static ] && die "address $INT_ADDR holds $got, not the image's sealed.ip=$INTERNAL_IP: teardown.sh first, or deploy the release's ip=dhcp image, which takes $got"
        die "address $INT_ADDR holds $got, not --internal-ip $INTERNAL_IP: drop --internal-ip to keep $got, or teardown.sh first"
    fi
    [ "$(jr '.subnetwork // "" | split("/") | last')" = "$SUBNET" ] ||
        die "address $INT_ADDR is reserved in subnetwork $(jr '.subnetwork // "none" | split("/") | last'), not $SUBNET: teardown.sh first"
    INTERNAL_IP=$got
    have "internal IP $INT_ADDR $INTERNAL_IP"
elif [ "$GCP_DRY_RUN" = 1 ]; then plan "reserve internal IP $INT_ADDR ${INTERNAL_IP:-(an unused address GCE picks)} in subnet $SUBNET"
else
    [ "$IMG_NET" = static ] && what="the address of the image's sealed.ip=" || what="the sealed VM's address, given by GCE's DHCP"
    gcp_json POST "$C/regions/$REGION/addresses" "$(jq -cn --arg n "$INT_ADDR" --arg a "$INTERNAL_IP" --arg s "regions/$REGION/subnetworks/$SUBNET" \
        --argjson lab "$LABELS" --arg m "$MARK" --arg w "$what" '{name:$n, addressType:"INTERNAL", subnetwork:$s, purpose:"GCE_ENDPOINT", labels:$lab, description:($m + ": " + $w)}
        + (if $a == "" then {} else {address:$a} end)')" \
        "reserving internal address ${INTERNAL_IP:-in subnet $SUBNET}"
    gcp_wait_compute "reserving internal address ${INTERNAL_IP:-in subnet $SUBNET} ($INT_ADDR)"
    [ -n "$INTERNAL_IP" ] || INT_PICKED=1
    gcp_req GET "$C/regions/$REGION/addresses/$INT_ADDR"; ok2xx || gcp_fail "reading address $INT_ADDR"
    INTERNAL_IP=$(jr .address)
    made "internal IP $INT_ADDR $INTERNAL_IP$([ "$INT_PICKED" = 1 ] && echo ' (picked by GCE)')"
fi
if gcp_exists "$C/global/firewalls/$FW" "reading firewall rule $FW"; then
    if [ "$(jr '.disabled // false')" = true ]; then
        warn "firewall rule $FW is DISABLED (the egress guard acts this way at the cap): the site is unreachable; deploy/gcp/egress-guard.sh --restore turns it back on"
    fi
    [ "$(jr '[.allowed[]? | .ports[]?] | sort | join(",")')" = 443,80 ] && [ "$(jr '.targetTags | join(",")')" = "$NAME" ] ||
        warn "firewall rule $FW differs from tcp:80,443 on tag $NAME: check it (teardown.sh and rerun recreates it)"
    have "firewall rule $FW (tcp 80,443 -> tag $NAME)"
elif [ "$GCP_DRY_RUN" = 1 ]; then plan "create firewall rule $FW: tcp 80,443 from anywhere to tag $NAME"
else
    gcp_json POST "$C/global/firewalls" "$(jq -cn --arg n "$FW" --arg net "global/networks/$NETWORK" --arg t "$NAME" --arg m "$MARK" \
        '{name:$n, network:$net, direction:"INGRESS", priority:1000, sourceRanges:["0.0.0.0/0"], targetTags:[$t],
          allowed:[{IPProtocol:"tcp", ports:["80","443"]}], description:($m + ": HTTP (ACME, redirect) and HTTPS to the sealed VM")}')" \
        "creating firewall rule $FW"
    gcp_wait_compute "creating firewall rule $FW"
    made "firewall rule $FW: tcp 80,443 -> tag $NAME"
fi

# ---- 7. the instance -----------------------------------------------------------------------------
step "instance"
I=$C/zones/$ZONE/instances/$NAME
# Label values allow no '.': the cap 0.9 is written 0-9 (egress-guard.sh reads it back).
INSTANCE_LABELS=$(jq -cn --argjson lab "$LABELS" --arg cap "$(printf '%s' "$CAP_GIB" | tr . -)" --arg act "$GUARD_ACTION" \
    '$lab + {"egress-cap-gib":$cap, "egress-action":$act}')
# state_store: where the VM keeps its sealed state; egress_cap_bytes: the in-VM guard's cap (it may only
# lower the image's measured one, src/login/config.c)
METADATA=$(jq -cn --arg c "$CLIENT_ID" --arg d "$DOMAIN" --arg s "$SECRET_ID" --arg k "$SIGNKEY_ID" --argjson sk "$SIGNING" \
    --arg st "gcs:$STATE_BUCKET/$STATE_OBJECT" --arg cap "$CAP_BYTES" --arg topic "$TOPIC" \
    '{items:([{key:"paypal_client_id",value:$c},{key:"domain",value:$d},{key:"secret_ocid",value:$s},
              {key:"state_store",value:$st},{key:"egress_cap_bytes",value:$cap},{key:"notification_topic_id",value:$topic}]
             + if $sk == 1 then [{key:"signing_key_secret_ocid",value:$k}] else [] end)}')
create_instance() {
    local body
    body=$(jq -cn --arg n "$NAME" --arg mt "zones/$ZONE/machineTypes/$MACHINE" --arg img "projects/$PROJECT/global/images/$IMAGE_NAME" \
        --arg dt "zones/$ZONE/diskTypes/$DISK_TYPE" --arg gb "$DISK_GB" --arg dif "$DISK_IF" --arg mincpu "$MIN_CPU" --arg net "global/networks/$NETWORK" \
        --arg sub "regions/$REGION/subnetworks/$SUBNET" --arg ip "$INTERNAL_IP" --arg nat "$EXT_IP" --arg tier "$TIER" \
        --arg sa "$VM_SA" --arg scope "$GCP_SCOPE" --argjson md "$METADATA" --argjson lab "$LABELS" \
        --argjson ilab "$INSTANCE_LABELS" --arg m "$MARK" \
        --argjson sb "$([ "$SECURE_BOOT" = 1 ] && echo true || echo false)" --argjson conf "$CONFIDENTIAL" --argjson gvnic "$GVNIC" \
        --argjson vtpm "$([ "$MODE" = standard ] && echo false || echo true)" \
        '{name:$n, machineType:$mt, description:($m + ": sealed-login VM (kernel + initramfs, no shell, no ssh)"),
          labels:$ilab, tags:{items:[$n]},
          disks:[{boot:true, autoDelete:true, type:"PERSISTENT", interface:$dif, initializeParams:{sourceImage:$img, diskType:$dt, diskSizeGb:$gb, labels:$lab}}],
          networkInterfaces:[{network:$net, subnetwork:$sub, networkIP:$ip,
                              accessConfigs:[{type:"ONE_TO_ONE_NAT", name:"External NAT", natIP:$nat, networkTier:$tier}]}
                             + (if $gvnic == 1 then {nicType:"GVNIC"} else {} end)],
          serviceAccounts:[{email:$sa, scopes:[$scope]}],
          metadata:$md,
          shieldedInstanceConfig:{enableSecureBoot:$sb, enableVtpm:$vtpm, enableIntegrityMonitoring:$vtpm},
          scheduling:{onHostMaintenance:(if $conf == 1 then "TERMINATE" else "MIGRATE" end), automaticRestart:true}}
         + (if $conf == 1 then {confidentialInstanceConfig:{confidentialInstanceType:"SEV_SNP"}} else {} end)
         + (if $conf == 1 and $mincpu == "AMD Milan" then {minCpuPlatform:$mincpu} else {} end)')
    gcp_json POST "$C/zones/$ZONE/instances" "$body" "creating instance $NAME"
    gcp_wait_compute "creating instance $NAME ($MACHINE in $ZONE)"
}
if [ "$INSTANCE_EXISTS" = 1 ]; then
    status=$(jq -r .status "$GCP_TMP/instance.json")
    if [ ${#REPLACE_WHY[@]} -gt 0 ]; then
        if [ "$GCP_DRY_RUN" != 1 ]; then   # (a dry run planned it in the preflight)
            gcp_req DELETE "$I"; ok2xx || gcp_fail "deleting instance $NAME to replace it"
            gcp_wait_compute "deleting instance $NAME to replace it"
            create_instance
            made "instance $NAME replaced: $WHY"
            status=RUNNING
        fi
    else
        have "instance $NAME ($MACHINE, mode $MODE, image $IMAGE_NAME, $status)"
    fi
    [ "$status" = RUNNING ] || [ "$GCP_DRY_RUN" = 1 ] || warn "instance $NAME is $status (stopped by the egress guard?): POST .../instances/$NAME/start, or deploy/gcp/egress-guard.sh --restore"
    if [ ${#REPLACE_WHY[@]} = 0 ] && [ "$(jq -cS '.labels // {}' "$GCP_TMP/instance.json")" != "$(jq -cS . <<<"$INSTANCE_LABELS")" ]; then
        if [ "$GCP_DRY_RUN" = 1 ]; then plan "set labels of $NAME (egress cap $CAP_GIB GiB, action $GUARD_ACTION)"; else
            gcp_json POST "$I/setLabels" "$(jq -c --argjson l "$INSTANCE_LABELS" '{labels: $l, labelFingerprint: .labelFingerprint}' "$GCP_TMP/instance.json")" \
                "setting labels of $NAME"
            gcp_wait_compute "setting labels of $NAME"
            made "labels of $NAME: egress cap $CAP_GIB GiB, action $GUARD_ACTION (the guard reads them)"
        fi
    fi
    want=$(jq -cn --argjson m "$METADATA" '$m.items | sort_by(.key)')
    have_md=$(jq -c '[.metadata.items[]? | select(.key == "paypal_client_id" or .key == "domain" or .key == "secret_ocid" or .key == "signing_key_secret_ocid" or .key == "notification_topic_id" or .key == "state_store" or .key == "egress_cap_bytes")] | sort_by(.key)' "$GCP_TMP/instance.json")
    if [ "$want" != "$have_md" ] && [ ${#REPLACE_WHY[@]} = 0 ]; then
        if [ "$GCP_DRY_RUN" = 1 ]; then plan "set metadata of $NAME to paypal_client_id, domain=$DOMAIN, secret_ocid=$SECRET_ID, state_store=gcs:$STATE_BUCKET/$STATE_OBJECT, egress_cap_bytes=$CAP_BYTES, notification_topic_id=$TOPIC"; else
            gcp_json POST "$I/setMetadata" "$(jq -c --argjson m "$METADATA" '$m + {fingerprint: .metadata.fingerprint}' "$GCP_TMP/instance.json")" "setting metadata of $NAME"
            gcp_wait_compute "setting metadata of $NAME"
            made "metadata of $NAME updated (the service reads it at boot: reset the VM to apply a new domain)"
        fi
    fi
elif [ "$GCP_DRY_RUN" = 1 ]; then plan "create instance $NAME: $MACHINE, mode $MODE, $DISK_TYPE ${DISK_GB} GB ($DISK_IF) from $IMAGE_NAME, $([ "$MODE" = standard ] && echo 'no vTPM' || echo 'vTPM + integrity monitoring')$([ "$SECURE_BOOT" = 1 ] && echo ' + Secure Boot'), $([ "$CONFIDENTIAL" = 1 ] && echo "SEV-SNP on $MIN_CPU, ")internal ${INTERNAL_IP:-$INT_ADDR}, external $EXT_ADDR, account $VM_SA"
else
    create_instance
    made "instance $NAME: $MACHINE, image $IMAGE_NAME, internal $INTERNAL_IP, external $EXT_IP"
fi

# ---- 7b. the VM may stop itself, and only itself -------------------------------------------------
# Compute instances carry their own IAM policy: the custom role is bound there, so the VM's account
# holds compute.instances.stop on this one instance and nothing else.
if [ "$GCP_DRY_RUN" = 1 ] && [ "$INSTANCE_EXISTS" != 1 ]; then plan "grant $VM_SA role $STOP_ROLE_ID on instance $NAME (only)"
elif GCP_POLICY_VERSION_PARAM=optionsRequestedPolicyVersion gcp_policy_edit "GET $I/getIamPolicy" "$I/setIamPolicy" \
        "$(add_member "projects/$PROJECT/roles/$STOP_ROLE_ID" "serviceAccount:$VM_SA")" "instance $NAME"; then
    [ "$GCP_DRY_RUN" = 1 ] && plan "grant $VM_SA role $STOP_ROLE_ID on instance $NAME (only)" ||
        made "$VM_SA: role $STOP_ROLE_ID on instance $NAME only (the in-VM egress guard stops itself)"
else have "$VM_SA may stop instance $NAME (only)"; fi

# ---- 8. Monitoring: email channel, uptime check, alert policies ----------------------------------
step "monitoring"
# One of each per deployment, found by the user labels sealed-login=NAME and sealed-login-role=ROLE;
# a changed domain, email or cap updates them in place (an uptime check's host cannot be patched:
# that one is replaced, after the policy that watches it).
M=$GCP_MONITORING/projects/$PROJECT
GCP_NO_RETRY=1   # Monitoring creations are not keyed by name: never retried blindly
find_role() {   # $1 = collection, $2 = role: prints the object as one JSON line, or nothing
    gcp_req GET "$M/$1?pageSize=1000"
    ok2xx || { [ "$GCP_DRY_RUN" = 1 ] && [ "$GCP_STATUS" = 403 ] && return 0; gcp_fail "listing $1"; }
    jr -c --arg k "$GCP_LABEL" --arg n "$NAME" --arg r "$2" '(.[keys_unsorted[] | select(. != "nextPageToken" and . != "totalSize")] // [])[]
        | select(.userLabels[$k] == $n and .userLabels["sealed-login-role"] == $r)' | head -1
}
ulabels() { jq -cn --arg k "$GCP_LABEL" --arg n "$NAME" --arg r "$1" '{($k): $n, "sealed-login-role": $r}'; }
mon_delete() {   # $1 = resource name, $2 = what
    if [ "$GCP_DRY_RUN" = 1 ]; then plan "delete $2"; return; fi
    gcp_req DELETE "$GCP_MONITORING/$1"; ok2xx || gcp_fail "deleting $2"; made "deleted $2"
}
CHANNEL=""
if [ -z "$EMAIL" ]; then warn "no --alert-email: no notifications (the egress guard still acts at the cap)"
else
    cur=$(find_role notificationChannels email)
    if [ -n "$cur" ]; then
        CHANNEL=$(jq -r .name <<<"$cur")
        if [ "$(jq -r .labels.email_address <<<"$cur")" = "$EMAIL" ]; then have "email channel $EMAIL"
        elif [ "$GCP_DRY_RUN" = 1 ]; then plan "change the email channel to $EMAIL"
        else
            gcp_json PATCH "$GCP_MONITORING/$CHANNEL?updateMask=labels,displayName" \
                "$(jq -cn --arg e "$EMAIL" --arg n "$NAME" '{displayName:($n + " operator (" + $e + ")"), labels:{email_address:$e}}')" \
                "changing the email channel to $EMAIL"
            made "email channel now $EMAIL"
        fi
    elif [ "$GCP_DRY_RUN" = 1 ]; then plan "create email notification channel $EMAIL"; CHANNEL=planned
    else
        gcp_json POST "$M/notificationChannels" "$(jq -cn --arg e "$EMAIL" --arg n "$NAME" --argjson u "$(ulabels email)" \
            '{type:"email", displayName:($n + " operator (" + $e + ")"), labels:{email_address:$e}, userLabels:$u, enabled:true}')" \
            "creating the email notification channel"
        CHANNEL=$(jr .name); made "email channel $EMAIL"
    fi
fi
CHECK=""
if [ "$UPTIME" = 1 ]; then
    cur=$(find_role uptimeCheckConfigs uptime)
    if [ -n "$cur" ] && [ "$(jq -r .monitoredResource.labels.host <<<"$cur")" != "$DOMAIN" ]; then
        pol=$(find_role alertPolicies uptime-alert)
        [ -z "$pol" ] || mon_delete "$(jq -r .name <<<"$pol")" "the alert policy on the old uptime check"
        mon_delete "$(jq -r .name <<<"$cur")" "the uptime check of $(jq -r .monitoredResource.labels.host <<<"$cur")"
        cur=""
    fi
    if [ -n "$cur" ]; then CHECK=$(jq -r .name <<<"$cur"); have "uptime check https://$DOMAIN/healthz"
    elif [ "$GCP_DRY_RUN" = 1 ]; then plan "create uptime check https://$DOMAIN/healthz every 5 min"; CHECK=planned
    else
        gcp_json POST "$M/uptimeCheckConfigs" "$(jq -cn --arg d "$DOMAIN" --arg p "$PROJECT" --arg n "$NAME" --argjson u "$(ulabels uptime)" \
            '{displayName:($n + " https://" + $d + "/healthz"), monitoredResource:{type:"uptime_url", labels:{project_id:$p, host:$d}},
              httpCheck:{path:"/healthz", port:443, useSsl:true, validateSsl:true, requestMethod:"GET"},
              period:"300s", timeout:"10s", userLabels:$u}')" "creating the uptime check"
        CHECK=$(jr .name); made "uptime check https://$DOMAIN/healthz"
    fi
fi
ensure_policy() {   # $1 = role, $2 = display name, $3 = condition JSON, $4 = documentation
    local cur want
    want=$(jq -cn --arg d "$2" --argjson c "$3" --arg doc "$4" --arg ch "$CHANNEL" --argjson u "$(ulabels "$1")" \
        '{displayName:$d, combiner:"OR", enabled:true, conditions:[$c], notificationChannels:[$ch], userLabels:$u,
          documentation:{content:$doc, mimeType:"text/markdown"}}')
    cur=$(find_role alertPolicies "$1")
    if [ -z "$cur" ]; then
        if [ "$GCP_DRY_RUN" = 1 ]; then plan "create alert policy \"$2\""; return; fi
        gcp_json POST "$M/alertPolicies" "$want" "creating alert policy \"$2\""
        made "alert policy \"$2\""
    elif jq -en --argjson a "$cur" --argjson b "$want" \
            '[$a, $b] | map({displayName, notificationChannels, c: [.conditions[] | {displayName, conditionThreshold}], doc: .documentation.content}) | .[0] == .[1]' >/dev/null; then
        have "alert policy \"$2\""
    elif [ "$GCP_DRY_RUN" = 1 ]; then plan "update alert policy \"$2\""
    else
        gcp_json PATCH "$GCP_MONITORING/$(jq -r .name <<<"$cur")?updateMask=displayName,conditions,notificationChannels,documentation" \
            "$want" "updating alert policy \"$2\""
        made "alert policy \"$2\" updated"
    fi
}
if [ -n "$CHANNEL" ]; then
    if [ -n "$CHECK" ]; then
        ensure_policy uptime-alert "$NAME: https://$DOMAIN/healthz failing" "$(jq -cn --arg id "${CHECK##*/}" \
            '{displayName:"uptime check failing", conditionThreshold:{
                filter:("metric.type=\"monitoring.googleapis.com/uptime_check/check_passed\" AND metric.label.check_id=\"" + $id + "\" AND resource.type=\"uptime_url\""),
                aggregations:[{alignmentPeriod:"1200s", perSeriesAligner:"ALIGN_NEXT_OLDER", crossSeriesReducer:"REDUCE_COUNT_FALSE", groupByFields:["resource.label.*"]}],
                comparison:"COMPARISON_GT", thresholdValue:1, duration:"600s", trigger:{count:1}}}')" \
            "The sealed-login site https://$DOMAIN/ fails its health check from more than one location. Check DNS, the firewall rule $FW (disabled by the egress guard?) and the VM's serial log (deploy/gcp/status.sh --serial)."
    fi
    DAY_BYTES=$(awk -v b="$CAP_BYTES" 'BEGIN { printf "%.0f", b / 30 }')
    ensure_policy egress-alert "$NAME: egress over 1/30 of the monthly cap in a day" "$(jq -cn --arg n "$NAME" --argjson t "$DAY_BYTES" \
        '{displayName:"daily egress", conditionThreshold:{
            filter:("metric.type=\"compute.googleapis.com/instance/network/sent_bytes_count\" AND resource.type=\"gce_instance\" AND metadata.system_labels.name=\"" + $n + "\""),
            aggregations:[{alignmentPeriod:"86400s", perSeriesAligner:"ALIGN_SUM", crossSeriesReducer:"REDUCE_SUM"}],
            comparison:"COMPARISON_GT", thresholdValue:$t, duration:"0s", trigger:{count:1}}}')" \
        "VM $NAME sent more than a 30th of its monthly egress cap ($CAP_GIB GiB) in one day. The egress guard (deploy/gcp/egress-guard.sh) acts at the cap itself: action $GUARD_ACTION."
    # Every message the VM publishes: Monitoring counts publish operations per topic; an alert mails
    # the operator when the count over a minute is above zero. The mail says that a message came, not
    # what it says: the inbox subscription keeps the text (docs/deploy-gcp.md, Notifications).
    ensure_policy notify-alert "$NAME: the VM sent a notification" "$(jq -cn --arg t "$TOPIC_ID" \
        '{displayName:"notification published", conditionThreshold:{
            filter:("metric.type=\"pubsub.googleapis.com/topic/send_message_operation_count\" AND resource.type=\"pubsub_topic\" AND resource.label.topic_id=\"" + $t + "\""),
            aggregations:[{alignmentPeriod:"60s", perSeriesAligner:"ALIGN_SUM", crossSeriesReducer:"REDUCE_SUM"}],
            comparison:"COMPARISON_GT", thresholdValue:0, duration:"0s", trigger:{count:1}}}')" \
        "The sealed-login VM $NAME published a notification to Pub/Sub topic $TOPIC (started, secret fetch failing, daily counts, or egress cap reached). Read it: gcloud pubsub subscriptions pull $INBOX --auto-ack --limit 20 (the title is the message's attribute title; the inbox keeps messages 7 days)."
else
    warn "no --alert-email: the VM's notifications are only kept in $INBOX (gcloud pubsub subscriptions pull $INBOX --auto-ack)"
fi
unset GCP_NO_RETRY

# ---- summary -------------------------------------------------------------------------------------
if [ "$GCP_DRY_RUN" = 1 ]; then step "plan: $GCP_PLANNED change(s); dry run: nothing was changed"
else step "done: $GCP_MADE change(s)$([ "$GCP_MADE" = 0 ] && echo ', everything was already in place')"; fi
ALLOW=""
if [ "$GCP_DRY_RUN" = 1 ]; then
    say "mode:           $MODE (planned): $(mode_proves "$MODE")"
    [ "$MODE" != standard ] || ALLOW=" --allow-unattested"
else   # what exists, read back: not what was asked
    gcp_req GET "$I"; ok2xx || gcp_fail "reading back instance $NAME"
    cp "$GCP_RESP" "$GCP_TMP/instance.json"
    RB_MODE=$(mode_of <"$GCP_TMP/instance.json")
    say "instance:       $(jq -r '"\(.name) \(.status) \(.machineType | split("/") | last) in \(.zone | split("/") | last)"' "$GCP_TMP/instance.json"), mode $RB_MODE (read back)"
    say "                confidentialInstanceConfig $(jq -c '.confidentialInstanceConfig // {}' "$GCP_TMP/instance.json"), minCpuPlatform $(jq -r '.minCpuPlatform // "Automatic"' "$GCP_TMP/instance.json")"
    say "                shieldedInstanceConfig $(jq -c '.shieldedInstanceConfig // {}' "$GCP_TMP/instance.json"), onHostMaintenance $(jq -r '.scheduling.onHostMaintenance // "MIGRATE"' "$GCP_TMP/instance.json")"
    say "                boot disk interface $(jq -r '[.disks[] | select(.boot) | .interface // "SCSI"] | first' "$GCP_TMP/instance.json"), NIC $(jq -r '.networkInterfaces[0].nicType // "VIRTIO_NET"' "$GCP_TMP/instance.json")"
    gcp_req GET "$(jq -r '.disks[] | select(.boot) | .source' "$GCP_TMP/instance.json")"; ok2xx || gcp_fail "reading back the boot disk of $NAME"
    RB_IMG=$(jr '.sourceImage // "" | split("/") | last')
    gcp_req GET "$C/global/images/$RB_IMG"; ok2xx || gcp_fail "reading back image $RB_IMG"
    say "image:          $RB_IMG $(jr .status): guestOsFeatures $(jr '[.guestOsFeatures[]?.type] | join(",")'); $(jr .description)"
    case $RB_MODE in
        standard|shielded|confidential) say "evidence:       $(mode_proves "$RB_MODE")" ;;
        *) say "evidence:       unclear: the instance runs as $RB_MODE, which no mode here describes" ;;
    esac
    [ "$RB_MODE" = "$MODE" ] || warn "the instance runs in mode $RB_MODE, not $MODE"
    case $RB_MODE in shielded|confidential) ;; *) ALLOW=" --allow-unattested" ;; esac
fi
case $IMG_NET in
    dhcp) say "internal IP:    ${INTERNAL_IP:-(GCE picks it on a real run)}, reserved as $INT_ADDR; the image is the release's image with ip=dhcp: GCE's DHCP gives the VM the address this deployment reserved (one image, one measurement per release)" ;;
    static) say "internal IP:    $INTERNAL_IP, fixed in the image's command line (sealed.ip=$IMG_IP/$IMG_PREFIX) and reserved as $INT_ADDR: a build for this deployment, not the release's image (an ip=dhcp image needs no such build)" ;;
    *) say "internal IP:    ${INTERNAL_IP:-(GCE picks it on a real run)}, reserved as $INT_ADDR; how the image configures its network was not checked (no disk.txt next to it)" ;;
esac
say "external IP:    ${EXT_IP:-(reserved on a real run)}"
say "DNS record:     $DOMAIN. 300 IN A ${EXT_IP:-<external IP>}     (create it at your DNS provider; the VM gets its Let's Encrypt certificate once it resolves)"
say "check:          curl -fsS https://$DOMAIN/healthz && curl -fsS https://$DOMAIN/status"
say "verify:         log in at https://$DOMAIN/, save the result as result.jws, then"
say "                build/sealed-verify result result.jws --client-id $CLIENT_ID --manifest $(dirname "$IMAGE_FILE")/build-manifest.json$ALLOW"
if [ -n "$SIGNER_PUB" ]; then
    say "signer key:     results are signed by this key; pin it with sealed-verify --signer-key FILE:"
    printf '%s\n' "$SIGNER_PUB" | sed 's/^/                /'
fi
say "sealed state:   gs://$STATE_BUCKET/$STATE_OBJECT (teardown keeps it while it holds state: --delete-state removes it)"
if [ "$GCP_DRY_RUN" = 1 ]; then
    say "notifications:  topic $TOPIC (planned), publisher $VM_SA only; inbox $INBOX$([ -n "$EMAIL" ] && echo "; an alert mails $EMAIL")"
else   # read back: the topic, who may publish to it, the inbox, the alert
    gcp_req GET "$PS/topics/$TOPIC_ID:getIamPolicy"; ok2xx || gcp_fail "reading back the IAM policy of topic $TOPIC"
    say "notifications:  topic $TOPIC, publishers: $(jr '[.bindings[]? | select(.role == "roles/pubsub.publisher") | .members[]] | join(", ") | if . == "" then "none" else . end') (read back)"
    gcp_req GET "$PS/subscriptions/$INBOX_ID"; ok2xx || gcp_fail "reading back subscription $INBOX"
    say "                inbox $(jr .name) on $(jr .topic), keeps $(jr .messageRetentionDuration): gcloud pubsub subscriptions pull $INBOX --auto-ack --limit 20"
    pol=""; [ -z "$CHANNEL" ] || pol=$(find_role alertPolicies notify-alert)
    if [ -n "$pol" ]; then say "                alert \"$(jq -r .displayName <<<"$pol")\" mails $EMAIL ($(jq -r '.notificationChannels | join(",")' <<<"$pol")) when a message is published"
    else say "                no alert mails the messages (no --alert-email)"; fi
fi
say "serial log:     deploy/gcp/status.sh --project $PROJECT --name $NAME --zone $ZONE --serial"
say "egress guard:   in the VM at $CAP_GIB GiB (metadata egress_cap_bytes; /status egress_guard), and as a second line"
say "                run every 15 minutes from a machine you trust, e.g. crontab:"
say "                */15 * * * * $HERE/egress-guard.sh --project $PROJECT --name $NAME --zone $ZONE --key-file \$HOME/.config/sealed-login/$NAME-guard.json"
say "                (key: $HERE/egress-guard.sh --project $PROJECT --name $NAME --create-key FILE)"
say "teardown:       deploy/gcp/teardown.sh --project $PROJECT --name $NAME"
