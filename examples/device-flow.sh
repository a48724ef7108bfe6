#!/usr/bin/env bash
# The device authorization grant (RFC 8628) as a command-line tool or a TV runs it: ask for a
# code, show the user where to enter it, poll the token endpoint until the user decided.
# GATEHOUSE: the issuer; CLIENT_ID: a client with the urn:ietf:params:oauth:grant-type:device_code grant.
set -euo pipefail
GATEHOUSE="${GATEHOUSE:-http://127.0.0.1:8080}"
CLIENT_ID="${CLIENT_ID:-my-cli}"

# 1. RFC 8628 §3.1: a device code for polling, a user code for the user.
answer=$(curl -fsS -d client_id="$CLIENT_ID" -d scope="openid profile offline_access" "$GATEHOUSE/device_authorization")
device_code=$(jq -r .device_code <<<"$answer")
interval=$(jq -r .interval <<<"$answer")

# 2. RFC 8628 §3.3: the user signs in on any browser, enters the code and allows (or denies).
echo "Open $(jq -r .verification_uri <<<"$answer") and enter the code $(jq -r .user_code <<<"$answer")"
echo "or open $(jq -r .verification_uri_complete <<<"$answer")"

# 3. RFC 8628 §3.4-3.5: poll every `interval` seconds; slow_down means 5 seconds more.
while :; do
  sleep "$interval"
  tokens=$(curl -sS -d grant_type=urn:ietf:params:oauth:grant-type:device_code \
    -d device_code="$device_code" -d client_id="$CLIENT_ID" "$GATEHOUSE/token")
  case "$(jq -r '.error // empty' <<<"$tokens")" in
    authorization_pending) ;;
    slow_down) interval=$((interval + 5)) ;;
    "") jq . <<<"$tokens"; break ;;
    *) echo "$tokens" >&2; exit 1 ;;
  esac
done
