"""Post (or update) the plan comment of one environment on an Azure Repos pull request.

Usage: python3 ado_pr_comment.py COMMENT.md — in a pull-request build, with SYSTEM_ACCESSTOKEN mapped from
$(System.AccessToken) (the build service needs "Contribute to pull requests" on the repository). The comment's first
line is a hidden marker naming the environment; a thread that starts with it is updated instead of adding a new one.
REST: Pull Request Threads - List / Create and Pull Request Thread Comments - Update (api-version 7.1).
"""

from __future__ import annotations

import json
import os
import sys
import urllib.request
from pathlib import Path

API = "api-version=7.1"


def call(method: str, url: str, token: str, body: dict | None = None) -> dict:
    request = urllib.request.Request(
        url,
        method=method,
        data=json.dumps(body).encode() if body else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read() or b"{}")


def main() -> int:
    text = Path(sys.argv[1]).read_text()
    marker = text.splitlines()[0]
    token = os.environ["SYSTEM_ACCESSTOKEN"]
    base = (
        f"{os.environ['SYSTEM_COLLECTIONURI']}{os.environ['SYSTEM_TEAMPROJECTID']}/_apis/git/repositories/"
        f"{os.environ['BUILD_REPOSITORY_ID']}/pullRequests/{os.environ['SYSTEM_PULLREQUEST_PULLREQUESTID']}/threads"
    )
    threads = call("GET", f"{base}?{API}", token).get("value", [])
    for thread in threads:
        first = (thread.get("comments") or [{}])[0]
        if str(first.get("content", "")).startswith(marker):
            call("PATCH", f"{base}/{thread['id']}/comments/{first['id']}?{API}", token, {"content": text})
            return 0
    call(
        "POST",
        f"{base}?{API}",
        token,
        {"comments": [{"parentCommentId": 0, "content": text, "commentType": 1}], "status": 4},
    )  # 4: closed, an informational thread
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
