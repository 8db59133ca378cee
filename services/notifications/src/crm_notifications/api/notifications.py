"""/notifications/v1/notifications: my in-app notifications (R-NOTE-1).

GET    /notifications/v1/notifications?unreadOnly=&limit=   mine, newest first
POST   /notifications/v1/notifications/{id}/read             mark read
DELETE /notifications/v1/notifications/{id}                  delete for myself

Notifications are per user: another user's (or another account's) answers 404.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel

from crm_platform.identity.fastapi import principal_dependency
from crm_platform.identity.principal import Principal
from crm_platform.problem import ApiError

router = APIRouter(prefix="/notifications/v1/notifications", tags=["notifications"])

principal = principal_dependency(
    get_secret=lambda request: request.app.state.container.token_secret,
    get_directory=lambda request: request.app.state.container.directory,
    get_limiter=lambda request: request.app.state.container.limiter,
)
Caller = Annotated[Principal, Depends(principal)]
COLUMNS = "notification_id, kind, title, body, link, created_at, read_at"


class Notification(BaseModel):
    id: str
    kind: str
    title: str
    body: str
    link: str | None
    createdAt: datetime
    readAt: datetime | None

    @classmethod
    def of(cls, row: Any) -> Notification:
        return cls(id=str(row["notification_id"]), kind=row["kind"], title=row["title"],
                   body=row["body"], link=row["link"], createdAt=row["created_at"],
                   readAt=row["read_at"])


class NotificationList(BaseModel):
    results: list[Notification]
    unread: int


def _pool(request: Request) -> Any:
    return request.app.state.container.pool


def _id(notification_id: str) -> int:
    if not notification_id.isdigit():
        raise ApiError(404, f"Notification {notification_id} not found")
    return int(notification_id)


@router.get("", response_model=NotificationList)
async def my_notifications(request: Request, caller: Caller,
                           limit: Annotated[int, Query(ge=1, le=100)] = 50,
                           unreadOnly: bool = False) -> NotificationList:
    pool = _pool(request)
    rows = await pool.fetch(
        f"SELECT {COLUMNS} FROM notifications WHERE account_id = $1 AND user_id = $2"
        " AND deleted_at IS NULL AND (NOT $3 OR read_at IS NULL)"
        " ORDER BY created_at DESC, notification_id DESC LIMIT $4",
        caller.account_id, caller.user_id, unreadOnly, limit)
    unread = await pool.fetchval(
        "SELECT count(*) FROM notifications WHERE account_id = $1 AND user_id = $2"
        " AND deleted_at IS NULL AND read_at IS NULL", caller.account_id, caller.user_id)
    return NotificationList(results=[Notification.of(r) for r in rows], unread=unread)


@router.post("/{notificationId}/read", response_model=Notification)
async def mark_read(notificationId: str, request: Request, caller: Caller) -> Notification:
    row = await _pool(request).fetchrow(
        f"UPDATE notifications SET read_at = COALESCE(read_at, now())"
        f" WHERE notification_id = $1 AND account_id = $2 AND user_id = $3"
        f" AND deleted_at IS NULL RETURNING {COLUMNS}",
        _id(notificationId), caller.account_id, caller.user_id)
    if row is None:
        raise ApiError(404, f"Notification {notificationId} not found")
    return Notification.of(row)


@router.delete("/{notificationId}", status_code=204, response_class=Response)
async def delete_notification(notificationId: str, request: Request, caller: Caller) -> Response:
    deleted = await _pool(request).fetchval(
        "UPDATE notifications SET deleted_at = now() WHERE notification_id = $1"
        " AND account_id = $2 AND user_id = $3 AND deleted_at IS NULL RETURNING true",
        _id(notificationId), caller.account_id, caller.user_id)
    if not deleted:
        raise ApiError(404, f"Notification {notificationId} not found")
    return Response(status_code=204)
