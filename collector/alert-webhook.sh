#!/bin/sh
# Leakwatch alert hook: forwards the collector's alert (a JSON document on stdin, described in
# docs/OPERATIONS.md, "Alert hook") to Alertmanager's API, or to anything that accepts its
# POST /api/v2/alerts (Grafana, Mimir, Cortex, Karma's Alertmanager mode).
#
#   collector --alert-command /etc/leakwatch/alert-webhook.sh
#   LEAKWATCH_ALERTMANAGER_URL=http://alertmanager:9093 (default http://127.0.0.1:9093)
#
# One alert per host (labels alertname, host, service, severity): growing -> suspected-leak
# updates it, a host back to ok resolves it (endsAt = now). And one per site whose status changed
# (alertname LeakwatchSiteLeak, the same labels and site = the collector's stack id), resolved the
# same way; a document whose host status stayed posts only its sites. The collector posts once per change,
# not at every evaluation as Prometheus does, so a firing alert carries an endsAt 30 days ahead
# (Alertmanager would resolve it after resolve_timeout otherwise); a memory error, an event, 1 day. Needs curl and jq. Exits non-zero when the
# post fails, so the collector logs it; curl gives up well before the hook's timeout.
set -eu

url="${LEAKWATCH_ALERTMANAGER_URL:-http://127.0.0.1:9093}"
document=$(cat)
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
month=$(date -u -d '+30 days' +%Y-%m-%dT%H:%M:%SZ)
day=$(date -u -d '+1 day' +%Y-%m-%dT%H:%M:%SZ)

alerts=$(printf '%s' "$document" | jq --arg now "$now" --arg month "$month" --arg day "$day" '. as $alert | [
  select(.kind == "memory-error" or .oldStatus != .newStatus) | {
    labels: {
        alertname: (if .kind == "memory-error" then "LeakwatchMemoryError" else "LeakwatchHostLeak" end),
        host: .host,
        service: .service,
        severity: (if .kind == "memory-error" then "critical" else "warning" end)
    },
    annotations: {
        summary: (if .kind == "memory-error"
                  then "\(.host): \(.memoryErrors | length) memory error(s), newest \(.memoryErrors[0].kind)"
                  else "\(.host): \(.oldStatus) -> \(.newStatus), \(.rateBytesPerHour / 1048576 | floor) MiB/h" end),
        description: .summary,
        top_site: ((.sites[0].topFrames // .memoryErrors[0].allocationFrames // []) | map(.function) | join(" <- ")),
        status: .newStatus,
        report: .reportCommand
    },
    startsAt: .at,
    endsAt: (if .kind == "memory-error" then $day elif .newStatus == "ok" then $now else $month end)
}] + [(.siteChanges // [])[] | {
    labels: {
        alertname: "LeakwatchSiteLeak",
        host: $alert.host,
        service: $alert.service,
        site: (.stackId | tostring),
        severity: "warning"
    },
    annotations: {
        summary: "\($alert.host): site \(.topFrames[0].function // "?"): \(.oldStatus) -> \(.newStatus), \(.rateBytesPerHour / 1048576 | floor) MiB/h",
        top_site: (.topFrames | map(.function) | join(" <- ")),
        status: .newStatus,
        report: $alert.reportCommand
    },
    startsAt: $alert.at,
    endsAt: (if .newStatus == "ok" then $now else $month end)
}]')
[ "$alerts" = "[]" ] && exit 0

printf '%s' "$alerts" | curl --silent --show-error --fail --max-time 5 \
    -H 'Content-Type: application/json' --data-binary @- "$url/api/v2/alerts"
