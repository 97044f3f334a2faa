#!/usr/bin/env bash
# Creates or updates one Cloud Scheduler job per registered job, from `bun run cli jobs:schedule`, and deletes
# the keshless-* jobs the registry no longer has — so the schedules live in code and nowhere else.
#
#   deploy/scheduler.sh DEFINITIONS.json API_URL      (Cloud Build runs it after deploying keshless-api)
#   bun run --silent cli jobs:schedule --url https://api.example > jobs.json && deploy/scheduler.sh jobs.json https://api.example
#
# Needs gcloud (authenticated, with roles/cloudscheduler.admin and secretAccessor on KESHLESS_JOB_SECRET) and
# python3 (part of every gcloud install). PROJECT and REGION come from the environment or gcloud's config.
set -euo pipefail

definitions=${1:?usage: deploy/scheduler.sh DEFINITIONS.json API_URL}
api_url=${2:?usage: deploy/scheduler.sh DEFINITIONS.json API_URL}
project=${PROJECT:-$(gcloud config get-value project 2>/dev/null)}
region=${REGION:-africa-south1}
: "${project:?set PROJECT or gcloud config set project}"

# The secret goes straight from Secret Manager into the header: never echoed, never in the definitions file.
job_secret=$(gcloud secrets versions access latest --secret=KESHLESS_JOB_SECRET --project="$project")

# One job per line: name, schedule, time zone, uri, attempt deadline, retries, min/max backoff, description.
rows=$(python3 - "$definitions" "$api_url" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
base = sys.argv[2].rstrip("/")
for job in doc["data"]:
    retry = job["retry"]
    fields = [job["name"], job["schedule"], job["timeZone"], base + job["path"], job["attemptDeadline"],
              str(retry["maxRetryAttempts"]), retry["minBackoff"], retry["maxBackoff"], job["description"][:480]]
    assert all("\t" not in f and "\n" not in f for f in fields), job["name"]
    print("\t".join(fields))
PY
)

defined=()
while IFS=$'\t' read -r name schedule tz uri deadline retries min_backoff max_backoff description; do
  defined+=("$name")
  common=(--location="$region" --project="$project" --schedule="$schedule" --time-zone="$tz" --uri="$uri"
    --http-method=POST --attempt-deadline="$deadline" --max-retry-attempts="$retries"
    --min-backoff="$min_backoff" --max-backoff="$max_backoff" --description="$description")
  if gcloud scheduler jobs describe "$name" --location="$region" --project="$project" >/dev/null 2>&1; then
    echo "update $name ($schedule $tz) → $uri"
    gcloud scheduler jobs update http "$name" "${common[@]}" --update-headers="X-Job-Secret=$job_secret" --quiet >/dev/null
  else
    echo "create $name ($schedule $tz) → $uri"
    gcloud scheduler jobs create http "$name" "${common[@]}" --headers="X-Job-Secret=$job_secret" --quiet >/dev/null
  fi
done <<<"$rows"

for existing in $(gcloud scheduler jobs list --location="$region" --project="$project" --format='value(ID)' --filter='name~/jobs/keshless-'); do
  name=${existing##*/}
  if [[ ! " ${defined[*]} " == *" $name "* ]]; then
    echo "delete $name (no longer in the registry)"
    gcloud scheduler jobs delete "$name" --location="$region" --project="$project" --quiet >/dev/null
  fi
done
echo "${#defined[@]} scheduler jobs in place"
