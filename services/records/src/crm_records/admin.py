"""`crm-admin`: make accounts, users and tokens through the records HTTP API.

    uv run crm-admin account create --name Acme --env-file .local/acme.env
    uv run crm-admin user add --token $CRM_TOKEN --email ada@acme.test --seat \\
        --permission cs_workspace_access --scope contacts=team:owned --team Support
    uv run crm-admin token issue --token $CRM_TOKEN --user-id 5002 --ttl-days 7
    uv run crm-admin token revoke --token $CRM_TOKEN --token-id <id>

The base URL comes from --base-url, CRM_BASE_URL or http://127.0.0.1:8080 (the
local gateway). Creating an account needs the operator key: --operator-key,
RECORDS_OPERATOR_KEY, or LOCAL_OPERATOR_KEY in .local/secrets.env (which
deploy/local/env.sh writes). Everything else needs a super admin's token:
--token or CRM_TOKEN. Results are printed as NAME=value lines, so a shell can
`eval` them or a file can keep them.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

DEFAULT_BASE_URL = "http://127.0.0.1:8080"
SECONDS_PER_DAY = 86_400


class AdminError(Exception):
    """Something to tell the operator before exiting with a failure."""


def parse_scope(text: str) -> tuple[str, dict[str, str]]:
    """`contacts=team:owned` -> ("contacts", {"view": "team", "edit": "owned"});
    `deals=all` sets both to the same scope."""
    object_type, equals, scopes = text.partition("=")
    view, _, edit = scopes.partition(":")
    if not equals or not object_type.strip() or not view.strip():
        raise AdminError(f"--scope {text!r}: write OBJECT=VIEW[:EDIT], e.g. contacts=team:owned")
    return object_type.strip(), {"view": view.strip(), "edit": (edit or view).strip()}


def read_env_file(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        name, equals, value = line.strip().removeprefix("export ").partition("=")
        if equals and not name.startswith("#"):
            values[name.strip()] = value.strip().strip("'\"")
    return values


def find_operator_key(explicit: str | None) -> str:
    if explicit:
        return explicit
    if os.environ.get("RECORDS_OPERATOR_KEY"):
        return os.environ["RECORDS_OPERATOR_KEY"]
    for folder in (Path.cwd(), *Path.cwd().parents):
        secrets = folder / ".local" / "secrets.env"
        if secrets.is_file():
            key = read_env_file(secrets).get("LOCAL_OPERATOR_KEY")
            if key:
                return key
    raise AdminError("No operator key: pass --operator-key, set RECORDS_OPERATOR_KEY, "
                     "or run from a checkout whose .local/secrets.env holds one.")


def write_env_file(path: Path, lines: Sequence[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{line}\n" for line in lines))
    path.chmod(0o600)  # it holds a bearer token


class Api:
    def __init__(self, base_url: str, headers: dict[str, str]) -> None:
        self.base_url = base_url.rstrip("/")
        self._client = httpx.Client(base_url=self.base_url, headers=headers, timeout=30)

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        try:
            answer = self._client.request(method, path, json=body)
        except httpx.HTTPError as error:
            raise AdminError(f"{self.base_url} is not answering: {error}") from None
        if answer.status_code >= 400:
            try:
                message = answer.json().get("message") or answer.text
            except ValueError:
                message = answer.text
            raise AdminError(f"{method} {path} answered {answer.status_code}: {message}")
        return answer.json() if answer.content else None


def _token_api(args: argparse.Namespace) -> Api:
    token = args.token or os.environ.get("CRM_TOKEN")
    if not token:
        raise AdminError("A super admin's token is needed: pass --token or set CRM_TOKEN.")
    return Api(args.base_url, {"Authorization": f"Bearer {token}"})


def _issue(api: Api, user_id: int, ttl_days: float) -> list[str]:
    issued = api.call("POST", "/identity/v1/tokens",
                      {"userId": user_id, "ttlSeconds": int(ttl_days * SECONDS_PER_DAY)})
    return [f"CRM_TOKEN_ID={issued['tokenId']}", f"CRM_TOKEN_EXPIRES_AT={issued['expiresAt']}",
            f"CRM_TOKEN={issued['token']}"]


def create_account(args: argparse.Namespace) -> list[str]:
    api = Api(args.base_url, {"X-Operator-Key": find_operator_key(args.operator_key)})
    body: dict[str, Any] = {"name": args.name, "tier": args.tier}
    if args.admin_email:
        body["adminEmail"] = args.admin_email
    created = api.call("POST", "/identity/v1/accounts", body)
    lines = [f"CRM_BASE_URL={api.base_url}", f"CRM_TOKEN={created['token']}",
             f"CRM_ACCOUNT_ID={created['accountId']}", f"CRM_USER_ID={created['userId']}"]
    if args.env_file:
        write_env_file(Path(args.env_file), lines)
    return lines


def _team_ids(api: Api, names: Sequence[str]) -> list[int]:
    """The ids of the named teams, making the ones the account lacks."""
    known = {t["name"]: t["id"] for t in api.call("GET", "/identity/v1/teams")["results"]}
    for name in names:
        if name not in known:
            known[name] = api.call("POST", "/identity/v1/teams", {"name": name})["id"]
    return [known[name] for name in names]


def add_user(args: argparse.Namespace) -> list[str]:
    api = _token_api(args)
    scopes = dict(parse_scope(s) for s in args.scope)
    body = {"email": args.email, "firstName": args.first_name, "lastName": args.last_name,
            "superAdmin": args.super_admin, "serviceSeat": args.seat,
            "permissions": args.permission, "objectScopes": scopes,
            "teamIds": _team_ids(api, args.team)}
    user = api.call("POST", "/identity/v1/users", {k: v for k, v in body.items() if v is not None})
    return [f"CRM_USER_ID={user['id']}", *_issue(api, user["id"], args.ttl_days)]


def issue_token(args: argparse.Namespace) -> list[str]:
    return _issue(_token_api(args), args.user_id, args.ttl_days)


def revoke_token(args: argparse.Namespace) -> list[str]:
    _token_api(args).call("DELETE", f"/identity/v1/tokens/{args.token_id}")
    return [f"CRM_REVOKED_TOKEN_ID={args.token_id}"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="crm-admin", description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", default=os.environ.get("CRM_BASE_URL", DEFAULT_BASE_URL))
    areas = parser.add_subparsers(dest="area", required=True)

    account = areas.add_parser("account").add_subparsers(dest="action", required=True)
    create = account.add_parser("create", help="a new account and its super admin's token")
    create.add_argument("--name", required=True)
    create.add_argument("--tier", choices=["standard", "enterprise"], default="standard")
    create.add_argument("--admin-email")
    create.add_argument("--operator-key")
    create.add_argument("--env-file", help="also write the lines to this file")
    create.set_defaults(run=create_account)

    def with_token(sub: argparse.ArgumentParser) -> argparse.ArgumentParser:
        sub.add_argument("--token", help="a super admin's token (default: $CRM_TOKEN)")
        return sub

    def with_ttl(sub: argparse.ArgumentParser) -> argparse.ArgumentParser:
        sub.add_argument("--ttl-days", type=float, default=30.0)
        return sub

    user = areas.add_parser("user").add_subparsers(dest="action", required=True)
    add = with_ttl(with_token(user.add_parser("add", help="a new user and a token for them")))
    add.add_argument("--email", required=True)
    add.add_argument("--first-name")
    add.add_argument("--last-name")
    add.add_argument("--super-admin", action="store_true")
    add.add_argument("--seat", action="store_true", help="a Service seat")
    add.add_argument("--permission", action="append", default=[],
                     choices=["cs_workspace_access", "cs_settings_manage", "export"])
    add.add_argument("--scope", action="append", default=[], metavar="OBJECT=VIEW[:EDIT]",
                     help="e.g. contacts=team:owned, deals=all, '*=owned'")
    add.add_argument("--team", action="append", default=[], metavar="NAME",
                     help="made when missing; the first is the primary team")
    add.set_defaults(run=add_user)

    token = areas.add_parser("token").add_subparsers(dest="action", required=True)
    issue = with_ttl(with_token(token.add_parser("issue", help="a new token for a user")))
    issue.add_argument("--user-id", type=int, required=True)
    issue.set_defaults(run=issue_token)
    revoke = with_token(token.add_parser("revoke", help="stop a token working at once"))
    revoke.add_argument("--token-id", required=True)
    revoke.set_defaults(run=revoke_token)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        lines = args.run(args)
    except AdminError as error:
        print(f"crm-admin: {error}", file=sys.stderr)
        return 1
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
