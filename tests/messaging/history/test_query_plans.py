"""The history's filtered reads use the index that fits them (found by `make bench`, benchmark 2)."""

from __future__ import annotations

from django.db import connection

import pytest

from messaging.history import selectors
from messaging.history.selectors import message_page
from tests import factories

pytestmark = pytest.mark.skipif(
    connection.vendor != "sqlite",
    reason="query plans are the SQLite planner's (the default database)",
)


@pytest.mark.django_db
def test_history_filtered_by_number_reads_that_customers_rows_not_the_whole_project(project):
    # Given a project with messages to many customers
    for n in range(30):
        factories.MessageFactory(project=project, phone_number=f"6281200000{n:03d}", status="read")
    # When the history is filtered by a number and a status, as the history page does
    messages = selectors.message_list(
        project=project, filters={"number": "081200000007", "status": "read"}
    )
    plan = messages[:51].explain()
    # Then the database walks the number index in the page's order, not every row of the project
    assert "message_project_number" in plan
    assert "TEMP B-TREE" not in plan.upper()
    assert [m.phone_number for m in message_page(messages=messages).messages] == ["6281200000007"]
