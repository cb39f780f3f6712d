"""``voice-service token issue USER``: print a signed session token."""

from __future__ import annotations

import argparse
from typing import Any

from core.errors import VoiceServiceError
from core.settings import Settings
from core.tokens import TokenError, issue_token


def add_parser(subparsers: Any) -> None:
    """Register the command."""
    parser = subparsers.add_parser("token", help="session tokens for /v1/voice")
    actions = parser.add_subparsers(dest="token_command", required=True, metavar="ACTION")
    issue = actions.add_parser("issue", help="print a token for USER (needs VOICE_TOKEN_SECRET)")
    issue.add_argument("user")
    issue.add_argument("--ttl", type=int, default=None, help="seconds it stays valid")
    issue.set_defaults(run=run_issue)


def run_issue(args: argparse.Namespace, settings: Settings) -> int:
    """Sign and print."""
    try:
        print(issue_token(args.user, settings.token_secret, args.ttl or settings.token_ttl_s))
    except TokenError as exc:
        raise VoiceServiceError(str(exc), code="no_secret") from exc
    return 0
