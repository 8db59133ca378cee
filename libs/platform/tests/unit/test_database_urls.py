"""The DSN forms the platform accepts: TCP, or the local PostgreSQL's Unix socket
(deploy/local/env.sh gives its folder, percent-encoded, as the host)."""

import pytest

from crm_platform.db import sqlalchemy_url
from crm_platform.testing import throwaway_database_url

SOCKET_DSN = "postgresql://postgres@%2Fwork%2Fmain%2F.local%2Frun%2Fpostgres:15432/crm_records"


def test_a_tcp_dsn_only_names_the_driver():
    assert (sqlalchemy_url("postgresql://postgres@127.0.0.1:15432/crm_records")
            == "postgresql+psycopg://postgres@127.0.0.1:15432/crm_records")


@pytest.mark.parametrize("dsn, expected", [
    (SOCKET_DSN, "postgresql+psycopg://postgres@/crm_records"
                 "?host=%2Fwork%2Fmain%2F.local%2Frun%2Fpostgres&port=15432"),
    ("postgresql://app:secret@%2Frun%2FPostgreSQL/crm?sslmode=disable",
     "postgresql+psycopg://app:secret@/crm?sslmode=disable&host=%2Frun%2FPostgreSQL"),
])
def test_a_socket_folder_moves_to_the_query_psycopg_reads(dsn, expected):
    assert sqlalchemy_url(dsn) == expected


def test_a_throwaway_database_keeps_the_socket():
    url = throwaway_database_url(SOCKET_DSN, "st")
    assert url.startswith("postgresql://postgres@%2Fwork%2Fmain%2F.local%2Frun%2Fpostgres:15432/")
    assert url.rsplit("/", 1)[1].startswith("crm_records_st_")
