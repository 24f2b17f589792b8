# Dokploy's config.sh (seed 000, "공통 API 함수"), for Pier. Source it from bash:
#   DOKPLOY_API_KEY=pk_… DOKPLOY_APP_ID=app_… source examples/dokploy/config.sh
#   get_latest_status
# DOKPLOY_URL here is the server's root (no /api): the functions add `/api/…` themselves. It is
# http://127.0.0.1:8787 under `npm start`, or where your Worker is deployed. (Section 7.1 of the
# document uses DOKPLOY_URL for the API base instead, `<root>/api`; Dokploy's CLI takes the root.)
# Needs curl and jq.

DOKPLOY_URL="${DOKPLOY_URL:-http://127.0.0.1:8787}"
DOKPLOY_APP_ID="${DOKPLOY_APP_ID:?set DOKPLOY_APP_ID to the application id (app_…)}"
DOKPLOY_API_KEY="${DOKPLOY_API_KEY:?set DOKPLOY_API_KEY to a Pier API key (POST /api/v1/api-keys)}"

# The document's functions, unchanged:

# Dokploy API 호출 함수
dokploy_api() {
  local endpoint="$1"
  curl -s "$DOKPLOY_URL$endpoint" -H "x-api-key: $DOKPLOY_API_KEY"
}

# 배포 목록 가져오기
get_deployments() {
  dokploy_api "/api/deployment.all?applicationId=$DOKPLOY_APP_ID"
}

# 최신 배포 정보 가져오기
get_latest_deployment() {
  get_deployments | jq -r '.[0]'
}

# 최신 배포 상태 가져오기
get_latest_status() {
  get_deployments | jq -r '.[0].status'
}
