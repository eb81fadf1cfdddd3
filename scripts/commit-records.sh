#!/usr/bin/env bash
# Commits audit records (or any evidence files) to the branch a workflow ran from, with the
# identity of the GitHub App whose token is in GH_TOKEN; a protected branch gets a pull request.
# The scheduled workflow's audit job uses it. rotate.yml keeps its own copy of this logic inline:
# it runs in the caller's repository, where this script does not exist.
#
# Usage: commit-records.sh <message> <path>...   (env: GH_TOKEN, APP_SLUG, BRANCH, RUN_URL)
set -euo pipefail
message="$1"; shift
bot="${APP_SLUG}[bot]"
bot_id=$(gh api "/users/${APP_SLUG}%5Bbot%5D" --jq .id)
git config user.name "$bot"
git config user.email "${bot_id}+${bot}@users.noreply.github.com"

git add -- "$@"
if git diff --cached --quiet; then
  echo "Nothing new to commit."
  exit 0
fi
git commit --quiet -m "$message" -m "Run: $RUN_URL"

for attempt in 1 2 3 4 5; do
  if output=$(git push origin "HEAD:refs/heads/$BRANCH" 2>&1); then
    echo "$output"
    echo "Committed to $BRANCH: $(git rev-parse HEAD)" | tee -a "${GITHUB_STEP_SUMMARY:-/dev/null}"
    exit 0
  fi
  echo "$output"
  # A rule that refuses the push will refuse it again: go to a pull request at once.
  grep -qiE 'GH006|GH013|protected branch|rule violations|required status check|review' <<<"$output" && break
  echo "Push rejected (attempt $attempt); rebasing on $BRANCH and retrying."
  sleep $((attempt * 3))
  git pull --quiet --rebase origin "$BRANCH"
done

head_branch="credential-rotation/records-${GITHUB_RUN_ID:-local}-${GITHUB_RUN_ATTEMPT:-1}"
git push --force origin "HEAD:refs/heads/$head_branch"
url=$(gh pr create --base "$BRANCH" --head "$head_branch" --title "$message" --body "From ${RUN_URL}: ${BRANCH} refused a direct push, so the records come as a pull request.")
echo "::notice title=Records pull request::$BRANCH refused the push; the records are in $url"
echo "Records pull request: $url" >> "${GITHUB_STEP_SUMMARY:-/dev/null}"
