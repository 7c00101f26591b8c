#!/usr/bin/env bash
# The scheduled commands for a container deployment (deploy/compose.yaml runs this in one
# container; on a server use the systemd timers in deploy/systemd/). Times are UTC; Ecuador
# is UTC-5. A failing command is logged and retried at its next turn; the loop goes on.
set -uo pipefail

run() {
  echo "$(date -u +%FT%TZ) flask $*"
  flask --app tourism "$@" || echo "$(date -u +%FT%TZ) flask $* failed with status $?" >&2
}

while true; do
  minute=$((10#$(date -u +%M)))
  hour=$((10#$(date -u +%H)))
  run send-emails
  run send-messages
  if ((minute % 5 == 0)); then run expire-holds; fi
  if ((minute % 15 == 10)); then run reconcile-payments; fi
  if ((minute % 15 == 5)); then run finish-refunds; fi
  if ((minute == 0)); then run release-shares; fi
  if ((minute == 20)); then run send-impact-receipts; fi
  if ((hour == 6 && minute == 0)); then run generate-departures; fi
  if ((hour == 7 && minute == 0)); then run ledger-check; fi
  if ((hour == 7 && minute == 10)); then run seat-check; fi
  if ((hour == 7 && minute == 30)); then run forget-special-needs; fi
  if ((hour == 13 && minute == 0)); then run send-reminders; fi
  sleep $((60 - 10#$(date -u +%S)))
done
