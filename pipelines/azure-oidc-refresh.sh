#!/usr/bin/env bash
# Keep an OIDC (workload identity federation) Azure login fresh for a long `pulumi up`.
#
# Why: the federated token a pipeline gets is short-lived (GitHub Actions: about 5 minutes; Azure DevOps: about 10),
# and whoever exchanges it after that fails with AADSTS700024 "Client assertion is not within its valid time range".
# `az login --federated-token` cannot ask for a new one (Azure/azure-cli#28708; azure/login documents no refresh,
# Azure/login#180), so the azurekeyvault:// secrets provider and the azblob:// state backend, which use that login,
# break once an update outlives the token's first access token. This script fetches a new federated token every
# OIDC_REFRESH_SECONDS (default 240, inside GitHub's 5 minutes), writes it atomically to a file readers take it from
# (AZURE_FEDERATED_TOKEN_FILE for the Azure SDKs' workload identity credential, ARM_OIDC_TOKEN_FILE_PATH for the
# azure-native provider) and logs the Azure CLI in again with it — the pattern of microsoft/tyger#263 and azd's
# tfoidc adapter. Nothing is stored: each token is the platform's own short-lived OIDC token.
#
# Usage (the environment carries ARM_CLIENT_ID, ARM_TENANT_ID, ARM_SUBSCRIPTION_ID):
#   pipelines/azure-oidc-refresh.sh start   # first login now, then refresh in the background; prints the exports
#   pipelines/azure-oidc-refresh.sh stop    # end the background refresher (also ends with the job)
# Token sources, by platform:
#   GitHub Actions: ACTIONS_ID_TOKEN_REQUEST_URL + ACTIONS_ID_TOKEN_REQUEST_TOKEN (the job needs `id-token: write`).
#   Azure Pipelines: SYSTEM_OIDCREQUESTURI + SYSTEM_ACCESSTOKEN (map $(System.AccessToken) into the step's env) and
#     the service connection id AzureCLI@2 exports as AZURESUBSCRIPTION_SERVICE_CONNECTION_ID
#     (REST: POST {SYSTEM_OIDCREQUESTURI}?api-version=7.1&serviceConnectionId=<id> -> {"oidcToken": ...}).
set -euo pipefail

AUDIENCE="api://AzureADTokenExchange"
TEMP_DIR="${RUNNER_TEMP:-${AGENT_TEMPDIRECTORY:-${TMPDIR:-/tmp}}}"
TOKEN_FILE="${AZURE_FEDERATED_TOKEN_FILE:-$TEMP_DIR/azure-federated-token}"
PID_FILE="$TEMP_DIR/azure-oidc-refresh.pid"
INTERVAL="${OIDC_REFRESH_SECONDS:-240}"

fetch_token() {
  if [ -n "${ACTIONS_ID_TOKEN_REQUEST_URL:-}" ] && [ -n "${ACTIONS_ID_TOKEN_REQUEST_TOKEN:-}" ]; then
    curl -fsS -H "Authorization: bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN" \
      "$ACTIONS_ID_TOKEN_REQUEST_URL&audience=$AUDIENCE" | jq -er .value
  elif [ -n "${SYSTEM_OIDCREQUESTURI:-}" ] && [ -n "${SYSTEM_ACCESSTOKEN:-}" ]; then
    local connection="${AZURESUBSCRIPTION_SERVICE_CONNECTION_ID:?AzureCLI@2 exports the service connection id}"
    curl -fsS -X POST -H "Authorization: Bearer $SYSTEM_ACCESSTOKEN" -H "Content-Type: application/json" \
      -d '{}' "$SYSTEM_OIDCREQUESTURI?api-version=7.1&serviceConnectionId=$connection" | jq -er .oidcToken
  else
    echo "azure-oidc-refresh: no OIDC token source (GitHub: id-token: write; Azure Pipelines: map" \
         "SYSTEM_ACCESSTOKEN and run inside AzureCLI@2)" >&2
    return 1
  fi
}

refresh_once() {
  local token
  token="$(fetch_token)"
  umask 077
  printf '%s' "$token" > "$TOKEN_FILE.new"
  mv -f "$TOKEN_FILE.new" "$TOKEN_FILE"   # atomic: a reader never sees half a token
  az login --service-principal --username "$ARM_CLIENT_ID" --tenant "$ARM_TENANT_ID" \
    --federated-token "$token" --allow-no-subscriptions --output none
  az account set --subscription "$ARM_SUBSCRIPTION_ID" --output none
}

case "${1:-}" in
  start)
    : "${ARM_CLIENT_ID:?}" "${ARM_TENANT_ID:?}" "${ARM_SUBSCRIPTION_ID:?}"
    refresh_once
    (
      while sleep "$INTERVAL"; do
        refresh_once || echo "azure-oidc-refresh: refresh failed; retrying in ${INTERVAL}s" >&2
      done
    ) > /dev/null 2>&1 &
    echo $! > "$PID_FILE"
    echo "AZURE_FEDERATED_TOKEN_FILE=$TOKEN_FILE"
    echo "ARM_OIDC_TOKEN_FILE_PATH=$TOKEN_FILE"
    ;;
  stop)
    if [ -f "$PID_FILE" ]; then kill "$(cat "$PID_FILE")" 2> /dev/null || true; rm -f "$PID_FILE"; fi
    rm -f "$TOKEN_FILE"
    ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
