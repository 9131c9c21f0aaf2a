#!/bin/sh
# `make run`: serves https://localhost:8443/ with a self-signed certificate made in memory.
# With PAYPAL_CLIENT_ID and PAYPAL_SECRET set it talks to the real PayPal (PAYPAL_ENV=sandbox by
# default, or live); without them it starts the local stand-in identity provider
# (tests/fakes/fake_paypal.py) on port 8444 and every page says "development mode: not PayPal".
set -eu
cd "$(dirname "$0")/.."
export SEALED_HTTPS_PORT="${SEALED_HTTPS_PORT:-8443}"
export SEALED_DOMAIN="${SEALED_DOMAIN:-localhost:$SEALED_HTTPS_PORT}"
if [ -n "${PAYPAL_CLIENT_ID:-}" ] && [ -n "${PAYPAL_SECRET:-}" ]; then
    export PAYPAL_ENV="${PAYPAL_ENV:-sandbox}"
    echo "make run: using the real PayPal ($PAYPAL_ENV). Register https://$SEALED_DOMAIN/callback as a return URL of your PayPal app."
    exec build/sealed-login
fi
fake_port="${FAKE_PAYPAL_PORT:-8444}"
export PAYPAL_ENV=local
export PAYPAL_CLIENT_ID="local-dev-client"
FAKE_PAYPAL_CLIENT_SECRET="$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export FAKE_PAYPAL_CLIENT_SECRET
export PAYPAL_SECRET="$FAKE_PAYPAL_CLIENT_SECRET"
export PAYPAL_AUTHORIZE_URL="http://localhost:$fake_port/signin/authorize"
export PAYPAL_API_BASE="http://127.0.0.1:$fake_port"
python3 tests/fakes/fake_paypal.py --port "$fake_port" --client-id "$PAYPAL_CLIENT_ID" \
    --redirect-uri "https://$SEALED_DOMAIN/callback" &
fake_pid=$!
trap 'kill $fake_pid 2>/dev/null' EXIT INT TERM
cat <<MSG

  ==========================================================================================
   development mode: not PayPal
   No PAYPAL_CLIENT_ID / PAYPAL_SECRET given, so logins go to a LOCAL STAND-IN for PayPal
   on http://localhost:$fake_port (pick a test user there; no password).
   Open https://$SEALED_DOMAIN/ (self-signed certificate: accept the browser's warning).
   For the real PayPal: PAYPAL_CLIENT_ID=... PAYPAL_SECRET=... PAYPAL_ENV=sandbox make run
  ==========================================================================================

MSG
build/sealed-login
